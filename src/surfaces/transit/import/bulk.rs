//! What makes a large import fast without weakening it (docs/surfaces/transit.md, "Loading
//! data" and "Benchmark" give the measurements behind each choice).
//!
//! - Alone, that is when no server holds the data folder, the import takes the folder's
//!   lock for its whole run and writes through a rollback journal instead of the WAL. New
//!   pages then go straight into the database file once, instead of into the WAL and again
//!   into the file at the checkpoint, and reading them back (four table scans for the
//!   indexes) costs no WAL look-ups, which grow with the WAL. The journal keeps the import
//!   all or nothing, also across a crash. Beside a server the import keeps the WAL, so the
//!   server's readers keep answering.
//! - The trips' indexes are rebuilt with sort runs of 1 MiB: SQLite sizes its in-memory
//!   sort runs by the cache size, and runs that fit the CPU cache sort about three times
//!   faster than 256 MiB ones, which the merge of many runs does not undo. The sorter's
//!   worker threads (`PRAGMA threads`) made it slower on two cores, so it has none.

use std::fs::File;
use std::path::Path;

use rusqlite::Connection;

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
    let built = TRIP_INDEXES.iter().try_for_each(|(name, on)| tx.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}")));
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
