//! The open platform (seed 003): app management on the system surface, client-credential
//! tokens, the document's error codes, per-app rate limits and signed webhooks.

use crate::care_support;
use crate::common;
use crate::open_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestServer;
use hmac::{Hmac, Mac};
use open_support::{admin_token, assert_open_error, camera, create_app, system, token};
use poem::web::Data;
use poem::{handler, http::StatusCode, listener::TcpListener, post, EndpointExt, Request};
use serde_json::{json, Value};
use sha2::Sha256;

#[tokio::test]
async fn the_token_answer_has_the_documented_shape() {
    let server = TestServer::start().await;
    let admin = admin_token(&server).await;
    let app = create_app(&server, &admin, json!(["care:read"]), None).await;
    assert!(app["appId"].as_str().unwrap().starts_with("app"));
    assert_eq!(app["appSecret"].as_str().unwrap().len(), 40);
    assert!(app["webhookSecret"].as_str().unwrap().starts_with("whsec_"));

    let body = token(&server, &app).await;
    assert_eq!(body["code"], 1);
    assert_eq!(body["message"], "成功");
    let token = body["data"]["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let expires = body["data"]["expirationTime"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(expires, "%Y-%m-%d %H:%M:%S").is_ok(), "{expires}");
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(timestamp.len() == 13 && timestamp.bytes().all(|b| b.is_ascii_digit()));

    // The secret is stored hashed only.
    let stored: Vec<u8> = server.sql().query_row("SELECT app_secret_hash FROM open_app", [], |r| r.get(0)).unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(app["appSecret"].as_str().unwrap()));
}

