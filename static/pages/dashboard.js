// Overview: real counts from the system surface for the pages the account may open; the
// other surfaces' cards say plainly that this version does not have them yet.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get } from '../lib/api.js';

const COUNTS = [
  { page: 'users', path: '/system/api/auth/user/userList?pageNum=1&pageSize=1' },
  { page: 'roles', path: '/system/api/auth/role/roleList' },
  { page: 'data-roles', path: '/system/api/auth/dataRole/dataRoleList' },
  { page: 'departments', path: '/system/api/auth/dept/getDeptList' },
  { page: 'sms', path: '/system/api/sms/outbox?pageNum=1&pageSize=1' },
];

const LATER = ['alerts', 'devices', 'music', 'transit', 'open-apps'];

function card(page, body, href) {
  return h('a', { class: 'stat', href, dataset: { card: page } }, h('span', { class: 'stat-label' }, t(`page.${page}`)), body);
}

export default async function dashboard(view, ctx) {
  const counts = COUNTS.filter((c) => ctx.can(c.page));
  const values = counts.map((c) => h('span', { class: 'stat-value' }, '…'));
  clear(view,
    h('h1', {}, t('page.dashboard')),
    h('p', { class: 'lead' }, t('dashboard.hello', { name: ctx.me.name || ctx.me.loginname })),
    counts.length ? h('section', { class: 'stats', 'aria-label': t('dashboard.counts') },
      counts.map((c, i) => card(c.page, values[i], `#/${c.page}`))) : null,
    h('h2', {}, t('dashboard.surfaces')),
    h('section', { class: 'stats later' }, LATER.map((page) =>
      h('div', { class: 'stat unavailable', dataset: { card: page } },
        h('span', { class: 'stat-label' }, t(`page.${page}`)),
        h('span', { class: 'stat-note' }, t('dashboard.notAvailable'))))));
  await Promise.all(counts.map(async (c, i) => {
    try {
      const answer = await get(c.path);
      values[i].textContent = String(answer.total ?? answer.data.length);
    } catch (err) {
      values[i].textContent = '—';
      values[i].title = err.message;
      values[i].classList.add('error');
    }
  }));
}
