// The SMS outbox: messages the built-in sender wrote instead of sending, newest first.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get } from '../lib/api.js';
import { pagedTable } from '../lib/table.js';

export default function sms(view) {
  let phone = '';
  const table = pagedTable({
    pageSize: 20,
    columns: [
      { label: t('field.time'), value: (m) => m.createTime },
      { label: t('field.phone'), value: (m) => m.phone },
      { label: t('sms.kind'), value: (m) => t(`sms.kind${m.commandType}`) },
      { label: t('sms.text'), value: (m) => m.text },
    ],
    empty: t('sms.empty'),
    load: async ({ page, size }) => {
      const q = new URLSearchParams({ pageNum: page, pageSize: size });
      if (phone) q.set('phone', phone);
      const answer = await get(`/system/api/sms/outbox?${q}`);
      return { rows: answer.data, total: answer.total };
    },
  });
  const input = h('input', { type: 'search', inputmode: 'numeric', placeholder: t('sms.phoneFilter'), 'aria-label': t('sms.phoneFilter') });
  const filter = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); phone = input.value.trim(); table.goto(1); } },
    input, h('button', { type: 'submit' }, t('action.filter')));
  clear(view, h('h1', {}, t('page.sms')), h('p', { class: 'lead' }, t('sms.intro')), filter, table.el);
  table.goto(1);
}
