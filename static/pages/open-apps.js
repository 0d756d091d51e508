// Open platform apps: create (the appSecret shown once, with copy buttons), edit name,
// scopes, webhook and enabled state, rotate the secret, delete, and each app's webhook
// delivery history.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, put, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { secretField } from '../lib/copy.js';
import { notify } from '../lib/notice.js';

const SCOPES = ['care:read', 'transit:read', 'music:read'];

function appFields(app) {
  return [
    { name: 'name', label: t('field.name'), required: true, maxLength: 100, value: app?.name },
    { name: 'scopes', label: t('apps.scopes'), type: 'checkboxes', required: true, value: app?.scopes || [],
      options: SCOPES.map((s) => ({ value: s, label: `${s} — ${t(`apps.scope.${s.split(':')[0]}`)}` })) },
    { name: 'webhookUrl', label: t('apps.webhookOptional'), type: 'url', value: app?.webhookUrl || '', pattern: 'https?://\\S+',
      patternMessage: t('apps.webhookFormat'), hint: t('apps.webhookHint'), autocomplete: 'off' },
    ...(app ? [{ name: 'enabled', label: t('field.enabled'), type: 'checkbox', value: app.enabled }] : []),
  ];
}

/// The credentials of a new or rotated app; the secret cannot be shown again.
function showCredentials(title, c) {
  const { close } = openDialog(title,
    h('p', { class: 'hint' }, t('apps.secretOnce')),
    secretField('appId', c.appId, 'app-id'),
    secretField('appSecret', c.appSecret, 'app-secret'),
    secretField('webhookSecret', c.webhookSecret, 'webhook-secret'),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('apps.secretSaved'))));
}

const STATUS_CLASS = { delivered: 'on', failed: 'off', pending: '' };

function deliveries(app) {
  const table = pagedTable({
    rowKey: (d) => d.eventId,
    empty: t('apps.noDeliveries'),
    columns: [
      { label: t('field.time'), value: (d) => formatTime(d.createTime) },
      { label: t('apps.event'), value: (d) => h('code', {}, d.eventId) },
      { label: t('apps.kind'), value: (d) => d.kind },
      { label: t('field.state'), value: (d) => h('span', { class: `badge ${STATUS_CLASS[d.status] ?? ''}` }, t(`apps.status.${d.status}`)) },
      { label: t('apps.attempts'), value: (d) => String(d.attempts) },
      { label: t('apps.result'), value: (d) => [d.lastHttpStatus ? `HTTP ${d.lastHttpStatus}` : '', d.lastError ? ` ${d.lastError}` : '',
        d.status === 'pending' && d.nextAttemptTime ? ` ${t('apps.nextAttempt', { time: formatTime(d.nextAttemptTime) })}` : '',
        d.deliveredTime ? ` ${t('apps.deliveredAt', { time: formatTime(d.deliveredTime) })}` : ''].join('').trim() || '—' },
    ],
    load: async ({ page, size }) => {
      const answer = await get(`/system/api/open/app/deliveries/${app.id}?pageNum=${page}&pageSize=${size}`);
      return { rows: answer.data, total: answer.total };
    },
  });
  const { dialog } = openDialog(t('apps.deliveriesTitle', { name: app.name }), h('p', { class: 'hint' }, app.webhookUrl || t('apps.noWebhook')), table.el,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'refresh', onclick: () => table.reload() }, t('action.refresh'))));
  dialog.classList.add('wide');
  table.goto(1);
}

export default function openApps(view) {
  const table = pagedTable({
    rowKey: (a) => a.name,
    empty: t('apps.empty'),
    columns: [
      { label: t('field.name'), value: (a) => a.name },
      { label: 'appId', value: (a) => h('code', {}, a.appId) },
      { label: t('apps.scopes'), value: (a) => a.scopes.join(' ') || '—' },
      { label: t('apps.webhook'), value: (a) => a.webhookUrl || '—' },
      { label: t('field.state'), value: (a) => h('span', { class: `badge ${a.enabled ? 'on' : 'off'}` }, a.enabled ? t('state.enabled') : t('state.disabled')) },
      { label: t('field.created'), value: (a) => formatTime(a.createTime) },
      { label: t('field.actions'), class: 'row-actions', value: (a) => [
        h('button', { type: 'button', class: 'edit', onclick: () => edit(a) }, t('action.edit')),
        h('button', { type: 'button', class: 'deliveries', onclick: () => deliveries(a) }, t('apps.deliveries')),
        h('button', { type: 'button', class: 'rotate', onclick: () => rotate(a) }, t('apps.rotate')),
        h('button', { type: 'button', class: 'danger delete', onclick: () => remove(a) }, t('action.delete')),
      ] },
    ],
    load: allRows(async () => (await get('/system/api/open/app/list')).data),
  });

  function openForm(app) {
    let dialog;
    const { form } = buildForm({
      fields: appFields(app),
      submitLabel: app ? t('action.save') : t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        if (app) {
          await put(`/system/api/open/app/edit/${app.id}`, { name: v.name, scopes: v.scopes, webhookUrl: v.webhookUrl, enabled: v.enabled });
          dialog.close();
          notify(t('saved'));
        } else {
          const answer = await post('/system/api/open/app/save', { name: v.name, scopes: v.scopes, webhookUrl: v.webhookUrl || undefined });
          dialog.close();
          showCredentials(t('apps.createdTitle', { name: v.name }), answer.data);
        }
        table.reload();
      },
    });
    dialog = openDialog(app ? t('apps.editTitle', { name: app.name }) : t('apps.createTitle'), form,
      app ? secretField('webhookSecret', app.webhookSecret, 'webhook-secret') : null);
  }
  const edit = (a) => openForm(a);

  async function rotate(a) {
    if (!await confirmDialog(t('apps.rotateConfirm', { name: a.name }), t('apps.rotate'))) return;
    try {
      const answer = await post(`/system/api/open/app/rotate/${a.id}`);
      showCredentials(t('apps.rotatedTitle', { name: a.name }), answer.data);
    } catch (err) { notify(err.message, 'error'); }
  }

  async function remove(a) {
    if (!await confirmDialog(t('apps.deleteConfirm', { name: a.name }), t('action.delete'))) return;
    try {
      await del(`/system/api/open/app/delete/${a.id}`);
      notify(t('deleted'));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.open-apps')),
      h('button', { type: 'button', class: 'primary', id: 'add-app', onclick: () => openForm(null) }, t('apps.add'))),
    h('p', { class: 'lead' }, t('apps.intro')),
    table.el);
  table.goto(1);
}
