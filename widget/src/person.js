// The conversation with a person, as the panel shows it: "Talk to a person", the stream's events
// (agent replies, "<name> joined", "closed", typing dots) and the switch between bot and person.
// ui: {log, add(entry), place(el), scroll(), showHuman()} from the panel.
import { liveStream, requestHuman } from './live.js';
import { keep } from './actions.js';
import { errorRow, typing } from './render.js';

/** pending: a person was asked for; assigned: an agent has it. The bot is silent in both. */
export const LIVE = { pending: true, assigned: true };

export function person(ctx, convo, store, ui) {
  const { t } = ctx;
  const live = liveStream(ctx, convo, onEvent, store);
  let dots = null; // the agent's typing indicator
  let asking = false;

  function start(status) {
    convo.live.st = status;
    store();
    live.open();
    ui.showHuman();
  }

  function end(status) {
    convo.live.st = status;
    store();
    live.close();
    typingOff();
    ui.showHuman();
  }

  function typingOff() {
    if (dots) dots.remove();
    dots = null;
  }

  function name(data) {
    const agent = data.agent;
    const value = agent && typeof agent === 'object' ? agent.name : agent;
    return String(value || data.name || data.author || t('agent'));
  }

  /**
   * A system line for a handoff reply or action, with the lead form when it is offered; not the
   * words again when the bot's answer (`said`) already was them (a phrase like "a human").
   */
  function announce(data, status, said) {
    const offer = data.offer_lead_form || status === 'unavailable';
    let text = String(data.message || (LIVE[status] ? t('conn') : ''));
    if (said && text.trim() === String(said).trim()) text = '';
    if (text || offer) ui.add({ r: 's', t: text, a: offer ? [{ kind: 'lead_form' }] : [] });
    if (LIVE[status]) start(status);
  }

  /** An event of the live stream (already deduplicated by its id). */
  function onEvent(type, data) {
    if (type === 'message') {
      const text = String(data.content || '');
      if (data.role === 'user' || !text) return; // the visitor's own: already shown
      if (data.id != null && convo.msgs.some((m) => m.r !== 'u' && m.id === data.id)) return;
      typingOff();
      if (data.role === 'agent') ui.add({ r: 'g', t: text, n: name(data), id: data.id });
      else if (data.role === 'system') ui.add({ r: 's', t: text, id: data.id });
      else ui.add({ r: 'b', t: text, s: [], id: data.id, f: 'none' });
    } else if (type === 'status') {
      const status = String(data.status || '');
      if (status === 'assigned') {
        ui.add({ r: 's', t: t('joined', { name: name(data) }) });
        start(status);
      } else if (status === 'pending') start(status);
      else if (status === 'resolved' || status === 'bot') {
        ui.add({ r: 's', t: t(status === 'bot' ? 'back' : 'closed') });
        end(status);
      } else if (status === 'unavailable') {
        announce(data, status);
        end('bot');
      }
    } else if (type === 'typing') {
      if (data.who !== 'agent') return;
      typingOff();
      if (data.typing) {
        dots = typing(t, t('atyping', { name: name(data) }));
        ui.log.append(dots);
        ui.scroll();
      }
    } else if (type === 'action') {
      const action = keep(data);
      if (action) ui.add({ r: 's', t: String(data.message || ''), a: [action] });
    }
  }

  /** "Talk to a person": the server says pending/assigned (follow the stream) or unavailable. */
  function ask() {
    if (asking) return;
    asking = true;
    requestHuman(ctx, convo)
      .then((data) => announce(data, String(data.status || '')))
      .catch((error) => {
        ui.log.append(errorRow(error.detail || t(error.kind || 'fail'), t('retry'), null));
        ui.scroll(true);
      })
      .finally(() => (asking = false));
  }

  return {
    start,
    end,
    ask,
    announce,
    keystroke: () => LIVE[convo.live.st] && live.keystroke(),
    stopTyping: live.stopTyping,
    /** Put a new element in the log, above the agent's typing dots if they show. */
    place(el) {
      if (dots && dots.isConnected) dots.before(el);
      else ui.log.append(el);
    },
    /** A new conversation: stop following the old one. */
    reset() {
      live.close();
      dots = null;
    },
  };
}
