//! care (seed 004): devices, fall notices, read state, live alerts over SSE, retention.

use crate::care_support;
use crate::common;

use std::time::Duration;

use care_support::*;
use common::TestServer;
use futures_util::StreamExt;
use serde_json::{json, Value};

#[tokio::test]
async fn devices_are_added_bound_listed_and_unbound() {
    let server = TestServer::start().await;
    let alice = user(&server, "13600000001").await;
    let bob = user(&server, "13600000002").await;
    let device = add_device(&server, &alice, "camera1").await;
    assert!(device.len() == 32 && device.bytes().all(|b| b.is_ascii_hexdigit()));
    let stored: Vec<u8> = server.sql().query_row("SELECT token_hash FROM device", [], |r| r.get(0)).unwrap();
    assert_ne!(stored, device.as_bytes(), "only the token's hash is stored");
    fails(&call(&server, "/api/device", Some(&alice), "device", "add", json!({"device": "camera1"})).await, 101);
    fails(&call(&server, "/api/device", Some(&alice), "device", "add", json!({})).await, -3);
    fails(
        &call(
            &server,
            "/api/device",
            Some(&bob),
            "device",
            "bind",
            json!({"device_id": "00000000000000000000000000000000"}),
        )
        .await,
        100,
    );
    fails(&call(&server, "/api/device", Some(&bob), "device", "bind", json!({"device_id": 5})).await, -203);

    let list = |token: String| {
        let server = &server;
        async move { ok(call(server, "/api/device", Some(&token), "device", "list", json!({})).await) }
    };
    let listed = list(alice.clone()).await;
    assert_eq!(listed["num"], 1);
    assert_eq!(listed["list"][0]["device"], "camera1");
    assert_eq!(listed["list"][0]["online"], false);
    assert_eq!(listed["list"][0]["last_seen"], Value::Null);
    assert_eq!(list(bob.clone()).await["num"], 0);

    bind(&server, &bob, &device).await;
    bind(&server, &bob, &device).await;
    assert_eq!(list(bob.clone()).await["num"], 1);

    // Heartbeats make it online.
    fails(&get(&server, "/api/device/heartbeat?token=ffffffffffffffffffffffffffffffff").await, -104);
    fails(&get(&server, "/api/device/heartbeat").await, -100);
    ok(get(&server, &format!("/api/device/heartbeat?token={device}")).await);
    let listed = list(bob.clone()).await;
    assert_eq!(listed["list"][0]["online"], true);
    assert!(listed["list"][0]["last_seen"].as_str().unwrap().len() == 19);
    server.sql().execute("UPDATE device SET last_seen = last_seen - 301", []).unwrap();
    assert_eq!(list(bob.clone()).await["list"][0]["online"], false);

    let id = listed["list"][0]["id"].as_i64().unwrap();
    ok(call(&server, "/api/device", Some(&bob), "device", "unbind", json!({"id": id})).await);
    assert_eq!(list(bob.clone()).await["num"], 0);
    fails(&call(&server, "/api/device", Some(&bob), "device", "unbind", json!({"device_id": device})).await, 100);
    ok(call(&server, "/api/device", Some(&alice), "device", "unbind", json!({"device_id": device})).await);
    assert_eq!(list(alice).await["num"], 0);
}

