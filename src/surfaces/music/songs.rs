//! Songs: upload (audio plus optional cover), the filtered list, edits, replacing the audio
//! or cover, unshelving (temporary or permanent) and shelving again, playlists entries and
//! favourites. Only the uploader or an administrator changes a song; a temporarily
//! unshelved song is visible only to them.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension};

use super::fields::{Fields, FilePart, IdList};
use super::library::set_albums;
use super::media::{discard, file_url, store_audio, store_image, store_optional_image, FileKind};
use super::playlists::owned_playlist;
use super::song_list::{song_page, Shelf, SongFilter};
use super::{base_url, done, ok, page, paging, signed_in, Done, MusicToken, Reply};
use crate::clock::now;
use crate::files::Bucket;
use crate::identity::authz::Operation;
use crate::identity::Caller;
use crate::surfaces::documents::Required;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::Failure;
use crate::AppState;

pub struct SongApi(pub Arc<AppState>);

#[derive(Object, Debug, Clone)]
#[allow(non_snake_case)]
pub struct SongItem {
    pub mid: i64,
    pub musicname: String,
    /// Creator ids
    pub creator: Vec<i64>,
    /// Album ids
    pub album: Vec<i64>,
    pub introduction: String,
    /// Absolute URL of the cover, "" when there is none
    pub musicAvatar: String,
    pub lyric: String,
    /// Absolute URL of the audio (supports Range)
    pub resUrl: String,
    /// Epoch seconds
    pub publishedTime: i64,
    /// Epoch seconds
    pub createdTime: i64,
    /// Epoch seconds
    pub updatedTime: i64,
    /// The uploader's uid
    pub uid: i64,
    /// false while temporarily unshelved
    pub onShelf: bool,
    /// How many users favourited it
    pub favCount: i64,
}

/// The columns `song_from_row` reads, for a query aliasing `music_song` as `s`.
pub const SONG_COLUMNS: &str = "s.id, s.name, s.creator, s.album, s.introduction, s.cover_file, s.lyric, s.res_file, \
     s.published_at, s.created_at, s.updated_at, s.owner_id, s.on_shelf, s.fav_count";

pub fn song_from_row(r: &rusqlite::Row, base: &str) -> rusqlite::Result<SongItem> {
    let ids = |text: String| IdList::parse_text(&text).unwrap_or_default().0;
    Ok(SongItem {
        mid: r.get(0)?,
        musicname: r.get(1)?,
        creator: ids(r.get(2)?),
        album: ids(r.get(3)?),
        introduction: r.get(4)?,
        musicAvatar: file_url(base, FileKind::Covers, r.get::<_, Option<String>>(5)?.as_deref()),
        lyric: r.get(6)?,
        resUrl: file_url(base, FileKind::Songs, Some(&r.get::<_, String>(7)?)),
        publishedTime: r.get(8)?,
        createdTime: r.get(9)?,
        updatedTime: r.get(10)?,
        uid: r.get(11)?,
        onShelf: r.get(12)?,
        favCount: r.get(13)?,
    })
}

/// `AND` condition: the song `s` is visible to this caller.
pub fn visible_to(caller: &Caller) -> String {
    if caller.is_admin() {
        "1".into()
    } else {
        format!("(s.on_shelf = 1 OR s.owner_id = {})", caller.account_id)
    }
}

pub fn load_song(conn: &Connection, mid: i64, base: &str) -> Result<SongItem, Failure> {
    conn.query_row(&format!("SELECT {SONG_COLUMNS} FROM music_song s WHERE s.id = ?1"), [mid], |r| {
        song_from_row(r, base)
    })
    .optional()?
    .ok_or_else(|| Failure::NotFound(format!("no song {mid}")))
}

/// Fails with 404 unless the song exists and the caller may see it.
pub fn visible_song(conn: &Connection, mid: i64, caller: &Caller) -> Result<(), Failure> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM music_song s WHERE s.id = ?1 AND {})", visible_to(caller));
    let found: bool = conn.query_row(&sql, [mid], |r| r.get(0))?;
    found.then_some(()).ok_or_else(|| Failure::NotFound(format!("no song {mid}")))
}

