//! The play queue each account's apps save to go on with on another device (Subsonic's
//! savePlayQueue and getPlayQueue). One queue per account; saving replaces it.

use rusqlite::{params, Connection, OptionalExtension};

use super::{from_row, Track, COLUMNS, COLUMN_COUNT};
use crate::identity::Caller;
use crate::surfaces::music::songs::{visible_song, visible_to};
use crate::surfaces::Failure;

/// Entries a queue may hold: a whole large library played in order, not more.
const MAX_QUEUE: usize = 5000;

/// A queue as an app saves it.
pub struct NewQueue {
    pub songs: Vec<i64>,
    /// Index into `songs` of the entry playing
    pub current: usize,
    pub position_ms: i64,
    /// The app's name (`c`)
    pub player: String,
}

/// A saved queue as the caller may see it now.
pub struct PlayQueue {
    pub entries: Vec<Track>,
    /// Index into `entries`; None when no entry is left
    pub current: Option<usize>,
    pub position_ms: i64,
    pub changed_at: i64,
    pub changed_by: String,
    pub username: String,
}

/// Replaces the caller's queue; an empty one clears it. Every song must be one the caller
/// may see, or nothing is saved.
pub fn save_play_queue(tx: &Connection, caller: &Caller, queue: &NewQueue) -> Result<(), Failure> {
    if queue.songs.len() > MAX_QUEUE {
        let asked = queue.songs.len();
        return Err(Failure::Invalid(format!("a play queue holds at most {MAX_QUEUE} songs, not {asked}")));
    }
    if !queue.songs.is_empty() && queue.current >= queue.songs.len() {
        return Err(Failure::Invalid(format!("the entry playing must be one of the queue's {}", queue.songs.len())));
    }
    tx.execute("DELETE FROM music_play_queue WHERE account_id = ?1", [caller.account_id])?;
    if queue.songs.is_empty() {
        return Ok(());
    }
    let mut checked = std::collections::HashSet::new();
    for song in &queue.songs {
        if checked.insert(*song) {
            visible_song(tx, *song, caller)?;
        }
    }
    tx.execute(
        "INSERT INTO music_play_queue (account_id, current_index, position_ms, changed_at, changed_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![caller.account_id, queue.current as i64, queue.position_ms, crate::clock::now(), queue.player],
    )?;
    let mut entry =
        tx.prepare_cached("INSERT INTO music_play_queue_entry (account_id, idx, song_id) VALUES (?1, ?2, ?3)")?;
    for (idx, song) in queue.songs.iter().enumerate() {
        entry.execute(params![caller.account_id, idx as i64, song])?;
    }
    Ok(())
}

/// The caller's saved queue, with the entries of songs it may still see on the shelf. When
/// the entry playing is gone, the next one left plays from its start (else the last one).
pub fn play_queue(conn: &Connection, caller: &Caller) -> Result<Option<PlayQueue>, Failure> {
    let saved = conn
        .query_row(
            "SELECT q.current_index, q.position_ms, q.changed_at, q.changed_by, COALESCE(a.username, '')
             FROM music_play_queue q JOIN account a ON a.id = q.account_id WHERE q.account_id = ?1",
            [caller.account_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((current_index, position_ms, changed_at, changed_by, username)) = saved else { return Ok(None) };
    let sql = format!(
        "SELECT {COLUMNS}, q.idx FROM music_play_queue_entry q JOIN music_song s ON s.id = q.song_id
         WHERE q.account_id = ?1 AND s.on_shelf = 1 AND {} ORDER BY q.idx",
        visible_to(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([caller.account_id], |r| Ok((from_row(r)?, r.get::<_, i64>(COLUMN_COUNT)?)))?;
    let rows = rows.collect::<rusqlite::Result<Vec<(Track, i64)>>>()?;
    let kept = rows.iter().position(|(_, idx)| *idx >= current_index);
    let current = kept.or_else(|| rows.len().checked_sub(1));
    let same = kept.is_some_and(|at| rows[at].1 == current_index);
    Ok(Some(PlayQueue {
        entries: rows.into_iter().map(|(track, _)| track).collect(),
        current,
        position_ms: if same { position_ms } else { 0 },
        changed_at,
        changed_by,
        username,
    }))
}
