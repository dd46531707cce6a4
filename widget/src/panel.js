// The chat panel (assets/widget-panel.js), loaded on first open: header, message log, composer,
// streaming answers, errors with retry, persistence per bot, focus handling; the answer's
// actions (actions.js, leadform.js), the conversation with a person (person.js, live.js) and the
// audience quick replies (audiences.js).
import css from './panel.css';
import { actionViews, keep } from './actions.js';
import { chat, rate } from './api.js';
import { startBlock } from './audiences.js';
import { ICONS, adopt, guard, h, icon, warn } from './dom.js';
import { extend } from './i18n.js';
import { LIVE, person } from './person.js';
import { agentMessage, botMessage, errorRow, systemLine, typing, userMessage } from './render.js';
import { fresh, load, randomId, save } from './store.js';

const PERSON = 'M20 21a8 8 0 0 0-16 0M12 13a5 5 0 1 0 0-10 5 5 0 0 0 0 10z';

function iconButton(label, path, onclick) {
  return h('button', { type: 'button', 'aria-label': label, title: label, onclick }, icon(path));
}

function mountPanel(ctx) {
  ctx.t = extend(ctx.t);
  const { t, cfg } = ctx;
  adopt(ctx.root, css);
  const storeKey = 'chatapp:' + ctx.botId;
  const convo = load(storeKey) || fresh();
  const store = () => save(storeKey, convo);
  const handoff = cfg.handoff && cfg.handoff.enabled ? cfg.handoff : null;
  let busy = false;
  let stick = true;
  let returnFocus = null;

  const title = h('h2', { id: 'chatapp-title' }, cfg.name);
  const label = handoff && String(handoff.button_label || t('human'));
  // "Talk to a person" in words (an icon alone said nothing), in a bar above the message box.
  const human = handoff
    ? h(
        'button',
        { type: 'button', class: 'hu', title: label, onclick: () => talk.ask() },
        icon(PERSON),
        h('span', null, label),
      )
    : null;
  const humanBar = human ? h('div', { class: 'hb' }, human) : null;
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
    oninput: () => (grow(), talk.keystroke()),
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
    humanBar,
    form,
  );
  ctx.wrap.addEventListener('keydown', guard(keys));
  ctx.wrap.append(panel);
  const talk = person(ctx, convo, store, { log, add, scroll, showHuman });
  replay();
  if (LIVE[convo.live.st]) talk.start(convo.live.st); // a reload: resume after the last event seen
  showHuman();

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
      const items = [...panel.querySelectorAll('button,textarea,input,a[href],summary,[tabindex="0"]')];
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

  function showHuman() {
    if (humanBar) humanBar.hidden = !!LIVE[convo.live.st];
  }

  function welcome() {
    if (cfg.welcome_message) {
      const view = botMessage(ctx, String(cfg.welcome_message));
      view.finish();
      log.append(view.el);
    }
    if (!convo.msgs.some((m) => m.r === 'u')) {
      const start = startBlock(ctx, convo, pick, ask);
      if (start) log.append(start);
    }
  }

  /** The visitor picked an audience (or unpicked it: ''): kept and sent with every message. */
  function pick(key) {
    convo.aud = key;
    store();
    const old = log.querySelector('.sx');
    const block = startBlock(ctx, convo, pick, ask);
    if (old && block) {
      old.replaceWith(block);
      const again = [...block.querySelectorAll('[data-audience]')].find((b) => b.dataset.audience === key);
      if (again) again.focus();
    }
  }

  /** The element for a stored message, with the actions under it. */
  function view(m) {
    let el;
    if (m.r === 'u') return userMessage(t, m.t);
    if (m.r === 'g') return agentMessage(m.n || t('agent'), m.t);
    if (m.r === 's') el = systemLine(m.t);
    else {
      const bot = botMessage(ctx, m.t);
      bot.finish(m.s, m.id, m.f || 'none', (value) => feedback(m, value));
      el = bot.el;
    }
    const actions = actionViews(ctx, convo, m.a, store);
    if (actions) el.append(actions);
    return el;
  }

  function add(m) {
    convo.msgs.push(m);
    store();
    const el = view(m);
    talk.place(el);
    scroll();
    return el;
  }

  function replay() {
    log.replaceChildren();
    welcome();
    for (const m of convo.msgs) log.append(view(m));
    scroll(true);
  }

  function reset() {
    if (busy) return;
    talk.reset();
    Object.assign(convo, fresh());
    store();
    replay();
    showHuman();
    log.append(h('p', { class: 'sr' }, t('newd')));
    input.focus();
  }

  function feedback(message, value) {
    return rate(ctx, convo.sid, message.id, value).then(() => {
      message.f = value;
      store();
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
    const start = log.querySelector('.sx');
    if (start) start.remove();
    talk.stopTyping();
    const bubble = userMessage(t, text);
    talk.place(bubble);
    convo.msgs.push({ r: 'u', t: text });
    store();
    answer(text, randomId(), bubble);
  }

  async function answer(text, clientId, bubble) {
    busyState(true);
    // With a person, the bot stays silent: no typing dots, no empty answer.
    const wait = LIVE[convo.live.st] ? null : typing(t);
    if (wait) log.append(wait);
    scroll(true);
    let view = null;
    let raw = '';
    let sources = [];
    let frame = 0;
    let handoffAction = null;
    const actions = [];
    const paint = () => {
      frame = 0;
      view.set(raw);
      scroll();
    };
    const start = () => {
      view = botMessage(ctx, '');
      if (wait) wait.replaceWith(view.el);
      else log.append(view.el);
    };
    const body = {
      bot_id: ctx.botId,
      api_key: ctx.key,
      session_id: convo.sid,
      message: text,
      client_id: clientId,
    };
    if (convo.aud) body.audience = convo.aud;
    if (ctx.state.context) body.context = ctx.state.context;
    if (ctx.state.visitor) body.visitor = ctx.state.visitor;
    try {
      await chat(ctx, body, (type, data) => {
        if (type === 'token') {
          if (!view) start();
          raw += String(data.content || '');
          if (!frame) frame = requestAnimationFrame(paint);
        } else if (type === 'sources') sources = Array.isArray(data.sources) ? data.sources : [];
        else if (type === 'action') {
          if (data.kind === 'handoff') handoffAction = data;
          else if (keep(data)) actions.push(keep(data));
        } else if (type === 'done') done(data);
      });
    } catch (error) {
      if (frame) cancelAnimationFrame(frame);
      if (wait) wait.remove();
      if (view) view.el.remove();
      const retry = error.retry
        ? () => {
            row.remove();
            answer(text, error.retry === 'same' ? clientId : randomId(), bubble);
          }
        : null;
      const row = errorRow(t(error.kind || 'fail', error.vars), t('retry'), retry);
      log.append(row);
      if (!error.kind) warn(error);
    } finally {
      busyState(false);
      scroll();
    }

    function done(data) {
      if (frame) cancelAnimationFrame(frame);
      bubble.setAttribute('data-state', 'sent');
      const status = String(data.conversation_status || '');
      if (data.handled_by === 'human') {
        // The message went to the person: no answer from the bot.
        if (wait) wait.remove();
        if (view) view.el.remove();
        if (!LIVE[convo.live.st] || LIVE[status]) talk.start(LIVE[status] ? status : 'pending');
        return;
      }
      if (!view) start();
      paint();
      const message = { r: 'b', t: raw, s: sources, id: data.message_id, f: 'none', a: actions };
      convo.msgs.push(message);
      store();
      view.finish(sources, data.message_id, 'none', (value) => feedback(message, value));
      const extra = actionViews(ctx, convo, actions, store);
      if (extra) view.el.append(extra);
      if (handoffAction) talk.announce(handoffAction, String(handoffAction.status || status), raw);
      else if (LIVE[status]) talk.start(status);
      else if (status && LIVE[convo.live.st]) talk.end(status);
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