struct Owned {
    res_file: String,
    cover_file: Option<String>,
}

/// The song, if the caller may change it: 404 when it does not exist (or is hidden from the
/// caller), 403 when it is someone else's.
fn owned_song(conn: &Connection, mid: i64, caller: &Caller) -> Result<Owned, Failure> {
    visible_song(conn, mid, caller)?;
    let (owner, res_file, cover_file): (i64, String, Option<String>) =
        conn.query_row("SELECT owner_id, res_file, cover_file FROM music_song WHERE id = ?1", [mid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if owner != caller.account_id && !caller.is_admin() {
        return Err(Failure::Forbidden(format!(
            "song {mid} is not yours; only its uploader or an administrator may change it"
        )));
    }
    Ok(Owned { res_file, cover_file })
}

fn set_creators(conn: &Connection, mid: i64, creators: &IdList) -> Result<(), Failure> {
    conn.execute("DELETE FROM music_song_creator WHERE song_id = ?1", [mid])?;
    for creator in creators.distinct() {
        conn.execute("INSERT INTO music_song_creator (song_id, creator_id) VALUES (?1, ?2)", [mid, creator])?;
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Failure::Invalid("musicname must be 1 to 100 characters".into()));
    }
    Ok(name.to_owned())
}

/// Epoch seconds; a value in milliseconds is accepted and converted.
fn published(value: LenientId) -> Result<i64, Failure> {
    match value.0 {
        t if t < 0 => Err(Failure::Invalid("publishedTime must be epoch seconds, not negative".into())),
        t if t >= 100_000_000_000 => Ok(t / 1000),
        t => Ok(t),
    }
}

fn as_json(ids: &IdList) -> String {
    serde_json::Value::from(ids.0.clone()).to_string()
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct SongAdd {
    musicname: String,
    /// Creator ids: [2,25], 2,25 or 2
    creator: IdList,
    /// Album ids, same forms as creator
    album: IdList,
    /// Epoch seconds
    publishedTime: LenientId,
    /// The audio file: MP3, FLAC, Ogg, WAV or M4A
    res: FilePart,
    /// Cover image, PNG or JPEG
    musicAvatar: Option<FilePart>,
    introduction: Option<String>,
    lyric: Option<String>,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct SongUpdate {
    mid: LenientId,
    musicname: Option<String>,
    /// Creator ids: "[43,543]", [43,543], 43,543 or 43
    creator: Option<IdList>,
    album: Option<IdList>,
    introduction: Option<String>,
    /// Epoch seconds (number or digits)
    publishedTime: Option<LenientId>,
    lyric: Option<String>,
}

#[derive(Object, serde::Deserialize)]
struct SongFile {
    mid: LenientId,
    /// The new file
    file: FilePart,
}

#[derive(Object, serde::Deserialize)]
struct Unshelve {
    mid: LenientId,
    /// true: temporarily (hidden from users); false: permanently (song, files and all references deleted)
    #[serde(rename = "type")]
    #[oai(rename = "type")]
    kind: LenientBool,
}

#[derive(Object, serde::Deserialize)]
struct SongRef {
    mid: LenientId,
}

#[derive(Object, serde::Deserialize)]
struct ListedRef {
    mid: LenientId,
    mlid: LenientId,
}

impl SongApi {
    async fn replace_file(
        &self,
        op: &Operation,
        req: &Request,
        token: &MusicToken,
        mut body: Fields<SongFile>,
        kind: FileKind,
    ) -> Reply<String> {
        let caller = signed_in(&self.0, op, token).await?;
        let upload = body.required_file("file")?;
        let new = match kind {
            FileKind::Songs => store_audio(&self.0, "file", upload).await?,
            _ => store_image(&self.0, "file", FileKind::Covers, upload).await?,
        };
        let (mid, name) = (body.mid.0, new.name.clone());
        let old = self
            .0
            .db
            .write(move |tx| {
                let song = owned_song(tx, mid, &caller)?;
                let scanned: bool =
                    tx.query_row("SELECT folder IS NOT NULL FROM music_song WHERE id = ?1", [mid], |r| r.get(0))?;
                if scanned {
                    return Err(Failure::Conflict(format!(
                        "song {mid} is read from a music folder; change its file there and scan again"
                    )));
                }
                let (sql, old) = match kind {
                    FileKind::Songs => {
                        ("UPDATE music_song SET res_file = ?1, updated_at = ?2 WHERE id = ?3", Some(song.res_file))
                    }
                    _ => ("UPDATE music_song SET cover_file = ?1, updated_at = ?2 WHERE id = ?3", song.cover_file),
                };
                tx.execute(sql, params![name, now(), mid])?;
                Ok::<_, Failure>(old)
            })
            .await?;
        let name = new.keep();
        discard(&self.0, &[(kind.bucket(), old)]);
        ok(file_url(&base_url(&self.0, req), kind, Some(&name)))
    }

    async fn shelve(&self, op: &Operation, token: &MusicToken, body: Fields<SongRef>) -> Done {
        let caller = signed_in(&self.0, op, token).await?;
        let mid = body.mid.0;
        self.0
            .db
            .write(move |tx| {
                owned_song(tx, mid, &caller)?;
                tx.execute("UPDATE music_song SET on_shelf = 1, updated_at = ?1 WHERE id = ?2", params![now(), mid])?;
                Ok::<_, Failure>(())
            })
            .await?;
        done()
    }

    async fn favourite(&self, op: &Operation, token: &MusicToken, mid: i64, on: bool) -> Done {
        let caller = signed_in(&self.0, op, token).await?;
        self.0.db.write(move |tx| set_favourite(tx, &caller, mid, on)).await?;
        done()
    }
}

/// Favourites (`on`) or unfavourites a song for the caller, keeping `fav_count` exact.
pub fn set_favourite(tx: &Connection, caller: &Caller, mid: i64, on: bool) -> Result<(), Failure> {
    let uid = caller.account_id;
    let changed = if on {
        visible_song(tx, mid, caller)?;
        tx.execute(
            "INSERT OR IGNORE INTO music_song_fav (account_id, song_id, created_at) VALUES (?1, ?2, ?3)",
            params![uid, mid, now()],
        )?
    } else {
        let removed = tx.execute("DELETE FROM music_song_fav WHERE account_id = ?1 AND song_id = ?2", [uid, mid])?;
        // Unfavouriting answers 404 for an unknown song as favouriting does; a
        // favourite of a song hidden since can still be removed.
        if removed == 0 {
            visible_song(tx, mid, caller)?;
        }
        removed
    };
    if changed > 0 {
        let delta = if on { 1 } else { -1 };
        tx.execute("UPDATE music_song SET fav_count = fav_count + ?1 WHERE id = ?2", [delta, mid])?;
    }
    Ok(())
}

/// Adds a song the caller may see to one of the caller's playlists, after its latest entry.
pub fn add_to_playlist(tx: &Connection, caller: &Caller, mlid: i64, mid: i64) -> Result<(), Failure> {
    owned_playlist(tx, mlid, caller)?;
    visible_song(tx, mid, caller)?;
    // `added_at` is in milliseconds and strictly after the playlist's latest entry,
    // so songs keep the order they were added in even within one millisecond.
    tx.execute(
        "INSERT OR IGNORE INTO music_playlist_song (playlist_id, song_id, added_at)
         SELECT ?1, ?2, max(?3, COALESCE(max(added_at), 0) + 1) FROM music_playlist_song WHERE playlist_id = ?1",
        params![mlid, mid, crate::clock::now_millis()],
    )?;
    tx.execute("UPDATE music_playlist SET updated_at = ?1 WHERE id = ?2", params![now(), mlid])?;
    Ok(())
}

#[OpenApi]
impl SongApi {
    /// Add a song (multipart: audio `res`, optional cover `musicAvatar`); `data` is the new song (创作者 and administrators)
    #[oai(path = "/api/music", method = "post")]
    async fn add(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        mut body: Fields<SongAdd>,
    ) -> Reply<SongItem> {
        let caller = signed_in(&self.0, op, &token).await?;
        let name = check_name(&body.musicname)?;
        if body.creator.0.is_empty() {
            return Err(Failure::Invalid("creator must name at least one creator id".into()).into());
        }
        let published_at = published(body.publishedTime)?;
        let audio = store_audio(&self.0, "res", body.required_file("res")?).await?;
        let cover = store_optional_image(&self.0, "musicAvatar", FileKind::Covers, body.file("musicAvatar")).await?;
        let SongAdd { creator, album, introduction, lyric, .. } = body.value;
        let (res_name, cover_name) = (audio.name.clone(), cover.as_ref().map(|c| c.name.clone()));
        let base = base_url(&self.0, req);
        let song = self
            .0
            .db
            .write(move |tx| {
                let at = now();
                tx.execute(
                    "INSERT INTO music_song (owner_id, name, creator, album, introduction, lyric, res_file, cover_file, published_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                    params![caller.account_id, name, as_json(&creator), as_json(&album), introduction.unwrap_or_default(),
                            lyric.unwrap_or_default(), res_name, cover_name, published_at, at],
                )?;
                let mid = tx.last_insert_rowid();
                set_creators(tx, mid, &creator)?;
                set_albums(tx, mid, &album.0)?;
                load_song(tx, mid, &base)
            })
            .await?;
        audio.keep();
        cover.map(|c| c.keep());
        ok(song)
    }

    /// Songs, newest first, filtered by name, creator (name or id) and, with mode=true, the caller's own uploads
    #[oai(path = "/api/music", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Required<LenientId>>,
        /// Rows per page, 1 to 500
        #[oai(name = "pageSize")]
        page_size: Query<Required<LenientId>>,
        /// Part of the song name
        musicname: Query<Option<String>>,
        /// Part of a creator's user name or nickname, or a creator id
        creator: Query<Option<String>>,
        /// true: only songs the caller uploaded (including temporarily unshelved ones)
        mode: Query<Option<LenientBool>>,
    ) -> Reply<Vec<SongItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let (limit, offset) = paging(page_num.0 .0.map(|p| p.0), page_size.0 .0.map(|p| p.0), None)?;
        let shelf = if mode.0.is_some_and(|m| m.0) {
            // The caller's own uploads, hidden ones included, so they can be managed.
            Shelf::OwnedBy(caller.account_id)
        } else if caller.is_admin() {
            Shelf::All
        } else {
            Shelf::OnShelf
        };
        let mut filter = SongFilter::new(shelf);
        if let Some(name) = musicname.0.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            filter.name(name);
        }
        if let Some(creator) = creator.0.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            filter.creator(creator);
        }
        let base = base_url(&self.0, req);
        let app = self.0.clone();
        let (songs, total) =
            self.0.db.read(move |c| song_page(c, &filter, &app.music_totals, limit, offset, &base)).await?;
        page(songs, total)
    }

    /// Update a song's details (JSON); fields left out stay as they are
    #[oai(path = "/api/music", method = "put")]
    async fn update(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        body: Fields<SongUpdate>,
    ) -> Reply<SongItem> {
        let caller = signed_in(&self.0, op, &token).await?;
        let SongUpdate { mid, musicname, creator, album, introduction, publishedTime, lyric } = body.value;
        let name = musicname.as_deref().map(check_name).transpose()?;
        if creator.as_ref().is_some_and(|c| c.0.is_empty()) {
            return Err(Failure::Invalid("creator must name at least one creator id".into()).into());
        }
        let published_at = publishedTime.map(published).transpose()?;
        let base = base_url(&self.0, req);
        let song = self
            .0
            .db
            .write(move |tx| {
                owned_song(tx, mid.0, &caller)?;
                tx.execute(
                    "UPDATE music_song SET name = COALESCE(?1, name), creator = COALESCE(?2, creator), album = COALESCE(?3, album),
                            introduction = COALESCE(?4, introduction), published_at = COALESCE(?5, published_at),
                            lyric = COALESCE(?6, lyric), updated_at = ?7 WHERE id = ?8",
                    params![name, creator.as_ref().map(as_json), album.as_ref().map(as_json), introduction, published_at, lyric, now(), mid.0],
                )?;
                if let Some(creator) = &creator {
                    set_creators(tx, mid.0, creator)?;
                }
                if let Some(album) = &album {
                    set_albums(tx, mid.0, &album.0)?;
                }
                load_song(tx, mid.0, &base)
            })
            .await?;
        ok(song)
    }

    /// Replace a song's audio (multipart `mid`, `file`); the old file is deleted; `data` is the new resUrl
    #[oai(path = "/api/music/res", method = "put")]
    async fn replace_res(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        body: Fields<SongFile>,
    ) -> Reply<String> {
        self.replace_file(op, req, &token, body, FileKind::Songs).await
    }

    /// Replace a song's cover (multipart `mid`, `file`); the old file is deleted; `data` is the new musicAvatar
    #[oai(path = "/api/music/avatar", method = "put")]
    async fn replace_cover(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        body: Fields<SongFile>,
    ) -> Reply<String> {
        self.replace_file(op, req, &token, body, FileKind::Covers).await
    }

    /// Unshelve a song: type=true hides it from users until shelved again; type=false deletes it with its files
    #[oai(path = "/api/music/unshelve", method = "delete")]
    async fn unshelve(&self, op: &Operation, token: MusicToken, body: Fields<Unshelve>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let (mid, temporary) = (body.mid.0, body.kind.0);
        let removed = self
            .0
            .db
            .write(move |tx| {
                let song = owned_song(tx, mid, &caller)?;
                if temporary {
                    tx.execute(
                        "UPDATE music_song SET on_shelf = 0, updated_at = ?1 WHERE id = ?2",
                        params![now(), mid],
                    )?;
                    return Ok::<_, Failure>(vec![]);
                }
                tx.execute("DELETE FROM music_song WHERE id = ?1", [mid])?;
                Ok(vec![(Bucket::Songs, Some(song.res_file)), (Bucket::Covers, song.cover_file)])
            })
            .await?;
        discard(&self.0, &removed);
        done()
    }

    /// Put a temporarily unshelved song back (form field `mid`)
    #[oai(path = "/api/music/shelve", method = "delete")]
    async fn shelve_delete(&self, op: &Operation, token: MusicToken, body: Fields<SongRef>) -> Done {
        self.shelve(op, &token, body).await
    }

    /// Put a temporarily unshelved song back (same as DELETE)
    #[oai(path = "/api/music/shelve", method = "patch")]
    async fn shelve_patch(&self, op: &Operation, token: MusicToken, body: Fields<SongRef>) -> Done {
        self.shelve(op, &token, body).await
    }

    /// Add a song to one of your playlists
    #[oai(path = "/api/music/listed", method = "post")]
    async fn listed_add(&self, op: &Operation, token: MusicToken, body: Fields<ListedRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let (mid, mlid) = (body.mid.0, body.mlid.0);
        self.0.db.write(move |tx| add_to_playlist(tx, &caller, mlid, mid)).await?;
        done()
    }

    /// Remove a song from one of your playlists
    #[oai(path = "/api/music/listed", method = "delete")]
    async fn listed_remove(&self, op: &Operation, token: MusicToken, body: Fields<ListedRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let (mid, mlid) = (body.mid.0, body.mlid.0);
        self.0
            .db
            .write(move |tx| {
                owned_playlist(tx, mlid, &caller)?;
                if tx.execute("DELETE FROM music_playlist_song WHERE playlist_id = ?1 AND song_id = ?2", [mlid, mid])?
                    == 0
                {
                    return Err(Failure::NotFound(format!("song {mid} is not in playlist {mlid}")));
                }
                tx.execute("UPDATE music_playlist SET updated_at = ?1 WHERE id = ?2", params![now(), mlid])?;
                Ok(())
            })
            .await?;
        done()
    }

    /// Favourite a song
    #[oai(path = "/api/music/fav", method = "put")]
    async fn fav(&self, op: &Operation, token: MusicToken, body: Fields<SongRef>) -> Done {
        self.favourite(op, &token, body.mid.0, true).await
    }

    /// Remove a song from your favourites
    #[oai(path = "/api/music/fav", method = "delete")]
    async fn unfav(&self, op: &Operation, token: MusicToken, body: Fields<SongRef>) -> Done {
        self.favourite(op, &token, body.mid.0, false).await
    }
}
