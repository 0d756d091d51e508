//! The transit ECharts answers on a hand-made dataset with known answers, rollups against
//! a direct GROUP BY after a random mix of changes, data-role scopes, the CSV export and
//! the bulk import.

use crate::transit_support;

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};
use transit_support::{
    account_with_role, assert_rollups_equal_group_by, failed, login, read, rows, scope_to_areas, Transit,
};

/// Three stations (A, B in Dist1; C in Dist2), six passengers, five trips.
async fn known(t: &Transit) {
    t.station(1, "A", "Dist1").await;
    t.station(2, "B", "Dist1").await;
    t.station(3, "C", "Dist2").await;
    for (id, birth) in [("p1", 2015), ("p2", 1990), ("p3", 1960), ("p4", 1950), ("p5", 2010), ("p6", 1995)] {
        t.passenger(id, birth).await;
    }
    t.trip("p1", "A", "2020-07-15 08:10:00", "B", "2020-07-15 08:30:00").await;
    t.trip("p2", "A", "2020-07-15 08:20:00", "B", "2020-07-15 08:45:00").await;
    t.trip("p3", "B", "2020-07-15 09:05:00", "C", "2020-07-15 09:40:00").await;
    t.trip("p2", "C", "2020-07-16 18:00:00", "A", "2020-07-16 18:50:00").await;
    t.trip("p4", "A", "2020-06-30 23:50:00", "C", "2020-07-01 00:20:00").await;
}

