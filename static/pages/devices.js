// Care devices bound to the signed-in account: add one (its token shown once, with a copy
// button), bind one by its token, unbind; online state and when each last called in.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { care, devices as listDevices } from '../lib/care.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { secretField } from '../lib/copy.js';
import { notify } from '../lib/notice.js';

export default function devices(view) {
  const table = pagedTable({
    rowKey: (d) => d.device,
    empty: t('devices.empty'),
    columns: [
      { label: t('devices.number'), value: (d) => String(d.id) },
      { label: t('field.name'), value: (d) => d.device },
      { label: t('field.state'), value: (d) => h('span', { class: `badge ${d.online ? 'on' : 'off'}` }, d.online ? t('devices.online') : t('devices.offline')) },
      { label: t('devices.lastSeen'), value: (d) => d.last_seen || t('devices.never') },
      { label: t('field.actions'), class: 'row-actions', value: (d) =>
        h('button', { type: 'button', class: 'danger unbind', onclick: () => unbind(d) }, t('devices.unbind')) },
    ],
    load: allRows(listDevices),
  });

  function add() {
    let dialog;
    const { form } = buildForm({
      fields: [{ name: 'device', label: t('field.name'), required: true, maxLength: 64, hint: t('devices.nameHint') }],
      submitLabel: t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        const answer = await care('/api/device', 'device', 'add', { device: v.device });
        dialog.close();
        table.reload();
        const shown = openDialog(t('devices.tokenTitle', { name: v.device }),
          h('p', { class: 'hint' }, t('devices.tokenOnce')),
          secretField(t('devices.token'), answer.device_id, 'device-token'),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => shown.close() }, t('devices.tokenSaved'))));
      },
    });
    dialog = openDialog(t('devices.addTitle'), form);
  }

  function bind() {
    let dialog;
    const { form } = buildForm({
      fields: [{ name: 'device_id', label: t('devices.token'), required: true, pattern: '[0-9a-fA-F]{32}', patternMessage: t('devices.tokenFormat'),
        autocomplete: 'off', hint: t('devices.bindHint') }],
      submitLabel: t('devices.bind'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await care('/api/device', 'device', 'bind', { device_id: v.device_id });
        dialog.close();
        notify(t('devices.bound'));
        table.reload();
      },
    });
    dialog = openDialog(t('devices.bindTitle'), form);
  }

  async function unbind(d) {
    if (!await confirmDialog(t('devices.unbindConfirm', { name: d.device }), t('devices.unbind'))) return;
    try {
      await care('/api/device', 'device', 'unbind', { id: d.id });
      notify(t('devices.unbound', { name: d.device }));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.devices')),
      h('button', { type: 'button', id: 'bind-device', onclick: bind }, t('devices.bind')),
      h('button', { type: 'button', class: 'primary', id: 'add-device', onclick: add }, t('devices.add'))),
    h('p', { class: 'lead' }, t('devices.intro')),
    table.el);
  table.goto(1);
}
