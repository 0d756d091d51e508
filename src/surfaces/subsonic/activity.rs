//! What listeners do and what follows from it: setRating, scrobble (plays and "now
//! playing"), getNowPlaying, lyrics, recommendations (getSimilarSongs(2), getTopSongs from
//! the music surface's recommender) and avatars.

use std::sync::Arc;

use poem::{IntoResponse, Request};
use serde_json::{json, Value};

use super::library::row_id;
use super::songs::{child, song_id};
use super::{Answer, Fault, Outcome, Params};
use crate::files::Bucket;
use crate::identity::Caller;
use crate::surfaces::music::collection::{self, Among};
use crate::AppState;

/// setRating: the caller's rating of a song, 1 to 5, or 0 to remove it.
pub async fn set_rating(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let id = p.require("id")?;
    if id.starts_with("al-") || id.starts_with("ar-") {
        return Err(Fault::not_found(format!("no song '{id}': hearth rates songs only")));
    }
    let id = song_id(id)?;
    let rating = p.int("rating")?.ok_or_else(|| Fault::missing("rating"))?;
    let caller = caller.clone();
    app.db.write(move |tx| Ok::<_, Fault>(collection::set_rating(tx, &caller, id, rating)?)).await?;
    Ok(Answer::Body(json!({})))
}

/// scrobble: with `submission` true (the default) each `id` was played (at its `time`, in
/// milliseconds, when given); with false the caller's player (`c`) started it now.
pub async fn scrobble(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let ids = p.all("id").into_iter().map(song_id).collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(Fault::missing("id"));
    }
    let submission = match p.get("submission").map(|s| s.trim().to_ascii_lowercase()) {
        None => true,
        Some(s) if s == "true" => true,
        Some(s) if s == "false" => false,
        Some(other) => return Err(Fault::generic(format!("submission must be true or false, not '{other}'"))),
    };
    let mut times = Vec::new();
    for text in p.all("time") {
        let ms: i64 =
            text.trim().parse().map_err(|_| Fault::generic(format!("time must be milliseconds, not '{text}'")))?;
        times.push(ms / 1000);
    }
    let player = p.player();
    let caller = caller.clone();
    app.db
        .write(move |tx| {
            let now = crate::clock::now();
            for (i, id) in ids.into_iter().enumerate() {
                if submission {
                    // A time in the future is the client's clock, not a play yet to come.
                    let at = times.get(i).copied().unwrap_or(now).min(now);
                    collection::record_play(tx, &caller, id, at)?;
                } else {
                    collection::set_now_playing(tx, &caller, &player, id)?;
                }
            }
            Ok::<_, Fault>(())
        })
        .await?;
    Ok(Answer::Body(json!({})))
}

pub async fn now_playing(app: &Arc<AppState>, caller: &Caller) -> Outcome {
    let (caller, files) = (caller.clone(), app.files.clone());
    let playing = app.db.read(move |c| Ok::<_, Fault>(collection::now_playing(c, &caller)?)).await?;
    let now = crate::clock::now();
    let entries: Vec<Value> = playing
        .iter()
        .map(|n| {
            let mut entry = child(&files, &n.track);
            entry["username"] = json!(n.username);
            entry["minutesAgo"] = json!((now - n.started_at).max(0) / 60);
            entry["playerId"] = json!(0);
            entry["playerName"] = json!(n.player);
            entry
        })
        .collect();
    Ok(Answer::Body(json!({ "nowPlaying": { "entry": entries } })))
}

/// getLyrics: the lyrics of the first song with this title (and artist, when given).
pub async fn lyrics(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let artist = p.get("artist").unwrap_or("").trim().to_owned();
    let title = p.get("title").unwrap_or("").trim().to_owned();
    // Nothing found is an empty text, which clients show as "no lyrics".
    if title.is_empty() {
        return Ok(Answer::Body(json!({ "lyrics": { "value": "" } })));
    }
    let caller = caller.clone();
    let found = app.db.read(move |c| Ok::<_, Fault>(collection::lyrics_of(c, &caller, &artist, &title)?)).await?;
    let body = match found {
        Some(track) => json!({ "artist": track.artist, "title": track.title, "value": track.lyric }),
        None => json!({ "value": "" }),
    };
    Ok(Answer::Body(json!({ "lyrics": body })))
}

