// Departments as a tree: add, rename, reorder among siblings (orderNum), move under another
// parent (buttons, or drag a department onto another), delete. The server refuses to
// delete a department with sub-departments or members; its reason is shown.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, put, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';

const parentCode = (code) => code.slice(0, -3);
const bySiblingOrder = (a, b) => a.orderNum - b.orderNum || a.deptId.localeCompare(b.deptId);

export default function departments(view) {
  const treeEl = h('div', { class: 'dept-tree', 'aria-label': t('page.departments') });
  let depts = [];

  const children = (code) => depts.filter((d) => parentCode(d.deptId) === code).sort(bySiblingOrder);

  async function load() {
    try {
      depts = (await get('/system/api/auth/dept/getDeptList')).data;
    } catch (err) {
      return clear(treeEl, h('p', { class: 'form-error', role: 'alert' }, err.message));
    }
    clear(treeEl, depts.length ? branch('') : h('p', { class: 'empty-state' }, t('depts.empty')));
  }

  function branch(code) {
    const kids = children(code);
    return h('ul', {}, kids.map((d, i) => node(d, i, kids.length)));
  }

  function node(d, index, count) {
    const row = h('div', { class: 'dept-row', draggable: 'true', dataset: { dept: d.name, id: d.id } },
      h('span', { class: 'dept-name' }, d.name, d.aliasName && d.aliasName !== d.name ? h('small', {}, ` (${d.aliasName})`) : null,
        d.enabled ? null : h('span', { class: 'badge off' }, t('state.disabled'))),
      h('code', { class: 'dept-code' }, d.deptId),
      h('span', { class: 'row-actions' },
        h('button', { type: 'button', class: 'add-child', onclick: () => add(d) }, t('depts.addChild')),
        h('button', { type: 'button', class: 'rename', onclick: () => rename(d) }, t('depts.rename')),
        h('button', { type: 'button', class: 'up', disabled: index === 0, 'aria-label': t('depts.up'), title: t('depts.up'), onclick: () => reorder(d, -1) }, '↑'),
        h('button', { type: 'button', class: 'down', disabled: index === count - 1, 'aria-label': t('depts.down'), title: t('depts.down'), onclick: () => reorder(d, 1) }, '↓'),
        h('button', { type: 'button', class: 'move', onclick: () => move(d) }, t('depts.move')),
        h('button', { type: 'button', class: 'danger delete', onclick: () => remove(d) }, t('action.delete'))));
    row.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/plain', String(d.id)); });
    row.addEventListener('dragover', (e) => { e.preventDefault(); row.classList.add('drop'); });
    row.addEventListener('dragleave', () => row.classList.remove('drop'));
    row.addEventListener('drop', (e) => {
      e.preventDefault();
      row.classList.remove('drop');
      const moved = depts.find((x) => String(x.id) === e.dataTransfer.getData('text/plain'));
      if (moved && moved.id !== d.id) changeParent(moved, d.deptId);
    });
    return h('li', {}, row, children(d.deptId).length ? branch(d.deptId) : null);
  }

  const act = async (work, done) => {
    try {
      await work();
      if (done) notify(done);
    } catch (err) {
      notify(err.message, 'error');
    }
    await load();
  };

  function add(parent) {
    let dialog;
    const { form } = buildForm({
      fields: [
        { name: 'name', label: t('field.name'), required: true, maxLength: 50 },
        { name: 'aliasName', label: t('depts.alias'), maxLength: 50 },
      ],
      submitLabel: t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await post('/system/api/auth/dept/saveDept', {
          parentDeptId: parent ? parent.deptId : '', name: v.name, aliasName: v.aliasName || v.name,
          orderNum: children(parent ? parent.deptId : '').length, enabled: 1,
        });
        dialog.close();
        notify(t('created'));
        await load();
      },
    });
    dialog = openDialog(parent ? t('depts.addUnder', { name: parent.name }) : t('depts.addTop'), form);
  }

  function rename(d) {
    let dialog;
    const { form } = buildForm({
      fields: [
        { name: 'name', label: t('field.name'), required: true, maxLength: 50, value: d.name },
        { name: 'aliasName', label: t('depts.alias'), maxLength: 50, value: d.aliasName },
        { name: 'enabled', label: t('field.enabled'), type: 'checkbox', value: d.enabled === 1 },
      ],
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await put(`/system/api/auth/dept/edit/${d.id}`, { name: v.name, aliasName: v.aliasName, enabled: v.enabled ? 1 : 0 });
        dialog.close();
        notify(t('saved'));
        await load();
      },
    });
    dialog = openDialog(t('depts.renameTitle', { name: d.name }), form);
  }

  // Siblings are renumbered 0, 1, 2…, so equal orderNums from older data sort out too.
  function reorder(d, step) {
    const siblings = children(parentCode(d.deptId));
    const at = siblings.findIndex((s) => s.id === d.id);
    siblings.splice(at, 1);
    siblings.splice(at + step, 0, d);
    return act(async () => {
      for (const [i, s] of siblings.entries()) {
        if (s.orderNum !== i) await put(`/system/api/auth/dept/edit/${s.id}`, { name: s.name, orderNum: i });
      }
    });
  }

  function changeParent(d, code) {
    return act(() => put(`/system/api/auth/dept/edit/${d.id}`, { name: d.name, parentDeptId: code, orderNum: children(code).length }), t('depts.moved', { name: d.name }));
  }

  function move(d) {
    let dialog;
    const targets = depts.filter((x) => !x.deptId.startsWith(d.deptId)).sort((a, b) => a.deptId.localeCompare(b.deptId));
    const { form } = buildForm({
      fields: [{ name: 'parent', label: t('depts.newParent'), type: 'select', value: parentCode(d.deptId),
        options: [{ value: '', label: t('depts.topLevel') }, ...targets.map((x) => ({ value: x.deptId, label: `${'· '.repeat(x.deptId.length / 3 - 1)}${x.name}` }))] }],
      submitLabel: t('depts.move'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await put(`/system/api/auth/dept/edit/${d.id}`, { name: d.name, parentDeptId: v.parent, orderNum: children(v.parent).length });
        dialog.close();
        notify(t('depts.moved', { name: d.name }));
        await load();
      },
    });
    dialog = openDialog(t('depts.moveTitle', { name: d.name }), form);
  }

  async function remove(d) {
    if (!await confirmDialog(t('depts.deleteConfirm', { name: d.name }), t('action.delete'))) return;
    await act(() => del(`/system/api/auth/dept/deleteDept/${d.id}`), t('deleted'));
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.departments')),
      h('button', { type: 'button', class: 'primary', id: 'add-dept', onclick: () => add(null) }, t('depts.addTop'))),
    h('p', { class: 'lead' }, t('depts.intro')),
    treeEl);
  return load();
}