#[tokio::test]
async fn a_notice_reaches_every_bound_account_and_nobody_else_with_its_own_read_state() {
    let server = TestServer::start().await;
    let alice = user(&server, "13600000011").await;
    let bob = user(&server, "13600000012").await;
    let eve = user(&server, "13600000013").await;
    let device = add_device(&server, &alice, "bedroom").await;
    bind(&server, &bob, &device).await;
    add_device(&server, &eve, "elsewhere").await;

    fails(
        &call(
            &server,
            "/api/notice",
            Some("0123456789abcdef0123456789abcdef"),
            "notice",
            "upload",
            json!({"base64": b64(&png_bytes(2, 2, 1))}),
        )
        .await,
        -104,
    );
    fails(
        &call(
            &server,
            "/api/notice",
            Some(&device),
            "notice",
            "upload",
            json!({"base64": b64(b"GIF89a, not a snapshot")}),
        )
        .await,
        -204,
    );
    fails(&call(&server, "/api/notice", Some(&device), "notice", "upload", json!({"base64": "***"})).await, -204);
    let snapshot = png_bytes(8, 6, 30);
    let truncated = &snapshot[..snapshot.len() - 10];
    fails(
        &call(&server, "/api/notice", Some(&device), "notice", "upload", json!({"base64": b64(truncated)})).await,
        -204,
    );
    let files = |server: &TestServer| std::fs::read_dir(server.data().join("uploads/notices")).unwrap().count();
    assert_eq!(files(&server), 0, "refused uploads leave no file");

    let first = upload(&server, &device, "").await;
    let with_head = format!("data:image/png;base64,{}", b64(&snapshot));
    let second = ok(call(
        &server,
        "/api/notice",
        Some(&device),
        "notice",
        "upload",
        json!({"base64": with_head, "content": "摔倒地点：卧室"}),
    )
    .await);
    let second = second["pic_name"].as_str().unwrap().to_owned();
    assert_eq!(files(&server), 2);
    assert_eq!(first.len(), 32);

    assert!(notices(&server, &eve, 2).await.is_empty(), "an unbound account sees nothing");
    let loner = user(&server, "13600000014").await;
    fails(&call(&server, "/api/get/notice", Some(&loner), "notice", "get", json!({"mode": 2})).await, 101);
    fails(&call(&server, "/api/get/notice", Some(&alice), "notice", "get", json!({"mode": 3})).await, 102);
    fails(&call(&server, "/api/get/notice", Some(&alice), "notice", "get", json!({"mode": "zero"})).await, 102);
    fails(&call(&server, "/api/get/notice", Some(&alice), "notice", "get", json!({})).await, -3);

    for token in [&alice, &bob] {
        let all = notices(&server, token, 2).await;
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["pic_name"], second.as_str(), "newest first");
        assert_eq!(all[0]["content"], "摔倒地点：卧室");
        assert_eq!(all[0]["device"], "bedroom");
        assert_eq!(all[1]["pic_name"], first.as_str());
        assert_eq!(all[0]["createtime"].as_str().unwrap().len(), 19);
        assert_eq!(notices(&server, token, 0).await.len(), 2);
        assert!(notices(&server, token, 1).await.is_empty());
    }
    let event = notices(&server, &alice, 2).await[0]["event_id"].as_str().unwrap().to_owned();
    let info = ok(call(&server, "/api/get/notice", Some(&bob), "notice", "info", json!({"event_id": event})).await);
    assert_eq!(info["base64"], b64(&snapshot));
    assert_eq!(info["event_id"], event.as_str());
    assert_eq!(notices(&server, &bob, 0).await.len(), 2, "info does not mark read");
    fails(&call(&server, "/api/get/notice", Some(&eve), "notice", "info", json!({"event_id": event})).await, 100);
    fails(&call(&server, "/api/get/notice", Some(&eve), "notice", "sign", json!({"event_id": event})).await, 100);
    fails(&call(&server, "/api/get/notice", Some(&bob), "notice", "sign", json!({"event_id": 12})).await, -203);

    ok(call(&server, "/api/get/notice", Some(&bob), "notice", "sign", json!({"event_id": event})).await);
    fails(&call(&server, "/api/get/notice", Some(&bob), "notice", "sign", json!({"event_id": event})).await, 101);
    let unread = notices(&server, &bob, 0).await;
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0]["pic_name"], first.as_str());
    assert_eq!(notices(&server, &bob, 1).await[0]["event_id"], event.as_str());
    assert_eq!(notices(&server, &alice, 0).await.len(), 2, "read state is per account");

    // Uploads count as the device calling in.
    let devices = ok(call(&server, "/api/device", Some(&alice), "device", "list", json!({})).await);
    assert_eq!(devices["list"][0]["online"], true);
}

