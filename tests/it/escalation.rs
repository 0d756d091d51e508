//! Falls nobody bound to the camera acknowledges are sent again (`escalated: true`) on push,
//! MQTT and SSE, also to holders of the escalation roles who are not bound to the camera,
//! every `care_escalate_after_secs` until acknowledged or repeated `care_escalate_repeat` times.

use std::time::Duration;

use serde_json::{json, Value};

use crate::care_support::*;
use crate::common::TestServer;
use crate::mqtt_support::{Broker, Subscriber};
use crate::push_support::{poll_until, scalar, Browser, PushService};

/// A server escalating after 1 s, at most `repeat` times, that may push to the loopback service.
async fn server(repeat: u32, mqtt: Option<String>) -> TestServer {
    TestServer::start_with(|c| {
        c.push_endpoint_hosts = vec!["127.0.0.1".into()];
        c.care_escalate_after_secs = 1;
        c.care_escalate_repeat = repeat;
        c.mqtt_url = mqtt;
    })
    .await
}

async fn subscribe(server: &TestServer, token: &str, browser: &Browser, endpoint: String) {
    ok(call(server, "/api/push", Some(token), "push", "subscribe", browser.subscription(&endpoint)).await);
}

/// A user bound to one camera, and the super-administrator (an escalation role), not bound.
struct Scene {
    alice: String,
    root: String,
    camera: String,
}

async fn scene(server: &TestServer) -> Scene {
    let alice = user(server, "13700000031").await;
    let root = admin(server, "13700000039").await;
    let camera = add_device(server, &alice, "bedroom").await;
    Scene { alice, root, camera }
}

fn newest_event_id(server: &TestServer) -> String {
    server.sql().query_row("SELECT event_id FROM notice ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).unwrap()
}

async fn acknowledge(server: &TestServer, token: &str, event_id: &str) {
    ok(call(server, "/api/get/notice", Some(token), "notice", "sign", json!({"event_id": event_id})).await);
}

fn escalations_queued(server: &TestServer) -> i64 {
    scalar(server, "SELECT COUNT(*) FROM push_message WHERE kind = 'escalation'")
}

/// Reads SSE frames until one named `wanted` carries data.
async fn next_named<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buffer: &mut String,
    wanted: &str,
) -> Value {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let name = frame.lines().find_map(|l| l.strip_prefix("event:")).map(|v| v.trim().to_owned());
            let data = frame.lines().find_map(|l| l.strip_prefix("data:")).map(|v| v.trim().to_owned());
            if let (Some(name), Some(data)) = (name, data) {
                if name == wanted {
                    return serde_json::from_str(&data).unwrap();
                }
            }
            continue;
        }
        let chunk = futures_util::StreamExt::next(stream).await.expect("stream open").unwrap();
        buffer.push_str(std::str::from_utf8(chunk.as_ref()).unwrap());
    }
}

#[tokio::test]
async fn an_unacknowledged_fall_is_escalated_on_push_mqtt_and_sse_to_an_unbound_admin() {
    let broker = Broker::start();
    let service = PushService::start().await;
    let server = server(1, Some(broker.url())).await;
    let ha = Subscriber::connect(&broker, &["hearth/#"]).await;
    ha.wait("hearth/status", Duration::from_secs(10), |m| m.text() == "online").await;
    let s = scene(&server).await;
    let (alices_phone, roots_phone) = (Browser::new(), Browser::new());
    subscribe(&server, &s.alice, &alices_phone, service.endpoint("/push/alice")).await;
    subscribe(&server, &s.root, &roots_phone, service.endpoint("/push/root")).await;
    let stream = open_stream(&server, &s.root, None).await;
    assert_eq!(stream.status(), 200);
    let mut stream = stream.bytes_stream();
    let mut buffer = String::new();

    upload(&server, &s.camera, "fell in the bedroom").await;
    let event_id = newest_event_id(&server);
    let id: i64 = scalar(&server, "SELECT id FROM device WHERE name = 'bedroom'");

    // The unbound administrator gets nothing for the fall itself, then the escalation.
    let got = service.wait_for("/push/root", 1).await;
    let body = roots_phone.decrypt(&got[0].body);
    assert_eq!(
        (&body["type"], &body["escalated"], &body["event_id"]),
        (&json!("escalation"), &json!(true), &json!(event_id))
    );
    assert_eq!(body["content"], "fell in the bedroom");
    // Alice gets the fall, then its escalation.
    let got = service.wait_for("/push/alice", 2).await;
    let types: Vec<Value> = got.iter().map(|p| alices_phone.decrypt(&p.body)["type"].clone()).collect();
    assert_eq!(types, [json!("fall"), json!("escalation")]);

    let escalated = ha
        .wait(&format!("hearth/camera/{id}/event"), Duration::from_secs(15), |m| m.json()["escalated"] == true)
        .await
        .json();
    assert_eq!((&escalated["event_type"], &escalated["event_id"]), (&json!("fall"), &json!(event_id)));

    let data = tokio::time::timeout(Duration::from_secs(15), next_named(&mut stream, &mut buffer, "escalation"))
        .await
        .expect("an escalation event on the administrator's stream");
    assert_eq!((&data["event_id"], &data["escalated"], &data["round"]), (&json!(event_id), &json!(true), &json!(1)));
    assert_eq!(data["device"], "bedroom");
    server.stop().await;
}

