//! The open platform's read endpoints (seed 003, CONTRACT §8): care notices and devices,
//! transit figures and stations, the music catalogue, each behind its scope.

use crate::care_support;
use crate::common;
use crate::music_support;
use crate::open_support;
use crate::transit_support;

use common::TestServer;
use open_support::{admin_token, assert_open_error, bearer, camera, open_get};
use serde_json::json;

#[tokio::test]
async fn care_reads_list_notices_since_a_time_with_paging_and_serve_snapshots() {
    let server = TestServer::start().await;
    let admin = admin_token(&server).await;
    let device = camera(&server).await;
    let first = care_support::upload(&server, &device, "kitchen fall").await;
    server.sql().execute("UPDATE notice SET created_at = created_at - 86400 WHERE pic_name = ?1", [&first]).unwrap();
    let second = care_support::upload(&server, &device, "stairs fall").await;
    let third = care_support::upload(&server, &device, "garden fall").await;

    let reader = bearer(&server, &admin, json!(["care:read"])).await;
    let all = open_get(&server, &reader, "/open/api/care/notices").await;
    assert_eq!((all["code"].as_i64(), all["total"].as_i64()), (Some(1), Some(3)));
    let names: Vec<&str> = all["data"].as_array().unwrap().iter().map(|n| n["pic_name"].as_str().unwrap()).collect();
    assert_eq!(names, vec![first.as_str(), second.as_str(), third.as_str()], "oldest first");
    assert_eq!(all["data"][0]["device"], "hall camera");

    let cutoff = hearth::clock::local_datetime(hearth::clock::now() - 3600);
    let recent = open_get(
        &server,
        &reader,
        &format!("/open/api/care/notices?since={}&pageNum=2&pageSize=1", cutoff.replace(' ', "%20")),
    )
    .await;
    assert_eq!(recent["total"], 2);
    assert_eq!(recent["data"].as_array().unwrap().len(), 1);
    assert_eq!(recent["data"][0]["pic_name"], third);
    assert_open_error(&open_get(&server, &reader, "/open/api/care/notices?since=last%20week").await, 12004);
    assert_open_error(&open_get(&server, &reader, "/open/api/care/notices?pageSize=0").await, 12004);

    let event_id = all["data"][1]["event_id"].as_str().unwrap().to_owned();
    let one = open_get(&server, &reader, &format!("/open/api/care/notices/{event_id}")).await;
    assert_eq!(one["data"]["content"], "stairs fall");
    assert_open_error(&open_get(&server, &reader, "/open/api/care/notices/0000").await, 404);
    let image = server
        .client
        .get(server.url(&format!("/open/api/care/notices/{event_id}/image")))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(
        image.bytes().await.unwrap().to_vec(),
        care_support::png_bytes(8, 6, 30),
        "the stored snapshot, byte for byte"
    );

    let devices = open_get(&server, &reader, "/open/api/care/devices").await;
    assert_eq!(devices["total"], 1);
    assert_eq!(
        (devices["data"][0]["name"].as_str(), devices["data"][0]["online"].as_bool()),
        (Some("hall camera"), Some(true))
    );

    // Without the care:read scope: 16000 on every care read.
    let other = bearer(&server, &admin, json!(["transit:read"])).await;
    for path in [
        "/open/api/care/notices",
        "/open/api/care/devices",
        &format!("/open/api/care/notices/{event_id}"),
        &format!("/open/api/care/notices/{event_id}/image"),
    ] {
        let denied = open_get(&server, &other, path).await;
        assert_open_error(&denied, 16000);
        assert_eq!(denied["message"], "this app lacks the care:read scope");
    }
}