/// OpenSubsonic songLyrics: the song's lyric text, one line per line, unsynced.
pub async fn lyrics_by_song(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let id = song_id(p.require("id")?)?;
    let caller = caller.clone();
    let track = app.db.read(move |c| Ok::<_, Fault>(collection::track(c, &caller, id)?)).await?;
    let lines: Vec<Value> = track.lyric.lines().map(|l| json!({ "value": l })).collect();
    let list = if lines.is_empty() {
        json!([])
    } else {
        json!([{ "displayArtist": track.artist, "displayTitle": track.title, "lang": "xxx", "synced": false, "line": lines }])
    };
    Ok(Answer::Body(json!({ "lyricsList": { "structuredLyrics": list } })))
}

/// Recommendations as children, from the music surface's recommender.
async fn recommended(
    app: &Arc<AppState>,
    caller: &Caller,
    among: Among,
    count: i64,
    skip: Option<i64>,
) -> Result<Vec<Value>, Fault> {
    let (caller, files) = (caller.clone(), app.files.clone());
    let found = app.db.read(move |c| Ok::<_, Fault>(collection::recommended(c, &caller, among, count + 1)?)).await?;
    Ok(found.iter().filter(|t| Some(t.id) != skip).take(count as usize).map(|t| child(&files, t)).collect())
}

/// getSimilarSongs(2): hearth knows no likeness between artists, so "similar" is what the
/// recommender ranks for the caller, less the songs of the artist asked about (`ar-<id>`, or
/// the artist of the album `al-<id>` or of the song `<id>`) so that the list is new to them.
pub async fn similar(app: &Arc<AppState>, caller: &Caller, p: &Params, key: &str) -> Outcome {
    let id = p.require("id")?.trim().to_owned();
    let count = p.int_in("count", 50, 1, 500)?;
    let who = caller.clone();
    let (artist, song) = app
        .db
        .read(move |c| {
            Ok::<_, Fault>(if id.starts_with("ar-") {
                (Some(collection::artist(c, &who, row_id(&id, "ar-", "artist")?)?.id), None)
            } else if id.starts_with("al-") {
                (collection::album(c, &who, row_id(&id, "al-", "album")?)?.artist_id, None)
            } else {
                let track = collection::track(c, &who, song_id(&id)?)?;
                (track.artist_id, Some(track.id))
            })
        })
        .await?;
    let among = artist.map_or(Among::All, Among::NotOfArtist);
    let songs = recommended(app, caller, among, count, song).await?;
    Ok(Answer::Body(json!({ key: { "song": songs } })))
}

/// getTopSongs: the songs of the artist named `artist`, in the recommender's order for the
/// caller; none when no artist has that name.
pub async fn top_songs(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let name = p.require("artist")?.to_owned();
    let count = p.int_in("count", 50, 1, 500)?;
    let artist = app.db.read(move |c| Ok::<_, Fault>(collection::artist_named(c, &name)?)).await?;
    let songs = match artist {
        Some(id) => recommended(app, caller, Among::OfArtist(id), count, None).await?,
        None => Vec::new(),
    };
    Ok(Answer::Body(json!({ "topSongs": { "song": songs } })))
}

/// getAvatar: the music avatar of the account `username` (an uploaded image, or a redirect to
/// the link it was set to); 70 when it has none.
pub async fn avatar(app: &AppState, req: &Request, p: &Params) -> Outcome {
    let username = p.require("username")?.to_owned();
    let wanted = username.clone();
    let stored = app.db.read(move |c| Ok::<_, Fault>(collection::avatar_of(c, &wanted)?)).await?;
    let none = || Fault::not_found(format!("'{username}' has no avatar"));
    let stored = stored.ok_or_else(none)?;
    if stored.starts_with("http://") || stored.starts_with("https://") {
        let redirect = poem::web::Redirect::temporary(stored).into_response();
        return Ok(Answer::File(redirect));
    }
    app.files.serve(req, Bucket::Portraits, &stored).await.map(Answer::File).ok_or_else(none)
}