#[tokio::test]
async fn a_fall_acknowledged_in_time_is_not_escalated() {
    let server = server(3, None).await;
    let s = scene(&server).await;
    upload(&server, &s.camera, "fell, and answered").await;
    acknowledge(&server, &s.alice, &newest_event_id(&server)).await;
    // The escalation is closed only once it is due, and then instead of being sent.
    poll_until("the escalation closed", || {
        scalar(&server, "SELECT COALESCE((SELECT done FROM alert_escalation), 0)") == 1
    })
    .await;
    assert_eq!(scalar(&server, "SELECT sent FROM alert_escalation"), 0);
    assert_eq!(escalations_queued(&server), 0);
    server.stop().await;
}

#[tokio::test]
async fn escalation_stops_after_the_repeat_count_and_a_restart_keeps_the_count() {
    let service = PushService::start().await;
    let server = server(2, None).await;
    let s = scene(&server).await;
    let roots_phone = Browser::new();
    subscribe(&server, &s.root, &roots_phone, service.endpoint("/push/root")).await;
    upload(&server, &s.camera, "nobody answers").await;
    poll_until("two escalations", || scalar(&server, "SELECT COALESCE((SELECT done FROM alert_escalation), 0)") == 1)
        .await;
    assert_eq!(scalar(&server, "SELECT sent FROM alert_escalation"), 2);
    let rounds: Vec<Value> =
        service.wait_for("/push/root", 2).await.iter().map(|p| roots_phone.decrypt(&p.body)["type"].clone()).collect();
    assert_eq!(rounds, [json!("escalation"), json!("escalation")]);
    // Alice is sent each round too, but she has no subscription: only root's messages are queued.
    assert_eq!(escalations_queued(&server), 2);
    // Past the repeat count a restart sends nothing more.
    let server = server.restart().await;
    let fall = upload(&server, &s.camera, "a second fall").await;
    assert!(!fall.is_empty());
    poll_until("the second fall's escalations", || {
        scalar(&server, "SELECT COUNT(*) FROM alert_escalation WHERE done = 1") == 2
    })
    .await;
    assert_eq!(escalations_queued(&server), 4, "two for each fall, none more for the first");
    server.stop().await;
}

#[tokio::test]
async fn acknowledging_midway_stops_escalation_at_once() {
    let server = server(50, None).await;
    let s = scene(&server).await;
    let service = PushService::start().await;
    subscribe(&server, &s.root, &Browser::new(), service.endpoint("/push/root")).await;
    upload(&server, &s.camera, "fell, answered late").await;
    poll_until("a first escalation", || escalations_queued(&server) >= 1).await;
    acknowledge(&server, &s.alice, &newest_event_id(&server)).await;
    let after_ack = escalations_queued(&server);
    poll_until("the escalation closed", || {
        scalar(&server, "SELECT COALESCE((SELECT done FROM alert_escalation), 0)") == 1
    })
    .await;
    assert_eq!(escalations_queued(&server), after_ack, "nothing sent after the acknowledgement");
    assert!(after_ack < 50);
    assert_eq!(scalar(&server, "SELECT sent FROM alert_escalation"), after_ack);
    server.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_the_schedule_without_sending_early() {
    let service = PushService::start().await;
    let server = TestServer::start_with(|c| {
        c.push_endpoint_hosts = vec!["127.0.0.1".into()];
        c.care_escalate_after_secs = 3;
        c.care_escalate_repeat = 2;
    })
    .await;
    let s = scene(&server).await;
    subscribe(&server, &s.root, &Browser::new(), service.endpoint("/push/root")).await;
    upload(&server, &s.camera, "fell before a restart").await;
    poll_until("a first escalation", || {
        scalar(&server, "SELECT COALESCE((SELECT sent FROM alert_escalation), 0)") == 1
    })
    .await;
    let due = scalar(&server, "SELECT next_at FROM alert_escalation");
    let server = server.restart().await;
    poll_until("the second escalation", || escalations_queued(&server) == 2).await;
    let last = scalar(&server, "SELECT MAX(created_at) FROM push_message WHERE kind = 'escalation'");
    assert!(last >= due / 1000, "the second round was queued at {last}, before it was due at {due} ms");
    assert_eq!(scalar(&server, "SELECT sent FROM alert_escalation"), 2);
    server.stop().await;
}