#[tokio::test]
async fn music_reads_list_the_shelved_catalogue_with_paging_and_a_name_filter() {
    let server = TestServer::start().await;
    let admin = admin_token(&server).await;
    let (_, creator) = music_support::creator(&server, "composer1").await;
    let first = music_support::add_song(&server, &creator, "Moonlight Sonata", "[1,2]").await;
    music_support::add_song(&server, &creator, "Spring Waltz", "[3]").await;
    let hidden = music_support::add_song(&server, &creator, "Moonlight Demo", "[3]").await;
    server
        .sql()
        .execute("UPDATE music_song SET on_shelf = 0 WHERE id = ?1", [hidden["mid"].as_i64().unwrap()])
        .unwrap();

    let reader = bearer(&server, &admin, json!(["music:read"])).await;
    let all = open_get(&server, &reader, "/open/api/music/songs").await;
    assert_eq!((all["code"].as_i64(), all["total"].as_i64()), (Some(1), Some(2)), "the unshelved song is not listed");
    let song = &all["data"][0];
    assert_eq!(
        (song["musicname"].as_str(), song["creator"].clone(), song["album"].clone()),
        (Some("Moonlight Sonata"), json!([1, 2]), json!([53]))
    );
    assert_eq!(song["mid"], first["mid"]);
    let audio = server.client.get(song["resUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(audio.status(), 200, "resUrl is an absolute URL this server serves");
    let named = open_get(&server, &reader, "/open/api/music/songs?musicname=moon&pageSize=1").await;
    assert_eq!((named["total"].as_i64(), named["data"][0]["musicname"].as_str()), (Some(1), Some("Moonlight Sonata")));
    let second_page = open_get(&server, &reader, "/open/api/music/songs?pageNum=2&pageSize=1").await;
    assert_eq!(second_page["data"][0]["musicname"], "Spring Waltz");
    // A page far past the end is empty: its offset must not wrap around to the first page.
    let far = open_get(&server, &reader, "/open/api/music/songs?pageNum=9223372036854775807&pageSize=500").await;
    assert_eq!(
        (far["code"].as_i64(), far["data"].clone(), far["total"].as_i64()),
        (Some(1), json!([]), Some(2)),
        "{far}"
    );

    let other = bearer(&server, &admin, json!(["care:read"])).await;
    assert_open_error(&open_get(&server, &other, "/open/api/music/songs").await, 16000);
}

#[tokio::test]
async fn transit_reads_answer_the_same_figures_as_the_charts_for_the_whole_box() {
    let t = transit_support::Transit::start().await;
    let server = &t.server;
    t.station(1, "A", "Dist1").await;
    t.station(2, "B", "Dist1").await;
    t.station(3, "C", "Dist2").await;
    for (id, birth) in [("p1", 2015), ("p2", 1990), ("p3", 1960)] {
        t.passenger(id, birth).await;
    }
    t.trip("p1", "A", "2020-07-15 08:10:00", "B", "2020-07-15 08:30:00").await;
    t.trip("p2", "A", "2020-07-15 08:20:00", "B", "2020-07-15 08:45:00").await;
    t.trip("p3", "B", "2020-07-15 09:05:00", "C", "2020-07-15 09:40:00").await;
    t.trip("p2", "C", "2020-06-16 18:00:00", "A", "2020-06-16 18:50:00").await;
    // A data role on the administrator's account narrows its charts, never an app's answers.
    let boss = server.sql().query_row("SELECT id FROM account WHERE username = 'boss'", [], |r| r.get(0)).unwrap();
    transit_support::scope_to_areas(server, boss, &["Dist2"]);

    let admin = server.system_login("boss", transit_support::PASSWORD).await;
    let reader = bearer(server, &admin, json!(["transit:read"])).await;
    let get = |path: &'static str| open_get(server, &reader, path);

    let daily = get("/open/api/transit/daily").await;
    assert_eq!((daily["code"].clone(), daily["message"].clone()), (json!(1), json!("成功")));
    assert_eq!(daily["data"], json!([{ "date": "2020-07-15", "count": 3 }, { "date": "2020-06-16", "count": 1 }]));
    assert_eq!(
        get("/open/api/transit/daily?date=2020-07-14").await["data"],
        json!([{ "date": "2020-07-14", "count": 0 }])
    );
    assert_eq!(
        get("/open/api/transit/month?date=2020-07").await["data"],
        json!([{ "date": "2020-07-15", "count": 3 }])
    );
    assert_eq!(
        get("/open/api/transit/month").await["data"],
        json!([{ "date": "2020-07", "count": 3 }, { "date": "2020-06", "count": 1 }])
    );
    let od = get("/open/api/transit/od?date=2020-07-15").await;
    assert_eq!(
        od["data"],
        json!([{ "in_station": "A", "out_station": "B", "count": 2 }, { "in_station": "B", "out_station": "C", "count": 1 }])
    );
    assert_eq!(
        get("/open/api/transit/od?date=2020-07-15&station=C&limit=5").await["data"],
        json!([{ "in_station": "B", "out_station": "C", "count": 1 }])
    );
    let ages = get("/open/api/transit/agestruct?year=2020").await;
    let groups: Vec<(String, i64)> = ages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap().to_owned(), g["value"].as_i64().unwrap()))
        .collect();
    let expected = [("0-6", 1), ("7-17", 0), ("18-40", 1), ("41-65", 1), ("66+", 0)].map(|(n, v)| (n.to_owned(), v));
    assert_eq!(groups, expected);
    let b = get("/open/api/transit/realtime?station=B&date=2020-07-15").await;
    assert_eq!(b["data"], json!({ "in_list": [{ "hour": 9, "count": 1 }], "out_list": [{ "hour": 8, "count": 2 }] }));
    let stations = get("/open/api/transit/stations?pageNum=2&pageSize=2").await;
    assert_eq!(stations["total"], 3);
    assert_eq!(
        stations["data"],
        json!([{ "station_id": 3, "station_name": "C", "station_route": "1号线", "admin_area": "Dist2" }])
    );

    // The same figures as the transit surface's own chart, for an unscoped analyst.
    let chart = t.get("/api/echarts/daily", &t.analyst).await;
    assert_eq!(chart["data"], daily["data"]);

    for bad in [
        "/open/api/transit/daily?date=yesterday",
        "/open/api/transit/month?date=July",
        "/open/api/transit/od?limit=0",
        "/open/api/transit/realtime",
        "/open/api/transit/realtime?station=Nowhere",
        "/open/api/transit/stations?pageSize=501",
    ] {
        assert_open_error(&get(bad).await, 12004);
    }
    let outsider = bearer(server, &admin, json!(["care:read", "music:read"])).await;
    for path in ["daily", "month", "od", "agestruct", "realtime?station=A", "stations"] {
        let denied = open_get(server, &outsider, &format!("/open/api/transit/{path}")).await;
        assert_open_error(&denied, 16000);
        assert_eq!(denied["message"], "this app lacks the transit:read scope");
    }
    assert_open_error(&open_get(server, "not-a-token", "/open/api/transit/daily?date=yesterday").await, 10003);
}
