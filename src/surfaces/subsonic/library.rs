//! Artists, albums and genres: getArtists / getIndexes, getArtist, getAlbum,
//! getMusicDirectory, getAlbumList(2), getGenres, getSongsByGenre; and the folder scan that
//! fills them, startScan and getScanStatus. Ids: artists `ar-<id>`, albums `al-<id>` (rows
//! of the music library), songs their plain `mid`.

use std::sync::Arc;

use serde_json::{json, Value};

use super::songs::{child, iso, FOLDER_ID};
use super::{Answer, Fault, Outcome, Params};
use crate::identity::Caller;
use crate::surfaces::music::collection::{self, AlbumOrder, AlbumRow, ArtistRow, Pick};
use crate::AppState;

/// Articles `getArtists` / `getIndexes` skip when filing an artist under a letter.
pub const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

/// The number after `prefix` (a bare number is accepted too); 70 otherwise.
pub fn row_id(text: &str, prefix: &str, what: &str) -> Result<i64, Fault> {
    let digits = text.trim();
    let digits = digits.strip_prefix(prefix).unwrap_or(digits);
    digits.parse().map_err(|_| Fault::not_found(format!("no {what} '{text}'")))
}

pub fn album_json(album: &AlbumRow) -> Value {
    let mut out = json!({
        "id": format!("al-{}", album.id),
        "name": album.name,
        "title": album.name,
        "album": album.name,
        "artist": album.artist,
        "songCount": album.song_count,
        "duration": album.duration,
        "created": iso(album.created_at),
        "isDir": true,
    });
    if let Some(artist) = album.artist_id {
        out["artistId"] = json!(format!("ar-{artist}"));
        out["parent"] = json!(format!("ar-{artist}"));
    }
    if let Some(year) = album.year {
        out["year"] = json!(year);
    }
    if !album.genre.is_empty() {
        out["genre"] = json!(album.genre);
    }
    if album.cover_song.is_some() {
        out["coverArt"] = json!(format!("al-{}", album.id));
    }
    if let Some(rating) = album.user_rating {
        out["userRating"] = json!(rating);
    }
    out["playCount"] = json!(album.play_count);
    if let Some(at) = album.last_played_at {
        out["played"] = json!(iso(at));
    }
    out
}

pub fn artist_json(artist: &ArtistRow) -> Value {
    json!({ "id": format!("ar-{}", artist.id), "name": artist.name, "albumCount": artist.album_count })
}

/// The letter an artist is filed under: the first of its name after an ignored article,
/// upper-cased; `#` when that is not a letter.
fn index_letter(name: &str) -> String {
    let mut rest = name.trim();
    for article in IGNORED_ARTICLES.split(' ') {
        if let Some(after) = rest.strip_prefix(article).filter(|a| a.starts_with(' ')) {
            rest = after.trim_start();
            break;
        }
    }
    match rest.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".into(),
    }
}

fn indexed(artists: &[ArtistRow]) -> Vec<Value> {
    let mut groups: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for artist in artists {
        groups.entry(index_letter(&artist.name)).or_default().push(artist_json(artist));
    }
    groups.into_iter().map(|(name, artist)| json!({ "name": name, "artist": artist })).collect()
}

/// getArtists (`key` "artists") and getIndexes ("indexes", with lastModified).
pub async fn artists(app: &AppState, caller: &Caller, key: &str) -> Outcome {
    let caller = caller.clone();
    let found = app.db.read(move |c| Ok::<_, Fault>(collection::artists(c, &caller, None, i64::MAX, 0)?)).await?;
    let mut body = json!({ "ignoredArticles": IGNORED_ARTICLES, "index": indexed(&found) });
    if key == "indexes" {
        body["lastModified"] = json!(0);
    }
    Ok(Answer::Body(json!({ key: body })))
}

pub async fn artist(app: &AppState, caller: &Caller, p: &Params) -> Outcome {
    let id = row_id(p.require("id")?, "ar-", "artist")?;
    let caller = caller.clone();
    let (artist, albums) = app
        .db
        .read(move |c| {
            let artist = collection::artist(c, &caller, id)?;
            Ok::<_, Fault>((artist, collection::albums(c, &caller, AlbumOrder::OfArtist(id), i64::MAX, 0)?))
        })
        .await?;
    let mut body = artist_json(&artist);
    body["album"] = json!(albums.iter().map(album_json).collect::<Vec<_>>());
    Ok(Answer::Body(json!({ "artist": body })))
}

/// The album and its songs as Subsonic children, in disc and track order.
async fn album_with_songs(app: &Arc<AppState>, caller: &Caller, id: i64) -> Result<(AlbumRow, Vec<Value>), Fault> {
    let (caller, files) = (caller.clone(), app.files.clone());
    app.db
        .read(move |c| {
            let album = collection::album(c, &caller, id)?;
            let songs = collection::tracks(c, &caller, Pick::Album(id), i64::MAX, 0)?;
            Ok::<_, Fault>((album, songs.iter().map(|t| child(&files, t)).collect()))
        })
        .await
}

pub async fn album(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let id = row_id(p.require("id")?, "al-", "album")?;
    let (album, songs) = album_with_songs(app, caller, id).await?;
    let mut body = album_json(&album);
    body["song"] = json!(songs);
    Ok(Answer::Body(json!({ "album": body })))
}

