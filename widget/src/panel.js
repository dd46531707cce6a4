// The chat panel (assets/widget-panel.js), loaded on first open: header, message log, composer,
// streaming answers, errors with retry, persistence per bot, focus handling.
import css from './panel.css';
import { chat, rate } from './api.js';
import { ICONS, adopt, guard, h, icon, warn } from './dom.js';
import { botMessage, errorRow, typing, userMessage } from './render.js';

const KEEP = 60; // messages kept in localStorage per bot

function randomId() {
  const bytes = new Uint8Array(12);
  try {
    crypto.getRandomValues(bytes);
  } catch (_) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
  }
  return 'v-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function load(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || 'null');
    if (value && typeof value.sid === 'string' && Array.isArray(value.msgs)) return value;
  } catch (_) {
    /* storage blocked or corrupt */
  }
  return null;
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify({ sid: value.sid, msgs: value.msgs.slice(-KEEP) }));
  } catch (_) {
    /* storage blocked or full: the conversation lives until reload */
  }
}

function iconButton(label, path, onclick) {
  return h('button', { type: 'button', 'aria-label': label, title: label, onclick }, icon(path));
}

function mountPanel(ctx) {
  const { t, cfg } = ctx;
  adopt(ctx.root, css);
  const storeKey = 'chatapp:' + ctx.botId;
  const convo = load(storeKey) || { sid: randomId(), msgs: [] };
  let busy = false;
  let stick = true;
  let returnFocus = null;

  const title = h('h2', { id: 'chatapp-title' }, cfg.name);
  const header = h(
    'div',
    { class: 'hd' },
    ctx.avatar ? h('img', { class: 'av', src: ctx.avatar, alt: '' }) : null,
    title,
    iconButton(t('newc'), ICONS.plus, reset),
    ctx.inline ? null : iconButton(t('close'), ICONS.close, ctx.close),
  );
  const log = h('div', {
    class: 'log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': t('log'),
    tabindex: '0',
    onscroll: () => (stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40),
  });
  const input = h('textarea', {
    id: 'chatapp-input',
    rows: '1',
    placeholder: t('ph'),
    'aria-label': t('msg'),
    maxlength: '4000',
    oninput: grow,
    onkeydown: (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    },
  });
  const send = h('button', { type: 'submit', 'aria-label': t('send'), title: t('send') }, icon(ICONS.send));
  const form = h('form', { class: 'cp', onsubmit: (e) => (e.preventDefault(), submit()) }, input, send);
  const role = ctx.inline
    ? { class: 'p inl', role: 'region' }
    : { class: 'p ' + ctx.pos, role: 'dialog', 'aria-modal': 'true' };
  const panel = h(
    'div',
    { ...role, 'aria-labelledby': 'chatapp-title', id: 'chatapp-panel' },
    header,
    log,
    form,
  );
  ctx.wrap.addEventListener('keydown', guard(keys));
  ctx.wrap.append(panel);
  replay();

  function grow() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  }

  function scroll(force) {
    if (force) stick = true;
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function keys(e) {
    if (e.key === 'Escape' && !ctx.inline && ctx.state.open) {
      e.stopPropagation();
      ctx.close();
    } else if (e.key === 'Tab' && !ctx.inline && panel.contains(ctx.root.activeElement)) {
      // aria-modal: keep Tab inside the dialog
      const items = [...panel.querySelectorAll('button,textarea,a[href],summary,[tabindex="0"]')];
      const shown = items.filter((el) => el.offsetParent !== null || el === log);
      const first = shown[0];
      const last = shown[shown.length - 1];
      const active = ctx.root.activeElement;
      if (e.shiftKey && active === first) (e.preventDefault(), last.focus());
      else if (!e.shiftKey && active === last) (e.preventDefault(), first.focus());
    }
  }

  function busyState(value) {
    busy = value;
    send.setAttribute('aria-disabled', String(value));
    log.setAttribute('aria-busy', String(value));
  }

  function welcome() {
    if (cfg.welcome_message) {
      const view = botMessage(ctx, String(cfg.welcome_message));
      view.finish();
      log.append(view.el);
    }
    const starters = (cfg.starter_questions || []).filter(Boolean).slice(0, 6);
    if (starters.length && !convo.msgs.length) {
      log.append(
        h(
          'div',
          { class: 'st' },
          starters.map((q) => h('button', { type: 'button', onclick: () => ask(String(q)) }, String(q))),
        ),
      );
    }
  }

  function replay() {
    log.replaceChildren();
    welcome();
    for (const m of convo.msgs) {
      if (m.r === 'u') log.append(userMessage(t, m.t));
      else {
        const view = botMessage(ctx, m.t);
        view.finish(m.s, m.id, m.f || 'none', (value) => feedback(m, value));
        log.append(view.el);
      }
    }
    scroll(true);
  }

  function reset() {
    if (busy) return;
    convo.sid = randomId();
    convo.msgs = [];
    save(storeKey, convo);
    replay();
    log.append(h('p', { class: 'sr' }, t('newd')));
    input.focus();
  }

  function feedback(message, value) {
    return rate(ctx, convo.sid, message.id, value).then(() => {
      message.f = value;
      save(storeKey, convo);
    });
  }

  function submit() {
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = '';
    grow();
    ask(text);
  }

  function ask(text) {
    if (busy) return;
    const starters = log.querySelector('.st');
    if (starters) starters.remove();
    log.append(userMessage(t, text));
    convo.msgs.push({ r: 'u', t: text });
    save(storeKey, convo);
    answer(text, randomId());
  }

  async function answer(text, clientId) {
    busyState(true);
    const wait = typing(t);
    log.append(wait);
    scroll(true);
    let view = null;
    let raw = '';
    let sources = [];
    let frame = 0;
    const paint = () => {
      frame = 0;
      view.set(raw);
      scroll();
    };
    const body = {
      bot_id: ctx.botId,
      api_key: ctx.key,
      session_id: convo.sid,
      message: text,
      client_id: clientId,
    };
    if (ctx.state.context) body.context = ctx.state.context;
    if (ctx.state.visitor) body.visitor = ctx.state.visitor;
    try {
      await chat(ctx, body, (type, data) => {
        if (type === 'token') {
          if (!view) {
            view = botMessage(ctx, '');
            wait.replaceWith(view.el);
          }
          raw += String(data.content || '');
          if (!frame) frame = requestAnimationFrame(paint);
        } else if (type === 'sources') sources = Array.isArray(data.sources) ? data.sources : [];
        else if (type === 'done') {
          if (!view) {
            view = botMessage(ctx, '');
            wait.replaceWith(view.el);
          }
          if (frame) cancelAnimationFrame(frame);
          paint();
          const message = { r: 'b', t: raw, s: sources, id: data.message_id, f: 'none' };
          convo.msgs.push(message);
          save(storeKey, convo);
          view.finish(sources, data.message_id, 'none', (value) => feedback(message, value));
        }
      });
    } catch (error) {
      if (frame) cancelAnimationFrame(frame);
      wait.remove();
      if (view) view.el.remove();
      const retry = error.retry
        ? () => {
            row.remove();
            answer(text, error.retry === 'same' ? clientId : randomId());
          }
        : null;
      const row = errorRow(t(error.kind || 'fail', error.vars), t('retry'), retry);
      log.append(row);
      if (!error.kind) warn(error);
    } finally {
      busyState(false);
      scroll();
    }
  }

  return {
    open(focus) {
      if (focus) returnFocus = document.activeElement;
      panel.classList.add('open');
      scroll(true);
      if (focus) input.focus();
    },
    /** Hide the panel; true when focus went back to the host page element that had it. */
    close() {
      const inside = !!ctx.root.activeElement;
      panel.classList.remove('open');
      const back = inside && returnFocus !== ctx.root.host && returnFocus;
      returnFocus = null;
      if (back && back.focus) back.focus();
      return !!(back && back.focus);
    },
  };
}

try {
  window.Chatapp.panel(mountPanel);
} catch (e) {
  warn(e);
}
