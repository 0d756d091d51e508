// Users: list (paged by the server), create, edit with roles and data roles, enable or
// disable, set a password, delete.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, put, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { pagedTable } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';

async function choices() {
  const [roles, dataRoles, depts] = await Promise.all([
    get('/system/api/auth/role/roleList'),
    get('/system/api/auth/dataRole/dataRoleList'),
    get('/system/api/auth/dept/getDeptList'),
  ]);
  return { roles: roles.data, dataRoles: dataRoles.data, depts: depts.data };
}

function userFields(c, user) {
  const editing = !!user;
  return [
    { name: 'loginname', label: t('field.loginname'), required: true, maxLength: 50, pattern: '\\S+', patternMessage: t('v.noSpaces'),
      value: user?.loginname, autocomplete: 'off' },
    { name: 'name', label: t('field.name'), required: true, maxLength: 50, value: user?.name },
    { name: 'password', label: editing ? t('field.newPasswordOptional') : t('field.password'), type: 'password', required: !editing,
      minLength: 6, autocomplete: 'new-password', hint: editing ? t('users.keepPassword') : null },
    { name: 'phone', label: t('field.phoneOptional'), type: 'tel', inputmode: 'numeric', pattern: '1\\d{10}', patternMessage: t('v.phone'), value: user?.phone },
    { name: 'sex', label: t('field.sex'), type: 'select', value: user?.sex || '',
      options: [{ value: '', label: t('sex.none') }, { value: '男', label: t('sex.male') }, { value: '女', label: t('sex.female') }] },
    { name: 'deptid', label: t('field.dept'), type: 'select', value: user?.deptid ?? '',
      options: [{ value: '', label: t('users.noDept') }, ...c.depts.map((d) => ({ value: d.id, label: `${'· '.repeat(d.deptId.length / 3 - 1)}${d.name}` }))] },
    { name: 'remark', label: t('field.remark'), type: 'textarea', maxLength: 200, value: user?.remark },
    { name: 'isEnable', label: t('field.enabled'), type: 'checkbox', value: user ? user.isEnable : true },
    { name: 'roleIdList', label: t('field.roles'), type: 'checkboxes', required: true, value: user ? user.roleInfoList.map((r) => r.id) : [3],
      options: c.roles.map((r) => ({ value: r.id, label: r.isEnable ? r.name : `${r.name} (${t('state.disabled')})` })) },
    { name: 'dataRoleIdList', label: t('field.dataRoles'), type: 'checkboxes', value: user ? user.dataroleInfoList.map((r) => r.id) : [],
      options: c.dataRoles.map((r) => ({ value: r.id, label: r.name })) },
  ];
}

function body(v) {
  return {
    loginname: v.loginname, name: v.name, password: v.password || undefined, phone: v.phone || undefined, sex: v.sex,
    deptid: v.deptid || undefined, remark: v.remark, isEnable: v.isEnable, roleIdList: v.roleIdList, dataRoleIdList: v.dataRoleIdList,
  };
}

export default function users(view) {
  const table = pagedTable({
    rowKey: (u) => u.loginname || u.id,
    columns: [
      { label: t('field.id'), value: (u) => String(u.id) },
      { label: t('field.loginname'), value: (u) => u.loginname || '—' },
      { label: t('field.name'), value: (u) => u.name },
      { label: t('field.phone'), value: (u) => u.phone || '' },
      { label: t('field.roles'), value: (u) => u.roleInfoList.map((r) => r.name).join('、') },
      { label: t('field.state'), value: (u) => h('span', { class: `badge ${u.isEnable ? 'on' : 'off'}` }, u.isEnable ? t('state.enabled') : t('state.disabled')) },
      { label: t('field.created'), value: (u) => formatTime(u.createTime) },
      { label: t('field.actions'), class: 'row-actions', value: (u) => [
        h('button', { type: 'button', class: 'edit', onclick: () => edit(u) }, t('action.edit')),
        h('button', { type: 'button', class: 'password', onclick: () => setPassword(u) }, t('users.setPassword')),
        h('button', { type: 'button', class: 'toggle', onclick: () => toggle(u) }, u.isEnable ? t('action.disable') : t('action.enable')),
        h('button', { type: 'button', class: 'danger delete', onclick: () => remove(u) }, t('action.delete')),
      ] },
    ],
    load: async ({ page, size }) => {
      const answer = await get(`/system/api/auth/user/userList?pageNum=${page}&pageSize=${size}`);
      return { rows: answer.data, total: answer.total };
    },
  });

  async function openForm(user) {
    let c;
    try { c = await choices(); } catch (err) { return notify(err.message, 'error'); }
    let dialog;
    const { form } = buildForm({
      fields: userFields(c, user),
      submitLabel: user ? t('action.save') : t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        if (user) await put(`/system/api/auth/user/edit/${user.id}`, body(v));
        else await post('/system/api/auth/user/save', body(v));
        dialog.close();
        notify(user ? t('saved') : t('created'));
        table.reload();
      },
    });
    dialog = openDialog(user ? t('users.editTitle', { name: user.loginname || user.name }) : t('users.createTitle'), form);
  }
  const edit = (u) => openForm(u);

  function setPassword(u) {
    let dialog;
    const { form } = buildForm({
      fields: [
        { name: 'password', label: t('field.newPassword'), type: 'password', required: true, minLength: 6, autocomplete: 'new-password' },
        { name: 'confirm', label: t('field.confirmPassword'), type: 'password', required: true, check: (v, all) => (v !== all.password ? t('v.passwordsDiffer') : null) },
      ],
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await put(`/system/api/auth/user/update/${u.id}`, { loginname: u.loginname, password: v.password });
        dialog.close();
        notify(t('users.passwordSet'));
      },
    });
    dialog = openDialog(t('users.passwordTitle', { name: u.loginname }), h('p', { class: 'hint' }, t('users.passwordNote')), form);
  }

  async function toggle(u) {
    try {
      await put(`/system/api/auth/user/edit/${u.id}`, {
        loginname: u.loginname, name: u.name, phone: u.phone || undefined, sex: u.sex, remark: u.remark,
        deptid: u.deptid ?? undefined, isEnable: !u.isEnable,
      });
      notify(u.isEnable ? t('users.disabled') : t('users.enabled'));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  async function remove(u) {
    if (!await confirmDialog(t('users.deleteConfirm', { name: u.loginname || u.name }), t('action.delete'))) return;
    try {
      await del(`/system/api/auth/user/delete/${u.id}`);
      notify(t('deleted'));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.users')),
      h('button', { type: 'button', class: 'primary', id: 'add-user', onclick: () => openForm(null) }, t('users.add'))),
    table.el);
  table.goto(1);
}
