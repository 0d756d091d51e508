//! Speaking the care document's JSON to a test server: envelopes, accounts made through
//! the real SMS flow, devices, snapshots.
#![allow(dead_code)]

use base64::Engine;
use hearth::identity::tokens::md5_hex;
use serde_json::{json, Value};

use crate::common::{read, TestServer};

/// POSTs a care envelope to `/care<path>` (with `?token=` when given) and returns the answer.
pub async fn call(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    kind: &str,
    subtype: &str,
    data: Value,
) -> Value {
    call_at(server, &format!("/care{path}"), token, json!({"id": 4321, "type": kind, "subtype": subtype, "data": data}))
        .await
}

/// POSTs any body to a full path; asserts HTTP 200 and echoes of the envelope.
pub async fn call_at(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> Value {
    let url = match token {
        Some(t) => server.url(&format!("{path}?token={t}")),
        None => server.url(path),
    };
    let (http, answer) = read(server.client.post(url).json(&body).send().await.unwrap()).await;
    assert_eq!(http, 200, "{answer}");
    assert!(
        answer.get("status").is_some_and(Value::is_i64)
            && answer.get("message").is_some()
            && answer.get("data").is_some(),
        "{answer}"
    );
    answer
}

pub async fn get(server: &TestServer, path_and_query: &str) -> Value {
    let (http, answer) =
        read(server.client.get(server.url(&format!("/care{path_and_query}"))).send().await.unwrap()).await;
    assert_eq!(http, 200, "{answer}");
    assert_eq!(answer["id"], -1, "GET answers echo -1: {answer}");
    answer
}

/// Asserts success and returns `data`.
pub fn ok(answer: Value) -> Value {
    assert_eq!(answer["status"], 0, "expected success: {answer}");
    assert_eq!(answer["message"], "successful");
    answer["data"].clone()
}

/// Asserts the status and that `data` is `{}`.
pub fn fails(answer: &Value, status: i64) {
    assert_eq!(answer["status"], status, "{answer}");
    assert_eq!(answer["data"], json!({}), "{answer}");
    assert!(!answer["message"].as_str().unwrap().is_empty());
}

/// Asks for an SMS code and reads it from the outbox, answering md5(code + rand).
pub async fn sms_hash(server: &TestServer, phone: &str, command_type: i64) -> String {
    let data = ok(call(
        server,
        "/api/captcha",
        None,
        "sms",
        "generate",
        json!({"phone": phone, "command_type": command_type}),
    )
    .await);
    let rand = data["rand"].as_str().unwrap().to_owned();
    let code: String = server
        .sql()
        .query_row(
            "SELECT code FROM sms_outbox WHERE phone = ?1 AND rand = ?2 AND command_type = ?3",
            rusqlite::params![phone, rand, command_type],
            |r| r.get(0),
        )
        .unwrap();
    md5_hex(&format!("{code}{rand}"))
}

/// Registers through the documented SMS flow.
pub async fn register(server: &TestServer, phone: &str, pass: &str) {
    let hash = sms_hash(server, phone, 1).await;
    ok(call(
        server,
        "/api/user/register",
        None,
        "register",
        "phone",
        json!({"phone": phone, "hash": hash, "pass": pass}),
    )
    .await);
}

pub async fn login(server: &TestServer, phone: &str, pass: &str) -> String {
    let data = ok(call(server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": pass})).await);
    let token = data["token"].as_str().unwrap().to_owned();
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    token
}

pub async fn user(server: &TestServer, phone: &str) -> String {
    let pass = format!("pass-of-{phone}");
    register(server, phone, &pass).await;
    login(server, phone, &pass).await
}

/// A care-capable super-administrator (phone login), logged in.
pub async fn admin(server: &TestServer, phone: &str) -> String {
    let app = &server.running().app;
    let hash = app.identity.passwords.hash(hearth::identity::password::Asker::SignedIn, "Admin-Pass-1").await.unwrap();
    let phone_owned = phone.to_owned();
    app.db
        .write(move |tx| hearth::identity::accounts::upsert_super_admin(tx, "care_admin", &hash, Some(&phone_owned)))
        .await
        .unwrap();
    login(server, phone, "Admin-Pass-1").await
}

pub fn png_bytes(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(width, height, image::Rgb([shade, 90, 160]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Adds a device for the caller; answers its device token.
pub async fn add_device(server: &TestServer, token: &str, name: &str) -> String {
    let data = ok(call(server, "/api/device", Some(token), "device", "add", json!({"device": name})).await);
    data["device_id"].as_str().unwrap().to_owned()
}

pub async fn bind(server: &TestServer, token: &str, device: &str) {
    ok(call(server, "/api/device", Some(token), "device", "bind", json!({"device_id": device})).await);
}

/// A device posts a snapshot; answers its pic_name.
pub async fn upload(server: &TestServer, device: &str, content: &str) -> String {
    let data = ok(call(
        server,
        "/api/notice",
        Some(device),
        "notice",
        "upload",
        json!({"base64": b64(&png_bytes(8, 6, 30)), "content": content}),
    )
    .await);
    data["pic_name"].as_str().unwrap().to_owned()
}

pub async fn notices(server: &TestServer, token: &str, mode: i64) -> Vec<Value> {
    let data = ok(call(server, "/api/get/notice", Some(token), "notice", "get", json!({"mode": mode})).await);
    let list = data["list"].as_array().unwrap().clone();
    assert_eq!(data["num"], list.len() as i64);
    list
}

/// Reads SSE frames of the live alert stream until one carries data (skipping keep-alives);
/// answers (id, data).
pub async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buffer: &mut String,
) -> (String, Value) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut id = String::new();
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = Some(serde_json::from_str(v.trim()).unwrap());
                }
            }
            if let Some(data) = data {
                return (id, data);
            }
            continue;
        }
        let chunk = futures_util::StreamExt::next(stream).await.expect("stream open").unwrap();
        buffer.push_str(std::str::from_utf8(chunk.as_ref()).unwrap());
    }
}

/// Opens the caller's live alert stream, resuming after `last` when given.
pub async fn open_stream(server: &TestServer, token: &str, last: Option<&str>) -> reqwest::Response {
    let mut req = server.client.get(server.url(&format!("/care/api/notice/stream?token={token}")));
    if let Some(last) = last {
        req = req.header("Last-Event-ID", last);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    res
}
