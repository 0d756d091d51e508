// Modal dialogs built on <dialog>, and a confirmation that answers a promise.
import { h } from './dom.js';
import { t } from './i18n.js';

export function openDialog(title, ...content) {
  const close = () => { dialog.close(); };
  const dialog = h('dialog', { class: 'dialog' },
    h('header', {}, h('h2', {}, title),
      h('button', { type: 'button', class: 'icon close', 'aria-label': t('action.close'), onclick: close }, '×')),
    h('div', { class: 'dialog-body' }, content));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

export function confirmDialog(message, okLabel) {
  return new Promise((resolve) => {
    let answer = false;
    const { dialog, close } = openDialog(t('confirm.title'),
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => { answer = true; close(); } }, okLabel || t('action.ok')),
        h('button', { type: 'button', onclick: () => close() }, t('action.cancel'))));
    dialog.addEventListener('close', () => resolve(answer));
  });
}
