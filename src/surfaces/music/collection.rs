//! The music library as other APIs read it (Subsonic at `/rest`): songs, favourites and
//! playlists through the same visibility rules as `/music/api`. Lists show only songs on the
//! shelf; one song by id is shown to whoever `/music/api` shows it to (its uploader and
//! administrators also see it while temporarily unshelved). Changes go through the music
//! surface's own functions (`set_favourite`, `add_to_playlist`, `delete_playlist`).

use rusqlite::{params, Connection, OptionalExtension};

use super::fields::IdList;
use super::songs::{visible_song, visible_to};
use crate::identity::Caller;
use crate::surfaces::Failure;

pub use super::media::discard;
pub use super::playlists::{check_text, delete_playlist, owned_playlist};
pub use super::songs::{add_to_playlist, set_favourite};

mod catalog;
mod plays;
mod queue;
pub use catalog::{album, albums, artist, artists, genres, AlbumOrder, AlbumRow, ArtistRow, GenreRow};
pub use plays::{lyrics_of, now_playing, record_play, set_now_playing, set_rating, NowPlaying, NOW_PLAYING_SECS};
pub use queue::{play_queue, save_play_queue, NewQueue, PlayQueue};

/// A song as stored, with what the caller's own favourites say about it.
#[derive(Debug, Clone)]
pub struct Track {
    pub id: i64,
    pub title: String,
    /// Creator ids: account ids
    pub creators: Vec<i64>,
    /// The creators' display names (nickname, else login name), in creator order
    pub artist: String,
    pub albums: Vec<i64>,
    pub lyric: String,
    pub res_file: String,
    pub cover_file: Option<String>,
    /// Epoch seconds
    pub published_at: i64,
    pub created_at: i64,
    /// When the caller favourited it (epoch seconds)
    pub starred_at: Option<i64>,
    /// From the tags of a scanned song; uploads leave these unknown
    pub album_name: String,
    /// The first named album linking the song
    pub album_id: Option<i64>,
    /// The first artist row linking the song
    pub artist_id: Option<i64>,
    pub track: Option<i64>,
    pub disc: Option<i64>,
    pub year: Option<i64>,
    pub genre: String,
    /// Seconds
    pub duration: Option<i64>,
    /// kbit/s
    pub bit_rate: Option<i64>,
    /// The caller's rating, 1 to 5
    pub user_rating: Option<i64>,
    /// How often the caller played it, and when last (epoch seconds)
    pub play_count: i64,
    pub last_played_at: Option<i64>,
    /// Bytes of a scanned song's file as the scan found it; uploads leave it unknown
    pub size: Option<i64>,
}

const COLUMNS: &str =
    "s.id, s.name, s.creator, s.album, s.lyric, s.res_file, s.cover_file, s.published_at, s.created_at, \
     (SELECT f.created_at FROM music_song_fav f WHERE f.song_id = s.id AND f.account_id = ?1), \
     (SELECT group_concat(CASE WHEN a.nickname <> '' THEN a.nickname ELSE COALESCE(a.username, '') END, ', ') \
        FROM music_song_creator c JOIN account a ON a.id = c.creator_id WHERE c.song_id = s.id), \
     s.artist, s.album_name, \
     (SELECT min(l.album_id) FROM music_song_album l JOIN music_album al ON al.id = l.album_id \
        WHERE l.song_id = s.id AND al.name <> ''), \
     (SELECT l.artist_id FROM music_song_artist l WHERE l.song_id = s.id ORDER BY l.position LIMIT 1), \
     s.track, s.disc, s.year, s.genre, s.duration, s.bit_rate, \
     (SELECT r.rating FROM music_song_rating r WHERE r.song_id = s.id AND r.account_id = ?1), \
     (SELECT p.play_count FROM music_song_play p WHERE p.song_id = s.id AND p.account_id = ?1), \
     (SELECT p.last_played_at FROM music_song_play p WHERE p.song_id = s.id AND p.account_id = ?1), \
     s.size";