#[tokio::test]
async fn token_errors_use_the_documents_codes() {
    let server = TestServer::start_with(|c| c.open_token_secs = 1).await;
    let admin = admin_token(&server).await;
    let app = create_app(&server, &admin, json!(["care:read"]), None).await;

    let (_, wrong) = server.post_json("/open/api/token", &json!({ "appId": app["appId"], "appSecret": "nope" })).await;
    assert_open_error(&wrong, 15000);
    let (_, missing) = server.post_json("/open/api/token", &json!({ "appId": app["appId"] })).await;
    assert_open_error(&missing, 12004);
    assert_eq!(missing["message"], "missing field `appSecret`");
    let raw = server
        .client
        .post(server.url("/open/api/token"))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_open_error(&common::read(raw).await.1, 12004);
    let (_, unknown) = server.post_json("/open/api/nothing-here", &json!({})).await;
    assert_open_error(&unknown, 404);

    // An issued token expires after the configured lifetime: 10002.
    let issued = token(&server, &app).await;
    let bearer = issued["data"]["token"].as_str().unwrap().to_owned();
    let rotate_path = format!("/api/open/app/rotate/{}", app["id"]);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let check = server
        .client
        .post(server.url("/open/api/token"))
        .bearer_auth(&bearer)
        .json(&json!({"appId": app["appId"], "appSecret": app["appSecret"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(common::read(check).await.1["code"], 1, "the token endpoint ignores a stale Authorization");
    let expired = app_get(&server, &bearer).await;
    assert_open_error(&expired, 10002);

    // Rotation: the old secret and its tokens stop working; 10003 for a revoked token.
    let fresh = token(&server, &app).await["data"]["token"].as_str().unwrap().to_owned();
    let rotated = system(&server, &admin, reqwest::Method::POST, &rotate_path, None).await;
    assert_eq!(rotated["code"], 0);
    assert_ne!(rotated["data"]["appSecret"], app["appSecret"]);
    assert_eq!(rotated["data"]["appId"], app["appId"]);
    assert_open_error(&app_get(&server, &fresh).await, 10003);
    assert_open_error(&token(&server, &app).await, 15000);
    let mut renewed = app.clone();
    renewed["appSecret"] = rotated["data"]["appSecret"].clone();
    assert_eq!(token(&server, &renewed).await["code"], 1);

    // Tampered and absent tokens: 10003.
    let mut tampered = fresh.clone();
    tampered.pop();
    tampered.push('x');
    assert_open_error(&app_get(&server, &tampered).await, 10003);
    let bare = server.client.get(server.url(PROBE)).send().await.unwrap();
    assert_open_error(&common::read(bare).await.1, 10003);

    // A disabled app gets no token: 16000.
    let edit = format!("/api/open/app/edit/{}", app["id"]);
    system(&server, &admin, reqwest::Method::PUT, &edit, Some(json!({"enabled": "false"}))).await;
    assert_open_error(&token(&server, &renewed).await, 16000);
}

/// An authenticated open endpoint that needs no scope beyond the token.
const PROBE: &str = "/open/api/app";

async fn app_get(server: &TestServer, bearer: &str) -> Value {
    let res = server.client.get(server.url(PROBE)).bearer_auth(bearer).send().await.unwrap();
    let (status, body) = common::read(res).await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn apps_are_managed_by_administrators_only() {
    let server = TestServer::start().await;
    let admin = admin_token(&server).await;
    let app =
        create_app(&server, &admin, json!(["transit:read", "care:read", "care:read"]), Some("http://127.0.0.1:9/hook"))
            .await;
    let list = system(&server, &admin, reqwest::Method::GET, "/api/open/app/list", None).await;
    assert_eq!(list["total"], 1);
    let listed = &list["data"][0];
    assert_eq!(listed["scopes"], json!(["care:read", "transit:read"]));
    assert_eq!(listed["webhookUrl"], "http://127.0.0.1:9/hook");
    assert!(listed.get("appSecret").is_none(), "the secret is never listed");

    let edit = format!("/api/open/app/edit/{}", app["id"]);
    let bad = system(&server, &admin, reqwest::Method::PUT, &edit, Some(json!({"scopes": ["care:write"]}))).await;
    assert_eq!(bad["message"], "unknown scope \"care:write\": use care:read, transit:read, music:read");
    let bad = system(
        &server,
        &admin,
        reqwest::Method::POST,
        "/api/open/app/save",
        Some(json!({"name": "x", "scopes": [], "webhookUrl": "ftp://x"})),
    )
    .await;
    assert_eq!(bad["message"], "webhookUrl \"ftp://x\" is not an http(s) URL");
    system(&server, &admin, reqwest::Method::PUT, &edit, Some(json!({"name": "renamed", "webhookUrl": ""}))).await;
    let list = system(&server, &admin, reqwest::Method::GET, "/api/open/app/list", None).await;
    assert_eq!(
        (list["data"][0]["name"].as_str(), list["data"][0]["webhookUrl"].clone()),
        (Some("renamed"), Value::Null)
    );

    server.create_user("plain", "plain-pass").await;
    let plain = server.system_login("plain", "plain-pass").await;
    let denied = system(&server, &plain, reqwest::Method::GET, "/api/open/app/list", None).await;
    assert_eq!(denied["code"], -1);
    assert!(denied["message"].as_str().unwrap().starts_with("no permission for GET /api/open/app/list"));

    let delete = format!("/api/open/app/delete/{}", app["id"]);
    assert_eq!(system(&server, &admin, reqwest::Method::DELETE, &delete, None).await["code"], 0);
    assert_eq!(
        system(&server, &admin, reqwest::Method::DELETE, &delete, None).await["message"],
        format!("open app {} does not exist", app["id"])
    );
    assert_open_error(&token(&server, &app).await, 15000);
}

#[tokio::test]
async fn each_app_is_held_to_its_rate() {
    let server = TestServer::start_with(|c| c.open_rate_per_minute = 3).await;
    let admin = admin_token(&server).await;
    let app = create_app(&server, &admin, json!([]), None).await;
    let bearer = token(&server, &app).await["data"]["token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app_get(&server, &bearer).await["code"], 1);
    }
    let limited = app_get(&server, &bearer).await;
    assert_open_error(&limited, -1);
    assert_eq!(limited["message"], "rate limit: this app may make 3 requests a minute; retry in 20 s");
}

/// One delivery as the receiver saw it: event id, timestamp, signature and body.
type Delivery = (String, String, String, String);

/// A webhook receiver on 127.0.0.1 that records what it gets and fails while told to.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Delivery>>>,
    failing: Arc<Mutex<bool>>,
}

#[handler]
async fn receive(req: &Request, body: String, Data(receiver): Data<&Receiver>) -> StatusCode {
    if *receiver.failing.lock().unwrap() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    receiver.got.lock().unwrap().push((
        header("x-hearth-event-id"),
        header("x-hearth-timestamp"),
        header("x-hearth-signature"),
        body,
    ));
    StatusCode::NO_CONTENT
}

async fn start_receiver(receiver: Receiver) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let app = poem::Route::new().at("/hook", post(receive)).data(receiver);
    tokio::spawn(poem::Server::new(TcpListener::bind(addr.to_string())).run(app));
    tokio::time::sleep(Duration::from_millis(100)).await;
    format!("http://{addr}/hook")
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn verify(secret: &str, timestamp: &str, body: &str, signature: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    signature == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn event(server: &TestServer, label: &str) -> (String, i64) {
    server
        .sql()
        .query_row(
            "SELECT status, attempts FROM webhook_event WHERE payload LIKE ?1",
            [format!("%\"content\":\"{label}\"%")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_survive_a_restart() {
    let receiver = Receiver::default();
    let url = start_receiver(receiver.clone()).await;
    let server = TestServer::start_with(|c| c.webhook_backoff_secs = 1).await;
    let admin = admin_token(&server).await;
    let app = create_app(&server, &admin, json!(["care:read"]), Some(&url)).await;
    create_app(&server, &admin, json!(["transit:read"]), Some(&url)).await; // no care:read: gets nothing
    let secret = app["webhookSecret"].as_str().unwrap().to_owned();

    let device = camera(&server).await;
    let pic_name = care_support::upload(&server, &device, "fall-one").await;
    wait_for("the first delivery", || receiver.got.lock().unwrap().len() == 1).await;
    let queued: i64 = server.sql().query_row("SELECT count(*) FROM webhook_event", [], |r| r.get(0)).unwrap();
    assert_eq!(queued, 1, "only the app with care:read is notified");
    let (event_id, timestamp, signature, body) = receiver.got.lock().unwrap()[0].clone();
    assert!(verify(&secret, &timestamp, &body, &signature), "signature checks out");
    assert!(!verify("whsec_wrong", &timestamp, &body, &signature));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (body["event"].as_str(), body["eventId"].as_str()),
        (Some("care.notice.created"), Some(event_id.as_str()))
    );
    assert_eq!(
        (body["data"]["pic_name"].as_str(), body["data"]["content"].as_str()),
        (Some(pic_name.as_str()), Some("fall-one"))
    );
    assert_eq!(body["data"]["device"], "hall camera");

    // The receiver fails: the event is retried with backoff, then delivered.
    *receiver.failing.lock().unwrap() = true;
    care_support::upload(&server, &device, "fall-two").await;
    wait_for("a failed attempt", || event(&server, "fall-two").1 >= 1).await;
    *receiver.failing.lock().unwrap() = false;
    wait_for("the retried delivery", || event(&server, "fall-two").0 == "delivered").await;
    assert_eq!(receiver.got.lock().unwrap().len(), 2);
    let history =
        system(&server, &admin, reqwest::Method::GET, &format!("/api/open/app/deliveries/{}", app["id"]), None).await;
    assert_eq!(history["total"], 2);
    let newest = &history["data"][0];
    assert_eq!(newest["status"], "delivered");
    assert!(newest["attempts"].as_i64().unwrap() >= 2, "{newest}");
    assert_eq!(newest["lastHttpStatus"], 204);

    // Queued while the receiver is down and the server stops: delivered after the restart.
    *receiver.failing.lock().unwrap() = true;
    care_support::upload(&server, &device, "fall-three").await;
    wait_for("a failed attempt", || event(&server, "fall-three").1 >= 1).await;
    let server = server.restart().await;
    *receiver.failing.lock().unwrap() = false;
    wait_for("delivery after the restart", || event(&server, "fall-three").0 == "delivered").await;
    assert_eq!(receiver.got.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_given_up_after_the_limit() {
    let receiver = Receiver::default();
    *receiver.failing.lock().unwrap() = true;
    let url = start_receiver(receiver.clone()).await;
    let server = TestServer::start_with(|c| {
        c.webhook_backoff_secs = 0;
        c.webhook_max_attempts = 3;
    })
    .await;
    let admin = admin_token(&server).await;
    create_app(&server, &admin, json!(["care:read"]), Some(&url)).await;
    let device = camera(&server).await;
    care_support::upload(&server, &device, "doomed").await;
    let row = |server: &TestServer| -> (String, i64) {
        server
            .sql()
            .query_row("SELECT status, attempts FROM webhook_event", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    wait_for("giving up", || row(&server).0 == "failed").await;
    assert_eq!(row(&server), ("failed".to_owned(), 3));
    let recorded: i64 = server
        .sql()
        .query_row("SELECT count(*) FROM webhook_attempt WHERE http_status = 503", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 3);
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_with_the_reason_and_without_its_url() {
    // A port nobody listens on, and a URL that carries the receiver's own secret.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/hook?key=receiver-secret-77");
    let server = TestServer::start_with(|c| c.webhook_backoff_secs = 3600).await;
    let admin = admin_token(&server).await;
    let app = create_app(&server, &admin, json!(["care:read"]), Some(&url)).await;
    let device = camera(&server).await;
    care_support::upload(&server, &device, "unheard").await;
    wait_for("a failed attempt", || event(&server, "unheard").1 >= 1).await;
    let history =
        system(&server, &admin, reqwest::Method::GET, &format!("/api/open/app/deliveries/{}", app["id"]), None).await;
    let error = history["data"][0]["lastError"].as_str().unwrap_or_default();
    assert!(error.contains("Connection refused"), "the reason, not only \"error sending request\": {error}");
    assert!(!error.contains("receiver-secret-77") && !error.contains("/hook"), "{error}");
}