#[tokio::test]
async fn echarts_answers_on_a_known_dataset() {
    let t = Transit::start().await;
    assert!(failed(&t.get("/api/echarts/agestruct?action=age_struct", &t.analyst).await)
        .contains("年龄组成结构查询结果为空"));
    known(&t).await;
    let ages = t.get("/api/echarts/agestruct?action=age_struct", &t.analyst).await;
    assert_eq!(
        ages,
        json!({ "code": 2000,
            "data": [{ "name": "0-6", "value": 1 }, { "name": "7-17", "value": 1 }, { "name": "18-40", "value": 2 }, { "name": "41-65", "value": 1 }, { "name": "66+", "value": 1 }],
            "name": ["0-6", "7-17", "18-40", "41-65", "66+"] })
    );
    let older = t.get("/api/echarts/agestruct?year=2030", &t.analyst).await;
    assert_eq!(older["data"][0]["value"], 0);
    assert_eq!(older["data"][1]["value"], 1);
    for year in ["-9223372036854775808", "0", "10000"] {
        let refused = t.get(&format!("/api/echarts/agestruct?year={year}"), &t.analyst).await;
        assert_eq!(failed(&refused), "year must be a year from 1 to 9999", "year={year}");
    }

    let daily = t.get("/api/echarts/daily?action=list_daily", &t.analyst).await;
    assert_eq!(
        daily["data"],
        json!([{ "date": "2020-07-16", "count": 1 }, { "date": "2020-07-15", "count": 3 }, { "date": "2020-06-30", "count": 1 }])
    );
    assert_eq!(
        t.get("/api/echarts/daily?date=2020-07-15", &t.analyst).await["data"],
        json!([{ "date": "2020-07-15", "count": 3 }])
    );

    let july = t.get("/api/echarts/month?action=list_month&date=2020-07", &t.analyst).await;
    assert_eq!(july["data"], json!([{ "date": "2020-07-16", "count": 1 }, { "date": "2020-07-15", "count": 3 }]));
    assert_eq!(
        t.get("/api/echarts/month?date=2020-06-02", &t.analyst).await["data"],
        json!([{ "date": "2020-06-30", "count": 1 }])
    );
    assert_eq!(
        t.get("/api/echarts/month", &t.analyst).await["data"],
        json!([{ "date": "2020-07", "count": 4 }, { "date": "2020-06", "count": 1 }])
    );

    let od = t.get("/api/echarts/od?action=list_od&date=2020-07-15%2009:08:01", &t.analyst).await;
    assert_eq!(
        od["data"],
        json!([{ "in_station": "A", "out_station": "B", "count": 2 }, { "in_station": "B", "out_station": "C", "count": 1 }])
    );
    let at_c = t.get("/api/echarts/od?date=2020-07-15&station=C", &t.analyst).await;
    assert_eq!(at_c["data"], json!([{ "in_station": "B", "out_station": "C", "count": 1 }]));
    // The document sends od's parameters as a JSON body on GET.
    let body = json!({ "action": "list_od", "station": "A", "date": "2020-07-15 09:08:01", "token": t.analyst });
    let (_, od_body) = read(t.server.client.get(t.url("/api/echarts/od")).json(&body).send().await.unwrap()).await;
    assert_eq!(od_body["data"], json!([{ "in_station": "A", "out_station": "B", "count": 2 }]));
    assert_eq!(t.get("/api/echarts/od?date=2020-07-15&limit=1", &t.analyst).await["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        t.get("/api/echarts/od", &t.analyst).await["data"],
        json!([{ "in_station": "C", "out_station": "A", "count": 1 }])
    );

    let a = t.get("/api/echarts/realtime?action=station_of_point&station=A&date=2020-07-15", &t.analyst).await;
    assert_eq!(a, json!({ "code": 2000, "in_list": [{ "hour": 8, "count": 2 }], "out_list": [] }));
    let b = t.get("/api/echarts/realtime?station=B&date=2020-07-15", &t.analyst).await;
    assert_eq!(
        (b["in_list"].clone(), b["out_list"].clone()),
        (json!([{ "hour": 9, "count": 1 }]), json!([{ "hour": 8, "count": 2 }]))
    );
    let body = json!({ "date": "2020-07-01", "station": "C", "token": t.analyst });
    let (_, c) = read(
        t.server.client.get(t.url("/api/echarts/realtime?action=station_of_point")).json(&body).send().await.unwrap(),
    )
    .await;
    assert_eq!(c, json!({ "code": 2000, "in_list": [], "out_list": [{ "hour": 0, "count": 1 }] }));
    assert!(failed(&t.get("/api/echarts/realtime?date=2020-07-01", &t.analyst).await).contains("请求消息不全"));
    assert!(failed(&t.get("/api/echarts/daily?action=list_month", &t.analyst).await).contains("list_daily"));
}

#[tokio::test]
async fn a_data_role_limits_lists_and_charts_to_its_areas() {
    let t = Transit::start().await;
    known(&t).await;
    let id = account_with_role(&t.server, "north", hearth::identity::roles::ANALYST).await;
    scope_to_areas(&t.server, id, &["Dist2"]);
    let north = login(&t.server, "north").await;
    assert_eq!(t.get("/api/echarts/daily", &north).await["data"], json!([{ "date": "2020-07-16", "count": 1 }]));
    assert_eq!(t.get("/api/echarts/month", &north).await["data"], json!([{ "date": "2020-07", "count": 1 }]));
    assert_eq!(t.get("/api/echarts/od?date=2020-07-15", &north).await["data"], json!([]));
    assert!(failed(&t.get("/api/echarts/realtime?station=A&date=2020-07-15", &north).await)
        .contains("outside your data scope"));
    assert_eq!(
        t.get("/api/echarts/realtime?station=C&date=2020-07-15", &north).await["out_list"],
        json!([{ "hour": 9, "count": 1 }])
    );

    let boss = account_with_role(&t.server, "regional", hearth::identity::roles::ADMIN).await;
    scope_to_areas(&t.server, boss, &["Dist1"]);
    let regional = login(&t.server, "regional").await;
    let stations = t.get("/api/manage/station/list", &regional).await;
    assert_eq!(stations["total"], 2);
    let trips = t.get("/api/manage/trip/list", &regional).await;
    assert_eq!(trips["total"], 4);
    assert_eq!(t.get("/api/manage/trip/list?station=C", &regional).await["total"], 2);
    assert_eq!(t.get("/api/manage/trip/list?date=2020-07-15", &regional).await["total"], 3);
    let outside = t
        .post(
            "/api/manage/trip/create",
            &regional,
            json!({ "user_id": "p1", "in_station": "C", "in_station_time": "2020-07-20 10:00:00",
        "out_station": "A", "out_station_time": "2020-07-20 10:30:00", "channel": 1, "price": 200 }),
        )
        .await;
    assert!(failed(&outside).contains("outside your data scope"));
}

/// Deterministic pseudo-random numbers for the change mix.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn rollups_equal_a_group_by_after_random_creates_updates_and_deletes() {
    let t = Transit::start().await;
    for (i, area) in ["Dist1", "Dist1", "Dist2", "Dist3"].iter().enumerate() {
        t.station(100 + i as i64, &format!("S{i}"), area).await;
    }
    let mut rng = Lcg(42);
    let mut live: Vec<i64> = Vec::new();
    let mut next_id = 1;
    let time = |rng: &mut Lcg| {
        let (day, hour, minute) = (10 + rng.below(3), rng.below(24), rng.below(60));
        let length = 5 + rng.below(90);
        let start = format!("2020-03-{day:02} {hour:02}:{minute:02}:00");
        let end_minutes = hour * 60 + minute + length;
        let end = format!(
            "2020-03-{:02} {:02}:{:02}:00",
            day + end_minutes / 1440,
            end_minutes % 1440 / 60,
            end_minutes % 60
        );
        (start, end)
    };
    for step in 0..120 {
        let op = if live.is_empty() { 0 } else { rng.below(10) };
        let (start, end) = time(&mut rng);
        let (from, to) = (format!("S{}", rng.below(4)), format!("S{}", rng.below(4)));
        if op < 5 {
            let body = json!({ "user_id": format!("u{step}"), "in_station": from, "in_station_time": start, "out_station": to,
                "out_station_time": end, "channel": 1, "price": 200 });
            t.ok(Method::POST, "/api/manage/trip/create", body).await;
            live.push(next_id);
            next_id += 1;
        } else if op < 8 {
            let id = live[rng.below(live.len() as u64) as usize];
            let body = if rng.below(2) == 0 {
                json!({ "id": id, "in_station": from, "in_station_time": start, "out_station": to, "out_station_time": end })
            } else {
                json!({ "id": id, "out_station": to })
            };
            t.ok(Method::PUT, "/api/manage/trip/update", body).await;
        } else {
            let id = live.swap_remove(rng.below(live.len() as u64) as usize);
            t.ok(Method::DELETE, "/api/manage/trip/delete", json!({ "id": id })).await;
        }
    }
    let db = t.server.sql();
    assert_rollups_equal_group_by(&db);
    // And the endpoints say the same.
    let daily = t.get("/api/echarts/daily", &t.analyst).await;
    let direct = rows(&db, "SELECT in_time / 86400 AS d, count(*) FROM transit_trip GROUP BY d ORDER BY d DESC");
    let counts: Vec<i64> = daily["data"].as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).collect();
    assert_eq!(counts, direct.iter().map(|r| r[1]).collect::<Vec<_>>());
    let od = t.get("/api/echarts/od?date=2020-03-11&limit=1000", &t.analyst).await;
    let mut from_api: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in od["data"].as_array().unwrap() {
        from_api.insert(
            (p["in_station"].as_str().unwrap().into(), p["out_station"].as_str().unwrap().into()),
            p["count"].as_i64().unwrap(),
        );
    }
    let mut stmt = db
        .prepare("SELECT a.name, b.name, count(*) FROM transit_trip t JOIN transit_station a ON a.id = t.in_station JOIN transit_station b ON b.id = t.out_station
                  WHERE t.in_time >= strftime('%s', '2020-03-11') AND t.in_time < strftime('%s', '2020-03-12') GROUP BY 1, 2")
        .unwrap();
    let direct: BTreeMap<(String, String), i64> =
        stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(from_api, direct);
    assert!(!direct.is_empty());
    let trips = t.get("/api/manage/trip/list?station=S1", &t.admin).await;
    let direct: i64 = db
        .query_row("SELECT count(*) FROM transit_trip WHERE in_station = 101 OR out_station = 101", [], |r| r.get(0))
        .unwrap();
    assert_eq!(trips["total"], direct);
}

