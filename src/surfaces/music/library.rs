//! Artists and albums as rows, and the scanned songs' rows. Uploaded songs name albums by
//! the document's integers (`set_albums` keeps a row for each); a scan names albums and
//! artists from the tags. `GET /api/albums` and `/api/artists` list them with what the
//! caller may see.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::folder::{Found, Tags};
use super::songs::visible_to;
use super::{base_url, file_url, page, paging, signed_in, FileKind, MusicToken, Reply};
use crate::clock::now;
use crate::identity::authz::Operation;
use crate::identity::tokens::random_hex;
use crate::surfaces::documents::Required;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

/// Links song `mid` to the albums `ids` name, creating a nameless row for an id not yet known.
pub fn set_albums(conn: &Connection, mid: i64, ids: &[i64]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM music_song_album WHERE song_id = ?1", [mid])?;
    for id in ids.iter().filter(|id| **id > 0) {
        conn.execute("INSERT OR IGNORE INTO music_album (id, created_at) VALUES (?1, ?2)", [*id, now()])?;
        conn.execute("INSERT OR IGNORE INTO music_song_album (song_id, album_id) VALUES (?1, ?2)", [mid, *id])?;
    }
    Ok(())
}

fn artist_id(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO music_artist (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![name, now()],
    )?;
    conn.query_row("SELECT id FROM music_artist WHERE name = ?1 COLLATE NOCASE", [name], |r| r.get(0))
}

