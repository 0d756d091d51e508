//! The song list's queries, kept fast at a hundred thousand songs: every list reads its order
//! from an index, a name filter finds its songs through the trigram index `music_song_name`
//! when that is cheaper than walking the list, and totals come from `music_song_census` or
//! from a cache that the census generation invalidates.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::songs::{song_from_row, SongItem, SONG_COLUMNS};
use crate::surfaces::Failure;

/// Which songs a list starts from, before its filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Every song (administrators).
    All,
    /// Songs on the shelf (everyone else).
    OnShelf,
    /// One account's own uploads, hidden ones included (`mode=true`).
    OwnedBy(i64),
}

/// The list's WHERE clause, built from the filters that were sent only, so SQLite can use
/// the index that fits (newest on-shelf songs, all songs, an owner's songs, a creator's songs).
pub struct SongFilter {
    shelf: Shelf,
    sql: String,
    args: Vec<Value>,
    /// The name filter's text, as typed (not a pattern).
    name: Option<String>,
    /// Depends on more than the songs themselves (creators, account names): never cached.
    by_creator: bool,
}

impl SongFilter {
    pub fn new(shelf: Shelf) -> SongFilter {
        let mut filter = SongFilter { shelf, sql: "1".into(), args: Vec::new(), name: None, by_creator: false };
        match shelf {
            Shelf::All => {}
            Shelf::OnShelf => filter.add("s.on_shelf = 1", []),
            Shelf::OwnedBy(owner) => filter.add("s.owner_id = ?", [Value::Integer(owner)]),
        }
        filter
    }

    fn add<const N: usize>(&mut self, condition: &str, args: [Value; N]) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
        self.args.extend(args);
    }

    /// Songs whose name contains `text`, with LIKE's meaning (ASCII case folded, `%`, `_`
    /// and `\` literal).
    pub fn name(&mut self, text: &str) {
        self.add("s.name LIKE ? ESCAPE '\\'", [Value::Text(like_pattern(text))]);
        self.name = Some(text.to_owned());
    }

    /// Songs with a creator whose id is `text` or whose user name or nickname contains it.
    pub fn creator(&mut self, text: &str) {
        let id = text.parse::<i64>().map_or(Value::Null, Value::Integer);
        self.add(
            "s.id IN (SELECT sc.song_id FROM music_song_creator sc WHERE sc.creator_id = ? OR sc.creator_id IN
                 (SELECT a.id FROM account a WHERE a.username LIKE ? ESCAPE '\\' OR a.nickname LIKE ? ESCAPE '\\'))",
            [id, Value::Text(like_pattern(text)), Value::Text(like_pattern(text))],
        );
        self.by_creator = true;
    }

    /// The trigram query for the name filter, when the trigram index can serve it: it needs
    /// three characters, and the creator filter is narrower by itself.
    fn trigram_phrase(&self) -> Option<String> {
        let name = self.name.as_deref().filter(|n| n.chars().count() >= 3 && !self.by_creator)?;
        Some(format!("\"{}\"", name.replace('"', "\"\"")))
    }

    fn cache_key(&self) -> Option<String> {
        (!self.by_creator).then(|| format!("{}\u{0}{:?}", self.sql, self.args))
    }
}

/// A LIKE pattern matching `text` anywhere, with `%`, `_` and `\` taken literally.
pub fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Filtered totals by census generation. Paging through a filter asks for the same total on
/// every page; it is counted once until a song is added, removed, renamed or (un)shelved.
#[derive(Default)]
pub struct ListTotals {
    counted: Mutex<HashMap<String, (i64, i64)>>,
}

/// Enough for every filter in use at once on a box; past it the cache starts over.
const CACHED_TOTALS: usize = 512;

impl ListTotals {
    fn get(&self, key: &str, generation: i64) -> Option<i64> {
        let counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        counted.get(key).filter(|(g, _)| *g == generation).map(|(_, total)| *total)
    }

    fn put(&self, key: String, generation: i64, total: i64) {
        let mut counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        if counted.len() >= CACHED_TOTALS && !counted.contains_key(&key) {
            counted.clear();
        }
        counted.insert(key, (generation, total));
    }
}

