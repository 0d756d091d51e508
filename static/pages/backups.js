// Backups: make one now, the archives in the backups folder (download), and past runs,
// failures with their reason.
import { h, clear, formatBytes } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, download } from '../lib/api.js';
import { pagedTable, allRows } from '../lib/table.js';
import { notify } from '../lib/notice.js';

export default function backups(view) {
  const archives = pagedTable({
    rowKey: (a) => a.name,
    empty: t('backups.noArchives'),
    columns: [
      { label: t('backups.file'), value: (a) => h('code', {}, a.name) },
      { label: t('backups.size'), value: (a) => formatBytes(a.bytes) },
      { label: t('field.actions'), class: 'row-actions', value: (a) => h('button', { type: 'button', class: 'download', onclick: async () => {
        try { await download(`/system/api/backup/download/${encodeURIComponent(a.name)}`, a.name); } catch (err) { notify(err.message, 'error'); }
      } }, t('backups.download')) },
    ],
    load: allRows(async () => (await get('/system/api/backup/list')).data),
  });
  const runs = pagedTable({
    rowKey: (r) => r.startTime,
    empty: t('backups.noRuns'),
    columns: [
      { label: t('backups.started'), value: (r) => r.startTime },
      { label: t('backups.finished'), value: (r) => r.finishTime },
      { label: t('backups.trigger'), value: (r) => t(`backups.trigger.${r.trigger}`) },
      { label: t('backups.result'), value: (r) => (r.error
        ? [h('span', { class: 'badge off' }, t('backups.failed')), ' ', h('span', { class: 'run-error' }, r.error)]
        : [h('span', { class: 'badge on' }, t('backups.ok')), ' ', r.file || '', r.bytes !== null ? ` (${formatBytes(r.bytes)})` : '']) },
    ],
    load: allRows(async () => (await get('/system/api/backup/runs')).data),
  });

  const make = h('button', { type: 'button', class: 'primary', id: 'make-backup', onclick: async () => {
    make.disabled = true;
    make.textContent = t('backups.working');
    try {
      const answer = await post('/system/api/backup/create');
      notify(t('backups.made', { name: answer.data.name, size: formatBytes(answer.data.bytes) }));
    } catch (err) {
      notify(err.message, 'error');
    } finally {
      make.disabled = false;
      make.textContent = t('backups.make');
      archives.goto(1);
      runs.goto(1);
    }
  } }, t('backups.make'));

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.backups')), make),
    h('p', { class: 'lead' }, t('backups.intro')),
    h('h2', {}, t('backups.archives')), h('div', { id: 'archives' }, archives.el),
    h('h2', {}, t('backups.runs')), h('div', { id: 'runs' }, runs.el));
  archives.goto(1);
  runs.goto(1);
}