async fn download(t: &Transit, model: &str, token: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let res = t.server.client.get(t.url(&format!("/api/exports?model={model}&token={token}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn exports_stream_csv_to_administrators_only() {
    let t = Transit::start().await;
    known(&t).await;
    t.ok(Method::POST, "/api/manage/workday/create", json!({ "date": "2020-07-15", "date_class": 1 })).await;
    let (headers, body) = download(&t, "trip", &t.admin).await;
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"trips.csv\"");
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "编号,用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格");
    assert_eq!(lines[1], "1,p1,A,2020-07-15 08:10:00,B,2020-07-15 08:30:00,3,200");
    assert_eq!(lines.len(), 6);
    let (_, stations) = download(&t, "station", &t.admin).await;
    assert_eq!(
        String::from_utf8(stations).unwrap(),
        "\u{feff}编号,站点名称,线路,行政区域\n1,A,1号线,Dist1\n2,B,1号线,Dist1\n3,C,1号线,Dist2\n"
    );
    let (_, workdays) = download(&t, "workday", &t.admin).await;
    assert_eq!(String::from_utf8(workdays).unwrap(), "\u{feff}日期,日期分类\n2020-07-15,1\n");
    let (_, passengers) = download(&t, "passenger", &t.admin).await;
    let passengers = String::from_utf8(passengers).unwrap();
    assert!(passengers.contains("用户ID,区域代码,出生年份,性别\np1,5105,2015,1\n"), "{passengers}");

    for token in [&t.user, &t.analyst] {
        let (headers, body) = download(&t, "trip", token).await;
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (body["code"].clone(), body["msg"].clone(), body["redirect"].clone()),
            (json!(1000), json!("需要高级管理员权限才可导出数据"), json!("/sign.html"))
        );
    }
    let (_, unknown) = download(&t, "song", &t.admin).await;
    let unknown: Value = serde_json::from_slice(&unknown).unwrap();
    assert!(failed(&unknown).contains("model must be"));
}

