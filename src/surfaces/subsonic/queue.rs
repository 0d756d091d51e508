//! The play queue an app saves so that another device can go on where it stopped:
//! savePlayQueue / getPlayQueue name the entry playing by its song id, and their
//! OpenSubsonic forms (`indexBasedQueue`) by its place, which keeps a song queued twice apart.

use std::sync::Arc;

use serde_json::{json, Value};

use super::songs::{child, iso, song_id};
use super::{Answer, Fault, Outcome, Params};
use crate::identity::Caller;
use crate::surfaces::music::collection::{self, NewQueue};
use crate::AppState;

/// How the entry playing is named: by song id, or by index (the `ByIndex` methods).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Current {
    Id,
    Index,
}

/// savePlayQueue(ByIndex): `id` repeated in order (none clears the queue), `current` or
/// `currentIndex`, `position` in milliseconds.
pub async fn save(app: &AppState, caller: &Caller, p: &Params, by: Current) -> Outcome {
    let songs = p.all("id").into_iter().map(song_id).collect::<Result<Vec<_>, _>>()?;
    let position_ms = p.int("position")?.unwrap_or(0);
    if position_ms < 0 {
        return Err(Fault::generic(format!("position must be milliseconds from the start, not {position_ms}")));
    }
    let current = match by {
        Current::Id => match p.get("current") {
            None => 0,
            Some(text) => {
                let id = song_id(text)?;
                songs
                    .iter()
                    .position(|s| *s == id)
                    .ok_or_else(|| Fault::generic(format!("current must be one of the queue's ids, and {id} is not")))?
            }
        },
        Current::Index => match p.int("currentIndex")? {
            None if songs.is_empty() => 0,
            None => return Err(Fault::missing("currentIndex")),
            Some(i) if (0..songs.len() as i64).contains(&i) => i as usize,
            Some(i) => {
                let last = songs.len() as i64 - 1;
                return Err(Fault::generic(format!("currentIndex must be between 0 and {last}, not {i}")));
            }
        },
    };
    let queue = NewQueue { songs, current, position_ms, player: p.player() };
    let caller = caller.clone();
    app.db.write(move |tx| Ok::<_, Fault>(collection::save_play_queue(tx, &caller, &queue)?)).await?;
    Ok(Answer::Body(json!({})))
}

/// getPlayQueue(ByIndex): the saved queue with the songs the caller may still see; an empty
/// answer when none is saved.
pub async fn get(app: &Arc<AppState>, caller: &Caller, by: Current) -> Outcome {
    let reader = caller.clone();
    let saved = app.db.read(move |c| Ok::<_, Fault>(collection::play_queue(c, &reader)?)).await?;
    let Some(queue) = saved else { return Ok(Answer::Body(json!({}))) };
    let mut body = json!({
        "username": queue.username,
        "changed": iso(queue.changed_at),
        "changedBy": queue.changed_by,
        "position": queue.position_ms,
        "entry": queue.entries.iter().map(|track| child(&app.files, track)).collect::<Vec<Value>>(),
    });
    if let Some(at) = queue.current {
        match by {
            Current::Id => body["current"] = json!(queue.entries[at].id.to_string()),
            Current::Index => body["currentIndex"] = json!(at),
        }
    }
    let key = match by {
        Current::Id => "playQueue",
        Current::Index => "playQueueByIndex",
    };
    Ok(Answer::Body(json!({ key: body })))
}
