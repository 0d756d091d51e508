// App passwords: the signed-in account's passwords for Subsonic apps (DSub, Symfonium, …).
// A new one is shown once, with a copy button; the list shows names and last use, never the
// secrets; revoking one stops it at once.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, del } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { secretField } from '../lib/copy.js';
import { notify } from '../lib/notice.js';

function showPassword(name, created) {
  const { close } = openDialog(t('appPw.createdTitle', { name }),
    h('p', { class: 'hint' }, t('appPw.once')),
    secretField(t('appPw.password'), created.password, 'app-password'),
    h('p', { class: 'hint' }, t('appPw.howTo', { server: location.origin })),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => close() }, t('apps.secretSaved'))));
}

export default function appPasswords(view) {
  const table = pagedTable({
    rowKey: (a) => a.name,
    empty: t('appPw.empty'),
    columns: [
      { label: t('field.name'), value: (a) => a.name },
      { label: t('field.created'), value: (a) => a.createdTime },
      { label: t('appPw.lastUsed'), value: (a) => a.lastUsedTime || t('appPw.never') },
      { label: t('field.actions'), class: 'row-actions', value: (a) =>
        h('button', { type: 'button', class: 'danger revoke', onclick: () => revoke(a) }, t('appPw.revoke')) },
    ],
    load: allRows(async () => (await get('/system/api/auth/appPasswords')).data),
  });

  function create() {
    let dialog;
    const { form } = buildForm({
      fields: [{ name: 'name', label: t('appPw.name'), required: true, maxLength: 50, hint: t('appPw.nameHint') }],
      submitLabel: t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        const answer = await post('/system/api/auth/appPasswords', { name: v.name });
        dialog.close();
        showPassword(v.name, answer.data);
        table.reload();
      },
    });
    dialog = openDialog(t('appPw.add'), form);
  }

  async function revoke(a) {
    if (!await confirmDialog(t('appPw.revokeConfirm', { name: a.name }), t('appPw.revoke'))) return;
    try {
      await del(`/system/api/auth/appPasswords/${a.id}`);
      notify(t('appPw.revoked', { name: a.name }));
      table.reload();
    } catch (err) { notify(err.message, 'error'); }
  }

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.app-passwords')),
      h('button', { type: 'button', class: 'primary', id: 'add-app-password', onclick: create }, t('appPw.add'))),
    h('p', { class: 'lead' }, t('appPw.intro')),
    table.el);
  table.goto(1);
}
