//! The partner view of the music catalogue (scope `music:read`): songs on the shelf only,
//! with absolute URLs of their audio and covers.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::Connection;

use super::access::{app_with_scope, AppToken};
use super::{page, paging, Reply};
use crate::surfaces::music::{base_url, file_url, partner, FileKind};
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

fn songs(
    conn: &Connection,
    base: &str,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<Song>, i64)> {
    let (rows, total) = partner::songs_on_shelf(conn, name, limit, offset)?;
    let songs = rows
        .into_iter()
        .map(|r| Song {
            mid: r.id,
            musicname: r.name,
            creator: r.creator,
            album: r.album,
            introduction: r.introduction,
            res_url: file_url(base, FileKind::Songs, Some(&r.res_file)),
            music_avatar: file_url(base, FileKind::Covers, r.cover_file.as_deref()),
            publish_time: r.published_at,
            fav_count: r.fav_count,
        })
        .collect();
    Ok((songs, total))
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
