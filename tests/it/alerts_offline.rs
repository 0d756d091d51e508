//! Cameras going offline and back reach the live stream as events named `device`, only for
//! accounts bound to the camera.

use std::time::Duration;

use crate::care_support::*;
use crate::common::TestServer;
use futures_util::StreamExt;
use serde_json::Value;

/// Reads frames until one carries data; answers (event name, data).
async fn next_named<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buffer: &mut String,
) -> (String, Value) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let name = frame.lines().find_map(|l| l.strip_prefix("event:")).map(|v| v.trim().to_owned());
            let data = frame.lines().find_map(|l| l.strip_prefix("data:")).map(|v| v.trim().to_owned());
            if let Some(data) = data {
                return (name.unwrap_or_default(), serde_json::from_str(&data).unwrap());
            }
            continue;
        }
        let chunk = stream.next().await.expect("stream open").unwrap();
        buffer.push_str(std::str::from_utf8(chunk.as_ref()).unwrap());
    }
}

#[tokio::test]
async fn a_camera_going_silent_and_coming_back_is_a_device_event_for_those_bound_to_it() {
    let server = TestServer::start_with(|c| c.care_offline_secs = 2).await;
    let alice = user(&server, "13700000011").await;
    let bob = user(&server, "13700000012").await;
    let camera = add_device(&server, &alice, "bedroom").await;
    let theirs = add_device(&server, &bob, "bob's camera").await;
    ok(get(&server, &format!("/api/device/heartbeat?token={camera}")).await);
    let id: i64 = server.sql().query_row("SELECT id FROM device WHERE name = 'bedroom'", [], |r| r.get(0)).unwrap();
    // The watcher has seen it online before the streams open.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server
        .sql()
        .query_row("SELECT online FROM alert_device_state WHERE device_id = ?1", [id], |r| r.get::<_, bool>(0))
        .ok()
        != Some(true)
    {
        assert!(std::time::Instant::now() < deadline, "the camera was never seen online");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open = |token: String| {
        let server = &server;
        async move {
            let url = server.url(&format!("/care/api/notice/stream?token={token}"));
            let res = server.client.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.bytes_stream()
        }
    };
    let (mut alices, mut bobs) = (open(alice.clone()).await, open(bob.clone()).await);
    let (mut a, mut b) = (String::new(), String::new());

    let within = Duration::from_secs(15);
    let (name, data) = tokio::time::timeout(within, next_named(&mut alices, &mut a)).await.expect("offline event");
    assert_eq!(name, "device", "{data}");
    assert_eq!((data["id"].as_i64(), &data["device"], &data["online"]), (Some(id), &"bedroom".into(), &false.into()));
    assert_eq!(data["time"].as_str().unwrap().len(), 19);

    ok(get(&server, &format!("/api/device/heartbeat?token={camera}")).await);
    let (name, data) = tokio::time::timeout(within, next_named(&mut alices, &mut a)).await.expect("online event");
    assert_eq!((name.as_str(), &data["online"]), ("device", &true.into()), "{data}");

    // Bob is not bound to alice's camera: the first thing his stream carries is his own notice.
    upload(&server, &theirs, "bob's fall").await;
    let (name, data) = tokio::time::timeout(within, next_named(&mut bobs, &mut b)).await.expect("bob's notice");
    assert_eq!((name.as_str(), &data["content"]), ("notice", &"bob's fall".into()), "{data}");
    server.stop().await;
}
