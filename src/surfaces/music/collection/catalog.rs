//! Albums, artists and genres as other APIs read them. An album or artist is listed when at
//! least one song on the shelf that the caller may see links it, so its counts never reveal
//! songs `/music/api` would hide. Albums only an uploaded song's integer names have no name
//! and are left out: a client could show them only as blank entries.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use crate::identity::Caller;
use crate::surfaces::music::songs::visible_to;
use crate::surfaces::Failure;

/// An album with what the caller may see of it.
#[derive(Debug, Clone)]
pub struct AlbumRow {
    pub id: i64,
    pub name: String,
    pub artist_id: Option<i64>,
    /// The album artist, "" when unknown
    pub artist: String,
    /// The latest year its songs give
    pub year: Option<i64>,
    /// A genre one of its songs gives, "" when none does
    pub genre: String,
    pub song_count: i64,
    /// Seconds
    pub duration: i64,
    /// A song of the album with a cover, to serve as the album's cover
    pub cover_song: Option<i64>,
    pub created_at: i64,
    /// The caller's ratings of its songs, averaged and rounded; `None` when none is rated
    pub user_rating: Option<i64>,
    /// The caller's plays of its songs, and the latest (epoch seconds)
    pub play_count: i64,
    pub last_played_at: Option<i64>,
}

/// Which albums, in what order.
pub enum AlbumOrder {
    Random,
    /// Newest album row first (first scanned)
    Newest,
    ByName,
    /// Album artist, then album name
    ByArtist,
    /// Albums whose year lies between the two (inclusive, either order); ascending by year
    /// when the first is the smaller, else descending
    ByYear(i64, i64),
    ByGenre(String),
    /// Album or album artist name containing the text
    Search(String),
    /// One album artist's albums, by year then name
    OfArtist(i64),
    /// Albums the caller played, most plays (of all its songs together) first
    Frequent,
    /// Albums the caller played, most recently played first
    Recent,
    /// Albums holding a song the caller favourited, latest favourite first: favourites are of
    /// songs only, so an album counts as starred through its songs
    Starred,
    /// Albums whose songs the caller rated, best average rating first
    Highest,
}

fn visible(caller: &Caller) -> String {
    format!("s.on_shelf = 1 AND {}", visible_to(caller))
}

