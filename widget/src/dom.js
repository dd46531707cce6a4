// Tiny DOM helpers. Text always goes in as text nodes: nothing here parses HTML.

const SVG = 'http://www.w3.org/2000/svg';

/** Log once per kind, never throw: the widget must not break the host page. */
export function warn(...args) {
  try {
    console.warn('[chatapp]', ...args);
  } catch (_) {
    /* no console */
  }
}

/** Wrap a callback so an exception is logged instead of reaching the host page. */
export function guard(fn) {
  return function (...args) {
    try {
      return fn.apply(this, args);
    } catch (e) {
      warn(e);
    }
  };
}

/** h('button', {class: 'x', 'aria-label': 'Send', onclick: fn}, child, 'text', ...) */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), guard(v));
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
  return el;
}

/** A decorative 24x24 stroke icon from one path. */
export function icon(d) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

export const ICONS = {
  chat: 'M21 12a8.5 8.5 0 0 1-12.4 7.5L3 21l1.6-5.2A8.5 8.5 0 1 1 21 12z',
  close: 'M18 6 6 18M6 6l12 12',
  send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
  plus: 'M12 5v14M5 12h14',
  up: 'M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3m7-2V5a3 3 0 0 0-3-3l-4 9v11h11.3a2 2 0 0 0 2-1.7l1.4-9a2 2 0 0 0-2-2.3z',
  down: 'M17 2h3a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-3m-7 2v4a3 3 0 0 0 3 3l4-9V2H5.7a2 2 0 0 0-2 1.7l-1.4 9a2 2 0 0 0 2 2.3z',
};

/** Add CSS to a shadow root: a constructable stylesheet (allowed by a strict CSP), or <style>. */
export function adopt(root, css) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch (_) {
    root.append(h('style', null, css));
  }
}

/** An absolute http(s) or mailto URL, or null: relative and script URLs are refused. */
export function safeUrl(value, allowMail) {
  try {
    const url = new URL(String(value));
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    if (allowMail && url.protocol === 'mailto:') return url.href;
  } catch (_) {
    /* relative or malformed */
  }
  return null;
}
