//! The bulk import alone (no server holds the data folder: a rollback journal and the
//! folder's lock) and beside a server (the WAL): the same rows, rollups and indexes either
//! way, nothing kept of a bad file, and afterwards a WAL database that a server opens.

use crate::transit_support;

use std::path::Path;

use hearth::surfaces::transit::{import, synth};
use transit_support::{assert_rollups_equal_group_by, rows, Transit};

fn synthesise(dir: &Path) -> import::Files {
    let opts = synth::Options { trips: 20_000, passengers: 400, days: 3, seed: 5, ..Default::default() };
    synth::write(dir, &opts, false).unwrap();
    import::Files::in_folder(dir)
}

/// What an import leaves behind that should not depend on how it ran: every trip column,
/// the rollups, and the trips' indexes as the schema declares them.
fn contents(db: &rusqlite::Connection) -> (Vec<Vec<i64>>, Vec<Vec<i64>>, Vec<String>) {
    assert_rollups_equal_group_by(db);
    let trips = rows(
        db,
        "SELECT id, rider_id, in_station, in_time, out_station, out_time, channel, price FROM transit_trip ORDER BY id",
    );
    let rollups = rows(db, "SELECT day, origin, dest, n FROM transit_od_day ORDER BY 1, 2, 3");
    let mut stmt = db
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transit_trip' ORDER BY name")
        .unwrap();
    let indexes = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    (trips, rollups, indexes)
}

/// A migrated WAL database, as a server leaves it, with no connection left open (a pool's
/// connections may outlive it for a moment on its own threads, and the import run alone
/// needs to be the only one).
fn create_database(db: &Path) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    hearth::db::migrate(&mut conn).unwrap();
}

fn journal_mode(db: &rusqlite::Connection) -> String {
    db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn alone_and_beside_a_server_the_import_leaves_the_same_database() {
    let csv = tempfile::tempdir().unwrap();
    let files = synthesise(csv.path());

    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("hearth.db");
    create_database(&db);
    let summary = import::import(&db, &files, false).unwrap();
    assert!(summary.alone, "no server holds the folder");
    assert_eq!(summary.trips, 20_000);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(journal_mode(&conn), "wal");
    assert!(!data.path().join("hearth.db-journal").exists());
    let alone = contents(&conn);
    assert_eq!(alone.0.len(), 20_000);
    assert_eq!(alone.2.len(), 4);
    drop(conn);

    // The folder is free again: a server starts on it.
    let server =
        hearth::start(hearth::config::Config::for_tests(data.path())).await.expect("a server starts after the import");
    server.stop().await.unwrap();

    let t = Transit::start().await;
    let summary = import::import(&t.server.db_path(), &files, false).unwrap();
    assert!(!summary.alone, "the test server holds its folder");
    let beside = contents(&t.server.sql());
    assert_eq!(journal_mode(&t.server.sql()), "wal");
    assert_eq!(alone, beside);
    let daily = t.get("/api/echarts/daily", &t.analyst).await;
    let total: i64 = daily["data"].as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 20_000);
}

#[test]
fn alone_a_bad_line_keeps_nothing_and_leaves_the_wal() {
    let csv = tempfile::tempdir().unwrap();
    let files = synthesise(csv.path());
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("hearth.db");
    create_database(&db);
    import::import(&db, &files, false).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let before = contents(&conn);

    // A second, large file whose last line is bad: the indexes were dropped and the
    // rollups changed inside the transaction, and all of it is rolled back.
    let trips = std::fs::read_to_string(csv.path().join("trips.csv")).unwrap();
    let bad = format!("{trips}{}", trips.lines().nth(1).unwrap().replace(",Sta", ",Nowhere"));
    std::fs::write(csv.path().join("trips.csv"), bad).unwrap();
    let trips_only = import::Files { trips: files.trips.clone(), ..Default::default() };
    let err = import::import(&db, &trips_only, false).unwrap_err().to_string();
    assert!(err.contains("trips.csv line 20002") && err.contains("nothing was imported"), "{err}");
    assert_eq!(contents(&conn), before);
    assert_eq!(journal_mode(&conn), "wal");
    assert!(!data.path().join("hearth.db-journal").exists());
    hearth::backup::lock_data_folder(data.path()).expect("the failed import let go of the folder");
}
