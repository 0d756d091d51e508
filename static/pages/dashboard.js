// Overview: counts from each surface for the pages the account may open (devices online
// and offline, unread fall alerts, songs, playlists and waiting approval tasks, transit
// trips, stations and passengers, open-platform apps, the last backup and whether it
// failed); the surfaces this version does not have yet say so.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get } from '../lib/api.js';
import { care, devices } from '../lib/care.js';
import { transit, listTotal } from '../lib/transit.js';

const NOT_BOUND = 101;
const total = (path) => async () => {
  const answer = await get(path);
  return String(answer.total ?? answer.data.length);
};

// Each card: the page it links to, and how to read its value (text, or { text, note, bad }).
const CARDS = [
  { page: 'alerts', read: async () => {
    try { return String((await care('/api/get/notice', 'notice', 'get', { mode: 0 })).num); } catch (err) {
      if (err.code === NOT_BOUND) return { text: '0', note: t('dashboard.noDevices') };
      throw err;
    }
  }, label: 'dashboard.unreadAlerts' },
  { page: 'devices', read: async () => {
    const list = await devices();
    const online = list.filter((d) => d.online).length;
    return { text: `${online} / ${list.length - online}`, note: t('dashboard.onlineOffline') };
  } },
  { page: 'users', read: total('/system/api/auth/user/userList?pageNum=1&pageSize=1') },
  { page: 'roles', read: total('/system/api/auth/role/roleList') },
  { page: 'data-roles', read: total('/system/api/auth/dataRole/dataRoleList') },
  { page: 'departments', read: total('/system/api/auth/dept/getDeptList') },
  { page: 'sms', read: total('/system/api/sms/outbox?pageNum=1&pageSize=1') },
  { page: 'music', read: total('/music/api/music?pageNum=1&pageSize=1'), label: 'dashboard.songs' },
  { page: 'playlists', read: total('/music/api/musiclist?pageNum=1&pageSize=1') },
  { page: 'tasks', read: async () => {
    const waiting = (await get('/music/api/univer/tasklist')).data.filter((task) => task.detail.status === 'TOC').length;
    return String(waiting);
  }, label: 'dashboard.pendingTasks' },
  // Trips from the per-day figures, which analysts hold too; stations and passengers from
  // the management lists (administrators).
  { page: 'transit', card: 'transit-trips', label: 'dashboard.trips', read: async () => {
    const days = (await transit('/api/echarts/daily', { action: 'list_daily' })).data;
    const trips = days.reduce((sum, d) => sum + d.count, 0);
    return { text: String(trips), note: days.length ? t('dashboard.tripDays', { from: days[days.length - 1].date, to: days[0].date }) : '' };
  } },
  { page: 'transit', card: 'transit-stations', label: 'dashboard.stations', read: () => listTotal('/api/manage/station/list') },
  { page: 'transit', card: 'transit-passengers', label: 'dashboard.passengers', read: () => listTotal('/api/manage/passenger/list') },
  { page: 'open-apps', read: total('/system/api/open/app/list') },
  { page: 'backups', read: async () => {
    const [last] = (await get('/system/api/backup/runs')).data;
    if (!last) return { text: '—', note: t('dashboard.noBackup') };
    return last.error
      ? { text: t('backups.failed'), note: `${last.finishTime}: ${last.error}`, bad: true }
      : { text: t('backups.ok'), note: last.finishTime };
  }, label: 'dashboard.lastBackup' },
];

const LATER = ['music', 'transit'];

export default async function dashboard(view, ctx) {
  const cards = CARDS.filter((c) => ctx.can(c.page));
  const values = cards.map(() => h('span', { class: 'stat-value' }, '…'));
  const notes = cards.map(() => h('span', { class: 'stat-note' }));
  const later = LATER.filter((page) => !ctx.built(page));
  clear(view,
    h('h1', {}, t('page.dashboard')),
    h('p', { class: 'lead' }, t('dashboard.hello', { name: ctx.me.name || ctx.me.loginname })),
    cards.length ? h('section', { class: 'stats', 'aria-label': t('dashboard.counts') },
      cards.map((c, i) => h('a', { class: 'stat', href: `#/${c.page}`, dataset: { card: c.card || c.page } },
        h('span', { class: 'stat-label' }, t(c.label || `page.${c.page}`)), values[i], notes[i]))) : null,
    later.length ? [h('h2', {}, t('dashboard.surfaces')),
      h('section', { class: 'stats later' }, later.map((page) =>
        h('div', { class: 'stat unavailable', dataset: { card: page } },
          h('span', { class: 'stat-label' }, t(`page.${page}`)),
          h('span', { class: 'stat-note' }, t('dashboard.notAvailable')))))] : null);
  await Promise.all(cards.map(async (c, i) => {
    try {
      const value = await c.read();
      const { text, note, bad } = typeof value === 'string' ? { text: value } : value;
      values[i].textContent = text;
      notes[i].textContent = note || '';
      values[i].classList.toggle('error', !!bad);
    } catch (err) {
      values[i].textContent = '—';
      values[i].title = err.message;
      notes[i].textContent = err.message;
      values[i].classList.add('error');
    }
  }));
}
