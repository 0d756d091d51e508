// Forms that check every field before anything is sent, explain each problem beside the
// field in the chosen language, and show the server's own message when it refuses.
import { h } from './dom.js';
import { t } from './i18n.js';

let nextId = 0;

/// A field: { name, label, type ('text' | 'password' | 'tel' | 'number' | 'textarea' | 'select' |
/// 'checkbox' | 'checkboxes' | 'file' | 'date'), value, required, minLength, maxLength, pattern, patternMessage,
/// options: [{ value, label }], check(value, values) -> message | null, hint, autocomplete }.
function control(field) {
  const id = `f${++nextId}`;
  const common = { id, name: field.name, 'aria-describedby': `${id}-err` };
  let input;
  switch (field.type) {
    case 'select':
      input = h('select', common, (field.options || []).map((o) =>
        h('option', { value: String(o.value), selected: String(o.value) === String(field.value ?? '') }, o.label)));
      break;
    case 'textarea':
      input = h('textarea', { ...common, rows: 3, value: field.value ?? '' });
      break;
    case 'checkbox':
      input = h('input', { ...common, type: 'checkbox', checked: !!field.value });
      return { id, input, row: h('div', { class: 'field check' }, h('label', { for: id }, input, ' ', field.label),
        h('div', { class: 'field-error', id: `${id}-err` })) };
    case 'checkboxes': {
      const chosen = new Set((field.value || []).map(String));
      input = h('fieldset', { ...common, class: 'choices' }, h('legend', {}, field.label),
        (field.options || []).map((o) => h('label', {}, h('input', {
          type: 'checkbox', value: String(o.value), checked: chosen.has(String(o.value)), dataset: { choice: field.name },
        }), ' ', o.label)));
      return { id, input, row: h('div', { class: 'field' }, input, h('div', { class: 'field-error', id: `${id}-err` })) };
    }
    default:
      input = h('input', {
        ...common, type: field.type || 'text', value: field.value ?? '', autocomplete: field.autocomplete,
        inputmode: field.inputmode, placeholder: field.placeholder, accept: field.accept,
      });
  }
  const row = h('div', { class: 'field' },
    h('label', { for: id }, field.label, field.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    field.hint ? h('div', { class: 'hint' }, field.hint) : null,
    h('div', { class: 'field-error', id: `${id}-err` }));
  return { id, input, row };
}

function read(field, input) {
  switch (field.type) {
    case 'checkbox': return input.checked;
    case 'checkboxes': return [...input.querySelectorAll('input:checked')].map((i) => i.value);
    case 'file': return input.files[0] || ''; // a File, or '' when none was chosen
    default: return input.value.trim();
  }
}

/// The first problem with a value, or null.
export function problem(field, value, values) {
  const empty = value === '' || (Array.isArray(value) && value.length === 0);
  if (field.required && empty) return t('v.required', { field: field.label });
  if (!empty && typeof value === 'string') {
    const length = [...value].length;
    if (field.minLength && length < field.minLength) return t('v.minLength', { field: field.label, n: field.minLength });
    if (field.maxLength && length > field.maxLength) return t('v.maxLength', { field: field.label, n: field.maxLength });
    if (field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value)) return field.patternMessage || t('v.format', { field: field.label });
  }
  return field.check ? field.check(value, values) : null;
}

/// Builds a form. `onSubmit(values)` may throw an ApiError: its message is shown above the
/// buttons. `extra` nodes go after the fields. Answers { form, values(), setError(msg) }.
export function buildForm({ fields, submitLabel, onSubmit, onCancel, className, extra }) {
  const controls = fields.map((f) => ({ field: f, ...control(f) }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel || t('action.save'));
  const form = h('form', { class: `form ${className || ''}`, novalidate: true },
    controls.map((c) => c.row), extra, error,
    h('div', { class: 'actions' }, submit,
      onCancel ? h('button', { type: 'button', onclick: onCancel }, t('action.cancel')) : null));
  const values = () => Object.fromEntries(controls.map((c) => [c.field.name, read(c.field, c.input)]));
  const showError = (message) => { error.textContent = message || ''; };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const current = values();
    let first = null;
    for (const c of controls) {
      const message = problem(c.field, current[c.field.name], current);
      const slot = form.querySelector(`#${c.id}-err`);
      slot.textContent = message || '';
      c.input.toggleAttribute('aria-invalid', !!message);
      if (message && !first) first = c.input;
    }
    if (first) {
      (first.querySelector?.('input') || first).focus();
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(current);
    } catch (err) {
      showError(err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return { form, values, setError: showError };
}
