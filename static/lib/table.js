// The one list component: a table with a pager. `load({ page, size })` answers
// { rows, total }; `allRows(fetchAll)` adapts an API that answers the whole list.
import { h, clear } from './dom.js';
import { t } from './i18n.js';

const SIZES = [10, 20, 50];

/// columns: [{ label, value(row) -> string | Node, class }]
export function pagedTable({ columns, load, pageSize = 10, empty, rowKey }) {
  const state = { page: 1, size: pageSize, total: 0 };
  const body = h('tbody');
  const status = h('div', { class: 'table-status', role: 'status' });
  const info = h('span', { class: 'pager-info' });
  const prev = h('button', { type: 'button', class: 'pager-prev', onclick: () => goto(state.page - 1) }, '‹ ', t('pager.prev'));
  const next = h('button', { type: 'button', class: 'pager-next', onclick: () => goto(state.page + 1) }, t('pager.next'), ' ›');
  const sizes = h('select', { 'aria-label': t('pager.size'), onchange: (e) => { state.size = Number(e.target.value); goto(1); } },
    SIZES.map((n) => h('option', { value: n, selected: n === state.size }, t('pager.perPage', { n }))));
  const el = h('div', { class: 'paged' },
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' }, h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))), body)),
    status,
    h('nav', { class: 'pager', 'aria-label': t('pager.label') }, prev, info, next, sizes));

  async function goto(page) {
    state.page = Math.max(1, page);
    el.classList.add('loading');
    status.textContent = '';
    try {
      const { rows, total } = await load({ page: state.page, size: state.size });
      state.total = total;
      if (!rows.length && state.page > 1 && total > 0) return goto(Math.ceil(total / state.size));
      clear(body, rows.map((row) => h('tr', rowKey ? { dataset: { key: rowKey(row) } } : {},
        columns.map((c) => h('td', { 'data-label': c.label, class: c.class }, c.value(row))))));
      if (!rows.length) status.textContent = empty || t('table.empty');
    } catch (err) {
      clear(body);
      status.textContent = err.message;
      status.classList.add('error');
    } finally {
      el.classList.remove('loading');
    }
    const pages = Math.max(1, Math.ceil(state.total / state.size));
    info.textContent = t('pager.info', { page: state.page, pages, total: state.total });
    prev.disabled = state.page <= 1;
    next.disabled = state.page >= pages;
  }

  return { el, reload: () => goto(state.page), goto };
}

/// For APIs that answer every row at once: pages are cut here.
export function allRows(fetchAll) {
  return async ({ page, size }) => {
    const rows = await fetchAll();
    return { rows: rows.slice((page - 1) * size, page * size), total: rows.length };
  };
}
