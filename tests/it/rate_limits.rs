//! Limits per client address (the TCP peer): failed logins on every surface, image
//! captchas, SMS codes and wrong care device tokens. Each refusal is in the surface's own
//! envelope with `Retry-After`; what succeeds is never counted; another address is not
//! affected (a second loopback address stands in for another machine on the LAN).

use crate::care_support;
use crate::common;

use std::net::{IpAddr, Ipv4Addr};

use common::TestServer;
use serde_json::{json, Value};

/// A client speaking from another address, as a second machine on the LAN would.
fn client_at(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().unwrap()
}

/// The answer and its `Retry-After` (0 when absent).
async fn send(request: reqwest::RequestBuilder) -> (u16, u64, Value) {
    let res = request.send().await.unwrap();
    let retry = res.headers().get("retry-after").map_or(0, |v| v.to_str().unwrap().parse().unwrap());
    let (http, body) = common::read(res).await;
    (http, retry, body)
}

fn care_body(kind: &str, subtype: &str, data: Value) -> Value {
    json!({"id": 9, "type": kind, "subtype": subtype, "data": data})
}

/// A care refusal for going over a limit: -103, saying when to retry, with the header.
fn care_limited((http, retry, body): (u16, u64, Value), window: u64) {
    assert_eq!((http, body["status"].clone()), (200, json!(-103)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("retry in"), "{body}");
    assert!((1..=window).contains(&retry), "Retry-After {retry}");
}

#[tokio::test]
async fn failed_logins_on_every_surface_count_together_and_each_surface_says_when_to_retry() {
    let server = TestServer::start_with(|c| c.login_max_failures = 5).await;
    server.create_admin("root", "root-password").await;
    let c = &server.client;
    let logins = |password: &str| -> Vec<(&'static str, reqwest::RequestBuilder)> {
        vec![
            (
                "care",
                c.post(server.url("/care/api/user/login")).json(&care_body(
                    "login",
                    "pass",
                    json!({"phone": "13600000401", "pass": password}),
                )),
            ),
            (
                "music",
                c.post(server.url("/music/api/user/login")).form(&[("username", "root"), ("password", password)]),
            ),
            (
                "transit",
                c.post(server.url("/transit/api/userprofile/login"))
                    .json(&json!({"username": "root", "password": password})),
            ),
            (
                "system",
                c.post(server.url("/system/api/auth/login")).json(&json!({"loginname": "root", "password": password})),
            ),
            (
                "open",
                c.post(server.url("/open/api/token"))
                    .json(&json!({"appId": "app0000000000000000", "appSecret": password})),
            ),
        ]
    };
    for (surface, request) in logins("wrong-password") {
        let (_, retry, body) = send(request).await;
        assert_eq!(retry, 0, "{surface}: one failure is not over the limit: {body}");
    }
    // Five failures from this address, one per surface: now every login waits, a right password too.
    for (surface, request) in logins("root-password") {
        let (http, retry, body) = send(request).await;
        assert!((1..=300).contains(&retry), "{surface}: {body}");
        assert!(body["message"].as_str().unwrap().contains("retry in"), "{surface}: {body}");
        let refusal = match surface {
            "care" => body["status"] == -103,
            "music" => http == 429 && body["status"] == 429 && body["code"] == 1,
            "transit" => body["code"] == 1000,
            _ => body["code"] == -1,
        };
        assert!(refusal && (surface == "music" || http == 200), "{surface}: {http} {body}");
    }
    let (_, _, body) = send(
        client_at(2)
            .post(server.url("/system/api/auth/login"))
            .json(&json!({"loginname": "root", "password": "root-password"})),
    )
    .await;
    assert_eq!(body["code"], 0, "another address logs in: {body}");
}

#[tokio::test]
async fn image_captchas_are_limited_per_address_on_care_and_system_together() {
    let server = TestServer::start_with(|c| {
        c.captcha_max_draws = 3;
        c.captcha_window_secs = 60;
    })
    .await;
    let care = |client: &reqwest::Client| {
        client.post(server.url("/care/api/captcha")).json(&care_body("img", "generate", json!({})))
    };
    let system = |client: &reqwest::Client| client.get(server.url("/system/api/auth/captcha"));
    let c = &server.client;
    for request in [care(c), system(c), care(c)] {
        let (_, retry, body) = send(request).await;
        assert!(retry == 0 && (body["status"] == 0 || body["code"] == 0), "{body}");
    }
    care_limited(send(care(c)).await, 60);
    let (_, retry, body) = send(system(c)).await;
    assert!(body["code"] == -1 && (1..=60).contains(&retry), "{body}");
    // Checking an answer is not drawing one.
    let (_, _, checked) = send(c.post(server.url("/care/api/captcha")).json(&care_body(
        "img",
        "validate",
        json!({"hash": "0".repeat(32)}),
    )))
    .await;
    assert_eq!(checked["status"], 100);
    let drawn: i64 = server.sql().query_row("SELECT COUNT(*) FROM captcha", [], |r| r.get(0)).unwrap();
    assert_eq!(drawn, 3, "refused draws store nothing");
    let (_, _, body) = send(care(&client_at(3))).await;
    assert_eq!(body["status"], 0, "another address draws: {body}");
}

#[tokio::test]
async fn sms_codes_are_limited_per_phone_and_per_address() {
    let server = TestServer::start_with(|c| {
        c.sms_max_per_phone = 2;
        c.sms_max_per_client = 3;
        c.sms_window_secs = 600;
    })
    .await;
    let code_for = |client: &reqwest::Client, phone: &str| {
        client.post(server.url("/care/api/captcha")).json(&care_body(
            "sms",
            "generate",
            json!({"phone": phone, "command_type": 1}),
        ))
    };
    let c = &server.client;
    for phone in ["13600000501", "13600000501"] {
        assert_eq!(send(code_for(c, phone)).await.2["status"], 0);
    }
    care_limited(send(code_for(c, "13600000501")).await, 600);
    assert_eq!(send(code_for(c, "13600000502")).await.2["status"], 0, "another phone, third code of this address");
    care_limited(send(code_for(c, "13600000503")).await, 600);
    let sent: i64 = server.sql().query_row("SELECT COUNT(*) FROM sms_outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(sent, 3, "refused requests send nothing");
    assert_eq!(send(code_for(&client_at(4), "13600000503")).await.2["status"], 0, "another address");
}

#[tokio::test]
async fn wrong_device_tokens_are_limited_per_address_and_a_working_camera_never_is() {
    let server = TestServer::start_with(|c| {
        c.device_max_failures = 3;
        c.device_window_secs = 300;
    })
    .await;
    let family = care_support::user(&server, "13600000601").await;
    let token = care_support::add_device(&server, &family, "hall").await;
    let camera = client_at(5);
    let heartbeat = |client: &reqwest::Client, token: &str| {
        client.get(server.url(&format!("/care/api/device/heartbeat?token={token}")))
    };
    let snapshot = json!({"base64": care_support::b64(&care_support::png_bytes(4, 4, 9))});
    let upload = |client: &reqwest::Client, token: &str| {
        client.post(server.url(&format!("/care/api/notice?token={token}"))).json(&care_body(
            "notice",
            "upload",
            snapshot.clone(),
        ))
    };
    // A working camera calls in as often as it likes: successes never count.
    for _ in 0..6 {
        assert_eq!(send(heartbeat(&camera, &token)).await.2["status"], 0);
        assert_eq!(send(upload(&camera, &token)).await.2["status"], 0);
    }
    // No token at all is no guess either.
    for _ in 0..4 {
        assert_eq!(send(heartbeat(&server.client, "")).await.2["status"], -100);
    }
    // Guesses from this address: a heartbeat, an upload and a bind with made-up tokens.
    let guess = "0123456789abcdef0123456789abcdef";
    assert_eq!(send(heartbeat(&server.client, guess)).await.2["status"], -104);
    assert_eq!(send(upload(&server.client, guess)).await.2["status"], -104);
    let bind = |client: &reqwest::Client, device: &str| {
        client.post(server.url(&format!("/care/api/device?token={family}"))).json(&care_body(
            "device",
            "bind",
            json!({"device_id": device}),
        ))
    };
    assert_eq!(send(bind(&server.client, guess)).await.2["status"], 100);
    // Past the limit every device call from it waits, the right token too.
    care_limited(send(heartbeat(&server.client, &token)).await, 300);
    care_limited(send(upload(&server.client, &token)).await, 300);
    care_limited(send(bind(&server.client, &token)).await, 300);
    assert_eq!(send(heartbeat(&camera, &token)).await.2["status"], 0, "the camera elsewhere on the LAN carries on");
}
