// A secret shown once: a read-only field with a copy button. The clipboard API needs a
// secure origin (https or localhost); on a plain-http LAN address the text is selected and
// copied the old way.
import { h } from './dom.js';
import { t } from './i18n.js';

export function secretField(label, value, name) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'secret', dataset: { secret: name }, 'aria-label': label });
  const button = h('button', {
    type: 'button', class: 'copy', dataset: { copy: name },
    onclick: async () => {
      let done = false;
      try {
        if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(value); done = true; }
      } catch (_) { /* fall back below */ }
      if (!done) {
        input.select();
        done = document.execCommand('copy');
      }
      // Said on the button itself: page notices sit below an open dialog.
      button.textContent = done ? `✓ ${t('copy.done')}` : t('copy.failed');
      button.classList.toggle('copied', done);
      if (!done) input.select();
      setTimeout(() => { button.textContent = t('copy.copy'); button.classList.remove('copied'); }, 4000);
    },
  }, t('copy.copy'));
  return h('div', { class: 'field' }, h('label', {}, label), h('div', { class: 'secret-row' }, input, button));
}
