// Playlists: everyone's or the caller's own, filtered by name and style, paged by the
// server; create (with a cover), rename and change the introduction, style or cover,
// delete; the detail with its songs (play, remove); favourite; recommended playlists.
import { h, clear, formatTime } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';
import { createPlayer } from '../lib/player.js';
import {
  read, send, multipart, caller, cover, person, titled, songColumns, favButton, releaseMedia, checkImage, IMAGE_ACCEPT,
} from '../lib/music.js';

function playlistFields(list) {
  return [
    { name: 'musiclistname', label: t('field.name'), required: true, maxLength: 50, value: list?.musiclistname },
    { name: 'introduction', label: t('music.introduction'), type: 'textarea', maxLength: 2000, value: list?.introduction },
    { name: 'style', label: t('playlists.style'), maxLength: 50, value: list?.style, hint: t('playlists.styleHint') },
    { name: 'musiclistAvatar', label: list ? t('music.replaceCover') : t('music.coverOptional'), type: 'file', accept: IMAGE_ACCEPT,
      hint: t('music.imageHint'), check: checkImage },
  ];
}

export default async function playlists(view, ctx) {
  let me;
  try { me = await caller(); } catch (err) {
    return clear(view, h('h1', {}, t('page.playlists')), h('p', { class: 'form-error', role: 'alert' }, err.message));
  }
  ctx.onLeave(releaseMedia);
  const filter = { mode: false, musiclistname: '', style: '' };
  const liked = new Map();
  const likedOf = (mlid) => { if (!liked.has(mlid)) liked.set(mlid, { value: false }); return liked.get(mlid); };

  const columns = (actions) => [
    { label: t('music.cover'), class: 'cover-cell', value: (l) => cover(l.musiclist_pic, false, l.musiclistname) },
    { label: t('field.name'), value: (l) => titled(l.musiclistname, l.introduction) },
    { label: t('playlists.style'), value: (l) => l.style || '—' },
    { label: t('playlists.owner'), value: (l) => person(l.uid, me) },
    { label: t('playlists.songs'), value: (l) => String(l.songCount) },
    { label: t('music.favourites'), value: (l) => String(l.favCount) },
    { label: t('playlists.updated'), value: (l) => formatTime(l.updatedTime * 1000) },
    { label: t('field.actions'), class: 'row-actions', value: actions },
  ];
  const common = (l) => [
    h('button', { type: 'button', class: 'open', onclick: () => detail(l) }, t('playlists.open')),
    favButton(likedOf(l.mlid), {
      on: async () => { await send('POST', '/api/musiclist/fav', { mlid: l.mlid }); refresh(); },
      off: async () => { await send('DELETE', '/api/musiclist/fav', { mlid: l.mlid }); refresh(); },
    }),
  ];
  const table = pagedTable({
    rowKey: (l) => l.musiclistname,
    empty: t('playlists.empty'),
    columns: columns((l) => [
      ...common(l),
      me.owns(l.uid) && me.holds('PUT', '/api/musiclist') ? h('button', { type: 'button', class: 'edit', onclick: () => openForm(l) }, t('action.edit')) : null,
      me.owns(l.uid) && me.holds('DELETE', '/api/musiclist') ? h('button', { type: 'button', class: 'danger delete', onclick: () => remove(l) }, t('action.delete')) : null,
    ]),
    load: async ({ page, size }) => {
      const answer = await read('/api/musiclist', { pageNum: page, pageSize: size, ...filter, mode: filter.mode || undefined });
      return { rows: answer.data, total: answer.total };
    },
  });
  const recommended = pagedTable({
    rowKey: (l) => l.musiclistname,
    empty: t('playlists.noRecommendations'),
    columns: columns(common),
    load: allRows(async () => (await read('/api/musiclist/recommend/list', { pageSize: 50 })).data),
  });
  const refresh = () => { table.reload(); recommended.reload(); };

  function openForm(list) {
    let dialog;
    const { form } = buildForm({
      fields: playlistFields(list),
      submitLabel: list ? t('action.save') : t('action.create'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        if (!list) {
          await send('POST', '/api/musiclist', multipart(v));
        } else {
          if (v.musiclistname !== list.musiclistname) await send('PUT', '/api/musiclist/name', { mlid: list.mlid, musiclistname: v.musiclistname });
          // Texts as JSON, where an empty introduction or style clears it; a form field left empty would count as not sent.
          await send('PUT', '/api/musiclist', { mlid: list.mlid, introduction: v.introduction, style: v.style });
          if (v.musiclistAvatar) await send('PUT', '/api/musiclist', multipart({ mlid: list.mlid, musiclistAvatar: v.musiclistAvatar }));
        }
        dialog.close();
        notify(list ? t('saved') : t('playlists.created', { name: v.musiclistname }));
        refresh();
      },
    });
    dialog = openDialog(list ? t('playlists.editTitle', { name: list.musiclistname }) : t('playlists.createTitle'), form).dialog;
  }

  async function remove(l) {
    if (!await confirmDialog(t('playlists.deleteConfirm', { name: l.musiclistname }), t('action.delete'))) return;
    try {
      await send('DELETE', '/api/musiclist', { mlid: l.mlid });
      notify(t('deleted'));
      refresh();
    } catch (err) { notify(err.message, 'error'); }
  }

  function detail(l) {
    const player = createPlayer();
    const songs = pagedTable({
      rowKey: (s) => s.musicname,
      empty: t('playlists.noSongs'),
      columns: songColumns(me, (s) => [
        h('button', { type: 'button', class: 'play', onclick: () => player.play(s) }, `▶ ${t('player.play')}`),
        me.owns(l.uid) && me.holds('DELETE', '/api/music/listed')
          ? h('button', { type: 'button', class: 'danger remove', onclick: () => removeSong(s) }, t('action.remove')) : null,
      ]),
      load: async ({ page, size }) => {
        const answer = await read('/api/musiclist/detail', { pageNum: page, pageSize: size, mlid: l.mlid });
        return { rows: answer.data, total: answer.total };
      },
    });
    async function removeSong(s) {
      try {
        player.forget(s.mid);
        await send('DELETE', '/api/music/listed', { mid: s.mid, mlid: l.mlid });
        notify(t('playlists.songRemoved', { name: s.musicname }));
        songs.reload();
        table.reload();
      } catch (err) { notify(err.message, 'error'); }
    }
    const { dialog } = openDialog(l.musiclistname,
      h('div', { class: 'playlist-head' }, cover(l.musiclist_pic, false, l.musiclistname),
        h('div', {}, h('p', {}, l.introduction || t('playlists.noIntroduction')),
          h('p', { class: 'hint' }, [l.style ? `${t('playlists.style')}: ${l.style} · ` : '', `${t('playlists.owner')}: ${person(l.uid, me)}`]))),
      player.el,
      h('div', { id: 'playlist-songs' }, songs.el));
    dialog.classList.add('wide');
    dialog.addEventListener('close', () => player.stop());
    ctx.onLeave(() => dialog.close());
    songs.goto(1);
  }

  const scope = h('select', { id: 'playlist-scope', 'aria-label': t('playlists.scope') },
    h('option', { value: 'all' }, t('playlists.all')), h('option', { value: 'mine' }, t('playlists.mine')));
  const name = h('input', { type: 'search', name: 'musiclistname', placeholder: t('field.name'), 'aria-label': t('playlists.nameFilter') });
  const style = h('input', { type: 'search', name: 'style', placeholder: t('playlists.style'), 'aria-label': t('playlists.styleFilter') });
  const apply = () => {
    Object.assign(filter, { mode: scope.value === 'mine', musiclistname: name.value.trim(), style: style.value.trim() });
    table.goto(1);
  };
  scope.addEventListener('change', apply);
  const filters = h('form', { class: 'filters wide', id: 'playlist-filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
    scope, name, style, h('button', { type: 'submit' }, t('action.filter')));

  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.playlists')),
      me.holds('POST', '/api/musiclist') ? h('button', { type: 'button', class: 'primary', id: 'add-playlist', onclick: () => openForm(null) }, t('playlists.add')) : null),
    h('p', { class: 'lead' }, t('playlists.intro')),
    filters,
    h('div', { id: 'playlists' }, table.el),
    h('h2', {}, t('playlists.recommended')),
    h('div', { id: 'recommended-playlists' }, recommended.el));
  table.goto(1);
  recommended.goto(1);
}
