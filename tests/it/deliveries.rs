//! The delivery record of fall alerts (`/care/api/admin/delivery`): who was told on which
//! channel and how it went, written by the push worker and the live stream; who
//! acknowledged it when; administrators only, within their data scope.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::care_support::*;
use crate::common::TestServer;
use crate::mqtt_support::{Broker, Subscriber};
use crate::push_support::{Browser, PushService};

const PATH: &str = "/api/admin/delivery";

async fn push_server(adjust: impl FnOnce(&mut hearth::config::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.push_endpoint_hosts = vec!["127.0.0.1".into()];
        adjust(c)
    })
    .await
}

async fn record(server: &TestServer, admin: &str, event_id: &str) -> Value {
    ok(call(server, PATH, Some(admin), "notice", "delivery", json!({ "event_id": event_id })).await)
}

/// Reads the record until `done` holds, failing after 15 s.
async fn record_until(server: &TestServer, admin: &str, event_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = record(server, admin, event_id).await;
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "the delivery record never got there: {got}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn on(record: &Value, channel: &str) -> Vec<Value> {
    record["deliveries"].as_array().unwrap().iter().filter(|d| d["channel"] == channel).cloned().collect()
}

async fn newest_event(server: &TestServer, token: &str) -> String {
    notices(server, token, 2).await[0]["event_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_fall_pushed_and_streamed_is_recorded_as_delivered_and_the_acknowledgement_shows_who_and_when() {
    let service = PushService::start().await;
    let server = push_server(|_| {}).await;
    let root = admin(&server, "13700000091").await;
    let alice = user(&server, "13700000092").await;
    let camera = add_device(&server, &alice, "bedroom").await;
    let alice_id: i64 =
        server.sql().query_row("SELECT id FROM account WHERE phone = '13700000092'", [], |r| r.get(0)).unwrap();
    let phone = Browser::new();
    ok(call(&server, "/api/push", Some(&alice), "push", "subscribe", phone.subscription(&service.endpoint("/p/a")))
        .await);
    let stream = open_stream(&server, &alice, None).await;
    let mut events = stream.bytes_stream();
    let mut buffer = String::new();

    upload(&server, &camera, "fell by the bed").await;
    let (_, live) = next_event(&mut events, &mut buffer).await;
    service.wait_for("/p/a", 1).await;
    let event_id = newest_event(&server, &alice).await;
    assert_eq!(live["event_id"], event_id.as_str());
    let got = record_until(&server, &root, &event_id, |r| !on(r, "push").is_empty() && !on(r, "sse").is_empty()).await;
    assert_eq!((&got["event_id"], &got["device"]), (&json!(event_id), &json!("bedroom")), "{got}");
    let push = &on(&got, "push")[0];
    assert_eq!(
        (&push["account_id"], &push["delivered"], &push["escalated"]),
        (&json!(alice_id), &json!(true), &json!(false))
    );
    assert_eq!(push["time"].as_str().unwrap().len(), 19, "{push}");
    assert!(push.get("reason").is_none(), "{push}");
    let sse = &on(&got, "sse")[0];
    assert_eq!((&sse["account_id"], &sse["delivered"]), (&json!(alice_id), &json!(true)));
    assert_eq!(got["acknowledged"], json!([]));

    ok(call(&server, "/api/get/notice", Some(&alice), "notice", "sign", json!({ "event_id": event_id })).await);
    let got = record(&server, &root, &event_id).await;
    let acknowledged = got["acknowledged"].as_array().unwrap();
    assert_eq!(acknowledged.len(), 1, "{got}");
    assert_eq!(acknowledged[0]["account_id"], alice_id);
    assert_eq!(acknowledged[0]["account"], "13700000092", "an account without a name is shown by its phone");
    assert_eq!(acknowledged[0]["time"].as_str().unwrap().len(), 19);
    server.stop().await;
}

#[tokio::test]
async fn a_push_service_failing_until_the_attempts_run_out_is_recorded_as_failed_without_the_endpoint() {
    let service = PushService::start().await;
    let server = push_server(|c| {
        c.webhook_backoff_secs = 0;
        c.webhook_max_attempts = 3;
    })
    .await;
    let root = admin(&server, "13700000093").await;
    let alice = user(&server, "13700000094").await;
    let camera = add_device(&server, &alice, "hall").await;
    let endpoint = service.endpoint("/p/secret-token-of-this-browser");
    ok(call(&server, "/api/push", Some(&alice), "push", "subscribe", Browser::new().subscription(&endpoint)).await);
    service.answer("/p/secret-token-of-this-browser", &[500, 500, 500]);

    upload(&server, &camera, "fell in the hall").await;
    let event_id = newest_event(&server, &alice).await;
    let got = record_until(&server, &root, &event_id, |r| !on(r, "push").is_empty()).await;
    assert_eq!(service.received("/p/secret-token-of-this-browser").len(), 3);
    let push = &on(&got, "push")[0];
    assert_eq!(push["delivered"], false, "{got}");
    let reason = push["reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 500") && reason.contains("3 attempts"), "{reason}");
    assert!(reason.contains("127.0.0.1"), "the push service's host is named: {reason}");
    assert!(!reason.contains("secret-token"), "the endpoint's path is a secret: {reason}");
    assert_eq!(on(&got, "push").len(), 1, "retries are not outcomes: {got}");
    server.stop().await;
}

