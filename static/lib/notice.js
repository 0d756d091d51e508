// Short messages at the top of the page: success fades, failures stay until closed.
import { h } from './dom.js';
import { t } from './i18n.js';

export function notify(message, kind = 'ok') {
  const area = document.getElementById('notices');
  // Only the latest success stays on screen; failures stay until closed.
  if (kind !== 'error') area.querySelectorAll('.notice:not(.error)').forEach((n) => n.remove());
  const item = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message),
    h('button', { type: 'button', class: 'icon', 'aria-label': t('action.close'), onclick: () => item.remove() }, '×'));
  area.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 4000);
}

/// Messages belong to the page they came from.
export function clearNotices() {
  document.getElementById('notices').replaceChildren();
}
