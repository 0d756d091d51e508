//! Songs, favourites (stars), the user and the fixed answers. A Subsonic song is a row of
//! the music surface's library (`music::collection`), its ids the music `mid`s.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{Answer, Fault, Outcome, Params};
use crate::files::{Bucket, FileStore};
use crate::identity::{accounts, Caller};
use crate::surfaces::music::collection::{self, AlbumOrder, Pick, Track};
use crate::AppState;

/// The one music folder: the library of uploaded songs.
pub const FOLDER_ID: i64 = 1;

pub fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn year(secs: i64) -> i64 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(secs, 0).map_or(1970, |t| t.year() as i64)
}

pub fn content_type(suffix: &str) -> &'static str {
    match suffix {
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "m4a" | "mp4" => "audio/mp4",
        "aac" => "audio/aac",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

/// A song as a Subsonic `Child`.
pub fn child(files: &FileStore, track: &Track) -> Value {
    let suffix = track.res_file.rsplit_once('.').map_or("", |(_, ext)| ext).to_ascii_lowercase();
    // A scanned song's size is the scan's; an upload's is its stored file's.
    let size = track.size.map(|n| n.max(0) as u64).unwrap_or_else(|| {
        files.path(Bucket::Songs, &track.res_file).and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len())
    });
    let mut song = json!({
        "id": track.id.to_string(),
        "parent": FOLDER_ID.to_string(),
        "isDir": false,
        "title": track.title,
        "artist": track.artist,
        "year": track.year.unwrap_or_else(|| year(track.published_at)),
        "size": size,
        "contentType": content_type(&suffix),
        "suffix": suffix,
        "path": format!("{}.{suffix}", track.title),
        "type": "music",
        "mediaType": "song",
        "isVideo": false,
        "created": iso(track.created_at),
    });
    if let Some(artist) = track.artist_id {
        song["artistId"] = json!(format!("ar-{artist}"));
    }
    if let Some(album) = track.album_id {
        song["parent"] = json!(format!("al-{album}"));
        song["albumId"] = json!(format!("al-{album}"));
    }
    if !track.album_name.is_empty() {
        song["album"] = json!(track.album_name);
    }
    if !track.genre.is_empty() {
        song["genre"] = json!(track.genre);
    }
    let known =
        [("track", track.track), ("discNumber", track.disc), ("duration", track.duration), ("bitRate", track.bit_rate)];
    for (key, value) in known {
        if let Some(value) = value {
            song[key] = json!(value);
        }
    }
    if track.cover_file.is_some() {
        song["coverArt"] = json!(format!("mf-{}", track.id));
    }
    if let Some(at) = track.starred_at {
        song["starred"] = json!(iso(at));
    }
    if let Some(rating) = track.user_rating {
        song["userRating"] = json!(rating);
    }
    song["playCount"] = json!(track.play_count);
    if let Some(at) = track.last_played_at {
        song["played"] = json!(iso(at));
    }
    song
}

fn children(files: &FileStore, tracks: &[Track]) -> Vec<Value> {
    tracks.iter().map(|t| child(files, t)).collect()
}

/// A song id as Subsonic clients send it (the music `mid`); 70 when it is not one.
pub fn song_id(text: &str) -> Result<i64, Fault> {
    text.trim().parse().map_err(|_| Fault::not_found(format!("no song '{text}'")))
}

pub fn license() -> Outcome {
    Ok(Answer::Body(json!({ "license": { "valid": true } })))
}

pub fn extensions() -> Outcome {
    Ok(Answer::Body(json!({ "openSubsonicExtensions": [
        { "name": "apiKeyAuthentication", "versions": [1] },
        { "name": "formPost", "versions": [1] },
        { "name": "indexBasedQueue", "versions": [1] },
        { "name": "songLyrics", "versions": [1] },
    ] })))
}

pub fn music_folders() -> Outcome {
    Ok(Answer::Body(json!({ "musicFolders": { "musicFolder": [{ "id": FOLDER_ID, "name": "hearth" }] } })))
}

/// Whose credential this is (the `apiKeyAuthentication` extension): a client signed in with
/// an API key alone learns here the login name it then asks `getUser` about.
pub async fn token_info(app: &AppState, caller: &Caller) -> Outcome {
    let id = caller.account_id;
    let account = app.db.read(move |c| Ok::<_, Fault>(accounts::by_id(c, id)?)).await?;
    let username = account.and_then(|a| a.username).unwrap_or_default();
    Ok(Answer::Body(json!({ "tokenInfo": { "username": username } })))
}

