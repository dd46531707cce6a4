// The start of a new conversation: the bot's audiences as quick replies ("I'm a recruiter") and
// the starter questions (the picked audience's own, else the bot's). The pick is kept on the
// conversation and sent as `audience` with every message.
import { h } from './dom.js';

/** The configured audiences: [{key, label, starter_questions}] with a key and a label. */
export function audiencesOf(cfg) {
  const list = Array.isArray(cfg.audiences) ? cfg.audiences : [];
  return list.filter((a) => a && a.key && a.label).slice(0, 8);
}

/**
 * The block shown under the welcome while nothing was sent: the audience chips (a pressed one is
 * the pick) and the starter questions. pick(key) stores the choice; ask(text) sends a question.
 */
export function startBlock(ctx, convo, pick, ask) {
  const { t, cfg } = ctx;
  const audiences = audiencesOf(cfg);
  const chosen = audiences.find((a) => a.key === convo.aud);
  const own = chosen && Array.isArray(chosen.starter_questions) ? chosen.starter_questions : [];
  const starters = (own.length ? own : cfg.starter_questions || []).filter(Boolean).slice(0, 6);
  const block = h('div', { class: 'sx' });
  if (audiences.length) {
    block.append(
      h(
        'div',
        { class: 'st au', role: 'group', 'aria-label': t('who') },
        audiences.map((a) =>
          h(
            'button',
            {
              type: 'button',
              'data-audience': String(a.key),
              'aria-pressed': String(a.key === convo.aud),
              onclick: () => pick(a.key === convo.aud ? '' : String(a.key)),
            },
            String(a.label),
          ),
        ),
      ),
    );
  }
  if (starters.length) {
    block.append(
      h(
        'div',
        { class: 'st' },
        starters.map((q) => h('button', { type: 'button', onclick: () => ask(String(q)) }, String(q))),
      ),
    );
  }
  return block.childNodes.length ? block : null;
}
