// The music library: songs filtered by name, creator and "mine", paged by the server;
// upload (audio and optional cover, multipart), in-page playback, edit (details and
// replacement files), temporary unshelve and shelve again, permanent delete, favourite,
// add to a playlist; songs recommended to the caller.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { buildForm } from '../lib/form.js';
import { pagedTable, allRows } from '../lib/table.js';
import { openDialog, confirmDialog } from '../lib/dialog.js';
import { notify } from '../lib/notice.js';
import { createPlayer } from '../lib/player.js';
import {
  read, send, multipart, caller, songColumns, favButton, day, seconds, releaseMedia,
  checkAudio, checkImage, AUDIO_ACCEPT, IMAGE_ACCEPT, IDS,
} from '../lib/music.js';

function songFields(me, song) {
  const ids = (name, label, value) => ({ name, label, required: true, pattern: IDS, patternMessage: t('music.idsFormat', { field: label }),
    value, hint: t('music.idsHint'), autocomplete: 'off' });
  return [
    { name: 'musicname', label: t('music.name'), required: true, maxLength: 100, value: song?.musicname },
    ids('creator', t('music.creatorIds'), song ? song.creator.join(',') : String(me.uid)),
    ids('album', t('music.albumIds'), song?.album.join(',')),
    { name: 'publishedTime', label: t('music.published'), type: 'date', required: true, value: song ? day(song.publishedTime) : '' },
    { name: 'res', label: song ? t('music.replaceAudio') : t('music.audio'), type: 'file', required: !song, accept: AUDIO_ACCEPT,
      hint: t('music.audioHint'), check: checkAudio },
    { name: 'musicAvatar', label: song ? t('music.replaceCover') : t('music.coverOptional'), type: 'file', accept: IMAGE_ACCEPT,
      hint: t('music.imageHint'), check: checkImage },
    { name: 'introduction', label: t('music.introduction'), type: 'textarea', value: song?.introduction },
    { name: 'lyric', label: t('music.lyric'), type: 'textarea', value: song?.lyric },
  ];
}