#[tokio::test]
async fn the_record_is_for_administrators_within_their_data_scope_and_refusals_come_in_the_care_envelope() {
    let server = TestServer::start().await;
    let root = admin(&server, "13700000095").await;
    let alice = user(&server, "13700000096").await;
    let camera = add_device(&server, &alice, "kitchen").await;
    upload(&server, &camera, "fell in the kitchen").await;
    let event_id = newest_event(&server, &alice).await;

    // Bound to the camera and able to read its notices, but not an administrator.
    let refused = call(&server, PATH, Some(&alice), "notice", "delivery", json!({ "event_id": event_id })).await;
    fails(&refused, -103);
    assert_eq!(refused["data"], json!({}), "{refused}");
    fails(&call(&server, PATH, None, "notice", "delivery", json!({ "event_id": event_id })).await, -100);
    fails(&call(&server, PATH, Some(&root), "notice", "delivery", json!({ "event_id": "nope" })).await, 100);
    fails(&call(&server, PATH, Some(&root), "notice", "delivery", json!({})).await, -3);
    fails(&call(&server, PATH, Some(&root), "notice", "keep", json!({ "event_id": event_id })).await, -2);
    // Nothing was sent (no stream, no subscription, no broker): an empty record, not an error.
    let got = record(&server, &root, &event_id).await;
    assert_eq!((&got["deliveries"], &got["acknowledged"]), (&json!([]), &json!([])), "{got}");

    // An administrator (管理员) whose data scope holds another camera only: as if missing.
    let warden = user(&server, "13700000099").await;
    let other = add_device(&server, &warden, "porch").await;
    upload(&server, &other, "fell on the porch").await;
    let porch_event = newest_event(&server, &warden).await;
    let conn = server.sql();
    conn.execute(
        "INSERT INTO account_role (account_id, role_id) SELECT id, ?1 FROM account WHERE phone = '13700000099'",
        [hearth::identity::roles::ADMIN],
    )
    .unwrap();
    conn.execute("INSERT INTO data_role (id, name, created_at) VALUES (60, 'porch only', 0)", []).unwrap();
    conn.execute(
        "INSERT INTO data_role_scope (data_role_id, kind, value) SELECT 60, 'care.device', id FROM device WHERE name = 'porch'",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO account_data_role (account_id, data_role_id) SELECT id, 60 FROM account WHERE phone = '13700000099'",
        [],
    )
    .unwrap();
    // Written behind the server's back: it is told, as it keeps callers' scopes in memory.
    server.running().app.identity.forget_callers();
    let warden = login(&server, "13700000099", "pass-of-13700000099").await;
    assert_eq!(record(&server, &warden, &porch_event).await["device"], "porch");
    fails(&call(&server, PATH, Some(&warden), "notice", "delivery", json!({ "event_id": event_id })).await, 100);
    server.stop().await;
}

#[tokio::test]
async fn mqtt_events_are_recorded_for_the_broker_and_escalations_are_marked() {
    let broker = Broker::start();
    let service = PushService::start().await;
    let server = push_server(|c| {
        c.mqtt_url = Some(broker.url());
        c.care_escalate_after_secs = 1;
        c.care_escalate_repeat = 1;
    })
    .await;
    let ha = Subscriber::connect(&broker, &["hearth/#"]).await;
    ha.wait("hearth/status", Duration::from_secs(10), |m| m.text() == "online").await;
    let root = admin(&server, "13700000097").await;
    let alice = user(&server, "13700000098").await;
    let camera = add_device(&server, &alice, "study").await;
    ok(call(
        &server,
        "/api/push",
        Some(&alice),
        "push",
        "subscribe",
        Browser::new().subscription(&service.endpoint("/p/a")),
    )
    .await);

    upload(&server, &camera, "fell in the study").await;
    let event_id = newest_event(&server, &alice).await;
    let got = record_until(&server, &root, &event_id, |r| {
        on(r, "mqtt").len() == 2 && on(r, "push").iter().filter(|d| d["escalated"] == true).count() == 1
    })
    .await;
    let mqtt = on(&got, "mqtt");
    assert!(mqtt.iter().all(|d| d.get("account_id").is_none() && d["delivered"] == true), "{got}");
    assert_eq!(mqtt.iter().filter(|d| d["escalated"] == true).count(), 1, "the fall, then its escalation: {got}");
    let push = on(&got, "push");
    assert_eq!(push.len(), 2, "alice's fall and its escalation; root has no subscription: {got}");
    assert!(push.iter().all(|d| d["delivered"] == true), "{got}");
    server.stop().await;
}
