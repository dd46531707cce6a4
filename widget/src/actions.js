// What an answer offers beside its text (`action` events of /api/chat, kept in the message's `a`):
// a link button (http(s) only, new tab) or the lead form. A `handoff` action is not drawn here:
// the panel turns it into a system line and opens the live stream (live.js).
import { h, safeUrl } from './dom.js';
import { leadForm } from './leadform.js';

/** An action from the server, reduced to what is stored and drawn; null when not usable. */
export function keep(data) {
  const kind = data && data.kind;
  if (kind === 'link') {
    const url = safeUrl(data.url);
    return url ? { kind, url, label: String(data.label || url).slice(0, 120) } : null;
  }
  if (kind === 'lead_form') {
    return { kind, title: data.title ? String(data.title) : '', fields: data.fields || null };
  }
  return null;
}

/** The elements for a message's actions; a submitted form's success is stored through save(). */
export function actionViews(ctx, convo, list, save) {
  const views = [];
  for (const action of Array.isArray(list) ? list : []) {
    if (action.kind === 'link') {
      const url = safeUrl(action.url);
      if (url) {
        const attrs = { class: 'ab', href: url, target: '_blank', rel: 'noopener noreferrer' };
        views.push(h('a', attrs, action.label || url));
      }
    } else if (action.kind === 'lead_form') {
      views.push(
        leadForm(ctx, action, convo, (text) => {
          action.done = text;
          save();
        }),
      );
    }
  }
  return views.length ? h('div', { class: 'ac' }, views) : null;
}
