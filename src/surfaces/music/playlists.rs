//! Playlists: anyone signed in can browse them and favourite them; only the owner (or an
//! administrator) changes one. Items carry both time key spellings the document uses.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension};

use super::fields::{Fields, FilePart};
use super::media::{discard, file_url, store_optional_image, FileKind};
use super::recommend;
use super::song_list::like_pattern;
use super::songs::{song_from_row, visible_to, SongItem, SONG_COLUMNS};
use super::{base_url, done, ok, page, paging, signed_in, Done, MusicToken, Reply};
use crate::clock::now;
use crate::files::Bucket;
use crate::identity::authz::Operation;
use crate::identity::Caller;
use crate::surfaces::documents::Required;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::Failure;
use crate::AppState;

pub struct PlaylistApi(pub Arc<AppState>);

#[derive(Object, Debug, Clone)]
#[allow(non_snake_case)]
pub struct PlaylistItem {
    pub mlid: i64,
    pub musiclistname: String,
    /// The owner's uid
    pub uid: i64,
    /// Absolute URL of the cover, "" when there is none
    pub musiclist_pic: String,
    pub introduction: String,
    pub style: String,
    /// Epoch seconds
    pub createdTime: i64,
    /// Epoch seconds
    pub updatedTime: i64,
    /// Same as createdTime (the document's other spelling)
    pub created_time: i64,
    /// Same as updatedTime
    pub updated_time: i64,
    /// Songs in it
    pub songCount: i64,
    /// Users who favourited it
    pub favCount: i64,
}

/// The columns `playlist_from_row` reads, for a query aliasing `music_playlist` as `p`.
pub const PLAYLIST_COLUMNS: &str =
    "p.id, p.name, p.owner_id, p.cover_file, p.introduction, p.style, p.created_at, p.updated_at, \
     (SELECT COUNT(*) FROM music_playlist_song ps WHERE ps.playlist_id = p.id), \
     (SELECT COUNT(*) FROM music_playlist_fav pf WHERE pf.playlist_id = p.id)";

pub fn playlist_from_row(r: &rusqlite::Row, base: &str) -> rusqlite::Result<PlaylistItem> {
    let (created, updated): (i64, i64) = (r.get(6)?, r.get(7)?);
    Ok(PlaylistItem {
        mlid: r.get(0)?,
        musiclistname: r.get(1)?,
        uid: r.get(2)?,
        musiclist_pic: file_url(base, FileKind::Covers, r.get::<_, Option<String>>(3)?.as_deref()),
        introduction: r.get(4)?,
        style: r.get(5)?,
        createdTime: created,
        updatedTime: updated,
        created_time: created,
        updated_time: updated,
        songCount: r.get(8)?,
        favCount: r.get(9)?,
    })
}

fn load_playlist(conn: &Connection, mlid: i64, base: &str) -> Result<PlaylistItem, Failure> {
    conn.query_row(&format!("SELECT {PLAYLIST_COLUMNS} FROM music_playlist p WHERE p.id = ?1"), [mlid], |r| {
        playlist_from_row(r, base)
    })
    .optional()?
    .ok_or_else(|| Failure::NotFound(format!("no playlist {mlid}")))
}

fn playlist_exists(conn: &Connection, mlid: i64) -> Result<(), Failure> {
    let found: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM music_playlist WHERE id = ?1)", [mlid], |r| r.get(0))?;
    found.then_some(()).ok_or_else(|| Failure::NotFound(format!("no playlist {mlid}")))
}

