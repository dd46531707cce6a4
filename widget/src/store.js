// The conversation kept in localStorage per bot: the session id, the messages (visitor 'u', bot
// 'b', agent 'g', system line 's'; the actions shown under them in `a`), the audience picked and
// the live stream's status and last event id, so a reload shows and resumes everything.

const KEEP = 60; // messages kept per bot

export function randomId() {
  const bytes = new Uint8Array(12);
  try {
    crypto.getRandomValues(bytes);
  } catch (_) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
  }
  return 'v-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh conversation: a new session, no messages, no audience, with the bot. */
export function fresh() {
  return { sid: randomId(), msgs: [], aud: '', live: { st: 'bot', last: 0 } };
}

export function load(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || 'null');
    if (value && typeof value.sid === 'string' && Array.isArray(value.msgs)) {
      const live = value.live && typeof value.live === 'object' ? value.live : {};
      return {
        sid: value.sid,
        msgs: value.msgs,
        aud: typeof value.aud === 'string' ? value.aud : '',
        live: { st: String(live.st || 'bot'), last: Number(live.last) || 0 },
      };
    }
  } catch (_) {
    /* storage blocked or corrupt */
  }
  return null;
}

export function save(key, value) {
  try {
    const { sid, aud, live } = value;
    localStorage.setItem(key, JSON.stringify({ sid, aud, live, msgs: value.msgs.slice(-KEEP) }));
  } catch (_) {
    /* storage blocked or full: the conversation lives until reload */
  }
}
