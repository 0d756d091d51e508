// The music surface, called with the console's own token (music accepts any JWT session of
// the shared account store). Its envelope is {code, status, message, data, total} with
// code 0 on success, which api() already reads; uploads go as multipart, as the document
// asks. Also the pieces the music pages share: who is asking, the song columns, media of
// temporarily unshelved songs, the document's field rules.
import { h } from './dom.js';
import { t } from './i18n.js';
import { api, get, auth, ApiError } from './api.js';
import { notify } from './notice.js';

/// GET /music<path> with the query parameters that have a value.
export function read(path, params = {}) {
  const q = String(new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')));
  return get(`/music${path}${q ? `?${q}` : ''}`);
}

/// Any other method; `body` is an object (sent as JSON) or a FormData (multipart).
export const send = (method, path, body) => api(method, `/music${path}`, body);

/// A multipart body from an object; files and texts alike, empty values left out.
export function multipart(fields) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') body.append(name, value);
  }
  return body;
}

const USER_LIST = '/system/api/auth/user/userList';
const USER_LIST_GRANT = 'system:GET:/api/auth/user/userList';

/// The caller as music sees them ({uid, permission, …}) and the operations their roles
/// grant, read afresh when a page opens: an approved permission change shows at once.
/// Music answers people as uids only; whoever may read the system's user list also gets
/// their login names.
export async function caller() {
  const [user, mine] = await Promise.all([read('/api/user'), get('/system/api/auth/permission/mine')]);
  const granted = new Set(mine.data.permissions);
  const grants = (value) => mine.data.superAdmin || granted.has(value);
  const me = user.data;
  const names = grants(USER_LIST_GRANT)
    ? new Map((await get(USER_LIST)).data.map((u) => [u.id, u.loginname || u.name]))
    : new Map();
  return {
    ...me,
    names,
    isAdmin: me.permission === 'admin',
    holds: (method, path) => grants(`music:${method}:${path}`),
    /// Whether they may change a song or playlist of this owner (the server's rule).
    owns: (uid) => uid === me.uid || me.permission === 'admin',
  };
}

/// Someone by uid (with the login name when known), "you" for the caller.
export function person(uid, me) {
  if (uid === me.uid) return t('music.you', { uid });
  const name = me.names.get(uid);
  return name ? `${name} (#${uid})` : `#${uid}`;
}

/// epoch seconds -> yyyy-MM-dd (UTC, as the date picker gave it)
export const day = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().slice(0, 10) : '');
/// yyyy-MM-dd -> epoch seconds
export const seconds = (date) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

// Files of a temporarily unshelved song are served only with its owner's or an
// administrator's token, which <audio> and <img> cannot send: they get a blob instead.
const blobs = new Map();
export async function mediaUrl(url, hidden) {
  if (!url || !hidden) return url;
  if (!blobs.has(url)) {
    blobs.set(url, fetch(url, { headers: { Authorization: 'Bearer ' + auth.token() } }).then(async (res) => {
      if (!res.ok) throw new ApiError((await res.json().catch(() => ({}))).message || t('err.badAnswer', { status: res.status }));
      return URL.createObjectURL(await res.blob());
    }).catch((err) => { blobs.delete(url); throw err; }));
  }
  return blobs.get(url);
}

/// Lets the blobs go when their page is left.
export function releaseMedia() {
  for (const made of blobs.values()) made.then((src) => URL.revokeObjectURL(src), () => {});
  blobs.clear();
}

/// A cover thumbnail, or a note when there is none.
export function cover(url, hidden, alt) {
  if (!url) return h('span', { class: 'cover none', 'aria-hidden': 'true' }, '♪');
  const img = h('img', { class: 'cover', alt, width: 44, height: 44 });
  mediaUrl(url, hidden).then((src) => { img.src = src; }, () => img.replaceWith(h('span', { class: 'cover none' }, '♪')));
  return img;
}

/// A name with its introduction below, as one block (a phone's row card gives each cell
/// one line beside its label).
export const titled = (name, introduction) => h('div', {}, h('strong', {}, name), introduction ? h('div', { class: 'hint' }, introduction) : null);

/// The columns every song list shows; `actions(song)` gives the row's buttons.
export function songColumns(me, actions) {
  return [
    { label: t('music.cover'), class: 'cover-cell', value: (s) => cover(s.musicAvatar, !s.onShelf, s.musicname) },
    { label: t('music.name'), value: (s) => titled(s.musicname, s.introduction) },
    { label: t('music.creators'), value: (s) => s.creator.map((c) => person(c, me)).join(', ') },
    { label: t('music.album'), value: (s) => s.album.join(', ') || '—' },
    { label: t('music.published'), value: (s) => day(s.publishedTime) },
    { label: t('field.state'), value: (s) => h('span', { class: `badge ${s.onShelf ? 'on' : 'off'}` }, s.onShelf ? t('music.onShelf') : t('music.unshelved')) },
    { label: t('music.favourites'), value: (s) => String(s.favCount) },
    { label: t('field.actions'), class: 'row-actions', value: actions },
  ];
}

/// A favourite button that remembers, for this visit, what the caller did: the surface
/// answers counts, not whether the caller is among them.
export function favButton(liked, { on, off }) {
  const button = h('button', { type: 'button', class: 'fav' });
  const show = () => {
    button.textContent = liked.value ? `♥ ${t('music.unfavourite')}` : `♡ ${t('music.favourite')}`;
    button.setAttribute('aria-pressed', String(liked.value));
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await (liked.value ? off() : on());
      liked.value = !liked.value;
      show();
    } catch (err) {
      notify(err.message, 'error');
    } finally {
      button.disabled = false;
    }
  });
  show();
  return button;
}

// The document's rules, checked before anything is sent.
const AUDIO = /\.(mp3|flac|ogg|oga|wav|m4a)$/i;
const IMAGE = /\.(png|jpe?g)$/i;
export const checkAudio = (file) => (file && !AUDIO.test(file.name) ? t('music.audioFormat') : null);
export const checkImage = (file) => (file && !IMAGE.test(file.name) ? t('music.imageFormat') : null);
export const AUDIO_ACCEPT = 'audio/*,.mp3,.flac,.ogg,.wav,.m4a';
export const IMAGE_ACCEPT = 'image/png,image/jpeg';
/// Ids as the surface takes them: a comma list of numbers.
export const IDS = '\\d+(\\s*[,，]\\s*\\d+)*';