/// `ar-<id>`: the artist's albums as folders; `al-<id>`: the album's songs.
pub async fn directory(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let id = p.require("id")?.trim().to_owned();
    if id.starts_with("al-") {
        let (album, songs) = album_with_songs(app, caller, row_id(&id, "al-", "directory")?).await?;
        let mut body = json!({ "id": id, "name": album.name, "child": songs });
        if let Some(artist) = album.artist_id {
            body["parent"] = json!(format!("ar-{artist}"));
        }
        return Ok(Answer::Body(json!({ "directory": body })));
    }
    if !id.starts_with("ar-") {
        return Err(Fault::not_found(format!("no directory '{id}': directories are ar-<id> or al-<id>")));
    }
    let artist_id = row_id(&id, "ar-", "directory")?;
    let caller = caller.clone();
    let (artist, albums) = app
        .db
        .read(move |c| {
            let artist = collection::artist(c, &caller, artist_id)?;
            Ok::<_, Fault>((artist, collection::albums(c, &caller, AlbumOrder::OfArtist(artist_id), i64::MAX, 0)?))
        })
        .await?;
    let children: Vec<Value> = albums.iter().map(album_json).collect();
    Ok(Answer::Body(json!({ "directory": {
        "id": id, "parent": FOLDER_ID.to_string(), "name": artist.name, "child": children,
    } })))
}

/// getAlbumList (`key` "albumList") and getAlbumList2 ("albumList2").
pub async fn album_list(app: &AppState, caller: &Caller, p: &Params, key: &str) -> Outcome {
    let size = p.int_in("size", 10, 1, 500)?;
    let offset = p.int_in("offset", 0, 0, i64::MAX)?;
    let kind = p.require("type")?.to_owned();
    let genre = p.get("genre").unwrap_or("").to_owned();
    let order = match kind.as_str() {
        "random" => AlbumOrder::Random,
        "newest" => AlbumOrder::Newest,
        "alphabeticalByName" => AlbumOrder::ByName,
        "alphabeticalByArtist" => AlbumOrder::ByArtist,
        "byYear" => {
            let from = p.int("fromYear")?.ok_or_else(|| Fault::missing("fromYear"))?;
            let to = p.int("toYear")?.ok_or_else(|| Fault::missing("toYear"))?;
            AlbumOrder::ByYear(from, to)
        }
        "byGenre" if genre.is_empty() => return Err(Fault::missing("genre")),
        "byGenre" => AlbumOrder::ByGenre(genre),
        // The caller's own plays, favourites and ratings (of songs: albums are not starred
        // or rated themselves).
        "frequent" => AlbumOrder::Frequent,
        "recent" => AlbumOrder::Recent,
        "starred" => AlbumOrder::Starred,
        "highest" => AlbumOrder::Highest,
        other => {
            return Err(Fault::generic(format!(
                "type must be random, newest, frequent, recent, starred, highest, alphabeticalByName, \
                 alphabeticalByArtist, byYear or byGenre, not '{other}'"
            )))
        }
    };
    let caller = caller.clone();
    let found = app.db.read(move |c| Ok::<_, Fault>(collection::albums(c, &caller, order, size, offset)?)).await?;
    Ok(Answer::Body(json!({ key: { "album": found.iter().map(album_json).collect::<Vec<_>>() } })))
}

pub async fn genres(app: &AppState, caller: &Caller) -> Outcome {
    let caller = caller.clone();
    let found = app.db.read(move |c| Ok::<_, Fault>(collection::genres(c, &caller)?)).await?;
    let list: Vec<Value> = found
        .iter()
        .map(|g| json!({ "value": g.name, "songCount": g.song_count, "albumCount": g.album_count }))
        .collect();
    Ok(Answer::Body(json!({ "genres": { "genre": list } })))
}

pub async fn songs_by_genre(app: &Arc<AppState>, caller: &Caller, p: &Params) -> Outcome {
    let genre = p.require("genre")?.to_owned();
    let count = p.int_in("count", 10, 1, 500)?;
    let offset = p.int_in("offset", 0, 0, i64::MAX)?;
    let (caller, files) = (caller.clone(), app.files.clone());
    let songs = app
        .db
        .read(move |c| {
            let found = collection::tracks(c, &caller, Pick::Genre(&genre), count, offset)?;
            Ok::<_, Fault>(found.iter().map(|t| child(&files, t)).collect::<Vec<_>>())
        })
        .await?;
    Ok(Answer::Body(json!({ "songsByGenre": { "song": songs } })))
}

/// `startScan` (which first starts the music folders' scan, unless one runs) and
/// `getScanStatus`: whether a scan runs, and the music files it has found so far (or the
/// last one found).
pub fn scan_status(app: &Arc<AppState>, start: bool) -> Outcome {
    if start {
        crate::surfaces::music::scan::start(app)?;
    }
    let status = app.music_scan.status();
    Ok(Answer::Body(json!({ "scanStatus": { "scanning": status.running, "count": status.seen } })))
}

#[cfg(test)]
mod tests {
    use super::index_letter;

    #[test]
    fn artists_are_filed_past_their_article() {
        assert_eq!(index_letter("The Beatles"), "B");
        assert_eq!(index_letter("Los Lobos"), "L");
        assert_eq!(index_letter("Theodore"), "T");
        assert_eq!(index_letter("ärger"), "Ä");
        assert_eq!(index_letter("2Pac"), "#");
    }
}