#[tokio::test]
async fn a_large_export_streams_every_row() {
    let t = Transit::start().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = hearth::surfaces::transit::synth::Options {
        trips: 30_000,
        passengers: 500,
        days: 3,
        seed: 3,
        ..Default::default()
    };
    hearth::surfaces::transit::synth::write(dir.path(), &opts, false).unwrap();
    let files = hearth::surfaces::transit::import::Files::in_folder(dir.path());
    let summary = hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap();
    assert_eq!((summary.stations, summary.passengers, summary.trips), (168, 500, 30_000));
    let (_, body) = download(&t, "trip", &t.admin).await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 30_001);
    let original = std::fs::read_to_string(dir.path().join("trips.csv")).unwrap();
    let second_line = original.lines().nth(1).unwrap();
    assert_eq!(text.lines().nth(1).unwrap(), format!("1,{second_line}"));
    // The imported rollups answer like the trips.
    let daily = t.get("/api/echarts/daily", &t.analyst).await;
    let total: i64 = daily["data"].as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 30_000);
    let db = t.server.sql();
    let direct: i64 =
        db.query_row("SELECT count(*) FROM transit_trip WHERE in_time / 86400 = 18263", [], |r| r.get(0)).unwrap();
    assert_eq!(t.get("/api/echarts/daily?date=2020-01-02", &t.analyst).await["data"][0]["count"], direct);
    let indexes: i64 = db
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transit_trip'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(indexes, 4);
}