#[tokio::test]
async fn live_alerts_reach_every_connected_bound_account_and_resume_after_last_event_id() {
    let server = TestServer::start().await;
    let alice = user(&server, "13600000021").await;
    let bob = user(&server, "13600000022").await;
    let eve = user(&server, "13600000023").await;
    let device = add_device(&server, &alice, "hall").await;
    bind(&server, &bob, &device).await;
    add_device(&server, &eve, "other").await;

    let (_, refused) = common::read(
        server
            .client
            .get(server.url("/care/api/notice/stream?token=ffffffffffffffffffffffffffffffff"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    fails(&refused, -101);

    let mut streams = Vec::new();
    for token in [&alice, &bob, &eve] {
        streams.push((open_stream(&server, token, None).await.bytes_stream(), String::new()));
    }
    let pic = upload(&server, &device, "kitchen").await;
    let wait = Duration::from_secs(5);
    let mut first_id = String::new();
    for (stream, buffer) in streams.iter_mut().take(2) {
        let (id, data) = tokio::time::timeout(wait, next_event(stream, buffer)).await.expect("the alert arrives");
        assert_eq!(data["pic_name"], pic.as_str());
        assert_eq!(data["content"], "kitchen");
        assert_eq!(data["device"], "hall");
        assert_eq!(data["id"].to_string(), id);
        first_id = id;
    }
    let (eve_stream, eve_buffer) = &mut streams[2];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), next_event(eve_stream, eve_buffer)).await.is_err(),
        "an unbound account gets nothing"
    );
    drop(streams);

    // Missed while disconnected: replayed from the last event id.
    let missed = upload(&server, &device, "missed").await;
    let mut resumed = open_stream(&server, &bob, Some(&first_id)).await.bytes_stream();
    let mut buffer = String::new();
    let (_, data) = tokio::time::timeout(wait, next_event(&mut resumed, &mut buffer)).await.unwrap();
    assert_eq!(data["pic_name"], missed.as_str());
    let live = upload(&server, &device, "live").await;
    let (_, data) = tokio::time::timeout(wait, next_event(&mut resumed, &mut buffer)).await.unwrap();
    assert_eq!(data["pic_name"], live.as_str());
}

#[tokio::test]
async fn quiet_streams_get_keep_alives() {
    let server = TestServer::start().await;
    let token = user(&server, "13600000031").await;
    let mut stream = open_stream(&server, &token, None).await.bytes_stream();
    let chunk =
        tokio::time::timeout(Duration::from_secs(25), stream.next()).await.expect("a keep-alive").unwrap().unwrap();
    assert_eq!(chunk.as_ref(), b":\n\n");
}

