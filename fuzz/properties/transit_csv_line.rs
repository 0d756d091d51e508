//! The transit CSV import (`hearth transit import`), one file at a time, into an
//! in-memory database with the real schema. The first byte picks the kind of file (`0`
//! stations, `1` users, `2` workdays, `3` trips, by its value mod 4); the rest is the
//! file from its first byte (a BOM or not, then the header line). Each input runs in a
//! transaction that is rolled back, so every input meets the same database: eight
//! stations `Sta1`…`Sta8` and nothing else.
//! Properties: a refused file names itself in the message; an accepted file stored what
//! it said (trips leave after they enter, their times print back to the same time, the
//! rollups count every trip; workdays are real dates that print back unchanged).
//!
//! Shared by the libFuzzer target `fuzz_targets/transit_csv_line.rs` and the replay in
//! `tests/it/fuzzing.rs`.

use std::cell::RefCell;

use hearth::fuzzing::{format_date, format_time, import_text, migrate, parse_date, parse_time, CsvKind};
use rusqlite::Connection;

const KINDS: [(CsvKind, &str); 4] = [
    (CsvKind::Stations, "stations.csv"),
    (CsvKind::Users, "users.csv"),
    (CsvKind::Workdays, "workdays.csv"),
    (CsvKind::Trips, "trips.csv"),
];

/// The stations trips may use, imported once through the stations parser itself.
const STATIONS: &str = "站点编号,站点名称,线路,行政区域\n\
    1001,Sta1,1号线,Dist1\n1002,Sta2,1号线,Dist1\n1003,Sta3,2号线,Dist2\n1004,Sta4,2号线,Dist2\n\
    1005,Sta5,3号线,Dist3\n1006,Sta6,3号线,Dist3\n1007,Sta7,4号线,Dist4\n1008,Sta8,4号线,Dist4\n";

thread_local! {
    static DB: RefCell<Connection> = RefCell::new(database());
}

fn database() -> Connection {
    let mut conn = Connection::open_in_memory().expect("an in-memory database");
    migrate(&mut conn).expect("the schema applies");
    assert_eq!(import_text(&conn, CsvKind::Stations, STATIONS.as_bytes()).expect("the stations import"), 8);
    conn
}

pub fn check(input: &[u8]) {
    let Some((&selector, file)) = input.split_first() else { return };
    let (kind, name) = KINDS[usize::from(selector % 4)];
    DB.with(|db| {
        let mut conn = db.borrow_mut();
        let tx = conn.transaction().expect("a transaction");
        match import_text(&tx, kind, file) {
            Ok(rows) => check_stored(&tx, kind, rows),
            Err(e) => {
                let message = format!("{e:#}");
                assert!(message.starts_with(name), "a refusal names the file: {message}");
            }
        }
        // Dropping `tx` rolls the import back.
    });
}

fn check_stored(db: &Connection, kind: CsvKind, rows: u64) {
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).expect(sql) };
    let rows = i64::try_from(rows).expect("a small count");
    match kind {
        CsvKind::Stations => {
            assert!(count("SELECT count(*) FROM transit_station") <= 8 + rows);
            assert_eq!(count("SELECT count(*) FROM transit_station WHERE name = ''"), 0, "every station has a name");
        }
        CsvKind::Users => {
            assert!(count("SELECT count(*) FROM transit_passenger") <= rows);
            assert_eq!(
                count("SELECT count(*) FROM transit_passenger WHERE rider_id NOT IN (SELECT id FROM transit_rider)"),
                0
            );
            assert_eq!(count("SELECT count(*) FROM transit_rider WHERE uid = ''"), 0, "every passenger has an id");
        }
        CsvKind::Workdays => {
            assert!(count("SELECT count(*) FROM transit_workday") <= rows);
            let mut dates = db.prepare("SELECT date FROM transit_workday").expect("prepare");
            for date in dates.query_map([], |r| r.get::<_, String>(0)).expect("query") {
                let date = date.expect("a text date");
                let day = parse_date(&date).unwrap_or_else(|| panic!("stored `{date}` is a date"));
                assert_eq!(format_date(day), date, "a stored date prints back unchanged");
            }
        }
        CsvKind::Trips => {
            assert_eq!(count("SELECT count(*) FROM transit_trip"), rows, "one stored trip per line");
            assert_eq!(
                count("SELECT coalesce(sum(n), 0) FROM transit_day_total"),
                rows,
                "the day rollup counts every trip"
            );
            assert_eq!(
                count("SELECT coalesce(sum(n), 0) FROM transit_od_day"),
                rows,
                "the origin-destination rollup counts every trip"
            );
            assert_eq!(
                count("SELECT count(*) FROM transit_trip WHERE out_time < in_time"),
                0,
                "trips leave after they enter"
            );
            assert_eq!(
                count("SELECT count(*) FROM transit_trip WHERE rider_id NOT IN (SELECT id FROM transit_rider)"),
                0
            );
            let mut times = db.prepare("SELECT in_time, out_time FROM transit_trip").expect("prepare");
            for pair in times.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).expect("query") {
                let (t_in, t_out) = pair.expect("two times");
                for t in [t_in, t_out] {
                    assert_eq!(parse_time(&format_time(t)), Some(t), "a stored time prints back to the same time");
                }
            }
        }
    }
}
