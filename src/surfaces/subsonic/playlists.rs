//! Playlists: the music surface's playlists. Everyone signed in may read every playlist (as
//! on `/music/api/musiclist`); only the owner or an administrator changes one.

use std::sync::Arc;

use serde_json::{json, Value};

use super::songs::{child, iso, song_id};
use super::{Answer, Fault, Outcome, Params};
use crate::files::Bucket;
use crate::identity::Caller;
use crate::surfaces::music::collection::{self, PlaylistRow};
use crate::AppState;

fn playlist_id(text: &str) -> Result<i64, Fault> {
    text.trim().parse().map_err(|_| Fault::not_found(format!("no playlist '{text}'")))
}

fn summary(row: &PlaylistRow) -> Value {
    let mut item = json!({
        "id": row.id.to_string(),
        "name": row.name,
        "comment": row.introduction,
        "owner": row.owner,
        "public": true,
        "songCount": row.song_count,
        "duration": row.duration,
        "created": iso(row.created_at),
        "changed": iso(row.updated_at),
    });
    if row.cover_file.is_some() {
        item["coverArt"] = json!(format!("pl-{}", row.id));
    }
    item
}

pub async fn list(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let owner = p.get("username").map(str::to_owned);
    let caller = caller.clone();
    let rows = app
        .db
        .read(move |c| {
            let owner = match owner {
                None => None,
                Some(name) => Some(
                    crate::identity::accounts::by_username(c, &name)?
                        .ok_or_else(|| Fault::not_found(format!("no user '{name}'")))?
                        .id,
                ),
            };
            Ok::<_, Fault>(collection::playlists(c, &caller, owner)?)
        })
        .await?;
    let items: Vec<Value> = rows.iter().map(summary).collect();
    Ok(Answer::Body(json!({ "playlists": { "playlist": items } })))
}

async fn answer_one(app: &Arc<AppState>, caller: &Caller, id: i64) -> Outcome {
    let (caller, files) = (caller.clone(), app.files.clone());
    let body = app
        .db
        .read(move |c| {
            let (row, songs) = collection::playlist(c, &caller, id)?;
            let mut item = summary(&row);
            item["entry"] = Value::Array(songs.iter().map(|t| child(&files, t)).collect());
            Ok::<_, Fault>(item)
        })
        .await?;
    Ok(Answer::Body(json!({ "playlist": body })))
}

pub async fn one(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let id = playlist_id(p.require("id")?)?;
    answer_one(app, caller, id).await
}

/// A new playlist named `name` with the `songId`s, or (with `playlistId`) that playlist's
/// songs replaced by them.
pub async fn create(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let songs = p.all("songId").into_iter().map(song_id).collect::<Result<Vec<_>, _>>()?;
    let existing = p.get("playlistId").map(playlist_id).transpose()?;
    let name = p.get("name").map(str::to_owned);
    if existing.is_none() && name.is_none() {
        return Err(Fault::missing("name"));
    }
    let who = caller.clone();
    let id = app
        .db
        .write(move |tx| {
            let id = match existing {
                Some(id) => {
                    collection::edit_playlist(tx, &who, id, name.as_deref(), None)?;
                    tx.execute("DELETE FROM music_playlist_song WHERE playlist_id = ?1", [id])?;
                    id
                }
                None => collection::create_playlist(tx, &who, name.as_deref().unwrap_or_default())?,
            };
            for song in songs {
                collection::add_to_playlist(tx, &who, id, song)?;
            }
            Ok::<_, Fault>(id)
        })
        .await?;
    answer_one(app, caller, id).await
}

pub async fn update(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let id = playlist_id(p.require("playlistId")?)?;
    let name = p.get("name").map(str::to_owned);
    let comment = p.get("comment").map(str::to_owned);
    let add = p.all("songIdToAdd").into_iter().map(song_id).collect::<Result<Vec<_>, _>>()?;
    let mut remove = Vec::new();
    for index in p.all("songIndexToRemove") {
        let index: usize = index
            .trim()
            .parse()
            .map_err(|_| Fault::generic(format!("songIndexToRemove must be an index, not '{index}'")))?;
        remove.push(index);
    }
    // Removing the highest positions first keeps the lower ones where the client saw them.
    remove.sort_unstable_by(|a, b| b.cmp(a));
    remove.dedup();
    let caller = caller.clone();
    app.db
        .write(move |tx| {
            collection::edit_playlist(tx, &caller, id, name.as_deref(), comment.as_deref())?;
            collection::remove_from_playlist(tx, &caller, id, &remove)?;
            for song in add {
                collection::add_to_playlist(tx, &caller, id, song)?;
            }
            Ok::<_, Fault>(())
        })
        .await?;
    Ok(Answer::Body(json!({})))
}

pub async fn delete(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let id = playlist_id(p.require("id")?)?;
    let caller = caller.clone();
    let cover = app.db.write(move |tx| Ok::<_, Fault>(collection::delete_playlist(tx, &caller, id)?)).await?;
    collection::discard(app, &[(Bucket::Covers, cover)]);
    Ok(Answer::Body(json!({})))
}
