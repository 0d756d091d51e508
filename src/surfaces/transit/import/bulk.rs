//! What makes a large import fast without weakening it (docs/surfaces/transit.md, "Loading
//! data" and "Benchmark" give the measurements behind each choice).
//!
//! - Alone, that is when no server holds the data folder, the import takes the folder's
//!   lock for its whole run and writes through a rollback journal instead of the WAL. New
//!   pages then go into the database file once, instead of into the WAL and again into the
//!   file at the checkpoint, so the disk needs about half the room. The journal keeps the
//!   import all or nothing, also across a crash. Beside a server the import keeps the WAL,
//!   so the server's readers keep answering.
//! - The trips' indexes are rebuilt with sort runs of 1 MiB: SQLite sizes its in-memory
//!   sort runs by the cache size, and runs that fit the CPU cache sort about three times
//!   faster than 256 MiB ones, which the merge of many runs does not undo. The sorter's
//!   worker threads (`PRAGMA threads`) made it slower on two cores, so it has none.

use std::fs::File;
use std::path::Path;

use rusqlite::Connection;

use crate::surfaces::transit::rollup::FastMap;

/// The trips' secondary indexes, as schema.sql creates them.
const TRIP_INDEXES: [(&str, &str); 4] = [
    ("transit_trip_by_time", "transit_trip(in_time)"),
    ("transit_trip_by_rider", "transit_trip(rider_id, in_time)"),
    ("transit_trip_by_in", "transit_trip(in_station, in_time)"),
    ("transit_trip_by_out", "transit_trip(out_station, in_time)"),
];

/// The sorter's memory per run while the indexes are built, in KiB (`cache_size` units).
const SORT_RUN_KIB: i64 = 1024;

pub fn drop_trip_indexes(tx: &Connection) -> rusqlite::Result<()> {
    for (name, _) in TRIP_INDEXES {
        tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
    }
    Ok(())
}

/// Builds the trips' indexes, each from one sort of every trip; the page cache is given
/// back its size afterwards.
pub fn build_trip_indexes(tx: &Connection) -> rusqlite::Result<()> {
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |row| row.get(0))?;
    tx.execute_batch(&format!("PRAGMA cache_size = -{SORT_RUN_KIB}"))?;
    let built = TRIP_INDEXES
        .iter()
        .try_for_each(|(name, on)| tx.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}")));
    tx.execute_batch(&format!("PRAGMA cache_size = {cache}"))?;
    built
}

/// The import running alone: the data folder's lock, held until `leave`.
pub struct Alone {
    _lock: File,
}

impl Alone {
    /// Switches `conn` (outside any transaction) to a rollback journal when no server
    /// holds the data folder of `db`; None, leaving the WAL as it is, otherwise.
    pub fn enter(conn: &Connection, db: &Path) -> Option<Alone> {
        let folder = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let lock = crate::backup::try_lock_data_folder(folder).ok().flatten()?;
        // Leaving the WAL needs the only connection to the database; any other (a backup
        // being written, say) makes this fail, and the import then keeps the WAL.
        let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0)).ok()?;
        if !mode.eq_ignore_ascii_case("delete") {
            return None;
        }
        let alone = Alone { _lock: lock };
        // A rollback journal needs FULL to survive a power cut at any moment, as the WAL does with NORMAL.
        if conn.execute_batch("PRAGMA synchronous = FULL").is_err() {
            let _ = alone.leave(conn);
            return None;
        }
        Some(alone)
    }

    /// Back to the WAL that the server expects, after the import's transaction has ended
    /// either way; the folder's lock goes with `self`.
    pub fn leave(self, conn: &Connection) -> rusqlite::Result<()> {
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")
    }
}

/// Rider ids by 用户ID. The competition's ids are 32 lowercase hex digits; those are keyed
/// by their number, so that a look-up, made for every trip, does not also follow a pointer
/// to the id's text (that second cache miss was a third of the parser's time).
#[derive(Default)]
pub struct RiderIds {
    hex: FastMap<u128, i64>,
    other: FastMap<String, i64>,
}

fn hex_key(uid: &str) -> Option<u128> {
    let hex = uid.len() == 32 && uid.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    hex.then(|| u128::from_str_radix(uid, 16).ok()).flatten()
}

impl RiderIds {
    pub fn get(&self, uid: &str) -> Option<i64> {
        match hex_key(uid) {
            Some(key) => self.hex.get(&key).copied(),
            None => self.other.get(uid).copied(),
        }
    }

    pub fn insert(&mut self, uid: &str, id: i64) {
        match hex_key(uid) {
            Some(key) => self.hex.insert(key, id),
            None => self.other.insert(uid.to_owned(), id),
        };
    }
}

impl FromIterator<(String, i64)> for RiderIds {
    fn from_iter<I: IntoIterator<Item = (String, i64)>>(rows: I) -> RiderIds {
        let mut ids = RiderIds::default();
        for (uid, id) in rows {
            ids.insert(&uid, id);
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_database(dir: &Path) -> std::path::PathBuf {
        let db = dir.join("hearth.db");
        Connection::open(&db).unwrap().execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);").unwrap();
        db
    }

    fn journal_mode(conn: &Connection) -> String {
        conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn alone_the_import_holds_the_folder_and_uses_a_rollback_journal_until_it_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let db = wal_database(dir.path());
        let conn = Connection::open(&db).unwrap();
        let alone = Alone::enter(&conn, &db).expect("nothing else uses the folder");
        assert_eq!(journal_mode(&conn), "delete");
        let refused = crate::backup::lock_data_folder(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("transit import is running"), "{refused}");
        alone.leave(&conn).unwrap();
        assert_eq!(journal_mode(&conn), "wal");
        crate::backup::lock_data_folder(dir.path()).expect("the folder is free again");
    }

    #[test]
    fn beside_a_server_or_another_reader_the_import_keeps_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let db = wal_database(dir.path());
        let conn = Connection::open(&db).unwrap();
        let server = crate::backup::lock_data_folder(dir.path()).unwrap();
        assert!(Alone::enter(&conn, &db).is_none());
        drop(server);
        let reader = Connection::open(&db).unwrap();
        let _: i64 = reader.query_row("SELECT count(*) FROM t", [], |row| row.get(0)).unwrap();
        assert!(Alone::enter(&conn, &db).is_none(), "a connection that has read keeps the database in WAL mode");
        assert_eq!(journal_mode(&conn), "wal");
        crate::backup::lock_data_folder(dir.path()).expect("a refused attempt lets go of the folder");
    }
}
