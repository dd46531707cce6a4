// Message elements: the visitor's (plain text), the bot's (Markdown, citations, thumbs).
import { ICONS, h, icon, safeUrl } from './dom.js';
import { markdown } from './markdown.js';

export function userMessage(t, text) {
  const who = h('span', { class: 'sr' }, t('you') + ': ');
  return h('div', { class: 'm u' }, h('div', { class: 'b' }, who, text));
}

/** A bot message whose text can grow while it streams: returns {el, set(text), finish(...)} */
export function botMessage(ctx, text) {
  const body = h('div', { class: 'b' });
  const el = h('div', { class: 'm', 'data-state': 'streaming' }, body);
  const name = h('span', { class: 'sr' }, ctx.cfg.name + ': ');
  const set = (value) => body.replaceChildren(name, ...markdown(value));
  set(text || '');
  return {
    el,
    body,
    set,
    /** The answer is complete: show its citations and feedback buttons. */
    finish(sources, messageId, rating, onRate) {
      el.setAttribute('data-state', 'done');
      if (sources && sources.length) el.append(citations(ctx.t, sources));
      if (messageId != null && onRate) el.append(thumbs(ctx.t, rating, onRate));
    },
  };
}

function citations(t, sources) {
  const list = h('ol');
  for (const s of sources.slice(0, 10)) {
    const title = String(s.title || s.file || s.url || '').slice(0, 200) || '#' + s.n;
    const url = safeUrl(s.url);
    const where = [];
    if (s.file && s.file !== title) where.push(String(s.file));
    if (Number.isInteger(s.page)) where.push(t('page', { n: s.page }));
    const label = url
      ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, title)
      : h('span', null, title);
    const place = where.length ? ' (' + where.join(', ') + ')' : '';
    const item = h('li', null, '[' + s.n + '] ', label, place);
    if (s.snippet) {
      item.append(
        h('details', null, h('summary', null, t('excerpt')), h('blockquote', null, String(s.snippet))),
      );
    }
    list.append(item);
  }
  return h('div', { class: 'ct' }, h('h3', null, t('src')), list);
}

function thumbs(t, rating, onRate) {
  const bar = h('div', { class: 'fb' });
  const buttons = {};
  const show = (value) => {
    for (const key in buttons) buttons[key].setAttribute('aria-pressed', String(key === value));
  };
  for (const key of ['up', 'down']) {
    buttons[key] = h(
      'button',
      {
        type: 'button',
        'aria-label': t(key),
        title: t(key),
        'data-rating': key,
        onclick: () => {
          const previous = rating;
          rating = rating === key ? 'none' : key;
          show(rating);
          onRate(rating).catch(() => {
            rating = previous;
            show(rating);
          });
        },
      },
      icon(ICONS[key]),
    );
    bar.append(buttons[key]);
  }
  show(rating);
  return bar;
}

/** Three dots: the bot is answering, or (with `who`, visible) an agent is typing. */
export function typing(t, who) {
  const dots = h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'));
  const text = who ? h('span', { class: 'an' }, who) : h('span', { class: 'sr' }, t('typing'));
  return h('div', { class: 'm typing' }, h('div', { class: 'b' }, dots, text));
}

/** A person's reply (plain text), under their name. */
export function agentMessage(name, text) {
  return h('div', { class: 'm g' }, h('span', { class: 'an' }, name), h('div', { class: 'b' }, text));
}

/** A line about the conversation itself ("Anna joined"), not anyone's message. */
export function systemLine(text) {
  return h('div', { class: 'm sy' }, text ? h('p', null, text) : null);
}

export function errorRow(text, retryLabel, onRetry) {
  return h(
    'div',
    { class: 'm er', role: 'alert' },
    h('span', null, text),
    onRetry ? h('button', { type: 'button', onclick: onRetry }, retryLabel) : null,
  );
}
