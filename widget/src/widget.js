// The launcher (assets/widget.js): reads its script tag, installs the Chatapp() API (keeping calls
// queued by the stub), fetches the bot's config, draws the bubble in a shadow root and loads the
// chat panel (assets/widget-panel.js) on first open. Nothing here may throw into the host page.
import css from './launcher.css';
import { palette } from './color.js';
import { ICONS, adopt, guard, h, icon, safeUrl, warn } from './dom.js';
import { translator } from './i18n.js';

/* global __PANEL_FILE__ */

function start() {
  const w = window;
  const previous = w.Chatapp;
  if (previous && previous.loaded) return; // included twice: the first copy runs the widget
  const script = document.currentScript || document.querySelector('script[data-bot-id][src]');
  const data = (script && script.dataset) || {};
  const queued = (previous && previous.q) || [];
  const state = { open: false, visitor: null, context: null, waiting: [] };
  let ctx = null; // set once the bubble (or the inline panel) is up
  let panel = null;
  let panelLoading = null;

  function command(name, arg) {
    if (name === 'identify') state.visitor = arg && typeof arg === 'object' ? { ...arg } : null;
    else if (name === 'setContext') state.context = arg && typeof arg === 'object' ? { ...arg } : null;
    else if (name === 'open' || name === 'close' || name === 'toggle') {
      if (!ctx) state.waiting.push(name);
      else if (name === 'open' || (name === 'toggle' && !state.open)) openPanel(true);
      else closePanel(false);
    } else warn('unknown command', name);
  }
  const api = guard(command);
  api.loaded = true;
  api.q = [];
  w.Chatapp = api;

  const botId = data.botId;
  if (!botId) return warn('data-bot-id is missing on the script tag');
  let scriptUrl = '';
  try {
    scriptUrl = new URL(script.src, location.href).href;
  } catch (_) {
    scriptUrl = location.href;
  }
  const base = String(data.api || new URL(scriptUrl).origin).replace(/\/+$/, '');
  const t = translator(data.locale);
  for (const args of queued) api(...args);

  // A refusal (e.g. 403: this website is not in the bot's allowed domains) means no bubble at
  // all; the server's reason goes to the console for the site's developer.
  fetch(base + '/api/public/bots/' + encodeURIComponent(botId) + '/config', { credentials: 'omit' })
    .then((r) => (r.ok ? r.json() : r.json().catch(() => ({})).then((b) => refused(b, r.status))))
    .then((cfg) => {
      if (!cfg.active) return warn('this bot is paused');
      if (document.body) mount(cfg);
      else document.addEventListener('DOMContentLoaded', guard(() => mount(cfg)));
    })
    .catch(warn);

  function refused(body, status) {
    return Promise.reject(new Error(String((body && body.detail) || 'config: HTTP ' + status)));
  }

  function mount(cfg) {
    let target = null;
    if (data.mode === 'inline') {
      try {
        target = document.querySelector(data.target || '');
      } catch (_) {
        /* invalid selector */
      }
      if (!target) warn('data-target not found: showing the bubble instead');
    }
    const host = document.createElement('chatapp-widget');
    if (target) host.setAttribute('data-mode', 'inline');
    const root = host.attachShadow({ mode: 'open' });
    adopt(root, css);
    const wrap = h('div', { class: 'w', lang: t.lang });
    const colours = palette(cfg.accent_color);
    for (const name in colours) wrap.style.setProperty(name, colours[name]);
    root.append(wrap);
    const pos = { 'bottom-left': 'left', 'bottom-center': 'center', center: 'center' }[cfg.position] || 'right';
    const avatar = cfg.avatar_url ? safeUrl(new URL(cfg.avatar_url, base + '/').href) : null;
    ctx = {
      cfg,
      botId,
      key: data.key || '',
      base,
      t,
      root,
      wrap,
      pos,
      avatar,
      inline: !!target,
      state,
      launcher: null,
      close: () => closePanel(true),
    };
    if (!target) {
      const text = cfg.show_button_text && cfg.button_text ? String(cfg.button_text) : '';
      const launcher = h('button', {
        type: 'button',
        class: 'l ' + pos + (text ? '' : ' icon'),
        'aria-haspopup': 'dialog',
        'aria-expanded': 'false',
        'aria-controls': 'chatapp-panel',
        onclick: () => (state.open ? closePanel(false) : openPanel(true)),
        onpointerenter: () => loadPanel().catch(() => {}),
        onfocus: () => loadPanel().catch(() => {}),
      });
      ctx.launcher = launcher;
      drawLauncher();
      wrap.append(launcher);
    }
    (target || document.body).appendChild(host);
    if (target) openPanel(false);
    if (data.open === 'true' && !target) openPanel(false);
    for (const name of state.waiting.splice(0)) command(name);
  }

  function drawLauncher() {
    const { launcher, cfg } = ctx;
    const text = launcher.classList.contains('icon') ? '' : String(cfg.button_text);
    launcher.setAttribute('aria-expanded', String(state.open));
    launcher.setAttribute('aria-label', state.open ? t('close') : text || t('open'));
    launcher.replaceChildren();
    if (state.open) launcher.append(icon(ICONS.close));
    else if (ctx.avatar) launcher.append(h('img', { src: ctx.avatar, alt: '' }));
    else launcher.append(icon(ICONS.chat));
    if (text && !state.open) launcher.append(h('span', null, text));
  }

  function loadPanel() {
    if (!panelLoading) {
      panelLoading = new Promise((resolve, reject) => {
        api.panel = resolve; // widget-panel.js calls Chatapp.panel(mount)
        const tag = h('script', { src: new URL(__PANEL_FILE__, scriptUrl).href, async: true });
        if (script && script.nonce) tag.nonce = script.nonce;
        tag.onerror = () => {
          panelLoading = null;
          reject(new Error('could not load the chat panel'));
        };
        (document.head || document.documentElement).appendChild(tag);
      });
    }
    return panelLoading;
  }

  function openPanel(focus) {
    loadPanel()
      .then((mountPanel) => {
        if (!panel) panel = mountPanel(ctx);
        state.open = true;
        panel.open(focus);
        if (ctx.launcher) drawLauncher();
      })
      .catch(warn);
  }

  function closePanel(fromPanel) {
    if (!panel || ctx.inline || !state.open) return;
    state.open = false;
    const focusInside = !!ctx.root.activeElement;
    const restored = panel.close();
    drawLauncher();
    if (!restored && (fromPanel || focusInside)) ctx.launcher.focus();
  }
}

try {
  start();
} catch (e) {
  warn(e);
}