/// The caller, or (for administrators) any account by login name.
pub async fn user(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let username = p.require("username")?.to_owned();
    let (self_id, admin) = (caller.account_id, caller.is_admin());
    let account = app.db.read(move |c| Ok::<_, Fault>(accounts::by_username(c, &username)?)).await?;
    let account = account.filter(|a| a.id == self_id || admin);
    let account = account.ok_or_else(|| Fault::not_found("no such user (you may read only your own)"))?;
    let held = app.db.read(move |c| Ok::<_, Fault>(crate::identity::roles::of_account(c, account.id)?)).await?;
    let music = Caller { account_id: account.id, session_id: 0, roles: held };
    Ok(Answer::Body(json!({ "user": {
        "username": account.username.unwrap_or_default(),
        "email": "",
        "scrobblingEnabled": true,
        "adminRole": music.is_admin(),
        "settingsRole": false,
        "downloadRole": true,
        "uploadRole": music.is_admin() || music.has_role(crate::identity::roles::CREATOR),
        "playlistRole": true,
        "coverArtRole": false,
        "commentRole": false,
        "podcastRole": false,
        "streamRole": true,
        "jukeboxRole": false,
        "shareRole": false,
        "videoConversionRole": false,
        "folder": [FOLDER_ID],
    } })))
}

pub async fn song(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let id = song_id(p.require("id")?)?;
    let (caller, files) = (caller.clone(), app.files.clone());
    let song = app.db.read(move |c| Ok::<_, Fault>(child(&files, &collection::track(c, &caller, id)?))).await?;
    Ok(Answer::Body(json!({ "song": song })))
}

pub async fn random(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let size = p.int_in("size", 10, 1, 500)?;
    let genre = p.get("genre").unwrap_or("").trim().to_owned();
    let years = match (p.int("fromYear")?, p.int("toYear")?) {
        (None, None) => None,
        (from, to) => Some((from.unwrap_or(0), to.unwrap_or(9999))),
    };
    let (caller, files) = (caller.clone(), app.files.clone());
    let songs = app
        .db
        .read(move |c| {
            let pick = Pick::Random { genre: &genre, years };
            Ok::<_, Fault>(children(&files, &collection::tracks(c, &caller, pick, size, 0)?))
        })
        .await?;
    Ok(Answer::Body(json!({ "randomSongs": { "song": songs } })))
}

/// search2 / search3: artists, albums and songs whose name (or a song's creator) contains
/// `query` (empty or `""`: all, which is how clients sync a library). search2 gives albums as
/// folders, search3 as ID3 albums: the same fields serve both.
pub async fn search(app: &Arc<AppState>, caller: &Caller, p: &Params, key: &str) -> Outcome {
    let query = p.get("query").unwrap_or("").trim();
    let query = if query == "\"\"" { "" } else { query.trim_end_matches('*') }.to_owned();
    let count = p.int_in("songCount", 20, 0, 500)?;
    let offset = p.int_in("songOffset", 0, 0, i64::MAX)?;
    let (artist_count, artist_offset) =
        (p.int_in("artistCount", 20, 0, 500)?, p.int_in("artistOffset", 0, 0, i64::MAX)?);
    let (album_count, album_offset) = (p.int_in("albumCount", 20, 0, 500)?, p.int_in("albumOffset", 0, 0, i64::MAX)?);
    let (caller, files) = (caller.clone(), app.files.clone());
    let (artists, albums, songs) = app
        .db
        .read(move |c| {
            let text = (!query.is_empty()).then_some(query.as_str());
            let artists = collection::artists(c, &caller, text, artist_count, artist_offset)?;
            let albums = collection::albums(c, &caller, AlbumOrder::Search(query.clone()), album_count, album_offset)?;
            let found = collection::tracks(c, &caller, Pick::Search(&query), count, offset)?;
            Ok::<_, Fault>((artists, albums, children(&files, &found)))
        })
        .await?;
    let artists: Vec<Value> = artists.iter().map(super::library::artist_json).collect();
    let albums: Vec<Value> = albums.iter().map(super::library::album_json).collect();
    Ok(Answer::Body(json!({ key: { "artist": artists, "album": albums, "song": songs } })))
}

pub async fn starred(app: &Arc<AppState>, caller: &Caller, key: &str) -> Outcome {
    let (caller, files) = (caller.clone(), app.files.clone());
    let songs = app
        .db
        .read(move |c| Ok::<_, Fault>(children(&files, &collection::tracks(c, &caller, Pick::Starred, i64::MAX, 0)?)))
        .await?;
    Ok(Answer::Body(json!({ key: { "song": songs } })))
}

/// star / unstar: the music surface's favourites, which are of songs only.
pub async fn star(app: &AppState, caller: &Caller, p: &Params, on: bool) -> Outcome {
    if let Some(other) = p.get("albumId").or(p.get("artistId")) {
        return Err(Fault::not_found(format!("no album or artist '{other}': hearth stars songs only")));
    }
    let ids = p.all("id").into_iter().map(song_id).collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(Fault::missing("id"));
    }
    let caller = caller.clone();
    app.db
        .write(move |tx| {
            for id in ids {
                collection::set_favourite(tx, &caller, id, on)?;
            }
            Ok::<_, Fault>(())
        })
        .await?;
    Ok(Answer::Body(json!({})))
}