#[tokio::test]
async fn retention_removes_old_snapshots_and_rows_unless_kept() {
    let server = TestServer::start().await;
    let admin = admin(&server, "13600000041").await;
    let alice = user(&server, "13600000042").await;
    let device = add_device(&server, &alice, "porch").await;
    let old = upload(&server, &device, "old").await;
    let kept = upload(&server, &device, "kept").await;
    let fresh = upload(&server, &device, "fresh").await;
    let backdate = |pic: &str, days: i64| {
        server
            .sql()
            .execute(
                "UPDATE notice SET created_at = created_at - ?1 WHERE pic_name = ?2",
                rusqlite::params![days * 86_400, pic],
            )
            .unwrap();
    };
    backdate(&old, 181);
    backdate(&kept, 400);
    backdate(&fresh, 179);
    let kept_event: String =
        server.sql().query_row("SELECT event_id FROM notice WHERE pic_name = ?1", [&kept], |r| r.get(0)).unwrap();
    fails(
        &call(
            &server,
            "/api/admin/notice",
            Some(&alice),
            "notice",
            "keep",
            json!({"event_id": kept_event, "keep": true}),
        )
        .await,
        -103,
    );
    ok(call(
        &server,
        "/api/admin/notice",
        Some(&admin),
        "notice",
        "keep",
        json!({"event_id": kept_event, "keep": true}),
    )
    .await);
    ok(call(&server, "/api/get/notice", Some(&alice), "notice", "sign", json!({"event_id": kept_event})).await);
    let old_event: String =
        server.sql().query_row("SELECT event_id FROM notice WHERE pic_name = ?1", [&old], |r| r.get(0)).unwrap();
    ok(call(&server, "/api/get/notice", Some(&alice), "notice", "sign", json!({"event_id": old_event})).await);

    let removed = hearth::surfaces::care::retention::purge(&server.running().app).await.unwrap();
    assert_eq!(removed, 1);
    let left: Vec<String> =
        notices(&server, &alice, 2).await.iter().map(|n| n["pic_name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, vec![fresh.clone(), kept.clone()]);
    let on_disk = |pic: &str| server.data().join(format!("uploads/notices/{pic}.png")).exists();
    assert!(!on_disk(&old) && on_disk(&kept) && on_disk(&fresh));
    let reads: i64 = server.sql().query_row("SELECT COUNT(*) FROM notice_read", [], |r| r.get(0)).unwrap();
    assert_eq!(reads, 1, "the removed notice's read state went with it");
}

#[tokio::test]
async fn data_role_device_scopes_narrow_lists() {
    let server = TestServer::start().await;
    let alice = user(&server, "13600000051").await;
    add_device(&server, &alice, "a").await;
    let b = add_device(&server, &alice, "b").await;
    upload(&server, &b, "in b").await;
    let id_a: i64 = server.sql().query_row("SELECT id FROM device WHERE name = 'a'", [], |r| r.get(0)).unwrap();
    let conn = server.sql();
    conn.execute("INSERT INTO data_role (id, name, created_at) VALUES (50, 'only a', 0)", []).unwrap();
    conn.execute(
        "INSERT INTO data_role_scope (data_role_id, kind, value) VALUES (50, 'care.device', ?1)",
        [id_a.to_string()],
    )
    .unwrap();
    conn.execute("INSERT INTO account_data_role (account_id, data_role_id) SELECT id, 50 FROM account WHERE phone = '13600000051'", []).unwrap();
    let listed = ok(call(&server, "/api/device", Some(&alice), "device", "list", json!({})).await);
    assert_eq!(listed["num"], 1);
    assert_eq!(listed["list"][0]["device"], "a");
    assert!(notices(&server, &alice, 2).await.is_empty());
}

#[tokio::test]
async fn snapshots_cut_short_or_corrupted_are_refused_and_whole_ones_kept() {
    let server = TestServer::start().await;
    let alice = user(&server, "13600000091").await;
    let device = add_device(&server, &alice, "hall").await;
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 99]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    let png = png_bytes(16, 9, 70);
    let upload_of = |bytes: Vec<u8>| {
        let (server, device) = (&server, &device);
        async move { call(server, "/api/notice", Some(device), "notice", "upload", json!({"base64": b64(&bytes)})).await }
    };
    // A JPEG without its end-of-image marker, or cut inside its image data.
    fails(&upload_of(jpeg[..jpeg.len() - 2].to_vec()).await, -204);
    fails(&upload_of(jpeg[..jpeg.len() / 2].to_vec()).await, -204);
    // A JPEG whose scan marker is broken.
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut broken = jpeg.clone();
    broken[sos + 1] = 0x00;
    fails(&upload_of(broken).await, -204);
    // A PNG with a changed byte in its image data: its CRC no longer matches.
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    let mut corrupt = png.clone();
    corrupt[idat + 6] ^= 0x10;
    fails(&upload_of(corrupt).await, -204);
    let files = || std::fs::read_dir(server.data().join("uploads/notices")).map_or(0, |d| d.count());
    assert_eq!(files(), 0, "refused snapshots leave no file");
    ok(upload_of(jpeg).await);
    ok(upload_of(png).await);
    assert_eq!(files(), 2);
}
