//! Reads of music for the open platform (`/open`, scope `music:read`): the partner API sees
//! the catalogue only through these functions, never through music's tables.

use rusqlite::Connection;

/// A song on the shelf as stored; the open platform turns file names into URLs.
pub struct SongRow {
    pub id: i64,
    pub name: String,
    pub creator: Vec<i64>,
    pub album: Vec<i64>,
    pub introduction: String,
    pub res_file: String,
    pub cover_file: Option<String>,
    /// Epoch seconds
    pub published_at: i64,
    pub fav_count: i64,
}

fn ids(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

/// One page of the songs on the shelf by id, optionally those whose name contains `name`,
/// and their total, for a partner browsing the catalogue.
pub fn songs_on_shelf(
    conn: &Connection,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<SongRow>, i64)> {
    let pattern = name.map(|n| format!("%{}%", n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let filter = "on_shelf = 1 AND (?1 IS NULL OR name LIKE ?1 ESCAPE '\\')";
    // Without a name, the census kept by triggers has the total (schema.sql, migration 17).
    let total = match pattern {
        None => conn.query_row("SELECT shelved FROM music_song_census", [], |r| r.get(0))?,
        Some(_) => {
            conn.query_row(&format!("SELECT count(*) FROM music_song WHERE {filter}"), [&pattern], |r| r.get(0))?
        }
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, name, creator, album, introduction, res_file, cover_file, published_at, fav_count
         FROM music_song WHERE {filter} ORDER BY id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(rusqlite::params![pattern, limit, offset], |r| {
        Ok(SongRow {
            id: r.get(0)?,
            name: r.get(1)?,
            creator: ids(&r.get::<_, String>(2)?),
            album: ids(&r.get::<_, String>(3)?),
            introduction: r.get(4)?,
            res_file: r.get(5)?,
            cover_file: r.get(6)?,
            published_at: r.get(7)?,
            fav_count: r.get(8)?,
        })
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}
