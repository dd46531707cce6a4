// The conversation's live stream while a person is involved: an EventSource on
// /api/public/conversations/events (it resends Last-Event-ID itself on reconnects; after a reload
// or when the browser gave up, we reopen it with `last_event_id` from storage). Stored events are
// handled once: an id at or below the last one seen is a replay we already have. Also the
// visitor's typing signal, debounced (true on the first keystroke, false after 3 s idle or on send).
import { post } from './api.js';
import { guard } from './dom.js';

const IDLE = 3000;
const TYPES = ['message', 'status', 'typing', 'action'];

/** onEvent(type, data) for each new event; save() after each stored one. */
export function liveStream(ctx, convo, onEvent, save) {
  let source = null;
  let timer = 0;
  let retries = 0;
  let typing = false;
  let idle = 0;

  function url() {
    const query = new URLSearchParams({ bot_id: ctx.botId, session_id: convo.sid, key: ctx.key });
    if (convo.live.last) query.set('last_event_id', String(convo.live.last));
    return ctx.base + '/api/public/conversations/events?' + query;
  }

  function open() {
    clearTimeout(timer);
    if (source || typeof EventSource !== 'function') return;
    const es = new EventSource(url());
    source = es;
    const handle = guard((e) => {
      if (source !== es) return;
      let data;
      try {
        data = JSON.parse(e.data);
      } catch (_) {
        return; // a keep-alive or something not ours
      }
      const type = (data && data.type) || e.type;
      // typing is never stored and has no id of its own (lastEventId repeats the previous one)
      if (type !== 'typing') {
        const id = Number(e.lastEventId) || 0;
        if (id && id <= convo.live.last) return;
        if (id) convo.live.last = id;
      }
      onEvent(type, data || {});
      if (type !== 'typing') save();
    });
    for (const name of TYPES) es.addEventListener(name, handle);
    es.addEventListener('open', () => (retries = 0));
    es.addEventListener(
      'error',
      guard(() => {
        // CONNECTING: the browser retries by itself, with Last-Event-ID. CLOSED: it gave up
        // (an HTTP error during a restart, say): try again later from the stored id (at most 10 s apart: an agent may be writing).
        if (source === es && es.readyState === 2) {
          source = null;
          timer = setTimeout(guard(open), Math.min(10000, 1000 * 2 ** retries++));
        }
      }),
    );
  }

  function close() {
    clearTimeout(timer);
    if (source) source.close();
    source = null;
    stopTyping();
  }

  function signal(value) {
    typing = value;
    post(ctx, '/api/public/typing', convo.sid, { typing: value }).catch(() => {});
  }

  /** The visitor typed a key: tell the agent (once), and that it stopped after 3 s idle. */
  function keystroke() {
    if (!source) return;
    if (!typing) signal(true);
    clearTimeout(idle);
    idle = setTimeout(guard(stopTyping), IDLE);
  }

  function stopTyping() {
    clearTimeout(idle);
    if (typing) signal(false);
  }

  return { open, close, keystroke, stopTyping, active: () => !!source };
}

/** POST /api/public/handoff: {status, message, offer_lead_form, conversation_id}. */
export function requestHuman(ctx, convo) {
  return post(ctx, '/api/public/handoff', convo.sid, {}).then(({ status, data }) => {
    if (status >= 400) {
      const error = new Error(typeof data.detail === 'string' ? data.detail : 'handoff');
      error.detail = typeof data.detail === 'string' ? data.detail : '';
      throw error;
    }
    return data;
  });
}