/// How many of a row's columns `COLUMNS` takes; a query may select more after them.
const COLUMN_COUNT: usize = 25;

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Track> {
    let ids = |text: String| IdList::parse_text(&text).unwrap_or_default().0;
    Ok(Track {
        id: r.get(0)?,
        title: r.get(1)?,
        creators: ids(r.get(2)?),
        albums: ids(r.get(3)?),
        lyric: r.get(4)?,
        res_file: r.get(5)?,
        cover_file: r.get(6)?,
        published_at: r.get(7)?,
        created_at: r.get(8)?,
        starred_at: r.get(9)?,
        // A scanned song's artist tag wins over the uploader-creators' names.
        artist: Some(r.get::<_, String>(11)?)
            .filter(|a| !a.is_empty())
            .or(r.get::<_, Option<String>>(10)?)
            .unwrap_or_default(),
        album_name: r.get(12)?,
        album_id: r.get(13)?,
        artist_id: r.get(14)?,
        track: r.get(15)?,
        disc: r.get(16)?,
        year: r.get(17)?,
        genre: r.get(18)?,
        duration: r.get(19)?,
        bit_rate: r.get(20)?,
        user_rating: r.get(21)?,
        play_count: r.get::<_, Option<i64>>(22)?.unwrap_or(0),
        last_played_at: r.get(23)?,
        size: r.get(24)?,
    })
}

