//! Deep trip-list pages started by seek answer exactly what `LIMIT … OFFSET …` does, and the
//! passengers' birth-year rollup stays equal to a GROUP BY through edits, deletions, imports
//! and an upgrade from a database that had no rollup.

use crate::common;
use crate::transit_support;

use reqwest::Method;
use serde_json::{json, Value};
use transit_support::{rows, Transit};

fn ids(page: &Value) -> Vec<i64> {
    page["data"].as_array().unwrap_or_else(|| panic!("{page}")).iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

fn birth_years_equal_group_by(db: &rusqlite::Connection) {
    assert_eq!(
        rows(db, "SELECT birth, n FROM transit_birth_year ORDER BY birth"),
        rows(db, "SELECT birth, count(*) FROM transit_passenger WHERE birth IS NOT NULL GROUP BY birth ORDER BY birth")
    );
}

#[tokio::test]
async fn deep_trip_pages_are_the_pages_offset_gives() {
    let t = Transit::start().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = hearth::surfaces::transit::synth::Options {
        trips: 5_000,
        passengers: 300,
        days: 3,
        seed: 5,
        ..Default::default()
    };
    hearth::surfaces::transit::synth::write(dir.path(), &opts, false).unwrap();
    let files = hearth::surfaces::transit::import::Files::in_folder(dir.path());
    hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap();
    // Trips at the very same second, so ties are broken by id across a page boundary.
    for rider in ["tied1", "tied2", "tied3"] {
        let body = json!({ "user_id": rider, "in_station": "Sta1", "in_station_time": "2020-01-02 00:00:00",
            "out_station": "Sta2", "out_station_time": "2020-01-02 00:30:00", "channel": 1, "price": 200 });
        t.ok(Method::POST, "/api/manage/trip/create", body).await;
    }
    let db = t.server.sql();
    let total: i64 = db.query_row("SELECT count(*) FROM transit_trip", [], |r| r.get(0)).unwrap();
    let first_day: i64 = db.query_row("SELECT min(in_time) / 86400 FROM transit_trip", [], |r| r.get(0)).unwrap();
    let on_first_day: i64 = db
        .query_row("SELECT count(*) FROM transit_trip WHERE in_time / 86400 = ?1", [first_day], |r| r.get(0))
        .unwrap();
    let expected = |order: &str, day: Option<i64>, limit: i64, offset: i64| {
        let filter =
            day.map_or(String::new(), |d| format!("WHERE in_time >= {} AND in_time < {}", d * 86400, (d + 1) * 86400));
        rows(&db, &format!("SELECT id FROM transit_trip {filter} ORDER BY in_time {order}, id {order} LIMIT {limit} OFFSET {offset}"))
            .into_iter()
            .map(|r| r[0])
            .collect::<Vec<_>>()
    };
    let date = |day: i64| chrono::DateTime::from_timestamp(day * 86400, 0).unwrap().format("%Y-%m-%d").to_string();
    let limit = 40;
    let near_day_end = (on_first_day / limit).max(1);
    for page in
        [1, 2, near_day_end, near_day_end + 1, near_day_end + 2, total / limit, total / limit + 1, total / limit + 5]
    {
        let offset = (page - 1) * limit;
        for (sort, order) in [("", "ASC"), ("&sort=in_station_time", "ASC"), ("&sort=-in_station_time", "DESC")] {
            let answer = t.get(&format!("/api/manage/trip/list?page={page}&limit={limit}{sort}"), &t.admin).await;
            assert_eq!(ids(&answer), expected(order, None, limit, offset), "page {page}{sort}");
            assert_eq!(answer["total"], total);
            let day = t
                .get(
                    &format!("/api/manage/trip/list?page={page}&limit={limit}{sort}&date={}", date(first_day)),
                    &t.admin,
                )
                .await;
            assert_eq!(ids(&day), expected(order, Some(first_day), limit, offset), "page {page}{sort} of one day");
        }
    }
    // Every page of a small limit, through the tied trips.
    let tied_at: i64 =
        db.query_row("SELECT count(*) FROM transit_trip WHERE in_time < 18263 * 86400", [], |r| r.get(0)).unwrap();
    for offset in tied_at.saturating_sub(2)..tied_at + 4 {
        let answer = t.get(&format!("/api/manage/trip/list?page={}&limit=1", offset + 1), &t.admin).await;
        assert_eq!(ids(&answer), expected("ASC", None, 1, offset), "offset {offset}");
    }
}

#[tokio::test]
async fn the_birth_year_rollup_follows_passenger_changes_and_imports() {
    let t = Transit::start().await;
    for (id, birth) in [("b1", 1990), ("b2", 1990), ("b3", 1960)] {
        t.passenger(id, birth).await;
    }
    let db = t.server.sql();
    assert_eq!(rows(&db, "SELECT birth, n FROM transit_birth_year ORDER BY birth"), vec![vec![1960, 1], vec![1990, 2]]);
    let update = |id: &str, birth: i64| json!({ "action": "modify_trip", "passenger_id": id, "dist": 5105, "brith": birth, "gender": 1 });
    t.ok(Method::PUT, "/api/manage/passenger/update", update("b2", 2001)).await;
    t.ok(Method::PUT, "/api/manage/passenger/update", update("b3", 1990)).await;
    assert_eq!(rows(&db, "SELECT birth, n FROM transit_birth_year ORDER BY birth"), vec![vec![1990, 2], vec![2001, 1]]);
    t.ok(Method::DELETE, "/api/manage/passenger/delete", json!({ "action": "del_passenger", "passenger_id": "b1" }))
        .await;
    birth_years_equal_group_by(&db);
    let ages = t.get("/api/echarts/agestruct?year=2020", &t.analyst).await;
    assert_eq!(ages["data"][2], json!({ "name": "18-40", "value": 2 }), "{ages}");

    let dir = tempfile::tempdir().unwrap();
    let opts = hearth::surfaces::transit::synth::Options {
        trips: 200,
        passengers: 400,
        days: 1,
        seed: 9,
        ..Default::default()
    };
    hearth::surfaces::transit::synth::write(dir.path(), &opts, false).unwrap();
    let files = hearth::surfaces::transit::import::Files::in_folder(dir.path());
    hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap();
    birth_years_equal_group_by(&db);
    let people: i64 = db.query_row("SELECT count(*) FROM transit_passenger", [], |r| r.get(0)).unwrap();
    assert_eq!(people, 402);
    // A second import of the same passengers changes nobody's count.
    hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap();
    birth_years_equal_group_by(&db);
}

#[tokio::test]
async fn passengers_from_before_the_rollup_are_counted_after_the_upgrade() {
    let t = Transit::start().await;
    t.passenger("u1", 1990).await;
    let Transit { server, analyst, .. } = t;
    let server = server
        .restart_after(|data| {
            let db = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
            common::rewind_to_migration_16(&db);
            db.execute_batch(
                "INSERT INTO transit_rider (id, uid) VALUES (901, 'u2'), (902, 'u3'), (903, 'u4');
                 INSERT INTO transit_passenger (rider_id, dist, birth, gender) VALUES (901, 1, 1990, 0), (902, 1, 1950, 1), (903, 1, NULL, 1);",
            )
            .unwrap();
        })
        .await;
    let db = server.sql();
    birth_years_equal_group_by(&db);
    let res = server
        .client
        .get(server.url(&format!("/transit/api/echarts/agestruct?year=2020&token={analyst}")))
        .send()
        .await
        .unwrap();
    let ages: Value = res.json().await.unwrap();
    assert_eq!(ages["data"][2]["value"], 2, "{ages}");
    assert_eq!(ages["data"][4]["value"], 1, "{ages}");
}