const ORDER: &str = "ORDER BY s.created_at DESC, s.id DESC";
/// The songs the trigram index finds for the name, checked against the list's conditions.
const BY_TRIGRAM: &str =
    "music_song_name CROSS JOIN music_song s ON s.id = music_song_name.rowid WHERE music_song_name MATCH ? AND";

/// One page of songs, newest first, and the total over all pages, read in one snapshot.
pub fn song_page(
    conn: &Connection,
    filter: &SongFilter,
    totals: &ListTotals,
    limit: i64,
    offset: i64,
    base: &str,
) -> Result<(Vec<SongItem>, i64), Failure> {
    let snapshot = conn.unchecked_transaction()?;
    let (generation, shelved, hidden): (i64, i64, i64) =
        snapshot.query_row("SELECT generation, shelved, hidden FROM music_song_census", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let phrase = filter.trigram_phrase();
    let total = match (&filter.name, filter.by_creator, filter.shelf) {
        (None, false, Shelf::All) => shelved + hidden,
        (None, false, Shelf::OnShelf) => shelved,
        _ => match filter.cache_key() {
            Some(key) => match totals.get(&key, generation) {
                Some(total) => total,
                None => {
                    let total = count(&snapshot, filter, phrase.as_deref())?;
                    totals.put(key, generation, total);
                    total
                }
            },
            None => count(&snapshot, filter, phrase.as_deref())?,
        },
    };
    let mut args = filter.args.clone();
    args.extend([Value::Integer(limit), Value::Integer(offset)]);
    let sql = match phrase {
        Some(phrase) if trigram_pays(total, shelved + hidden, limit + offset) => {
            args.insert(0, Value::Text(phrase));
            format!("SELECT {SONG_COLUMNS} FROM {BY_TRIGRAM} {} {ORDER} LIMIT ? OFFSET ?", filter.sql)
        }
        _ => format!("SELECT {SONG_COLUMNS} FROM music_song s WHERE {} {ORDER} LIMIT ? OFFSET ?", filter.sql),
    };
    let mut stmt = snapshot.prepare_cached(&sql)?;
    let songs = stmt.query_map(params_from_iter(&args), |r| song_from_row(r, base))?;
    Ok((songs.collect::<rusqlite::Result<Vec<_>>>()?, total))
}

fn count(conn: &Connection, filter: &SongFilter, phrase: Option<&str>) -> rusqlite::Result<i64> {
    let mut args = filter.args.clone();
    let sql = match phrase {
        Some(phrase) => {
            args.insert(0, Value::Text(phrase.to_owned()));
            format!("SELECT count(*) FROM {BY_TRIGRAM} {}", filter.sql)
        }
        None => format!("SELECT count(*) FROM music_song s WHERE {}", filter.sql),
    };
    conn.prepare_cached(&sql)?.query_row(params_from_iter(&args), |r| r.get(0))
}

/// Whether sorting the name's matches beats walking the list in order until the page is
/// full: the walk reads about `wanted × songs / matches` rows, the sort about three times
/// `matches` (each a lookup by id).
fn trigram_pays(matches: i64, songs: i64, wanted: i64) -> bool {
    let walked = (wanted as f64) * (songs.max(1) as f64) / (matches.max(1) as f64);
    walked > 3.0 * matches as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_names_are_sorted_common_ones_walked() {
        assert!(trigram_pays(11, 100_000, 20));
        assert!(trigram_pays(0, 100_000, 20));
        assert!(!trigram_pays(20_000, 100_000, 20));
        // Deep pages of a common name walk far: the matches are sorted instead.
        assert!(trigram_pays(20_000, 100_000, 100_000));
    }

    #[test]
    fn phrases_quote_the_text_and_need_three_characters() {
        let mut filter = SongFilter::new(Shelf::OnShelf);
        filter.name("ab");
        assert_eq!(filter.trigram_phrase(), None);
        let mut filter = SongFilter::new(Shelf::OnShelf);
        filter.name("say \"hi\"");
        assert_eq!(filter.trigram_phrase().as_deref(), Some("\"say \"\"hi\"\"\""));
        let mut filter = SongFilter::new(Shelf::All);
        filter.name("雨の夜");
        assert!(filter.trigram_phrase().is_some());
        filter.creator("bob");
        assert_eq!(filter.trigram_phrase(), None);
    }
}
