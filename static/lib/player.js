// The in-page player: one <audio> element with the browser's own controls. The server
// answers Range requests for song files, so the browser streams and seeks in them.
import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { mediaUrl, cover } from './music.js';
import { notify } from './notice.js';

export function createPlayer() {
  const audio = h('audio', { controls: true, preload: 'metadata' });
  const art = h('span', { class: 'player-cover' });
  const title = h('span', { class: 'player-title' }, t('player.idle'));
  const el = h('section', { class: 'player', 'aria-label': t('player.label') }, art, title, audio);
  let current = null;
  audio.addEventListener('error', () => {
    if (current) notify(t('player.failed', { name: current.musicname }), 'error');
  });

  function stop() {
    current = null;
    audio.pause();
    // Without a source the element lets go of the file and asks for nothing more.
    audio.removeAttribute('src');
    audio.load();
    clear(art);
    title.textContent = t('player.idle');
    el.removeAttribute('data-mid');
  }

  return {
    el,
    async play(song) {
      if (current?.mid !== song.mid) {
        current = song;
        el.dataset.mid = song.mid;
        clear(art, cover(song.musicAvatar, !song.onShelf, ''));
        title.textContent = song.musicname;
        try {
          audio.src = await mediaUrl(song.resUrl, !song.onShelf);
        } catch (err) {
          notify(err.message, 'error');
          return stop();
        }
      }
      try {
        await audio.play();
      } catch (err) {
        // Another play() or a new source interrupted this one: nothing went wrong.
        if (err.name !== 'AbortError') notify(t('player.failed', { name: song.musicname }), 'error');
      }
    },
    /// Lets go of a song that is being deleted, hidden or given a new file.
    forget(mid) {
      if (current?.mid === mid) stop();
    },
    stop,
  };
}