fn like(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The caller's own figures for a song.
#[derive(Clone, Copy)]
enum Mine {
    Plays,
    LastPlayed,
    Starred,
    Rating,
}

/// The caller's own figure for one song `s` (null when there is none).
fn mine(caller: &Caller, what: Mine) -> String {
    let (column, table) = match what {
        Mine::Plays => ("play_count", "music_song_play"),
        Mine::LastPlayed => ("last_played_at", "music_song_play"),
        Mine::Starred => ("created_at", "music_song_fav"),
        Mine::Rating => ("rating", "music_song_rating"),
    };
    format!("(SELECT m.{column} FROM {table} m WHERE m.song_id = s.id AND m.account_id = {})", caller.account_id)
}

fn album_columns(caller: &Caller) -> String {
    format!(
        "a.id, a.name, a.artist_id, COALESCE(ar.name, ''), MAX(s.year), \
         COALESCE(MIN(NULLIF(s.genre, '')), ''), COUNT(DISTINCT s.id), COALESCE(SUM(s.duration), 0), \
         MIN(CASE WHEN s.cover_file IS NOT NULL THEN s.id END), a.created_at, CAST(ROUND(AVG({})) AS INTEGER), \
         COALESCE(SUM({}), 0), MAX({})",
        mine(caller, Mine::Rating),
        mine(caller, Mine::Plays),
        mine(caller, Mine::LastPlayed)
    )
}

fn album_from_row(r: &rusqlite::Row) -> rusqlite::Result<AlbumRow> {
    Ok(AlbumRow {
        id: r.get(0)?,
        name: r.get(1)?,
        artist_id: r.get(2)?,
        artist: r.get(3)?,
        year: r.get(4)?,
        genre: r.get(5)?,
        song_count: r.get(6)?,
        duration: r.get(7)?,
        cover_song: r.get(8)?,
        created_at: r.get(9)?,
        user_rating: r.get(10)?,
        play_count: r.get(11)?,
        last_played_at: r.get(12)?,
    })
}

/// Albums the caller may see, `limit` from `offset`.
pub fn albums(
    conn: &Connection,
    caller: &Caller,
    order: AlbumOrder,
    limit: i64,
    offset: i64,
) -> Result<Vec<AlbumRow>, Failure> {
    let by_mine = |what: Mine, aggregate: &str| {
        let figure = format!("{aggregate}({})", mine(caller, what));
        (format!("{figure} IS NOT NULL"), format!("{figure} DESC, a.name COLLATE NOCASE, a.id"))
    };
    let (having, order, arg) = match order {
        AlbumOrder::Frequent | AlbumOrder::Recent | AlbumOrder::Starred | AlbumOrder::Highest => {
            let (having, order) = match order {
                AlbumOrder::Frequent => by_mine(Mine::Plays, "SUM"),
                AlbumOrder::Recent => by_mine(Mine::LastPlayed, "MAX"),
                AlbumOrder::Starred => by_mine(Mine::Starred, "MAX"),
                _ => by_mine(Mine::Rating, "AVG"),
            };
            return list(conn, caller, &having, &order, Value::Null, limit, offset);
        }
        AlbumOrder::Random => ("?1 IS NULL", "random()".to_owned(), Value::Null),
        AlbumOrder::Newest => ("?1 IS NULL", "a.created_at DESC, a.id DESC".to_owned(), Value::Null),
        AlbumOrder::ByName => ("?1 IS NULL", "a.name COLLATE NOCASE, a.id".to_owned(), Value::Null),
        AlbumOrder::ByArtist => {
            ("?1 IS NULL", "COALESCE(ar.name, '') COLLATE NOCASE, a.name COLLATE NOCASE, a.id".to_owned(), Value::Null)
        }
        AlbumOrder::ByYear(from, to) => {
            let direction = if from > to { "DESC" } else { "ASC" };
            let range = format!("MAX(s.year) BETWEEN {} AND {}", from.min(to), from.max(to));
            return list(
                conn,
                caller,
                &range,
                &format!("MAX(s.year) {direction}, a.name COLLATE NOCASE, a.id"),
                Value::Null,
                limit,
                offset,
            );
        }
        AlbumOrder::ByGenre(genre) => {
            ("SUM(s.genre = ?1 COLLATE NOCASE) > 0", "a.name COLLATE NOCASE, a.id".to_owned(), Value::Text(genre))
        }
        AlbumOrder::Search(text) => (
            "(a.name LIKE ?1 ESCAPE '\\' OR COALESCE(ar.name, '') LIKE ?1 ESCAPE '\\')",
            "a.name COLLATE NOCASE, a.id".to_owned(),
            Value::Text(like(&text)),
        ),
        AlbumOrder::OfArtist(id) => {
            ("a.artist_id = ?1", "MAX(s.year), a.name COLLATE NOCASE, a.id".to_owned(), Value::Integer(id))
        }
    };
    list(conn, caller, having, &order, arg, limit, offset)
}

fn list(
    conn: &Connection,
    caller: &Caller,
    having: &str,
    order: &str,
    arg: Value,
    limit: i64,
    offset: i64,
) -> Result<Vec<AlbumRow>, Failure> {
    let sql = format!(
        "SELECT {} FROM music_album a LEFT JOIN music_artist ar ON ar.id = a.artist_id
           JOIN music_song_album l ON l.album_id = a.id JOIN music_song s ON s.id = l.song_id
         WHERE a.name <> '' AND {} GROUP BY a.id HAVING {having} ORDER BY {order} LIMIT ?2 OFFSET ?3",
        album_columns(caller),
        visible(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows =
        stmt.query_map(params_from_iter([arg, Value::Integer(limit), Value::Integer(offset)]), album_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One album, if the caller may see a song of it.
pub fn album(conn: &Connection, caller: &Caller, id: i64) -> Result<AlbumRow, Failure> {
    let sql = format!(
        "SELECT {} FROM music_album a LEFT JOIN music_artist ar ON ar.id = a.artist_id
           JOIN music_song_album l ON l.album_id = a.id JOIN music_song s ON s.id = l.song_id
         WHERE a.id = ?1 AND a.name <> '' AND {} GROUP BY a.id",
        album_columns(caller),
        visible(caller)
    );
    let row = conn.query_row(&sql, [id], album_from_row).optional()?;
    row.ok_or_else(|| Failure::NotFound(format!("no album {id}")))
}

/// An artist with what the caller may see of it.
#[derive(Debug, Clone)]
pub struct ArtistRow {
    pub id: i64,
    pub name: String,
    /// Named albums with this album artist
    pub album_count: i64,
    /// Songs naming this artist
    pub song_count: i64,
}

/// Artists with a song or an album the caller may see, by name (case ignored); those whose
/// name contains `search` when it is given.
pub fn artists(
    conn: &Connection,
    caller: &Caller,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ArtistRow>, Failure> {
    artist_rows(conn, caller, "(?1 IS NULL OR ar.name LIKE ?1 ESCAPE '\\')", search.map(like), limit, offset)
}

/// One artist, if the caller may see a song or album of it.
pub fn artist(conn: &Connection, caller: &Caller, id: i64) -> Result<ArtistRow, Failure> {
    let found = artist_rows(conn, caller, "ar.id = CAST(?1 AS INTEGER)", Some(id.to_string()), 1, 0)?;
    found.into_iter().next().ok_or_else(|| Failure::NotFound(format!("no artist {id}")))
}

/// The album count joins in the written order (CROSS JOIN): left to itself, SQLite walks every
/// song on the shelf by `music_song_newest` for each album, 30 times slower at 10 000 songs.
fn artist_rows(
    conn: &Connection,
    caller: &Caller,
    filter: &str,
    arg: Option<String>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ArtistRow>, Failure> {
    let visible = visible(caller);
    let sql = format!(
        "SELECT id, name, albums, songs FROM (
           SELECT ar.id, ar.name,
             (SELECT COUNT(DISTINCT a.id) FROM music_album a CROSS JOIN music_song_album l ON l.album_id = a.id
                CROSS JOIN music_song s ON s.id = l.song_id WHERE a.artist_id = ar.id AND a.name <> '' AND {visible}) AS albums,
             (SELECT COUNT(*) FROM music_song_artist l JOIN music_song s ON s.id = l.song_id
                WHERE l.artist_id = ar.id AND {visible}) AS songs
           FROM music_artist ar WHERE {filter})
         WHERE albums > 0 OR songs > 0 ORDER BY name COLLATE NOCASE, id LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params![arg, limit, offset], |r| {
        Ok(ArtistRow { id: r.get(0)?, name: r.get(1)?, album_count: r.get(2)?, song_count: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A genre as the songs' tags spell it (the first spelling when they differ in case).
#[derive(Debug, Clone)]
pub struct GenreRow {
    pub name: String,
    pub song_count: i64,
    /// Named albums with a song of the genre
    pub album_count: i64,
}

/// Genres of the songs the caller may see, by name.
pub fn genres(conn: &Connection, caller: &Caller) -> Result<Vec<GenreRow>, Failure> {
    let sql = format!(
        "SELECT MIN(s.genre), COUNT(DISTINCT s.id),
                COUNT(DISTINCT CASE WHEN a.name <> '' THEN a.id END)
         FROM music_song s LEFT JOIN music_song_album l ON l.song_id = s.id LEFT JOIN music_album a ON a.id = l.album_id
         WHERE s.genre <> '' AND {} GROUP BY s.genre COLLATE NOCASE ORDER BY s.genre COLLATE NOCASE",
        visible(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows =
        stmt.query_map([], |r| Ok(GenreRow { name: r.get(0)?, song_count: r.get(1)?, album_count: r.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