/// The playlist's cover file, if the caller may change the playlist: 404 when it does not
/// exist, 403 when it is someone else's.
pub fn owned_playlist(conn: &Connection, mlid: i64, caller: &Caller) -> Result<Option<String>, Failure> {
    let row: Option<(i64, Option<String>)> = conn
        .query_row("SELECT owner_id, cover_file FROM music_playlist WHERE id = ?1", [mlid], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (owner, cover) = row.ok_or_else(|| Failure::NotFound(format!("no playlist {mlid}")))?;
    if owner != caller.account_id && !caller.is_admin() {
        return Err(Failure::Forbidden(format!(
            "playlist {mlid} is not yours; only its owner or an administrator may change it"
        )));
    }
    Ok(cover)
}

/// Deletes one of the caller's playlists; answers its cover file, to discard once committed.
pub fn delete_playlist(tx: &Connection, caller: &Caller, mlid: i64) -> Result<Option<String>, Failure> {
    let cover = owned_playlist(tx, mlid, caller)?;
    tx.execute("DELETE FROM music_playlist WHERE id = ?1", [mlid])?;
    Ok(cover)
}

pub fn check_text(field: &str, text: &str, min: usize, max: usize) -> Result<String, Failure> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(Failure::Invalid(format!("{field} must be {min} to {max} characters")));
    }
    Ok(text.to_owned())
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct PlaylistAdd {
    /// 1–50 characters
    musiclistname: String,
    introduction: Option<String>,
    style: Option<String>,
    /// Cover image, PNG or JPEG
    musiclistAvatar: Option<FilePart>,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct PlaylistUpdate {
    mlid: LenientId,
    /// Cover image, PNG or JPEG
    musiclistAvatar: Option<FilePart>,
    /// Up to 2000 characters
    introduction: Option<String>,
    /// Up to 50 characters
    style: Option<String>,
}

#[derive(Object, serde::Deserialize)]
struct PlaylistRename {
    mlid: LenientId,
    /// 1–50 characters
    musiclistname: String,
}

#[derive(Object, serde::Deserialize)]
struct PlaylistRef {
    mlid: LenientId,
}

impl PlaylistApi {
    async fn favourite(&self, op: &Operation, token: &MusicToken, mlid: i64, on: bool) -> Done {
        let caller = signed_in(&self.0, op, token).await?;
        let uid = caller.account_id;
        self.0
            .db
            .write(move |tx| {
                if on {
                    playlist_exists(tx, mlid)?;
                    tx.execute("INSERT OR IGNORE INTO music_playlist_fav (account_id, playlist_id, created_at) VALUES (?1, ?2, ?3)", params![uid, mlid, now()])?;
                } else {
                    tx.execute("DELETE FROM music_playlist_fav WHERE account_id = ?1 AND playlist_id = ?2", [uid, mlid])?;
                }
                Ok::<_, Failure>(())
            })
            .await?;
        done()
    }
}

#[OpenApi]
impl PlaylistApi {
    /// Create a playlist; `data` is the new playlist
    #[oai(path = "/api/musiclist", method = "post")]
    async fn add(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        mut body: Fields<PlaylistAdd>,
    ) -> Reply<PlaylistItem> {
        let caller = signed_in(&self.0, op, &token).await?;
        let name = check_text("musiclistname", &body.musiclistname, 1, 50)?;
        let introduction = body.introduction.as_deref().map(|t| check_text("introduction", t, 0, 2000)).transpose()?;
        let style = body.style.as_deref().map(|t| check_text("style", t, 0, 50)).transpose()?;
        let cover =
            store_optional_image(&self.0, "musiclistAvatar", FileKind::Covers, body.file("musiclistAvatar")).await?;
        let cover_name = cover.as_ref().map(|c| c.name.clone());
        let base = base_url(&self.0, req);
        let item = self
            .0
            .db
            .write(move |tx| {
                let at = now();
                tx.execute(
                    "INSERT INTO music_playlist (owner_id, name, cover_file, introduction, style, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    params![caller.account_id, name, cover_name, introduction.unwrap_or_default(), style.unwrap_or_default(), at],
                )?;
                load_playlist(tx, tx.last_insert_rowid(), &base)
            })
            .await?;
        cover.map(|c| c.keep());
        ok(item)
    }

    /// Change a playlist's cover (multipart `musiclistAvatar`), introduction or style; `data` is the playlist
    #[oai(path = "/api/musiclist", method = "put")]
    async fn update(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        mut body: Fields<PlaylistUpdate>,
    ) -> Reply<PlaylistItem> {
        let caller = signed_in(&self.0, op, &token).await?;
        let introduction = body.introduction.as_deref().map(|t| check_text("introduction", t, 0, 2000)).transpose()?;
        let style = body.style.as_deref().map(|t| check_text("style", t, 0, 50)).transpose()?;
        let cover =
            store_optional_image(&self.0, "musiclistAvatar", FileKind::Covers, body.file("musiclistAvatar")).await?;
        let (mlid, cover_name) = (body.mlid.0, cover.as_ref().map(|c| c.name.clone()));
        let base = base_url(&self.0, req);
        let (item, old) = self
            .0
            .db
            .write(move |tx| {
                let old = owned_playlist(tx, mlid, &caller)?;
                tx.execute(
                    "UPDATE music_playlist SET cover_file = COALESCE(?1, cover_file), introduction = COALESCE(?2, introduction),
                            style = COALESCE(?3, style), updated_at = ?4 WHERE id = ?5",
                    params![cover_name, introduction, style, now(), mlid],
                )?;
                let replaced = cover_name.is_some().then_some(old).flatten();
                Ok::<_, Failure>((load_playlist(tx, mlid, &base)?, replaced))
            })
            .await?;
        cover.map(|c| c.keep());
        discard(&self.0, &[(Bucket::Covers, old)]);
        ok(item)
    }

    /// Rename a playlist
    #[oai(path = "/api/musiclist/name", method = "put")]
    async fn rename(&self, op: &Operation, token: MusicToken, body: Fields<PlaylistRename>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let name = check_text("musiclistname", &body.musiclistname, 1, 50)?;
        let mlid = body.mlid.0;
        self.0
            .db
            .write(move |tx| {
                owned_playlist(tx, mlid, &caller)?;
                tx.execute(
                    "UPDATE music_playlist SET name = ?1, updated_at = ?2 WHERE id = ?3",
                    params![name, now(), mlid],
                )?;
                Ok::<_, Failure>(())
            })
            .await?;
        done()
    }

    /// Playlists, newest first: all (mode=false) or one user's (mode=true: `uid`, default the caller), filtered by mlid, name and style
    #[oai(path = "/api/musiclist", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Required<LenientId>>,
        /// Rows per page, 1 to 500 (default 10)
        #[oai(name = "pageSize")]
        page_size: Query<Option<LenientId>>,
        mlid: Query<Option<LenientId>>,
        /// With mode=true: whose playlists (default the caller's)
        uid: Query<Option<LenientId>>,
        /// Part of the playlist name
        musiclistname: Query<Option<String>>,
        /// The style, exactly
        style: Query<Option<String>>,
        /// false (default): all playlists; true: one user's
        mode: Query<Option<LenientBool>>,
    ) -> Reply<Vec<PlaylistItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let (limit, offset) = paging(page_num.0 .0.map(|p| p.0), page_size.0.map(|p| p.0), Some(10))?;
        let owner = match (mode.0.is_some_and(|m| m.0), uid.0) {
            (true, Some(uid)) => Some(uid.0),
            (true, None) => Some(caller.account_id),
            (false, _) => None,
        };
        let name = musiclistname.0.filter(|n| !n.trim().is_empty()).map(|n| like_pattern(n.trim()));
        let style = style.0.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_owned());
        let mlid = mlid.0.map(|m| m.0);
        let base = base_url(&self.0, req);
        let filter = "(?1 IS NULL OR p.owner_id = ?1) AND (?2 IS NULL OR p.id = ?2) AND (?3 IS NULL OR p.name LIKE ?3 ESCAPE '\\')
                      AND (?4 IS NULL OR p.style = ?4)";
        let (items, total) = self
            .0
            .db
            .read(move |c| {
                let args = params![owner, mlid, name, style, limit, offset];
                let total: i64 = c.query_row(&format!("SELECT COUNT(*) FROM music_playlist p WHERE {filter}"), &args[..4], |r| r.get(0))?;
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {PLAYLIST_COLUMNS} FROM music_playlist p WHERE {filter} ORDER BY p.created_at DESC, p.id DESC LIMIT ?5 OFFSET ?6"
                ))?;
                let items = stmt.query_map(args, |r| playlist_from_row(r, &base))?.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok::<_, Failure>((items, total))
            })
            .await?;
        page(items, total)
    }

    /// The songs of a playlist, in the order they were added
    #[oai(path = "/api/musiclist/detail", method = "get")]
    async fn detail(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Required<LenientId>>,
        /// Rows per page, 1 to 500 (default 20)
        #[oai(name = "pageSize")]
        page_size: Query<Option<LenientId>>,
        mlid: Query<Required<LenientId>>,
    ) -> Reply<Vec<SongItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let (limit, offset) = paging(page_num.0 .0.map(|p| p.0), page_size.0.map(|p| p.0), Some(20))?;
        let mlid = mlid.0 .0.ok_or_else(|| Failure::Missing("mlid is required".into()))?.0;
        let base = base_url(&self.0, req);
        let filter = format!("ps.playlist_id = ?1 AND {}", visible_to(&caller));
        let (songs, total) = self
            .0
            .db
            .read(move |c| {
                playlist_exists(c, mlid)?;
                let from = "music_playlist_song ps JOIN music_song s ON s.id = ps.song_id";
                let total: i64 =
                    c.query_row(&format!("SELECT COUNT(*) FROM {from} WHERE {filter}"), [mlid], |r| r.get(0))?;
                let mut stmt = c.prepare(&format!(
                    "SELECT {SONG_COLUMNS} FROM {from} WHERE {filter} ORDER BY ps.added_at, s.id LIMIT ?2 OFFSET ?3"
                ))?;
                let songs = stmt
                    .query_map(params![mlid, limit, offset], |r| song_from_row(r, &base))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok::<_, Failure>((songs, total))
            })
            .await?;
        page(songs, total)
    }

    /// Playlists recommended to the caller (never someone's own or already favourited)
    #[oai(path = "/api/musiclist/recommend/list", method = "get")]
    async fn recommend_playlists(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// How many, 1 to 100 (default 10)
        #[oai(name = "pageSize")]
        page_size: Query<Option<LenientId>>,
    ) -> Reply<Vec<PlaylistItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let limit = recommend_limit(page_size.0, 10)?;
        let base = base_url(&self.0, req);
        let uid = caller.account_id;
        let ids = self.0.db.read(move |c| Ok::<_, Failure>(recommend::playlists(c, uid, limit)?)).await?;
        let items = self
            .0
            .db
            .read(move |c| ids.iter().map(|id| load_playlist(c, *id, &base)).collect::<Result<Vec<_>, _>>())
            .await?;
        let total = items.len() as i64;
        page(items, total)
    }

    /// Songs recommended to the caller: like what they favourited, then by the same creators, then popular, then new
    #[oai(path = "/api/musiclist/recommend", method = "get")]
    async fn recommend_songs(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// How many, 1 to 100 (default 20)
        #[oai(name = "pageSize")]
        page_size: Query<Option<LenientId>>,
    ) -> Reply<Vec<SongItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let limit = recommend_limit(page_size.0, 20)?;
        let base = base_url(&self.0, req);
        let songs = self.0.db.read(move |c| Ok::<_, Failure>(recommend::songs(c, &caller, limit, &base)?)).await?;
        let total = songs.len() as i64;
        page(songs, total)
    }

    /// Favourite a playlist
    #[oai(path = "/api/musiclist/fav", method = "post")]
    async fn fav(&self, op: &Operation, token: MusicToken, body: Fields<PlaylistRef>) -> Done {
        self.favourite(op, &token, body.mlid.0, true).await
    }

    /// Remove a playlist from your favourites
    #[oai(path = "/api/musiclist/fav", method = "delete")]
    async fn unfav(&self, op: &Operation, token: MusicToken, body: Fields<PlaylistRef>) -> Done {
        self.favourite(op, &token, body.mlid.0, false).await
    }

    /// Delete a playlist (its songs stay in the library)
    #[oai(path = "/api/musiclist", method = "delete")]
    async fn delete(&self, op: &Operation, token: MusicToken, body: Fields<PlaylistRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let mlid = body.mlid.0;
        let cover = self.0.db.write(move |tx| delete_playlist(tx, &caller, mlid)).await?;
        discard(&self.0, &[(Bucket::Covers, cover)]);
        done()
    }
}

fn recommend_limit(size: Option<LenientId>, default: i64) -> Result<i64, Failure> {
    let size = size.map_or(default, |s| s.0);
    if !(1..=100).contains(&size) {
        return Err(Failure::Invalid("pageSize must be between 1 and 100".into()));
    }
    Ok(size)
}
