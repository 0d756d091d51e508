// Data roles: which rows their holders see. Each has scopes `care.device:<device id>` or
// `transit.area:<district>`, edited here as a list of kind + value rows.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, put, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';
import { roleFields } from './roles.js';

const KINDS = ['care.device', 'transit.area'];

function scopesEditor(scopes) {
  const list = h('ul', { class: 'scopes' });
  const addRow = (kind = KINDS[0], value = '') => {
    const row = h('li', { class: 'scope-row' },
      h('select', { 'aria-label': t('scopes.kind') }, KINDS.map((k) => h('option', { value: k, selected: k === kind }, t(`scopes.${k}`)))),
      h('input', { value, 'aria-label': t('scopes.value'), placeholder: t('scopes.valueHint') }),
      h('button', { type: 'button', class: 'icon', 'aria-label': t('action.remove'), onclick: () => row.remove() }, '×'));
    list.append(row);
  };
  for (const s of scopes) {
    const at = s.indexOf(':');
    addRow(s.slice(0, at), s.slice(at + 1));
  }
  const el = h('fieldset', { class: 'scopes-editor' }, h('legend', {}, t('scopes.title')), h('p', { class: 'hint' }, t('scopes.hint')), list,
    h('button', { type: 'button', class: 'add-scope', onclick: () => addRow() }, t('scopes.add')));
  /// The scopes, or throws with what is wrong.
  const read = () => [...list.children].map((row) => {
    const kind = row.querySelector('select').value;
    const value = row.querySelector('input').value.trim();
    if (!value) throw new Error(t('scopes.empty'));
    if (kind === 'care.device' && !/^\d+$/.test(value)) throw new Error(t('scopes.deviceId', { value }));
    return `${kind}:${value}`;
  });
  return { el, read };
}

export default function dataRoles(view) {
  const table = pagedTable({
    rowKey: (r) => r.name,
    columns: [
      { label: t('field.id'), value: (r) => String(r.id) },
      { label: t('field.name'), value: (r) => r.name },
      { label: t('field.remark'), value: (r) => r.remark },
      { label: t('scopes.title'), value: (r) => (r.scopes?.length ? h('span', {}, r.scopes.map((s) => h('code', { class: 'chip' }, s))) : t('scopes.none')) },
      { label: t('field.state'), value: (r) => h('span', { class: `badge ${r.isEnable ? 'on' : 'off'}` }, r.isEnable ? t('state.enabled') : t('state.disabled')) },
      { label: t('field.created'), value: (r) => formatTime(r.createTime) },
      { label: t('field.actions'), class: 'row-actions', value: (r) => [
        h('button', { type: 'button', class: 'edit', onclick: () => openForm(r) }, t('action.edit')),
        h('button', { type: 'button', class: 'danger delete', onclick: () => remove(r) }, t('action.delete')),
      ] },
    ],
    load: allRows(async () => (await get('/system/api/auth/dataRole/dataRoleList')).data),
  });

  function openForm(role) {
    let dialog;
    const scopes = scopesEditor(role?.scopes || []);
    const { form } = buildForm({
      fields: roleFields(role),
      extra: scopes.el,
      submitLabel: role ? t('action.save') : t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        const body = { ...v, scopes: scopes.read() };
        if (role) await put(`/system/api/auth/dataRole/edit/${role.id}`, body);
        else await post('/system/api/auth/dataRole/save', body);
        dialog.close();
        notify(role ? t('saved') : t('created'));
        table.reload();
      },
    });
    dialog = openDialog(role ? t('dataRoles.editTitle', { name: role.name }) : t('dataRoles.createTitle'), form);
  }

  async function remove(role) {
    if (!await confirmDialog(t('dataRoles.deleteConfirm', { name: role.name }), t('action.delete'))) return;
    try {
      await del(`/system/api/auth/dataRole/delete/${role.id}`);
      notify(t('deleted'));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.data-roles')),
      h('button', { type: 'button', class: 'primary', id: 'add-data-role', onclick: () => openForm(null) }, t('dataRoles.add'))),
    h('p', { class: 'lead' }, t('dataRoles.intro')),
    table.el);
  table.goto(1);
}
