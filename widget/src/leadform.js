// The lead form shown under an answer (a `lead_form` action) or when no person is available:
// labelled fields, required marks, email and phone checked here, then POST /api/public/leads;
// the server's field errors (422 `errors`) go next to their fields; success replaces the form.
import { post } from './api.js';
import { h } from './dom.js';

const KINDS = {
  name: { type: 'text', auto: 'name', max: 120 },
  email: { type: 'email', auto: 'email', max: 254 },
  phone: { type: 'tel', auto: 'tel', max: 40 },
  message: { max: 2000 },
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{6,40}$/;
let seq = 0;

/** The fields to ask for: the action's, else the config's, else name + email. */
function fieldsOf(ctx, spec) {
  const config = ctx.cfg.lead_form || {};
  const list = Array.isArray(spec.fields) && spec.fields.length ? spec.fields : config.fields;
  const fields = (Array.isArray(list) ? list : []).filter((f) => f && KINDS[f.name]);
  return fields.length ? fields : [{ name: 'name' }, { name: 'email', required: true }];
}

function check(t, name, value, required) {
  if (!value) return required ? t('need') : '';
  if (name === 'email' && !EMAIL.test(value)) return t('email');
  if (name === 'phone' && !(PHONE.test(value) && value.replace(/\D/g, '').length >= 6)) {
    return t('phone');
  }
  return '';
}

function doneView(text) {
  return h('p', { class: 'ok', role: 'status' }, text);
}

/**
 * spec: {title, fields, done}; convo gives the session id; onDone(message) stores the success.
 * Returns the form (or, when spec.done is set, the stored success message).
 */
export function leadForm(ctx, spec, convo, onDone) {
  const { t } = ctx;
  if (spec.done) return doneView(String(spec.done));
  const id = 'chatapp-lf' + ++seq;
  const config = ctx.cfg.lead_form || {};
  const title = String(spec.title || config.title || t('lead'));
  const rows = {};
  const general = h('p', { class: 'fe', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'sb' }, t('submit'));
  const form = h('form', {
    class: 'lf',
    novalidate: true,
    'aria-labelledby': id + '-t',
    onsubmit: (e) => (e.preventDefault(), submit()),
  });
  form.append(h('h3', { id: id + '-t' }, title));
  for (const field of fieldsOf(ctx, spec)) {
    const kind = KINDS[field.name];
    const fid = id + '-' + field.name;
    const required = !!field.required;
    const control = h(field.name === 'message' ? 'textarea' : 'input', {
      id: fid,
      name: field.name,
      type: kind.type,
      rows: kind.type ? null : '3',
      autocomplete: kind.auto,
      maxlength: String(kind.max),
      'aria-required': String(required),
      'aria-describedby': fid + '-e',
      oninput: () => show(field.name, ''),
    });
    const error = h('span', { class: 'fe', id: fid + '-e' });
    const label = h(
      'label',
      { for: fid },
      String(field.label || t('f_' + field.name)),
      required ? h('span', { class: 'rq', 'aria-hidden': 'true' }, ' *') : null,
      required ? h('span', { class: 'sr' }, ' (' + t('req') + ')') : null,
    );
    rows[field.name] = { control, error, required };
    form.append(h('div', { class: 'fr' }, label, control, error));
  }
  form.append(general, button);
  return form;

  function show(name, message) {
    const row = rows[name];
    if (!row) return;
    row.error.textContent = message;
    if (message) row.control.setAttribute('aria-invalid', 'true');
    else row.control.removeAttribute('aria-invalid');
  }

  async function submit() {
    if (form.getAttribute('aria-busy') === 'true') return;
    general.textContent = '';
    const values = {};
    let first = null;
    for (const name in rows) {
      const value = rows[name].control.value.trim();
      const problem = check(t, name, value, rows[name].required);
      show(name, problem);
      if (problem && !first) first = rows[name].control;
      values[name] = value;
    }
    if (first) return first.focus();
    form.setAttribute('aria-busy', 'true');
    button.setAttribute('aria-disabled', 'true');
    try {
      const { status, data } = await post(ctx, '/api/public/leads', convo.sid, values);
      if (status === 200 || status === 201) {
        const text = String(data.message || config.success_message || t('thanks'));
        form.replaceWith(doneView(text));
        onDone(text);
        return;
      }
      const errors = data.errors && typeof data.errors === 'object' ? data.errors : {};
      let placed = false;
      for (const name in errors) {
        if (!rows[name]) continue;
        show(name, String(errors[name]));
        if (!placed) rows[name].control.focus();
        placed = true;
      }
      if (!placed) {
        const detail = typeof data.detail === 'string' ? data.detail : '';
        general.textContent = status === 429 ? t('rate', { s: 60 }) : detail || t('fail');
      }
    } catch (error) {
      general.textContent = t(error.kind || 'fail');
    } finally {
      form.removeAttribute('aria-busy');
      button.removeAttribute('aria-disabled');
    }
  }
}
