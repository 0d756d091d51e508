// Roles: list, create, edit, delete, and the permission tree: each surface (MODULE) with
// its API operations (BUTTON), then the console's pages (MENU), as checkboxes.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, put, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';

const SUPER_ADMIN = 1;

export function roleFields(role) {
  return [
    { name: 'name', label: t('field.name'), required: true, maxLength: 50, value: role?.name },
    { name: 'remark', label: t('field.remark'), type: 'textarea', maxLength: 200, value: role?.remark },
    { name: 'isEnable', label: t('field.enabled'), type: 'checkbox', value: role ? role.isEnable : true },
  ];
}

/// The catalogue as groups: [{ id, name, items: [permission] }], modules first, pages last.
function groups(catalogue) {
  const modules = catalogue.filter((p) => p.type === 'MODULE').map((m) => ({
    id: m.id, key: m.permissionValue, name: m.name, items: catalogue.filter((p) => p.type === 'BUTTON' && p.parentId === m.id),
  }));
  const pages = { id: null, key: 'admin', name: t('roles.pages'), items: catalogue.filter((p) => p.type === 'MENU') };
  return [...modules.filter((g) => g.items.length), pages];
}

function itemLabel(p) {
  if (p.type === 'MENU') {
    const page = p.permissionValue.replace(/^admin:/, '');
    const translated = t(`page.${page}`);
    return h('span', {}, translated === `page.${page}` ? p.name : translated, ' ', h('code', {}, `#/${page}`));
  }
  return h('span', {}, p.name, ' ', h('code', {}, `${p.method} ${p.uri}`));
}

export function permissionTree(catalogue, held, readOnly) {
  const filter = h('input', { type: 'search', class: 'tree-filter', placeholder: t('roles.filter'), 'aria-label': t('roles.filter') });
  const sections = groups(catalogue).map((g) => {
    const boxes = g.items.map((p) => h('input', { type: 'checkbox', value: p.id, checked: held.has(p.id), disabled: readOnly, dataset: { value: p.permissionValue } }));
    const all = h('input', { type: 'checkbox', disabled: readOnly, class: 'group-box', 'aria-label': t('roles.selectGroup', { name: g.name }), dataset: { group: g.key } });
    const count = h('span', { class: 'count' });
    const sync = () => {
      const on = boxes.filter((b) => b.checked).length;
      all.checked = on === boxes.length;
      all.indeterminate = on > 0 && on < boxes.length;
      count.textContent = `${on}/${boxes.length}`;
    };
    all.addEventListener('change', () => { boxes.forEach((b) => { if (!b.closest('li').hidden) b.checked = all.checked; }); sync(); });
    boxes.forEach((b) => b.addEventListener('change', sync));
    sync();
    const section = h('details', { class: 'tree-group', open: g.key === 'admin' || g.key === 'system', dataset: { group: g.key } },
      h('summary', {}, all, ' ', h('strong', {}, g.name), ' ', count),
      h('ul', {}, g.items.map((p, i) => h('li', {}, h('label', {}, boxes[i], ' ', itemLabel(p))))));
    return { g, boxes, section };
  });
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const s of sections) {
      let shown = 0;
      s.boxes.forEach((b) => {
        const li = b.closest('li');
        li.hidden = !!q && !li.textContent.toLowerCase().includes(q);
        if (!li.hidden) shown += 1;
      });
      s.section.hidden = shown === 0;
      if (q) s.section.open = shown > 0;
    }
  });
  const el = h('div', { class: 'perm-tree' }, filter, sections.map((s) => s.section));
  // A surface's MODULE entry is held whenever any of its operations is.
  const chosen = () => sections.flatMap((s) => {
    const ids = s.boxes.filter((b) => b.checked).map((b) => Number(b.value));
    return ids.length && s.g.id ? [s.g.id, ...ids] : ids;
  });
  return { el, chosen };
}

export default function roles(view) {
  const table = pagedTable({
    rowKey: (r) => r.name,
    columns: [
      { label: t('field.id'), value: (r) => String(r.id) },
      { label: t('field.name'), value: (r) => [r.name, r.builtin ? h('span', { class: 'badge' }, t('roles.builtin')) : null] },
      { label: t('field.remark'), value: (r) => r.remark },
      { label: t('field.state'), value: (r) => h('span', { class: `badge ${r.isEnable ? 'on' : 'off'}` }, r.isEnable ? t('state.enabled') : t('state.disabled')) },
      { label: t('field.created'), value: (r) => formatTime(r.createTime) },
      { label: t('field.actions'), class: 'row-actions', value: (r) => [
        h('button', { type: 'button', class: 'perms', onclick: () => editPermissions(r) }, t('roles.permissions')),
        h('button', { type: 'button', class: 'edit', onclick: () => openForm(r) }, t('action.edit')),
        r.builtin ? null : h('button', { type: 'button', class: 'danger delete', onclick: () => remove(r) }, t('action.delete')),
      ] },
    ],
    load: allRows(async () => (await get('/system/api/auth/role/roleList')).data),
  });

  function openForm(role) {
    let dialog;
    const { form } = buildForm({
      fields: roleFields(role),
      submitLabel: role ? t('action.save') : t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        if (role) await put(`/system/api/auth/role/edit/${role.id}`, v);
        else await post('/system/api/auth/role/save', v);
        dialog.close();
        notify(role ? t('saved') : t('created'));
        table.reload();
      },
    });
    dialog = openDialog(role ? t('roles.editTitle', { name: role.name }) : t('roles.createTitle'), form);
  }

  async function editPermissions(role) {
    let catalogue, held;
    try {
      [catalogue, held] = await Promise.all([
        get('/system/api/auth/permission/list').then((a) => a.data),
        get(`/system/api/auth/permission/getPermissList/${role.id}`).then((a) => a.data.rolePermissionInfoList),
      ]);
    } catch (err) { return notify(err.message, 'error'); }
    const readOnly = role.id === SUPER_ADMIN;
    const tree = permissionTree(catalogue, new Set(held.map((p) => p.id)), readOnly);
    const error = h('div', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'button', class: 'primary', id: 'save-permissions', onclick: async () => {
      save.disabled = true;
      error.textContent = '';
      try {
        await post(`/system/api/auth/permission/rolePer/edit/${role.id}`, { permissionList: tree.chosen() });
        dialog.close();
        notify(t('roles.permissionsSaved', { name: role.name }));
      } catch (err) { error.textContent = err.message; } finally { save.disabled = false; }
    } }, t('action.save'));
    const dialog = openDialog(t('roles.permissionsTitle', { name: role.name }),
      readOnly ? h('p', { class: 'hint' }, t('roles.superAdminAll')) : h('p', { class: 'hint' }, t('roles.treeHint')),
      tree.el, error,
      h('div', { class: 'actions' }, readOnly ? null : save, h('button', { type: 'button', onclick: () => dialog.close() }, t('action.close'))));
    dialog.dialog.classList.add('wide');
  }

  async function remove(role) {
    if (!await confirmDialog(t('roles.deleteConfirm', { name: role.name }), t('action.delete'))) return;
    try {
      await del(`/system/api/auth/role/delete/${role.id}`);
      notify(t('deleted'));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.roles')),
      h('button', { type: 'button', class: 'primary', id: 'add-role', onclick: () => openForm(null) }, t('roles.add'))),
    table.el);
  table.goto(1);
}