fn album_id(conn: &Connection, name: &str, artist: Option<i64>) -> rusqlite::Result<i64> {
    let known = conn
        .query_row(
            "SELECT id FROM music_album WHERE name = ?1 COLLATE NOCASE AND artist_id IS ?2 ORDER BY id LIMIT 1",
            params![name, artist],
            |r| r.get(0),
        )
        .optional()?;
    match known {
        Some(id) => Ok(id),
        None => {
            conn.execute(
                "INSERT INTO music_album (name, artist_id, created_at) VALUES (?1, ?2, ?3)",
                params![name, artist, now()],
            )?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// A scanned song's row as it was last scanned.
pub struct Known {
    pub id: i64,
    pub size: i64,
    pub mtime: i64,
}

/// Adds or updates the row of one scanned file of `folder`, owned by `owner`.
pub fn upsert_scanned(
    conn: &Connection,
    owner: i64,
    folder: &str,
    file: &Found,
    tags: &Tags,
    known: Option<i64>,
) -> rusqlite::Result<()> {
    let artists = tags.artists.iter().map(|name| artist_id(conn, name)).collect::<rusqlite::Result<Vec<i64>>>()?;
    let album_artist = match (tags.album_artist.as_str(), tags.artists.first()) {
        ("", None) => None,
        ("", Some(first)) => Some(artist_id(conn, first)?),
        (name, _) => Some(artist_id(conn, name)?),
    };
    let album = if tags.album.is_empty() { None } else { Some(album_id(conn, &tags.album, album_artist)?) };
    let album_json = serde_json::Value::from(album.into_iter().collect::<Vec<i64>>()).to_string();
    let at = now();
    let mid = match known {
        Some(mid) => {
            let res: String = conn.query_row("SELECT res_file FROM music_song WHERE id = ?1", [mid], |r| r.get(0))?;
            let cover =
                tags.cover.map(|ext| format!("{}.{ext}", res.rsplit_once('.').map_or(res.as_str(), |(s, _)| s)));
            conn.execute(
                "UPDATE music_song SET name = ?1, album = ?2, lyric = ?3, cover_file = ?4, size = ?5, mtime = ?6,
                        artist = ?7, album_name = ?8, album_artist = ?9, track = ?10, disc = ?11, year = ?12, genre = ?13,
                        duration = ?14, bit_rate = ?15, has_cover = ?16, updated_at = ?17 WHERE id = ?18",
                params![tags.title, album_json, tags.lyrics, cover, file.size, file.mtime, tags.artists.join("; "),
                        tags.album, tags.album_artist, tags.track, tags.disc, tags.year, tags.genre, tags.duration,
                        tags.bit_rate, tags.cover.is_some(), at, mid],
            )?;
            mid
        }
        None => {
            // Names the file store never makes, so nothing of the store is ever served or
            // removed in their stead (files::is_safe_name refuses them).
            let stem = format!("library-{}", random_hex(16));
            let ext = file.path.rsplit_once('.').map_or("mp3", |(_, e)| e).to_ascii_lowercase();
            conn.execute(
                "INSERT INTO music_song (owner_id, name, creator, album, lyric, res_file, cover_file, published_at,
                        created_at, updated_at, folder, path, size, mtime, artist, album_name, album_artist, track, disc,
                        year, genre, duration, bit_rate, has_cover)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                params![owner, tags.title, format!("[{owner}]"), album_json, tags.lyrics, format!("{stem}.{ext}"),
                        tags.cover.map(|e| format!("{stem}.{e}")), file.mtime / 1000, at, folder, file.path, file.size, file.mtime,
                        tags.artists.join("; "), tags.album, tags.album_artist, tags.track, tags.disc, tags.year,
                        tags.genre, tags.duration, tags.bit_rate, tags.cover.is_some()],
            )?;
            let mid = conn.last_insert_rowid();
            conn.execute("INSERT INTO music_song_creator (song_id, creator_id) VALUES (?1, ?2)", [mid, owner])?;
            mid
        }
    };
    set_albums(conn, mid, &album.into_iter().collect::<Vec<i64>>())?;
    conn.execute("DELETE FROM music_song_artist WHERE song_id = ?1", [mid])?;
    for (position, artist) in artists.iter().enumerate() {
        conn.execute(
            "INSERT OR IGNORE INTO music_song_artist (song_id, artist_id, position) VALUES (?1, ?2, ?3)",
            params![mid, artist, position as i64],
        )?;
    }
    Ok(())
}

/// Drops albums no song names any more and artists with neither songs nor albums.
pub fn drop_empty(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM music_album WHERE NOT EXISTS (SELECT 1 FROM music_song_album l WHERE l.album_id = music_album.id)",
        [],
    )?;
    conn.execute(
        "DELETE FROM music_artist WHERE NOT EXISTS (SELECT 1 FROM music_song_artist l WHERE l.artist_id = music_artist.id)
            AND NOT EXISTS (SELECT 1 FROM music_album a WHERE a.artist_id = music_artist.id)",
        [],
    )?;
    Ok(())
}

pub struct LibraryApi(pub Arc<AppState>);

#[derive(Object)]
#[allow(non_snake_case)]
pub struct AlbumItem {
    pub id: i64,
    /// "" for an album only an uploaded song's integer names
    pub name: String,
    /// The album artist's id, null when unknown
    pub artistId: Option<i64>,
    pub artist: String,
    /// The latest year its songs give, null when none does
    pub year: Option<i64>,
    /// Songs on the shelf the caller may see
    pub songCount: i64,
    /// Seconds, summed over those songs
    pub duration: i64,
    /// Absolute URL of a cover of one of its songs, "" when none has one
    pub cover: String,
}

#[derive(Object)]
#[allow(non_snake_case)]
pub struct ArtistItem {
    pub id: i64,
    pub name: String,
    /// Albums with this album artist that have songs on the shelf the caller may see
    pub albumCount: i64,
    /// Songs on the shelf the caller may see that name this artist
    pub songCount: i64,
}

/// Songs on the shelf the caller may see: a song temporarily unshelved counts nowhere, not
/// even for its owner or an administrator, as in every other API's albums and artists.
fn on_shelf_for(caller: &crate::identity::Caller) -> String {
    format!("s.on_shelf = 1 AND {}", visible_to(caller))
}

fn like(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

#[OpenApi]
impl LibraryApi {
    /// Albums with at least one song on the shelf the caller may see, by name; filtered by part of the name
    #[oai(path = "/api/albums", method = "get")]
    async fn albums(
        &self,
        op: &Operation,
        req: &poem::Request,
        token: MusicToken,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Required<LenientId>>,
        /// Rows per page, 1 to 500
        #[oai(name = "pageSize")]
        page_size: Query<Required<LenientId>>,
        /// Part of the album name
        name: Query<Option<String>>,
    ) -> Reply<Vec<AlbumItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let (limit, offset) = paging(page_num.0 .0.map(|p| p.0), page_size.0 .0.map(|p| p.0), None)?;
        let pattern = Value::Text(like(name.0.as_deref().map(str::trim).unwrap_or_default()));
        let base = base_url(&self.0, req);
        let visible = on_shelf_for(&caller);
        let (albums, total) = self
            .0
            .db
            .read(move |c| {
                let from = format!(
                    "FROM music_album a JOIN music_song_album l ON l.album_id = a.id JOIN music_song s ON s.id = l.song_id
                     WHERE {visible} AND a.name LIKE ?1 ESCAPE '\\' GROUP BY a.id"
                );
                let total: i64 =
                    c.query_row(&format!("SELECT COUNT(*) FROM (SELECT a.id {from})"), [&pattern], |r| r.get(0))?;
                let mut stmt = c.prepare(&format!(
                    "SELECT a.id, a.name, a.artist_id, COALESCE(ar.name, ''), MAX(s.year), COUNT(*), COALESCE(SUM(s.duration), 0),
                            MIN(s.cover_file) {from_artist} ORDER BY a.name COLLATE NOCASE, a.id LIMIT ?2 OFFSET ?3",
                    from_artist = from.replacen("FROM music_album a", "FROM music_album a LEFT JOIN music_artist ar ON ar.id = a.artist_id", 1)
                ))?;
                let rows = stmt.query_map(params_from_iter([pattern.clone(), Value::Integer(limit), Value::Integer(offset)]), |r| {
                    Ok(AlbumItem {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        artistId: r.get(2)?,
                        artist: r.get(3)?,
                        year: r.get(4)?,
                        songCount: r.get(5)?,
                        duration: r.get(6)?,
                        cover: file_url(&base, FileKind::Covers, r.get::<_, Option<String>>(7)?.as_deref()),
                    })
                })?;
                Ok::<_, Failure>((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
            })
            .await?;
        page(albums, total)
    }

    /// Artists with at least one song on the shelf the caller may see, by name; filtered by part of the name
    #[oai(path = "/api/artists", method = "get")]
    async fn artists(
        &self,
        op: &Operation,
        token: MusicToken,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Required<LenientId>>,
        /// Rows per page, 1 to 500
        #[oai(name = "pageSize")]
        page_size: Query<Required<LenientId>>,
        /// Part of the artist name
        name: Query<Option<String>>,
    ) -> Reply<Vec<ArtistItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let (limit, offset) = paging(page_num.0 .0.map(|p| p.0), page_size.0 .0.map(|p| p.0), None)?;
        let pattern = Value::Text(like(name.0.as_deref().map(str::trim).unwrap_or_default()));
        let visible = on_shelf_for(&caller);
        let (artists, total) = self
            .0
            .db
            .read(move |c| {
                let from = format!(
                    "FROM music_artist ar JOIN music_song_artist l ON l.artist_id = ar.id JOIN music_song s ON s.id = l.song_id
                     WHERE {visible} AND ar.name LIKE ?1 ESCAPE '\\' GROUP BY ar.id"
                );
                let total: i64 =
                    c.query_row(&format!("SELECT COUNT(*) FROM (SELECT ar.id {from})"), [&pattern], |r| r.get(0))?;
                // The album count joins in the written order (CROSS JOIN), as in Subsonic's artist
                // lists (collection/catalog.rs): left to itself SQLite walks every song on the shelf.
                let mut stmt = c.prepare(&format!(
                    "SELECT ar.id, ar.name, COUNT(*),
                            (SELECT COUNT(DISTINCT a.id) FROM music_album a CROSS JOIN music_song_album sa ON sa.album_id = a.id
                               CROSS JOIN music_song s ON s.id = sa.song_id WHERE a.artist_id = ar.id AND {visible})
                     {from} ORDER BY ar.name COLLATE NOCASE, ar.id LIMIT ?2 OFFSET ?3"
                ))?;
                let rows = stmt.query_map(params_from_iter([pattern.clone(), Value::Integer(limit), Value::Integer(offset)]), |r| {
                    Ok(ArtistItem { id: r.get(0)?, name: r.get(1)?, songCount: r.get(2)?, albumCount: r.get(3)? })
                })?;
                Ok::<_, Failure>((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
            })
            .await?;
        page(artists, total)
    }
}