#[tokio::test]
async fn a_bad_line_names_its_number_and_keeps_nothing() {
    let t = Transit::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stations.csv"),
        "编号,站点名称,线路,行政区域\n1004,Sta1,1号线,Dist1\n1005,Sta2,1号线,Dist1\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("users.csv"), "用户ID,区域代码,出生年份,性别\nu1,5105,1990,男\n").unwrap();
    std::fs::write(
        dir.path().join("trips.csv"),
        "\u{feff}用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格\nu1,Sta1,2020-01-01 07:44:00,Sta2,2020-01-01 08:10:00,1,200\n\
         u2,Sta1,2020-01-01 09:00:00,Sta9,2020-01-01 09:30:00,1,200\n",
    )
    .unwrap();
    let files = hearth::surfaces::transit::import::Files::in_folder(dir.path());
    let err = hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap_err().to_string();
    assert!(err.contains("trips.csv line 3") && err.contains("Sta9"), "{err}");
    let db = t.server.sql();
    for table in ["transit_station", "transit_rider", "transit_passenger", "transit_trip", "transit_day_total"] {
        let n: i64 = db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table}");
    }
    std::fs::write(
        dir.path().join("trips.csv"),
        "用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格\nu1,Sta1,2020/1/1 7:44,Sta2,2020/1/1 8:10,1,200\nu1,Sta1,not a time,Sta2,2020-01-01 08:10:00,1,200\n",
    )
    .unwrap();
    let err = hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap_err().to_string();
    assert!(err.contains("trips.csv line 3") && err.contains("进站时间"), "{err}");
    std::fs::write(
        dir.path().join("trips.csv"),
        "用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格\nu1,Sta1,2020/1/1 7:44,Sta2,2020/1/1 8:10,1,200\n",
    )
    .unwrap();
    hearth::surfaces::transit::import::import(&t.server.db_path(), &files, false).unwrap();
    let trips = t.get("/api/manage/trip/list", &t.admin).await;
    assert_eq!(trips["data"][0]["in_station_time"], "2020-01-01 07:44:00.000000");
    let people = t.get("/api/manage/passenger", &t.admin).await;
    assert_eq!(people["data"][0]["gender"], 1);
}

#[test]
fn the_command_line_synthesises_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, data) = (dir.path().join("csv"), dir.path().join("data"));
    let hearth = env!("CARGO_BIN_EXE_hearth");
    let run = |args: &[&str]| std::process::Command::new(hearth).args(args).env("HEARTH_LOG", "warn").output().unwrap();
    let synth = run(&[
        "transit",
        "synth",
        "--out",
        csv.to_str().unwrap(),
        "--trips",
        "500",
        "--passengers",
        "50",
        "--days",
        "2",
        "--quiet",
    ]);
    assert!(synth.status.success(), "{synth:?}");
    let import =
        run(&["--data", data.to_str().unwrap(), "transit", "import", "--dir", csv.to_str().unwrap(), "--quiet"]);
    assert!(import.status.success(), "{import:?}");
    let said = String::from_utf8(import.stdout).unwrap();
    assert!(said.contains("imported 168 stations, 50 passengers, 2 workdays, 500 trips"), "{said}");
    std::fs::write(csv.join("trips.csv"), "用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格\nu1,Sta1,2020-01-01 07:44:00,Sta2,2020-01-01 08:10:00,1,x\n").unwrap();
    let bad = run(&[
        "--data",
        data.to_str().unwrap(),
        "transit",
        "import",
        "--trips",
        csv.join("trips.csv").to_str().unwrap(),
        "--quiet",
    ]);
    assert!(!bad.status.success());
    let said = String::from_utf8(bad.stderr).unwrap();
    assert!(said.contains("trips.csv line 2: 价格 `x` is not a whole number; nothing was imported"), "{said}");
}
