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
import { pushState, turnOn, turnOff } from '../lib/push.js';

const NOT_BOUND = 101;
const NO_PERMISSION = -103;
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
    const record = h('section', { class: 'delivery', 'aria-label': t('alerts.delivery') });
    const { close } = openDialog(t('alerts.snapshotTitle', { device: item.device, time: item.createtime }),
      h('img', { class: 'snapshot', src: pictureUrl(item.base64), alt: t('alerts.snapshotAlt', { device: item.device }) }),
      h('p', {}, item.content || ''),
      record,
      h('div', { class: 'actions' },
        item.read ? h('span', { class: 'badge off' }, t('alerts.read'))
          : h('button', { type: 'button', class: 'primary sign', onclick: async () => { if (await sign(item)) close(); } }, t('alerts.markRead')),
        h('button', { type: 'button', onclick: () => close() }, t('action.close'))));
    showDelivery(record, item.event_id);
  }

  /// How the alert went out and who acknowledged it: administrators only; others see nothing.
  async function showDelivery(section, eventId) {
    let record;
    try {
      record = await care('/api/admin/delivery', 'notice', 'delivery', { event_id: eventId });
    } catch (err) {
      if (err.code !== NO_PERMISSION) clear(section, h('p', { class: 'form-error' }, err.message));
      return;
    }
    const who = (d) => d.account ?? (d.channel === 'mqtt' ? t('alerts.broker') : '—');
    clear(section,
      h('h3', {}, t('alerts.delivery')),
      record.deliveries.length === 0 ? h('p', { class: 'hint' }, t('alerts.noDeliveries'))
        : h('table', { class: 'delivery-record' },
          h('thead', {}, h('tr', {}, [t('field.time'), t('alerts.recipient'), t('alerts.channel'), t('field.state')].map((c) => h('th', {}, c)))),
          h('tbody', {}, record.deliveries.map((d) => h('tr', { dataset: { channel: d.channel, delivered: String(d.delivered) } },
            h('td', {}, d.time), h('td', {}, who(d)),
            h('td', {}, d.escalated ? `${d.channel} · ${t('alerts.escalated')}` : d.channel),
            h('td', {}, h('span', { class: `badge ${d.delivered ? 'on' : 'alert'}`, title: d.reason || '' },
              d.delivered ? t('alerts.delivered') : t('alerts.failed')), d.reason ? h('span', { class: 'hint' }, ` ${d.reason}`) : null))))),
      h('p', { class: 'acknowledged' }, record.acknowledged.length === 0 ? t('alerts.notAcknowledged')
        : t('alerts.acknowledgedBy', { list: record.acknowledged.map((a) => `${a.account} (${a.time})`).join(', ') })));
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
  const pushButton = h('button', { type: 'button', id: 'notify-me', hidden: true, onclick: () => togglePush() });
  // Both hidden until this browser's state is known.
  const pushBadge = h('span', { id: 'push-state', class: 'badge', role: 'status', hidden: true });
  let push = 'off';
  const paintPush = () => {
    pushBadge.hidden = false;
    pushBadge.className = `badge ${push === 'on' ? 'on' : 'off'}`;
    pushBadge.dataset.state = push;
    pushBadge.textContent = t(`alerts.push.${push}`);
    pushButton.hidden = push === 'unsupported' || push === 'blocked';
    pushButton.textContent = push === 'on' ? t('alerts.notifyOff') : t('alerts.notifyMe');
    pushButton.setAttribute('aria-pressed', String(push === 'on'));
  };
  async function togglePush() {
    pushButton.disabled = true;
    try {
      push = push === 'on' ? await turnOff() : await turnOn();
      if (push === 'on') notify(t('alerts.notifyOnDone'));
    } catch (err) {
      notify(err.message, 'error');
    } finally {
      pushButton.disabled = false;
      paintPush();
    }
  }
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
    h('div', { class: 'page-head' }, h('h1', {}, t('page.alerts')), state, soundButton, pushBadge, pushButton),
    h('p', { class: 'lead' }, t('alerts.intro')),
    banner,
    h('div', { class: 'filters' }, mode, device),
    table.el);
  table.goto(1);
  // A notification's link (#/alerts/<event_id>) opens that alert.
  if (ctx.args[0]) show({ event_id: ctx.args[0] });
  pushState().then((s) => { push = s; paintPush(); }, () => { push = 'off'; paintPush(); });
  try {
    for (const d of await devices()) device.append(h('option', { value: d.device }, d.device));
  } catch (_) { /* the table already says why care could not be read */ }
  if (sound && !ready()) soundButton.title = t('alerts.soundBlocked');
}
