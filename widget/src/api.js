// The public API calls the panel makes: chat (SSE) and feedback.
import { readEvents } from './sse.js';

/** A refusal or failure with the words to show: kind is a key of the locale table. */
export class ChatError extends Error {
  constructor(kind, vars, retry) {
    super(kind);
    this.kind = kind;
    this.vars = vars;
    this.retry = retry; // 'same' (resend with the same client id), 'new', or undefined (no retry)
  }
}

async function refusal(response) {
  const status = response.status;
  if (status === 401) return new ChatError('e401');
  if (status === 403 || status === 404) return new ChatError('e403');
  if (status === 413) return new ChatError('long');
  if (status === 429) {
    const wait = parseInt(response.headers.get('Retry-After') || '60', 10);
    if (wait > 3600) return new ChatError('quota');
    return new ChatError('rate', { s: Math.max(1, wait || 1) }, 'same');
  }
  if (status === 422) {
    let detail = '';
    try {
      detail = JSON.stringify((await response.json()).detail || '');
    } catch (_) {
      /* no JSON */
    }
    if (/long|max_length|too_long/i.test(detail)) return new ChatError('long');
  }
  return new ChatError('fail', null, 'new');
}

function networkError() {
  return new ChatError(navigator.onLine === false ? 'offline' : 'net', null, 'same');
}

/**
 * Send one message and stream the answer: onEvent(type, data) for token/sources/done/error.
 * Rejects with a ChatError; an `error` event or a stream cut short becomes one too.
 */
export async function chat(ctx, body, onEvent) {
  let response;
  try {
    response = await fetch(ctx.base + '/api/chat', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
    });
  } catch (_) {
    throw networkError();
  }
  if (!response.ok) throw await refusal(response);
  let finished = false;
  let failed = null;
  try {
    await readEvents(response, (type, data) => {
      if (type === 'error') failed = new ChatError('fail', null, 'new');
      else if (!failed) {
        if (type === 'done') finished = true;
        onEvent(type, data);
      }
    });
  } catch (_) {
    throw networkError();
  }
  if (failed) throw failed;
  if (!finished) throw networkError();
}

export async function rate(ctx, sessionId, messageId, rating) {
  const response = await fetch(ctx.base + '/api/public/messages/' + messageId + '/feedback', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ bot_id: ctx.botId, api_key: ctx.key, session_id: sessionId, rating }),
    credentials: 'omit',
  });
  if (!response.ok) throw new Error('feedback: HTTP ' + response.status);
}

/**
 * POST a JSON body with the bot's id and key to a public route: resolves {status, data} (data is
 * the JSON reply or {}), rejects with a ChatError only when the server cannot be reached.
 */
export async function post(ctx, path, sessionId, body) {
  let response;
  try {
    response = await fetch(ctx.base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ bot_id: ctx.botId, api_key: ctx.key, session_id: sessionId, ...body }),
      credentials: 'omit',
    });
  } catch (_) {
    throw networkError();
  }
  let data = {};
  try {
    if (response.status !== 204) data = (await response.json()) || {};
  } catch (_) {
    /* no JSON */
  }
  return { status: response.status, data };
}