/// Which songs on the shelf, in what order.
pub enum Pick<'a> {
    /// Name, artist or album tags or a creator's name containing the text (empty: all), by id.
    Search(&'a str),
    /// In random order: of one genre (case ignored; empty: any) and, when given, with a year
    /// (the tag's, else the year published) within the range.
    Random { genre: &'a str, years: Option<(i64, i64)> },
    /// The caller's favourites, newest first.
    Starred,
    /// One album's songs, by disc and track.
    Album(i64),
    /// Songs of one genre (case ignored), by id.
    Genre(&'a str),
}

/// Songs on the shelf the caller may see, `limit` from `offset`.
pub fn tracks(conn: &Connection, caller: &Caller, pick: Pick, limit: i64, offset: i64) -> Result<Vec<Track>, Failure> {
    let visible = format!("s.on_shelf = 1 AND {}", visible_to(caller));
    // Random's year range, lowest first; the other picks' statements do not name ?5 and ?6.
    let (from, to) = match pick {
        Pick::Random { years: Some((a, b)), .. } => (Some(a.min(b)), Some(a.max(b))),
        _ => (None, None),
    };
    let (filter, order, text) = match pick {
        Pick::Search(text) => (
            "(?2 = '' OR s.name LIKE ?2 ESCAPE '\\' OR s.artist LIKE ?2 ESCAPE '\\' OR s.album_name LIKE ?2 ESCAPE '\\'
               OR s.album_artist LIKE ?2 ESCAPE '\\' OR EXISTS (SELECT 1 FROM music_song_creator c JOIN account a
               ON a.id = c.creator_id WHERE c.song_id = s.id AND (a.nickname LIKE ?2 ESCAPE '\\' OR a.username LIKE ?2 ESCAPE '\\')))",
            "s.id",
            if text.is_empty() { String::new() } else { super::song_list::like_pattern(text) },
        ),
        Pick::Random { genre, .. } => (
            "(?2 = '' OR s.genre = ?2 COLLATE NOCASE) AND (?5 IS NULL
               OR COALESCE(s.year, CAST(strftime('%Y', s.published_at, 'unixepoch') AS INTEGER)) BETWEEN ?5 AND ?6)",
            "random()",
            genre.to_owned(),
        ),
        Pick::Starred => (
            "?2 = '' AND EXISTS (SELECT 1 FROM music_song_fav f WHERE f.song_id = s.id AND f.account_id = ?1)",
            "(SELECT f.created_at FROM music_song_fav f WHERE f.song_id = s.id AND f.account_id = ?1) DESC, s.id",
            String::new(),
        ),
        Pick::Album(id) => (
            "EXISTS (SELECT 1 FROM music_song_album l WHERE l.song_id = s.id AND l.album_id = CAST(?2 AS INTEGER))",
            "s.disc IS NULL, s.disc, s.track IS NULL, s.track, s.name COLLATE NOCASE, s.id",
            id.to_string(),
        ),
        Pick::Genre(genre) => ("s.genre = ?2 COLLATE NOCASE", "s.id", genre.to_owned()),
    };
    let sql =
        format!("SELECT {COLUMNS} FROM music_song s WHERE {visible} AND {filter} ORDER BY {order} LIMIT ?3 OFFSET ?4");
    let mut stmt = conn.prepare_cached(&sql)?;
    let values: [&dyn rusqlite::ToSql; 6] = [&caller.account_id, &text, &limit, &offset, &from, &to];
    let named = stmt.parameter_count();
    let rows = stmt.query_map(&values[..named], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One song, if the music surface would show it to the caller.
pub fn track(conn: &Connection, caller: &Caller, id: i64) -> Result<Track, Failure> {
    visible_song(conn, id, caller)?;
    Ok(conn.query_row(
        &format!("SELECT {COLUMNS} FROM music_song s WHERE s.id = ?2"),
        [caller.account_id, id],
        from_row,
    )?)
}

/// Songs the recommender ranks for the caller (`music::recommend`), `limit` of them.
pub use super::recommend::Among;
pub fn recommended(conn: &Connection, caller: &Caller, among: Among, limit: i64) -> Result<Vec<Track>, Failure> {
    let ranked = super::recommend::songs_among(conn, caller, limit, "", among)?;
    ranked.iter().map(|song| track(conn, caller, song.mid)).collect()
}

/// The artist row named `name` (case ignored), if there is one.
pub fn artist_named(conn: &Connection, name: &str) -> Result<Option<i64>, Failure> {
    let sql = "SELECT id FROM music_artist WHERE name = ?1 COLLATE NOCASE";
    Ok(conn.query_row(sql, [name.trim()], |r| r.get(0)).optional()?)
}

/// The music avatar of the account `username` as stored: a file name in the portraits
/// bucket or an http(s) URL; `None` when it has none (or there is no such account).
pub fn avatar_of(conn: &Connection, username: &str) -> Result<Option<String>, Failure> {
    let stored: Option<Option<String>> =
        conn.query_row("SELECT avatar FROM account WHERE username = ?1", [username], |r| r.get(0)).optional()?;
    Ok(stored.flatten().filter(|a| !a.is_empty()))
}

/// Where a scanned song's file lies (its music folder and path), `None` for an upload.
pub fn scanned_path(conn: &Connection, id: i64) -> Result<Option<std::path::PathBuf>, Failure> {
    let place: Option<(String, String)> = conn
        .query_row("SELECT folder, path FROM music_song WHERE id = ?1 AND folder IS NOT NULL", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(place.and_then(|(folder, path)| super::folder::resolve(std::path::Path::new(&folder), &path)))
}

/// The cover embedded in a scanned song's file and its content type.
pub use super::folder::read_cover;

/// A playlist as stored.
#[derive(Debug, Clone)]
pub struct PlaylistRow {
    pub id: i64,
    pub name: String,
    pub introduction: String,
    pub owner_id: i64,
    pub owner: String,
    pub cover_file: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Entries the caller may see
    pub song_count: i64,
    /// Seconds of those entries whose length is known (scanned songs)
    pub duration: i64,
}

fn playlist_columns(caller: &Caller) -> String {
    format!(
        "p.id, p.name, p.introduction, p.owner_id, COALESCE(a.username, ''), p.cover_file, p.created_at, p.updated_at,
         (SELECT count(*) FROM music_playlist_song ps JOIN music_song s ON s.id = ps.song_id
           WHERE ps.playlist_id = p.id AND {visible}),
         (SELECT COALESCE(sum(s.duration), 0) FROM music_playlist_song ps JOIN music_song s ON s.id = ps.song_id
           WHERE ps.playlist_id = p.id AND {visible})",
        visible = visible_to(caller)
    )
}

fn playlist_from_row(r: &rusqlite::Row) -> rusqlite::Result<PlaylistRow> {
    Ok(PlaylistRow {
        id: r.get(0)?,
        name: r.get(1)?,
        introduction: r.get(2)?,
        owner_id: r.get(3)?,
        owner: r.get(4)?,
        cover_file: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        song_count: r.get(8)?,
        duration: r.get(9)?,
    })
}

/// Every playlist (all are browsable by anyone signed in), or one owner's, newest first.
pub fn playlists(conn: &Connection, caller: &Caller, owner: Option<i64>) -> Result<Vec<PlaylistRow>, Failure> {
    let sql = format!(
        "SELECT {} FROM music_playlist p JOIN account a ON a.id = p.owner_id WHERE (?1 IS NULL OR p.owner_id = ?1)
         ORDER BY p.created_at DESC, p.id DESC",
        playlist_columns(caller)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([owner], playlist_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A playlist and the songs in it the caller may see, in the order they were added.
pub fn playlist(conn: &Connection, caller: &Caller, id: i64) -> Result<(PlaylistRow, Vec<Track>), Failure> {
    let sql = format!(
        "SELECT {} FROM music_playlist p JOIN account a ON a.id = p.owner_id WHERE p.id = ?1",
        playlist_columns(caller)
    );
    let row = conn.query_row(&sql, [id], playlist_from_row).optional()?;
    let row = row.ok_or_else(|| Failure::NotFound(format!("no playlist {id}")))?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM music_playlist_song ps JOIN music_song s ON s.id = ps.song_id
         WHERE ps.playlist_id = ?2 AND {} ORDER BY ps.added_at, s.id",
        visible_to(caller)
    ))?;
    let songs = stmt.query_map([caller.account_id, id], from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok((row, songs))
}

/// A new empty playlist of the caller's; answers its id.
pub fn create_playlist(tx: &Connection, caller: &Caller, name: &str) -> Result<i64, Failure> {
    let name = check_text("name", name, 1, 50)?;
    let at = crate::clock::now();
    tx.execute(
        "INSERT INTO music_playlist (owner_id, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        params![caller.account_id, name, at],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Renames the caller's playlist and/or sets its introduction.
pub fn edit_playlist(
    tx: &Connection,
    caller: &Caller,
    id: i64,
    name: Option<&str>,
    introduction: Option<&str>,
) -> Result<(), Failure> {
    owned_playlist(tx, id, caller)?;
    let name = name.map(|n| check_text("name", n, 1, 50)).transpose()?;
    let introduction = introduction.map(|t| check_text("comment", t, 0, 2000)).transpose()?;
    tx.execute(
        "UPDATE music_playlist SET name = COALESCE(?1, name), introduction = COALESCE(?2, introduction), updated_at = ?3
         WHERE id = ?4",
        params![name, introduction, crate::clock::now(), id],
    )?;
    Ok(())
}

/// Removes entries of the caller's playlist by their position among the songs the caller sees.
pub fn remove_from_playlist(tx: &Connection, caller: &Caller, id: i64, positions: &[usize]) -> Result<(), Failure> {
    owned_playlist(tx, id, caller)?;
    let (_, songs) = playlist(tx, caller, id)?;
    for position in positions {
        let song = songs.get(*position).ok_or_else(|| {
            Failure::NotFound(format!("playlist {id} has no song at index {position} (it has {})", songs.len()))
        })?;
        tx.execute("DELETE FROM music_playlist_song WHERE playlist_id = ?1 AND song_id = ?2", [id, song.id])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_count_is_the_number_of_columns_a_song_row_takes() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let stmt = conn.prepare(&format!("SELECT {} FROM music_song s", super::COLUMNS)).unwrap();
        assert_eq!(stmt.column_count(), super::COLUMN_COUNT);
    }
}
