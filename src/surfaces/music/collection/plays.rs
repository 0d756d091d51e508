//! What each account does with songs beyond favourites: ratings, plays and what is playing
//! now (Subsonic's setRating, scrobble and getNowPlaying), and lyrics looked up by artist and
//! title. Every change is of a song the caller may see, as for favourites.

use rusqlite::{params, Connection};

use super::{from_row, Track, COLUMNS, COLUMN_COUNT};
use crate::identity::Caller;
use crate::surfaces::music::songs::{visible_song, visible_to};
use crate::surfaces::Failure;

/// How long a "now playing" report stays shown (seconds): long enough for a song, short
/// enough that a player that stopped without saying so drops out soon.
pub const NOW_PLAYING_SECS: i64 = 10 * 60;

/// The caller's rating of a song, 1 to 5; 0 removes it.
pub fn set_rating(tx: &Connection, caller: &Caller, song: i64, rating: i64) -> Result<(), Failure> {
    if !(0..=5).contains(&rating) {
        return Err(Failure::Invalid(format!("rating must be between 0 and 5, not {rating}")));
    }
    visible_song(tx, song, caller)?;
    if rating == 0 {
        tx.execute("DELETE FROM music_song_rating WHERE account_id = ?1 AND song_id = ?2", [caller.account_id, song])?;
    } else {
        tx.execute(
            "INSERT INTO music_song_rating (account_id, song_id, rating, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account_id, song_id) DO UPDATE SET rating = excluded.rating, updated_at = excluded.updated_at",
            params![caller.account_id, song, rating, crate::clock::now()],
        )?;
    }
    Ok(())
}

/// One play of a song by the caller, finished at `at` (epoch seconds). A play reported late
/// (a client submitting its offline plays) never moves "last played" backwards.
pub fn record_play(tx: &Connection, caller: &Caller, song: i64, at: i64) -> Result<(), Failure> {
    visible_song(tx, song, caller)?;
    tx.execute(
        "INSERT INTO music_song_play (account_id, song_id, play_count, last_played_at) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (account_id, song_id) DO UPDATE SET play_count = play_count + 1,
             last_played_at = MAX(last_played_at, excluded.last_played_at)",
        params![caller.account_id, song, at],
    )?;
    Ok(())
}

/// The caller's `player` started `song` now; replaces what that player reported before.
pub fn set_now_playing(tx: &Connection, caller: &Caller, player: &str, song: i64) -> Result<(), Failure> {
    visible_song(tx, song, caller)?;
    let now = crate::clock::now();
    tx.execute(
        "INSERT INTO music_now_playing (account_id, player, song_id, started_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id, player) DO UPDATE SET song_id = excluded.song_id, started_at = excluded.started_at",
        params![caller.account_id, player, song, now],
    )?;
    tx.execute("DELETE FROM music_now_playing WHERE started_at <= ?1", [now - NOW_PLAYING_SECS])?;
    Ok(())
}

/// A song some account is playing now.
#[derive(Debug, Clone)]
pub struct NowPlaying {
    pub track: Track,
    pub username: String,
    pub player: String,
    pub started_at: i64,
}

/// What every account reported playing in the last `NOW_PLAYING_SECS`, latest first, of the
/// songs on the shelf that the caller may see.
pub fn now_playing(conn: &Connection, caller: &Caller) -> Result<Vec<NowPlaying>, Failure> {
    let sql = format!(
        "SELECT {COLUMNS}, COALESCE(a.username, ''), n.player, n.started_at
         FROM music_now_playing n JOIN music_song s ON s.id = n.song_id JOIN account a ON a.id = n.account_id
         WHERE n.started_at > ?2 AND s.on_shelf = 1 AND {} ORDER BY n.started_at DESC, n.account_id",
        visible_to(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let since = crate::clock::now() - NOW_PLAYING_SECS;
    let rows = stmt.query_map(params![caller.account_id, since], |r| {
        let after = COLUMN_COUNT;
        Ok(NowPlaying {
            track: from_row(r)?,
            username: r.get(after)?,
            player: r.get(after + 1)?,
            started_at: r.get(after + 2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The first song on the shelf the caller may see, with lyrics, whose title is `title` and
/// whose artist (its tag, else a creator's name) is `artist` when one is given; case ignored.
pub fn lyrics_of(conn: &Connection, caller: &Caller, artist: &str, title: &str) -> Result<Option<Track>, Failure> {
    let sql = format!(
        "SELECT {COLUMNS} FROM music_song s
         WHERE s.on_shelf = 1 AND {} AND s.lyric <> '' AND s.name = ?2 COLLATE NOCASE
           AND (?3 = '' OR s.artist = ?3 COLLATE NOCASE OR EXISTS (SELECT 1 FROM music_song_artist l
                JOIN music_artist ar ON ar.id = l.artist_id WHERE l.song_id = s.id AND ar.name = ?3 COLLATE NOCASE)
             OR EXISTS (SELECT 1 FROM music_song_creator c JOIN account a ON a.id = c.creator_id
                WHERE c.song_id = s.id AND (a.nickname = ?3 COLLATE NOCASE OR a.username = ?3 COLLATE NOCASE)))
         ORDER BY s.id LIMIT 1",
        visible_to(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query_map(params![caller.account_id, title, artist], from_row)?;
    Ok(rows.next().transpose()?)
}
