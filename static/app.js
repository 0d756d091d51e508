// The admin console: a hash-routed single-page app (#/<page>). Pages are the MENU entries
// of the permission catalogue (src/web/admin.rs PAGES); the navigation lists the ones the
// signed-in account's roles grant and this version has built.
import { h, clear } from './lib/dom.js';
import { t, lang, setLang, LANGS } from './lib/i18n.js';
import { api, auth } from './lib/api.js';
import { notify, clearNotices } from './lib/notice.js';
import { supported as pushSupported, registerWorker } from './lib/push.js';

// In the order of src/web/admin.rs PAGES; `built` pages have a module under pages/.
export const PAGES = [
  { page: 'dashboard', icon: '⌂', built: true },
  { page: 'alerts', icon: '⚠', built: true },
  { page: 'devices', icon: '◉', built: true },
  { page: 'users', icon: '☺', built: true },
  { page: 'roles', icon: '⚑', built: true },
  { page: 'data-roles', icon: '⛃', built: true },
  { page: 'departments', icon: '☷', built: true },
  { page: 'sms', icon: '✉', built: true },
  { page: 'music', icon: '♪', built: true },
  { page: 'playlists', icon: '☰', built: true },
  { page: 'app-passwords', icon: '⚷', built: true },
  { page: 'tasks', icon: '✓', built: true },
  { page: 'transit', icon: '⇄', built: true },
  { page: 'open-apps', icon: '⚙', built: true },
  { page: 'backups', icon: '⛁', built: true },
];

const root = document.getElementById('app');
let me = null;

const can = (page) => !!me && (me.superAdmin || me.permissions.includes(`admin:${page}`));
const visible = () => PAGES.filter((p) => p.built && can(p.page));

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || '', args: parts.slice(1) };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function languagePicker() {
  return h('select', {
    id: 'lang', class: 'lang', 'aria-label': t('shell.language'),
    onchange: (e) => { setLang(e.target.value); route(); },
  }, LANGS.map((l) => h('option', { value: l.code, selected: l.code === lang() }, l.label)));
}

/// A bare layout (setup, sign-in): brand, language, the page.
function bare() {
  const view = h('main', { id: 'view', class: 'bare' });
  clear(root,
    h('header', { class: 'top' }, h('span', { class: 'brand' }, 'hearth'), h('span', { class: 'spacer' }), languagePicker()),
    view);
  return view;
}

function shell(current) {
  const nav = h('nav', { id: 'nav', 'aria-label': t('shell.menu') },
    h('ul', {}, visible().map((p) => h('li', {},
      h('a', { href: `#/${p.page}`, class: p.page === current ? 'active' : '', 'aria-current': p.page === current ? 'page' : null,
        dataset: { page: p.page } }, h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, p.icon), t(`page.${p.page}`))))));
  const toggle = h('button', {
    type: 'button', id: 'menu-toggle', class: 'icon', 'aria-label': t('shell.menu'), 'aria-expanded': 'false', 'aria-controls': 'nav',
    onclick: () => {
      const open = document.body.classList.toggle('nav-open');
      toggle.setAttribute('aria-expanded', String(open));
    },
  }, '☰');
  const view = h('main', { id: 'view' });
  clear(root,
    h('header', { class: 'top' }, toggle, h('a', { class: 'brand', href: '#/dashboard' }, 'hearth'), h('span', { class: 'spacer' }),
      languagePicker(),
      h('span', { id: 'who', class: 'who', title: me.roles.join(', ') }, me.name || me.loginname),
      h('button', { type: 'button', id: 'signout', onclick: signOut }, t('shell.signOut'))),
    h('div', { class: 'layout' }, nav, view));
  document.body.classList.remove('nav-open');
  return view;
}

async function loadMe() {
  me = (await api('GET', '/system/api/auth/permission/mine')).data;
}

async function signOut() {
  try { await api('POST', '/system/api/auth/logout'); } catch (_) { /* the session is gone either way */ }
  auth.clear();
  me = null;
  navigate('#/signin');
}

auth.onSessionGone = (message) => {
  auth.clear();
  me = null;
  if (parseHash().page !== 'signin') {
    sessionStorage.setItem('hearth.notice', message);
    sessionStorage.setItem('hearth.next', location.hash);
    navigate('#/signin');
  }
};

/// Called by the setup and sign-in pages with a fresh token.
async function signedIn(token) {
  auth.set(token);
  await loadMe();
  const next = sessionStorage.getItem('hearth.next');
  sessionStorage.removeItem('hearth.next');
  navigate(next && next !== '#/signin' ? next : `#/${visible()[0]?.page || 'dashboard'}`);
}

// What the open page asked to run when it is left (closing a live stream, for one).
let leaving = [];

let routing = 0;
export async function route() {
  const mine = ++routing;
  const { page, args } = parseHash();
  document.title = 'hearth';
  clearNotices();
  leaving.splice(0).forEach((stop) => stop());
  const onLeave = (stop) => { if (mine === routing) leaving.push(stop); else stop(); };
  const built = (name) => !!PAGES.find((p) => p.page === name)?.built;
  const ctx = { args, navigate, signedIn, can, built, onLeave, get me() { return me; } };
  const show = async (modulePath, view) => {
    const module = await import(modulePath);
    if (mine === routing) await module.default(view, ctx);
  };
  if (page === 'setup') return show('./pages/setup.js', bare());
  if (page === 'signin') {
    const view = bare();
    const notice = sessionStorage.getItem('hearth.notice');
    sessionStorage.removeItem('hearth.notice');
    if (notice) notify(notice, 'error');
    return show('./pages/signin.js', view);
  }
  if (!auth.token()) {
    sessionStorage.setItem('hearth.next', location.hash);
    return navigate('#/signin');
  }
  if (!me) {
    try { await loadMe(); } catch (err) {
      if (!auth.token()) return; // onSessionGone already went to the sign-in page
      clear(bare(), h('p', { class: 'form-error', role: 'alert' }, err.message));
      return;
    }
    if (mine !== routing) return;
  }
  if (!page) return navigate(`#/${visible()[0]?.page || 'dashboard'}`);
  const entry = PAGES.find((p) => p.page === page);
  const view = shell(page);
  if (!entry) return clear(view, h('h1', {}, t('page.notFound')), h('p', {}, t('page.notFoundText')));
  if (!can(page)) return clear(view, h('h1', {}, t(`page.${page}`)), h('p', { class: 'empty-state' }, t('page.noAccess')));
  if (!entry.built) return clear(view, h('h1', {}, t(`page.${page}`)), h('p', { class: 'empty-state' }, t('page.notAvailable')));
  document.title = `${t(`page.${page}`)} · hearth`;
  return show(`./pages/${page}.js`, view);
}

window.addEventListener('hashchange', () => route());
document.documentElement.lang = lang();
route();
// The worker shows fall alerts pushed to this device and makes the console installable.
if ('serviceWorker' in navigator && pushSupported()) registerWorker().catch((err) => console.warn('service worker not registered:', err));
