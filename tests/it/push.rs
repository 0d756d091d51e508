//! Web Push against a loopback push service: falls reach the subscriptions of those who see
//! the camera, signed (VAPID) and encrypted (aes128gcm); an expired subscription is dropped;
//! a failing service is retried; endpoints off the allowed hosts are refused.

use serde_json::{json, Value};

use crate::care_support::*;
use crate::common::{read, TestServer};
use crate::push_support::{poll_until, scalar, self_signed_acceptor, verify_vapid, Browser, PushService};

/// A server that may push to the loopback service (plain http, named exactly).
async fn server_for(service: &PushService, adjust: impl FnOnce(&mut hearth::config::Config)) -> TestServer {
    let _ = service;
    TestServer::start_with(|c| {
        c.push_endpoint_hosts = vec!["127.0.0.1".into()];
        adjust(c)
    })
    .await
}

async fn care_subscribe(server: &TestServer, token: &str, subscription: Value) -> i64 {
    let data = ok(call(server, "/api/push", Some(token), "push", "subscribe", subscription).await);
    data["id"].as_i64().expect("the subscription's id")
}

async fn system_post(server: &TestServer, path: &str, token: &str, body: &Value) -> Value {
    let res = server.client.post(server.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let (http, answer) = read(res).await;
    assert_eq!(http, 200, "{answer}");
    answer
}

#[tokio::test]
async fn a_fall_is_pushed_signed_and_encrypted_to_everyone_who_sees_the_camera() {
    let service = PushService::start().await;
    let server = server_for(&service, |c| c.push_contact = Some("mailto:ops@sunrise-care.org".into())).await;
    server.create_admin("root", "Root-pass-1").await;
    let root = server.system_login("root", "Root-pass-1").await;
    let (http, key) = server.get_auth("/system/api/push/key", &root).await;
    assert_eq!((http, &key["code"]), (200, &json!(0)), "{key}");
    let public_key = key["data"]["publicKey"].as_str().unwrap().to_owned();
    assert_eq!(public_key.len(), 87, "65 bytes in unpadded base64url: {public_key}");

    let alice = user(&server, "13700000021").await;
    let bob = user(&server, "13700000022").await;
    let camera = add_device(&server, &alice, "bedroom").await;
    let (alices_phone, bobs_phone, roots_desk) = (Browser::new(), Browser::new(), Browser::new());
    care_subscribe(&server, &alice, alices_phone.subscription(&service.endpoint("/push/alice"))).await;
    care_subscribe(&server, &bob, bobs_phone.subscription(&service.endpoint("/push/bob"))).await;
    // The super-administrator is not bound to the camera: it does not see its falls.
    let answer = system_post(
        &server,
        "/system/api/push/subscriptions",
        &root,
        &roots_desk.subscription(&service.endpoint("/push/root")),
    )
    .await;
    assert!(answer["data"].as_i64().is_some(), "{answer}");

    upload(&server, &camera, "someone fell in the bedroom").await;
    let got = service.wait_for("/push/alice", 1).await;
    let push = &got[0];
    assert_eq!(push.headers["content-encoding"], "aes128gcm");
    assert_eq!(push.headers["urgency"], "high");
    assert!(push.headers["ttl"].parse::<u64>().unwrap() > 0);
    let contact = verify_vapid(&push.headers["authorization"], &public_key, &service.origin);
    assert_eq!(contact, "mailto:ops@sunrise-care.org", "the operator's contact");
    let payload = alices_phone.decrypt(&push.body);
    let event_id: String =
        server.sql().query_row("SELECT event_id FROM notice ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(payload["type"], "fall", "{payload}");
    assert_eq!(payload["event_id"], event_id.as_str());
    assert_eq!(payload["device"], "bedroom");
    assert_eq!(payload["content"], "someone fell in the bedroom");
    assert_eq!(payload["createtime"].as_str().unwrap().len(), 19, "{payload}");
    assert_eq!(payload["escalated"], false);
    assert!(payload["url"].as_str().unwrap().starts_with(&server.base), "{payload}");
    assert!(payload["url"].as_str().unwrap().contains(&event_id), "{payload}");
    // Another browser's key does not open it.
    assert!(std::panic::catch_unwind(|| bobs_phone.decrypt(&push.body)).is_err());

    // Messages are queued for all recipients at once: none were queued for the others.
    assert_eq!(scalar(&server, "SELECT count(*) FROM push_message"), 1);
    poll_until("alice's message recorded as delivered", || {
        scalar(&server, "SELECT count(*) FROM push_message WHERE status = 'delivered'") == 1
    })
    .await;
    assert!(service.received("/push/bob").is_empty() && service.received("/push/root").is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_expired_subscription_is_removed_and_a_failing_service_is_retried() {
    let service = PushService::start().await;
    let server = server_for(&service, |c| c.webhook_backoff_secs = 0).await;
    let alice = user(&server, "13700000031").await;
    let camera = add_device(&server, &alice, "hall").await;
    let (phone, laptop) = (Browser::new(), Browser::new());
    let kept = care_subscribe(&server, &alice, phone.subscription(&service.endpoint("/push/phone"))).await;
    let expired = care_subscribe(&server, &alice, laptop.subscription(&service.endpoint("/push/laptop"))).await;
    service.answer("/push/phone", &[500]);
    service.answer("/push/laptop", &[410]);

    upload(&server, &camera, "fall in the hall").await;
    let got = service.wait_for("/push/phone", 2).await;
    assert_eq!((got[0].status, got[1].status), (500, 201));
    assert_eq!(phone.decrypt(&got[1].body)["content"], "fall in the hall");
    poll_until("the retried message recorded as delivered after two attempts", || {
        scalar(&server, "SELECT count(*) FROM push_message WHERE status = 'delivered' AND attempts = 2") == 1
    })
    .await;

    assert_eq!(service.wait_for("/push/laptop", 1).await.len(), 1);
    poll_until("the 410 subscription removed", || {
        scalar(&server, &format!("SELECT count(*) FROM push_subscription WHERE id = {expired}")) == 0
    })
    .await;
    let list = ok(call(&server, "/api/push", Some(&alice), "push", "list", json!({})).await);
    let ids: Vec<i64> = list.as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![kept]);
    // A gone subscription is never tried again.
    upload(&server, &camera, "second fall").await;
    service.wait_for("/push/phone", 3).await;
    assert_eq!(service.received("/push/laptop").len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_refusal_is_recorded_with_what_the_service_said() {
    let service = PushService::start().await;
    let server = server_for(&service, |_| {}).await;
    let alice = user(&server, "13700000032").await;
    let camera = add_device(&server, &alice, "hall").await;
    care_subscribe(&server, &alice, Browser::new().subscription(&service.endpoint("/push/refused"))).await;
    service.answer("/push/refused", &[403]);
    service.say(403, "{\"reason\":\"BadJwtToken\"}\n");
    upload(&server, &camera, "fall in the hall").await;
    service.wait_for("/push/refused", 1).await;
    poll_until("the refusal recorded, not retried", || {
        scalar(&server, "SELECT count(*) FROM push_message WHERE status = 'failed' AND attempts = 1") == 1
    })
    .await;
    let error: String = server.sql().query_row("SELECT last_error FROM push_message", [], |r| r.get(0)).unwrap();
    assert_eq!(error, "the push service answered HTTP 403: {\"reason\":\"BadJwtToken\"}");
    server.stop().await;
}

#[tokio::test]
async fn an_apple_subscription_needs_a_public_contact_for_the_token() {
    let apple = "https://web.push.apple.com/QGuTnVEPmY7sr";
    let server = TestServer::start_with(|c| c.public_url = Some("http://192.168.1.20:8080".into())).await;
    server.create_admin("root", "Root-pass-1").await;
    let root = server.system_login("root", "Root-pass-1").await;
    let answer =
        system_post(&server, "/system/api/push/subscriptions", &root, &Browser::new().subscription(apple)).await;
    assert_eq!(answer["code"], -1, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("push_contact"), "{answer}");
    let alice = user(&server, "13700000053").await;
    let answer =
        call(&server, "/api/push", Some(&alice), "push", "subscribe", Browser::new().subscription(apple)).await;
    fails(&answer, -204);
    assert!(answer["message"].as_str().unwrap().contains("Apple"), "{answer}");
    assert_eq!(scalar(&server, "SELECT count(*) FROM push_subscription"), 0);
    // Other services take the placeholder contact.
    care_subscribe(&server, &alice, Browser::new().subscription("https://fcm.googleapis.com/fcm/send/f1")).await;
    server.stop().await;

    let server = TestServer::start_with(|c| c.public_url = Some("https://hearth.sunrise-care.org".into())).await;
    let alice = user(&server, "13700000053").await;
    care_subscribe(&server, &alice, Browser::new().subscription(apple)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_camera_going_offline_is_pushed_to_those_bound_to_it() {
    let service = PushService::start().await;
    let server = server_for(&service, |c| c.care_offline_secs = 2).await;
    let alice = user(&server, "13700000041").await;
    let camera = add_device(&server, &alice, "porch").await;
    ok(get(&server, &format!("/api/device/heartbeat?token={camera}")).await);
    // Subscribed once the watcher has seen the camera online, so the first change is going offline.
    poll_until("the camera seen online", || {
        scalar(&server, "SELECT count(*) FROM alert_device_state WHERE online = 1") == 1
    })
    .await;
    let phone = Browser::new();
    care_subscribe(&server, &alice, phone.subscription(&service.endpoint("/push/alice"))).await;
    let got = service.wait_for("/push/alice", 1).await;
    let payload = phone.decrypt(&got[0].body);
    assert_eq!((&payload["type"], &payload["device"]), (&json!("device_offline"), &json!("porch")), "{payload}");
    assert_eq!(payload["escalated"], false);
    ok(get(&server, &format!("/api/device/heartbeat?token={camera}")).await);
    let got = service.wait_for("/push/alice", 2).await;
    assert_eq!(phone.decrypt(&got[1].body)["type"], "device_online");
    server.stop().await;
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// A fall whose one push goes to `https://127.0.0.1:<port><path>`, a bare listener's: the
/// server, and hearth's connection to that listener, on which nothing has been read yet.
async fn fall_pushed_over_https(path: &str, phone: &str) -> (TestServer, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}{path}", listener.local_addr().unwrap().port());
    let server = TestServer::start_with(|c| {
        c.push_endpoint_hosts = vec!["127.0.0.1".into()];
        c.webhook_backoff_secs = 3600;
    })
    .await;
    let alice = user(&server, phone).await;
    let camera = add_device(&server, &alice, "porch").await;
    care_subscribe(&server, &alice, Browser::new().subscription(&endpoint)).await;
    upload(&server, &camera, "fall on the porch").await;
    let (socket, _) = tokio::time::timeout(WAIT, listener.accept()).await.expect("hearth connects").unwrap();
    (server, socket)
}

#[tokio::test]
async fn an_https_endpoint_is_spoken_to_over_tls() {
    // Every browser's push service is https. A listener that is no push service: it reads
    // what hearth first sends and hangs up, which hearth must treat as a failure to retry.
    let (server, mut socket) = fall_pushed_over_https("/push/tls", "13700000051").await;
    let mut first = [0u8; 6];
    tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_exact(&mut socket, &mut first))
        .await
        .expect("hearth speaks first")
        .unwrap();
    // A TLS record of the handshake type (22), version 3.x, opening with a ClientHello (1).
    assert_eq!((first[0], first[1], first[5]), (22, 3, 1), "not a TLS ClientHello: {first:?}");
    drop(socket);
    poll_until("the failed attempt recorded, to be tried again", || {
        scalar(
            &server,
            "SELECT count(*) FROM push_message WHERE status = 'pending' AND attempts = 1 AND last_error IS NOT NULL",
        ) == 1
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_push_service_whose_certificate_no_authority_signed_is_refused() {
    let (server, socket) = fall_pushed_over_https("/push/self-signed", "13700000052").await;
    let handshake =
        tokio::time::timeout(WAIT, self_signed_acceptor().accept(socket)).await.expect("the handshake ends");
    let refused = handshake.expect_err("hearth never completes a handshake with an unknown authority");
    // hearth hung up with a TLS alert naming an unknown authority; no request was sent.
    assert!(refused.to_string().contains("fatal alert: UnknownCA"), "{refused}");
    poll_until("the refusal recorded, to be tried again", || {
        scalar(&server, "SELECT count(*) FROM push_message WHERE status = 'pending' AND attempts = 1") == 1
    })
    .await;
    let error: String = server.sql().query_row("SELECT last_error FROM push_message", [], |r| r.get(0)).unwrap();
    // The record says why, in words an operator can act on, and keeps the endpoint out.
    assert!(error.contains("invalid peer certificate") && error.contains("UnknownIssuer"), "{error}");
    assert!(!error.contains("/push/self-signed"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn subscriptions_off_the_allowed_hosts_or_with_bad_keys_are_refused_in_each_envelope() {
    // The default hosts: the browsers' push services only.
    let server = TestServer::start().await;
    server.create_admin("root", "Root-pass-1").await;
    let root = server.system_login("root", "Root-pass-1").await;
    let browser = Browser::new();
    let path = "/system/api/push/subscriptions";

    let answer = system_post(&server, path, &root, &browser.subscription("https://push.evil.example/x")).await;
    assert_eq!(answer["code"], -1, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("push_endpoint_hosts"), "{answer}");
    let answer = system_post(&server, path, &root, &browser.subscription("http://fcm.googleapis.com/fcm/send/x")).await;
    assert!(answer["message"].as_str().unwrap().contains("https"), "{answer}");
    let mut short = browser.subscription("https://fcm.googleapis.com/fcm/send/x");
    short["keys"]["auth"] = json!("AAEC");
    let answer = system_post(&server, path, &root, &short).await;
    assert!(answer["message"].as_str().unwrap().contains("keys.auth"), "{answer}");

    let alice = user(&server, "13700000051").await;
    let answer =
        call(&server, "/api/push", Some(&alice), "push", "subscribe", browser.subscription("https://evil.example/p"))
            .await;
    fails(&answer, -204);
    assert!(answer["message"].as_str().unwrap().contains("push_endpoint_hosts"), "{answer}");
    let mut bad_point = browser.subscription("https://web.push.apple.com/x");
    bad_point["keys"]["p256dh"] = json!("BAAA");
    fails(&call(&server, "/api/push", Some(&alice), "push", "subscribe", bad_point).await, -204);
    fails(
        &call(
            &server,
            "/api/push",
            Some(&alice),
            "push",
            "subscribe",
            json!({"endpoint": "https://fcm.googleapis.com/x"}),
        )
        .await,
        -3,
    );
    assert_eq!(scalar(&server, "SELECT count(*) FROM push_subscription"), 0, "nothing half-written");

    // An allowed one is kept, listed for its owner only, and only its owner removes it.
    let answer =
        system_post(&server, path, &root, &browser.subscription("https://fcm.googleapis.com/fcm/send/ok")).await;
    let id = answer["data"].as_i64().expect("an id");
    let (_, listed) = server.get_auth(path, &root).await;
    assert_eq!(listed["data"][0]["endpoint"], "https://fcm.googleapis.com/fcm/send/ok", "{listed}");
    assert_eq!(listed["data"][0]["id"], id);
    let theirs = ok(call(&server, "/api/push", Some(&alice), "push", "list", json!({})).await);
    assert_eq!(theirs, json!([]));
    fails(&call(&server, "/api/push", Some(&alice), "push", "unsubscribe", json!({"id": id})).await, -204);
    let res = server.client.delete(server.url(&format!("{path}/{id}"))).bearer_auth(&root).send().await.unwrap();
    let (_, answer) = read(res).await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(scalar(&server, "SELECT count(*) FROM push_subscription"), 0);
    let res = server.client.delete(server.url(&format!("{path}/{id}"))).bearer_auth(&root).send().await.unwrap();
    assert_eq!(read(res).await.1["code"], -1);
    server.stop().await;
}

#[tokio::test]
async fn care_push_subtypes_give_the_key_and_manage_own_subscriptions() {
    let server = TestServer::start().await;
    let alice = user(&server, "13700000061").await;
    let key = ok(call(&server, "/api/push", Some(&alice), "push", "key", json!({})).await);
    let public_key = key["publicKey"].as_str().unwrap();
    assert_eq!(public_key, server.running().app.vapid.public_key);
    let stored = std::fs::metadata(server.data().join("secrets/vapid.key")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&stored.permissions()) & 0o777, 0o600);

    let browser = Browser::new();
    let endpoint = "https://updates.push.services.mozilla.com/wpush/v2/abc";
    let id = care_subscribe(&server, &alice, browser.subscription(endpoint)).await;
    // The same browser subscribing again keeps one subscription.
    assert_eq!(care_subscribe(&server, &alice, browser.subscription(endpoint)).await, id);
    let list = ok(call(&server, "/api/push", Some(&alice), "push", "list", json!({})).await);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!((&list[0]["id"], &list[0]["endpoint"]), (&json!(id), &json!(endpoint)));
    assert_eq!(list[0]["createTime"].as_str().unwrap().len(), 19);
    ok(call(&server, "/api/push", Some(&alice), "push", "unsubscribe", json!({"id": id.to_string()})).await);
    assert_eq!(ok(call(&server, "/api/push", Some(&alice), "push", "list", json!({})).await), json!([]));
    fails(&call(&server, "/api/push", Some(&alice), "push", "unsubscribe", json!({"id": id})).await, -204);
    fails(&call(&server, "/api/push", None, "push", "key", json!({})).await, -100);
    fails(&call(&server, "/api/push", Some(&alice), "push", "other", json!({})).await, -2);

    // The key survives a restart: browsers subscribed under it keep working.
    let server = server.restart().await;
    assert_eq!(server.running().app.vapid.public_key, public_key);
    server.stop().await;
}
