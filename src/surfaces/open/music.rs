//! The partner view of the music catalogue (scope `music:read`): songs on the shelf only,
//! with absolute URLs of their audio and covers.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::Connection;

use super::access::{app_with_scope, AppToken};
use super::{page, paging, Reply};
use crate::surfaces::music::{base_url, file_url, FileKind};
use crate::surfaces::Failure;
use crate::AppState;

pub struct MusicReadApi(pub Arc<AppState>);

#[derive(Object)]
struct Song {
    /// The song id, as the music surface names it
    mid: i64,
    musicname: String,
    /// Creator ids
    creator: Vec<i64>,
    /// Album ids
    album: Vec<i64>,
    introduction: String,
    #[oai(rename = "resUrl")]
    res_url: String,
    #[oai(rename = "musicAvatar")]
    music_avatar: String,
    /// Epoch seconds
    #[oai(rename = "publishTime")]
    publish_time: i64,
    #[oai(rename = "favCount")]
    fav_count: i64,
}

fn ids(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

fn songs(
    conn: &Connection,
    base: &str,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<Song>, i64)> {
    let pattern = name.map(|n| format!("%{}%", n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let filter = "on_shelf = 1 AND (?1 IS NULL OR name LIKE ?1 ESCAPE '\\')";
    let total = conn.query_row(&format!("SELECT count(*) FROM music_song WHERE {filter}"), [&pattern], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, name, creator, album, introduction, res_file, cover_file, published_at, fav_count
         FROM music_song WHERE {filter} ORDER BY id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(rusqlite::params![pattern, limit, offset], |r| {
        Ok(Song {
            mid: r.get(0)?,
            musicname: r.get(1)?,
            creator: ids(&r.get::<_, String>(2)?),
            album: ids(&r.get::<_, String>(3)?),
            introduction: r.get(4)?,
            res_url: file_url(base, FileKind::Songs, Some(&r.get::<_, String>(5)?)),
            music_avatar: file_url(base, FileKind::Covers, r.get::<_, Option<String>>(6)?.as_deref()),
            publish_time: r.get(7)?,
            fav_count: r.get(8)?,
        })
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

#[OpenApi]
impl MusicReadApi {
    /// Songs on the shelf by id, one page; `musicname` filters by part of the name
    #[oai(path = "/api/music/songs", method = "get")]
    async fn songs(
        &self,
        req: &Request,
        token: AppToken,
        musicname: Query<Option<String>>,
        #[oai(name = "pageNum")] page_num: Query<Option<i64>>,
        #[oai(name = "pageSize")] page_size: Query<Option<i64>>,
    ) -> Reply<Vec<Song>> {
        app_with_scope(&self.0, &token, "music:read").await?;
        let (limit, offset) = paging(page_num.0, page_size.0)?;
        let base = base_url(&self.0, req);
        let name = musicname.0.filter(|n| !n.trim().is_empty());
        let (rows, total) =
            self.0.db.read(move |c| Ok::<_, Failure>(songs(c, &base, name.as_deref(), limit, offset)?)).await?;
        page(rows, total)
    }
}