export default async function musicLibrary(view, ctx) {
  let me;
  try { me = await caller(); } catch (err) {
    return clear(view, h('h1', {}, t('page.music')), h('p', { class: 'form-error', role: 'alert' }, err.message));
  }
  const player = createPlayer();
  ctx.onLeave(() => { player.stop(); releaseMedia(); });
  const filter = { musicname: '', creator: '', mode: false };
  const liked = new Map();
  const likedOf = (mid) => { if (!liked.has(mid)) liked.set(mid, { value: false }); return liked.get(mid); };

  const actions = (s) => {
    const mine = me.owns(s.uid);
    return [
      h('button', { type: 'button', class: 'play', onclick: () => player.play(s) }, `▶ ${t('player.play')}`),
      favButton(likedOf(s.mid), {
        on: async () => { await send('PUT', '/api/music/fav', { mid: s.mid }); refresh(); },
        off: async () => { await send('DELETE', '/api/music/fav', { mid: s.mid }); refresh(); },
      }),
      h('button', { type: 'button', class: 'add-to-playlist', onclick: () => addToPlaylist(s) }, t('music.addToPlaylist')),
      mine && me.holds('PUT', '/api/music') ? h('button', { type: 'button', class: 'edit', onclick: () => edit(s) }, t('action.edit')) : null,
      mine && s.onShelf && me.holds('DELETE', '/api/music/unshelve')
        ? h('button', { type: 'button', class: 'unshelve', onclick: () => unshelve(s) }, t('music.unshelve')) : null,
      mine && !s.onShelf && me.holds('DELETE', '/api/music/shelve')
        ? h('button', { type: 'button', class: 'shelve', onclick: () => shelve(s) }, t('music.shelve')) : null,
      mine && me.holds('DELETE', '/api/music/unshelve')
        ? h('button', { type: 'button', class: 'danger delete', onclick: () => remove(s) }, t('action.delete')) : null,
    ];
  };

  const table = pagedTable({
    rowKey: (s) => s.musicname,
    empty: t('music.empty'),
    columns: songColumns(me, actions),
    load: async ({ page, size }) => {
      const answer = await read('/api/music', { pageNum: page, pageSize: size, ...filter, mode: filter.mode || undefined });
      return { rows: answer.data, total: answer.total };
    },
  });
  const recommended = pagedTable({
    rowKey: (s) => s.musicname,
    empty: t('music.noRecommendations'),
    columns: songColumns(me, (s) => [
      h('button', { type: 'button', class: 'play', onclick: () => player.play(s) }, `▶ ${t('player.play')}`),
      h('button', { type: 'button', class: 'add-to-playlist', onclick: () => addToPlaylist(s) }, t('music.addToPlaylist')),
    ]),
    load: allRows(async () => (await read('/api/musiclist/recommend', { pageSize: 50 })).data),
  });
  const refresh = () => { table.reload(); recommended.reload(); };

  function upload() {
    let dialog;
    const { form } = buildForm({
      fields: songFields(me),
      submitLabel: t('music.upload'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await send('POST', '/api/music', multipart({ ...v, publishedTime: seconds(v.publishedTime) }));
        dialog.close();
        notify(t('music.uploaded', { name: v.musicname }));
        refresh();
      },
    });
    dialog = openDialog(t('music.uploadTitle'), form).dialog;
  }

  function edit(s) {
    let dialog;
    const { form } = buildForm({
      fields: songFields(me, s),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await send('PUT', '/api/music', { mid: s.mid, musicname: v.musicname, creator: v.creator, album: v.album,
          publishedTime: seconds(v.publishedTime), introduction: v.introduction, lyric: v.lyric });
        if (v.res) {
          player.forget(s.mid);
          await send('PUT', '/api/music/res', multipart({ mid: s.mid, file: v.res }));
        }
        if (v.musicAvatar) await send('PUT', '/api/music/avatar', multipart({ mid: s.mid, file: v.musicAvatar }));
        dialog.close();
        notify(t('saved'));
        refresh();
      },
    });
    dialog = openDialog(t('music.editTitle', { name: s.musicname }), form).dialog;
  }

  async function addToPlaylist(s) {
    let lists;
    try { lists = (await read('/api/musiclist', { pageNum: 1, pageSize: 500, mode: true })).data; } catch (err) { return notify(err.message, 'error'); }
    if (!lists.length) {
      const { close } = openDialog(t('music.addToPlaylistTitle', { name: s.musicname }),
        h('p', {}, t('music.noPlaylists')),
        h('div', { class: 'actions' }, h('a', { href: '#/playlists', onclick: () => close() }, t('page.playlists'))));
      return;
    }
    let dialog;
    const { form } = buildForm({
      fields: [{ name: 'mlid', label: t('page.playlists'), type: 'select', required: true, value: lists[0].mlid,
        options: lists.map((l) => ({ value: l.mlid, label: l.musiclistname })) }],
      submitLabel: t('music.add'),
      onCancel: () => dialog.close(),
      onSubmit: async (v) => {
        await send('POST', '/api/music/listed', { mid: s.mid, mlid: Number(v.mlid) });
        dialog.close();
        notify(t('music.added', { name: s.musicname, list: lists.find((l) => String(l.mlid) === v.mlid).musiclistname }));
      },
    });
    dialog = openDialog(t('music.addToPlaylistTitle', { name: s.musicname }), form).dialog;
  }

  async function unshelve(s) {
    try {
      player.forget(s.mid);
      await send('DELETE', '/api/music/unshelve', { mid: s.mid, type: true });
      notify(t('music.unshelvedDone', { name: s.musicname }));
      refresh();
    } catch (err) { notify(err.message, 'error'); }
  }

  async function shelve(s) {
    try {
      await send('DELETE', '/api/music/shelve', { mid: s.mid });
      notify(t('music.shelved', { name: s.musicname }));
      refresh();
    } catch (err) { notify(err.message, 'error'); }
  }

  async function remove(s) {
    if (!await confirmDialog(t('music.deleteConfirm', { name: s.musicname }), t('action.delete'))) return;
    try {
      player.forget(s.mid);
      await send('DELETE', '/api/music/unshelve', { mid: s.mid, type: false });
      notify(t('deleted'));
      refresh();
    } catch (err) { notify(err.message, 'error'); }
  }

  const name = h('input', { type: 'search', name: 'musicname', placeholder: t('music.name'), 'aria-label': t('music.nameFilter') });
  const creator = h('input', { type: 'search', name: 'creator', placeholder: t('music.creatorFilter'), 'aria-label': t('music.creatorFilter') });
  const mine = h('input', { type: 'checkbox', name: 'mode' });
  const filters = h('form', { class: 'filters wide', id: 'song-filters', onsubmit: (e) => {
    e.preventDefault();
    Object.assign(filter, { musicname: name.value.trim(), creator: creator.value.trim(), mode: mine.checked });
    table.goto(1);
  } }, name, creator, h('label', { class: 'inline' }, mine, ' ', t('music.mine')), h('button', { type: 'submit' }, t('action.filter')));

  const canUpload = me.holds('POST', '/api/music');
  clear(view,
    h('div', { class: 'page-head' }, h('h1', {}, t('page.music')),
      canUpload ? h('button', { type: 'button', class: 'primary', id: 'upload-song', onclick: upload }, t('music.upload')) : null),
    h('p', { class: 'lead' }, t('music.intro'),
      canUpload ? null : [' ', t('music.noUpload'), ' ', h('a', { href: '#/tasks' }, t('music.askCreator'))]),
    player.el,
    filters,
    h('div', { id: 'songs' }, table.el),
    h('h2', {}, t('music.recommended')),
    h('div', { id: 'recommended' }, recommended.el));
  table.goto(1);
  recommended.goto(1);
}
