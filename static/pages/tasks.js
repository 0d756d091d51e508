// Approval tasks: permission and ban requests wait until an administrator approves or
// rejects them. Administrators see every task (or one account's); everyone else sees the
// ones they asked for or that concern them. Anyone may ask for a permission change or for
// their own account to be suspended or restored; administrators for any account.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';
import { read, send, caller, person } from '../lib/music.js';

const GROUPS = ['user', 'creator', 'admin'];
const STATUS_CLASS = { TOC: 'alert', DONE: 'on', REJECTED: 'off' };
const APPROVE = { updatePermission: '/api/univer/permission', banUser: '/api/univer/banuser' };

const group = (name) => t(`tasks.group.${name}`);

function request(task) {
  const to = task.detail['update-to'];
  if (task.detail.operation === 'banUser') return to ? t('tasks.ban') : t('tasks.unban');
  return t('tasks.toGroup', { group: group(to) });
}

export default async function tasks(view) {
  let me;
  try { me = await caller(); } catch (err) {
    return clear(view, h('h1', {}, t('page.tasks')), h('p', { class: 'form-error', role: 'alert' }, err.message));
  }
  const filter = { status: '', uid: '' };
  const canSettle = (task) => task.detail.status === 'TOC' && me.holds('PATCH', APPROVE[task.detail.operation]);

  const table = pagedTable({
    rowKey: (task) => task.taskId,
    empty: t('tasks.empty'),
    columns: [
      { label: t('tasks.task'), value: (task) => `#${task.taskId}` },
      { label: t('tasks.request'), value: (task) => request(task) },
      { label: t('tasks.account'), value: (task) => person(task.beOperator, me) },
      { label: t('tasks.requester'), value: (task) => person(task.requester, me) },
      { label: t('tasks.currentGroup'), value: (task) => group(task.permission) },
      { label: t('field.state'), value: (task) => h('span', { class: `badge ${STATUS_CLASS[task.detail.status] ?? ''}` }, t(`tasks.status.${task.detail.status}`)) },
      { label: t('field.created'), value: (task) => formatTime(task.detail.created_time) },
      { label: t('tasks.settled'), value: (task) => (task.detail.finished_time
        ? `${formatTime(task.detail.finished_time)} · ${person(task.operator, me)}` : '—') },
      { label: t('field.actions'), class: 'row-actions', value: (task) => (canSettle(task) ? [
        h('button', { type: 'button', class: 'primary approve', onclick: () => approve(task) }, t('tasks.approve')),
        me.holds('PATCH', '/api/univer/reject') ? h('button', { type: 'button', class: 'danger reject', onclick: () => reject(task) }, t('tasks.reject')) : null,
      ] : null) },
    ],
    load: allRows(async () => {
      const list = (await read('/api/univer/tasklist', { uid: filter.uid })).data;
      return filter.status ? list.filter((task) => task.detail.status === filter.status) : list;
    }),
  });

  async function settle(path, task, message) {
    try {
      await send('PATCH', path, { taskId: task.taskId });
      notify(message);
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  async function approve(task) {
    if (task.detail.operation === 'banUser' && task.detail['update-to']
      && !await confirmDialog(t('tasks.banConfirm', { who: person(task.beOperator, me) }), t('tasks.approve'))) return;
    settle(APPROVE[task.detail.operation], task, t('tasks.approved', { id: task.taskId }));
  }

  async function reject(task) {
    if (!await confirmDialog(t('tasks.rejectConfirm', { id: task.taskId, request: request(task) }), t('tasks.reject'))) return;
    settle('/api/univer/reject', task, t('tasks.rejected', { id: task.taskId }));
  }

  // Administrators may ask on anyone's behalf; everyone else only for themselves.
  const whom = () => (me.isAdmin
    ? [{ name: 'uid', label: t('tasks.accountUid'), required: true, pattern: '[1-9]\\d*', patternMessage: t('tasks.uidFormat'), value: String(me.uid) }]
    : []);

  function ask(title, fields, path, body, hint) {
    let dialog;
    const { form } = buildForm({
      fields: [...whom(), ...fields],
      submitLabel: t('tasks.send'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        const answer = await send('PATCH', path, { uid: me.isAdmin ? Number(v.uid) : me.uid, ...body(v) });
        dialog.close();
        notify(t('tasks.sent', { id: answer.data }));
        table.reload();
      },
    });
    dialog = openDialog(title, hint ? h('p', { class: 'hint' }, hint) : null, form).dialog;
  }

  const askPermission = () => ask(t('tasks.askPermission'), [{
    name: 'newPermission', label: t('tasks.newGroup'), type: 'select', required: true, value: '',
    options: [{ value: '', label: t('tasks.choose') }, ...GROUPS.map((g) => ({ value: g, label: group(g) }))],
    check: (value, values) => ((values.uid ?? String(me.uid)) === String(me.uid) && value === me.permission ? t('tasks.alreadyIn', { group: group(value) }) : null),
  }], '/api/user/permission', (v) => ({ newPermission: v.newPermission }));

  const askBan = () => ask(t('tasks.askBan'), [{
    name: 'isBanned', label: t('tasks.banChoice'), type: 'select', required: true, value: 'true',
    options: [{ value: 'true', label: t('tasks.ban') }, { value: 'false', label: t('tasks.unban') }],
  }], '/api/user/ban', (v) => ({ isBanned: v.isBanned === 'true' }), me.isAdmin ? null : t('tasks.selfBanHint'));

  const status = h('select', { id: 'task-status', 'aria-label': t('field.state'), onchange: () => { filter.status = status.value; table.goto(1); } },
    h('option', { value: '' }, t('tasks.allStates')), ['TOC', 'DONE', 'REJECTED'].map((s) => h('option', { value: s }, t(`tasks.status.${s}`))));
  const uid = h('input', { type: 'search', inputmode: 'numeric', id: 'task-uid', placeholder: t('tasks.uidFilter'), 'aria-label': t('tasks.uidFilter') });
  const filters = h('form', { class: 'filters wide', onsubmit: (e) => {
    e.preventDefault();
    const value = uid.value.trim();
    if (value && !/^[1-9]\d*$/.test(value)) return notify(t('tasks.uidFormat'), 'error');
    filter.uid = value;
    table.goto(1);
  } }, status, me.isAdmin ? [uid, h('button', { type: 'submit' }, t('action.filter'))] : null);

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.tasks')),
      me.holds('PATCH', '/api/user/ban') ? h('button', { type: 'button', id: 'ask-ban', onclick: askBan }, t('tasks.askBan')) : null,
      me.holds('PATCH', '/api/user/permission')
        ? h('button', { type: 'button', class: 'primary', id: 'ask-permission', onclick: askPermission }, t('tasks.askPermission')) : null),
    h('p', { class: 'lead' }, me.isAdmin ? t('tasks.introAdmin') : t('tasks.intro')),
    h('p', { id: 'my-group' }, t('tasks.yourGroup', { group: group(me.permission), uid: me.uid })),
    filters,
    table.el);
  table.goto(1);
}
