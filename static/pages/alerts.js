// Fall alerts: the notices of the devices bound to the signed-in account, live over
// Server-Sent Events with a banner and a tone when one arrives; filters by state (care's
// mode 0/1/2) and device; the snapshot; mark read.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { care, careToken, devices } from '../lib/care.js';
import { watch } from '../lib/live.js';
import { alarm, ready } from '../lib/tone.js';
import { pagedTable } from '../lib/table.js';
import { openDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';

const NOT_BOUND = 101;
const SOUND_KEY = 'hearth.sound';

/// A data: URL for a snapshot's base64 (JPEG or PNG, told apart by their first bytes).
export const pictureUrl = (base64) => `data:image/${base64.startsWith('iVBOR') ? 'png' : 'jpeg'};base64,${base64}`;

export default async function alerts(view, ctx) {
  const filter = { mode: 0, device: '' };
  const fresh = new Set();
  let sound = localStorage.getItem(SOUND_KEY) !== 'off';

  const table = pagedTable({
    rowKey: (n) => n.event_id,
    empty: t('alerts.empty'),
    columns: [
      { label: t('field.time'), value: (n) => n.createtime },
      { label: t('alerts.device'), value: (n) => n.device },
      { label: t('alerts.content'), value: (n) => n.content || '—' },
      { label: t('field.state'), value: (n) => h('span', { class: `badge ${n.read ? 'off' : 'alert'}` }, n.read ? t('alerts.read') : t('alerts.unread')) },
      { label: t('field.actions'), class: 'row-actions', value: (n) => [
        h('button', { type: 'button', class: 'view', onclick: () => show(n) }, t('alerts.snapshot')),
        n.read ? null : h('button', { type: 'button', class: 'sign', onclick: () => sign(n) }, t('alerts.markRead')),
      ] },
    ],
    load: async ({ page, size }) => {
      let list;
      try {
        list = (await care('/api/get/notice', 'notice', 'get', { mode: filter.mode })).list;
      } catch (err) {
        if (err.code === NOT_BOUND) throw new Error(t('alerts.noDevices'));
        throw err;
      }
      if (filter.device) list = list.filter((n) => n.device === filter.device);
      return { rows: list.slice((page - 1) * size, page * size), total: list.length };
    },
  });
  // Rows that arrived live stay highlighted until the page is left.
  const observer = new MutationObserver(() => table.el.querySelectorAll('tbody tr').forEach((tr) => tr.classList.toggle('fresh', fresh.has(tr.dataset.key))));
  observer.observe(table.el, { childList: true, subtree: true });
  ctx.onLeave(() => observer.disconnect());

  async function show(n) {
    let item;
    try { item = await care('/api/get/notice', 'notice', 'info', { event_id: n.event_id }); } catch (err) { return notify(err.message, 'error'); }
    const { close } = openDialog(t('alerts.snapshotTitle', { device: item.device, time: item.createtime }),
      h('img', { class: 'snapshot', src: pictureUrl(item.base64), alt: t('alerts.snapshotAlt', { device: item.device }) }),
      h('p', {}, item.content || ''),
      h('div', { class: 'actions' },
        item.read ? h('span', { class: 'badge off' }, t('alerts.read'))
          : h('button', { type: 'button', class: 'primary sign', onclick: async () => { if (await sign(item)) close(); } }, t('alerts.markRead')),
        h('button', { type: 'button', onclick: () => close() }, t('action.close'))));
  }

  async function sign(n) {
    try {
      await care('/api/get/notice', 'notice', 'sign', { event_id: n.event_id });
      notify(t('alerts.marked'));
      table.reload();
      return true;
    } catch (err) {
      notify(err.message, 'error');
      return false;
    }
  }

  const state = h('span', { id: 'live-state', class: 'badge', role: 'status' }, t('alerts.connecting'));
  const soundButton = h('button', { type: 'button', id: 'sound', 'aria-pressed': String(sound), onclick: () => {
    sound = !sound;
    localStorage.setItem(SOUND_KEY, sound ? 'on' : 'off');
    paintSound();
  } });
  const paintSound = () => {
    soundButton.setAttribute('aria-pressed', String(sound));
    soundButton.textContent = sound ? `♪ ${t('alerts.soundOn')}` : t('alerts.soundOff');
  };
  paintSound();
  const banner = h('div', { id: 'alert-banner', class: 'alert-banner', role: 'alert', hidden: true });

  function arrived(notice) {
    fresh.add(notice.event_id);
    const played = sound && alarm();
    clear(banner,
      h('strong', {}, t('alerts.newAlert', { device: notice.device })),
      h('span', {}, ` ${notice.createtime} ${notice.content || ''}`),
      sound && !played ? h('span', { class: 'hint' }, ` ${t('alerts.soundBlocked')}`) : null,
      h('button', { type: 'button', class: 'view', onclick: () => show(notice) }, t('alerts.snapshot')),
      h('button', { type: 'button', class: 'icon', 'aria-label': t('action.close'), onclick: () => { banner.hidden = true; } }, '×'));
    banner.dataset.event = notice.event_id;
    banner.dataset.tone = played ? 'played' : 'silent';
    banner.hidden = false;
    banner.classList.remove('flash');
    void banner.offsetWidth; // restart the flash animation
    banner.classList.add('flash');
    document.title = `⚠ ${t('page.alerts')} · hearth`;
    if (filter.mode !== 1) table.goto(1);
  }

  const stop = watch({
    url: async (refused) => `/care/api/notice/stream?token=${encodeURIComponent(await careToken({ fresh: refused }))}`,
    onEvent: (type, data) => { if (type === 'notice') arrived(JSON.parse(data)); },
    onState: (s, message) => {
      state.className = `badge ${s === 'live' ? 'on' : 'off'}`;
      state.textContent = s === 'live' ? t('alerts.live') : s === 'waiting' ? t('alerts.reconnecting') : t('alerts.stopped');
      state.title = message || '';
      if (s === 'stopped') notify(message, 'error');
    },
  });
  ctx.onLeave(stop);

  const mode = h('select', { id: 'mode', 'aria-label': t('field.state'), onchange: (e) => { filter.mode = Number(e.target.value); table.goto(1); } },
    [[0, t('alerts.unread')], [1, t('alerts.read')], [2, t('alerts.all')]].map(([v, label]) => h('option', { value: v }, label)));
  const device = h('select', { id: 'device-filter', 'aria-label': t('alerts.device'), onchange: (e) => { filter.device = e.target.value; table.goto(1); } },
    h('option', { value: '' }, t('alerts.allDevices')));

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.alerts')), state, soundButton),
    h('p', { class: 'lead' }, t('alerts.intro')),
    banner,
    h('div', { class: 'filters' }, mode, device),
    table.el);
  table.goto(1);
  try {
    for (const d of await devices()) device.append(h('option', { value: d.device }, d.device));
  } catch (_) { /* the table already says why care could not be read */ }
  if (sound && !ready()) soundButton.title = t('alerts.soundBlocked');
}
