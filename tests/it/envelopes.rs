//! Every error class under every mount answers in that surface's envelope (CONTRACT §2),
//! never with a bare body; plus health, docs and the compatibility root.

use crate::common;

use common::{read, TestServer};
use serde_json::{json, Value};

/// Asserts `body` is a failure in `surface`'s envelope and returns its message.
fn failure_message(surface: &str, http: u16, body: &Value) -> String {
    let message = body["message"].as_str().unwrap_or_else(|| panic!("{surface}: no message in {body}")).to_owned();
    assert!(!message.is_empty());
    match surface {
        "care" => {
            assert!(body["status"].as_i64().unwrap() < 0, "{body}");
            assert!(body["id"].is_i64() && body.get("data").is_some(), "{body}");
        }
        "music" => {
            assert_eq!(body["code"], 1, "{body}");
            assert_eq!(body["status"].as_u64().unwrap(), http as u64, "{body}");
        }
        "transit" => assert_eq!(body["code"], 1000, "{body}"),
        "system" => {
            assert_eq!(body["code"], -1, "{body}");
            assert!(body.get("data").is_some_and(Value::is_null), "{body}");
        }
        "open" => {
            assert_ne!(body["code"], 1, "{body}");
            let ts = body["timestamp"].as_str().unwrap();
            assert!(ts.len() == 13 && ts.bytes().all(|b| b.is_ascii_digit()), "{body}");
        }
        other => panic!("unknown surface {other}"),
    }
    message
}

const SURFACES: [&str; 5] = ["care", "music", "transit", "system", "open"];

#[tokio::test]
async fn unknown_routes_answer_in_each_surfaces_envelope() {
    let server = TestServer::start().await;
    for s in SURFACES {
        let res = server.client.get(server.url(&format!("/{s}/api/no/such/thing"))).send().await.unwrap();
        let (http, body) = read(res).await;
        let expected_http = if s == "music" { 404 } else { 200 };
        assert_eq!(http, expected_http, "{s}");
        assert!(failure_message(s, http, &body).contains("no such endpoint"));
    }
    let (_, body) = read(server.client.get(server.url("/open/api/nothing")).send().await.unwrap()).await;
    assert_eq!(body["code"], 404);
    let (_, body) = read(server.client.get(server.url("/care/api/nothing")).send().await.unwrap()).await;
    assert_eq!((body["id"].clone(), body["status"].clone()), (json!(-1), json!(-2)));
}

#[tokio::test]
async fn oversized_bodies_get_413_in_each_envelope() {
    let server = TestServer::start_with(|c| {
        c.json_limit = 1024;
        c.upload_limit = 4096;
    })
    .await;
    let big = "x".repeat(2048);
    for s in SURFACES {
        let res = server
            .client
            .post(server.url(&format!("/{s}/api/anything")))
            .body(big.clone())
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        let (http, body) = read(res).await;
        assert_eq!(http, 413, "{s}");
        assert!(failure_message(s, http, &body).contains("1024 bytes"), "{body}");
    }
    // Multipart uploads have their own, larger limit.
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![0u8; 2048]));
    let res = server.client.post(server.url("/music/api/anything")).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404, "2 KiB multipart is under the upload limit");
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![0u8; 8192]));
    let res = server.client.post(server.url("/music/api/anything")).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 413);
    // A body without a declared length is cut off at the limit too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..4).map(|_| Ok(vec![b'x'; 512])).collect();
    let res = server
        .client
        .post(server.url("/system/api/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let (http, body) = read(res).await;
    assert_eq!(http, 413);
    failure_message("system", http, &body);
}

#[tokio::test]
async fn payload_and_auth_errors_answer_in_the_system_envelope() {
    let server = TestServer::start().await;
    server.create_admin("root", "root-password").await;
    let token = server.system_login("root", "root-password").await;
    let login = server.url("/system/api/auth/login");
    let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "malformed JSON",
            server.client.post(&login).header("content-type", "application/json").body("{not json"),
            "not valid JSON",
        ),
        ("missing field", server.client.post(&login).json(&json!({"loginname": "x"})), "missing field `password`"),
        (
            "wrong type",
            server.client.post(&login).json(&json!({"loginname": 5, "password": "x"})),
            "loginname: invalid type",
        ),
        (
            "wrong content type",
            server.client.post(&login).header("content-type", "text/plain").body("hi"),
            "Content-Type",
        ),
        ("no content type", server.client.post(&login).body("{}"), "Content-Type"),
        ("wrong method", server.client.get(&login), "HTTP method"),
        ("no token", server.client.get(server.url("/system/api/sms/outbox")), "not logged in"),
        ("bad token", server.client.get(server.url("/system/api/sms/outbox")).bearer_auth("abc.def.ghi"), "not valid"),
        (
            "bad query value",
            server.client.get(server.url("/system/api/sms/outbox?pageNum=abc")).bearer_auth(&token),
            "pageNum",
        ),
    ];
    for (what, request, expected) in cases {
        let (http, body) = read(request.send().await.unwrap()).await;
        assert_eq!(http, 200, "{what}");
        let message = failure_message("system", http, &body);
        assert!(message.contains(expected), "{what}: {message}");
    }
}

#[tokio::test]
async fn a_database_failure_answers_in_the_envelope_without_details_leaking() {
    let server = TestServer::start().await;
    server.create_admin("root_admin", "Correct-Horse-9").await;
    let token = server.system_login("root_admin", "Correct-Horse-9").await;
    server.sql().execute("DROP TABLE sms_outbox", []).unwrap();
    let (http, body) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!(http, 200);
    let message = failure_message("system", http, &body);
    assert!(message.contains("internal error") && !message.contains("sms_outbox"), "{message}");
}

#[tokio::test]
async fn a_wrong_method_is_refused_in_the_envelope_and_music_names_the_allowed_ones() {
    let server = TestServer::start().await;
    let res = server.client.post(server.url("/music/api/music/fav")).send().await.unwrap();
    assert_eq!(res.headers().get("allow").map(|v| v.to_str().unwrap().to_owned()), Some("DELETE, PUT".into()));
    let (http, body) = read(res).await;
    assert_eq!(http, 405);
    assert!(failure_message("music", http, &body).contains("does not accept that HTTP method"));
    // The surfaces that answer every failure with HTTP 200 say it in the body alone.
    let res = server.client.delete(server.url("/system/api/auth/login")).send().await.unwrap();
    assert!(res.headers().get("allow").is_none());
    let (http, body) = read(res).await;
    assert!(failure_message("system", http, &body).contains("does not accept that HTTP method"));
}

#[tokio::test]
async fn health_makes_a_database_round_trip() {
    let server = TestServer::start().await;
    let (http, body) = read(server.client.get(server.url("/health")).send().await.unwrap()).await;
    assert_eq!(http, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn docs_offer_every_surface_and_each_spec_is_served() {
    let server = TestServer::start().await;
    let page = server.client.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("SwaggerUIBundle"));
    for s in SURFACES {
        assert!(html.contains(&format!("data-s=\"{s}\"")), "{s} missing from /docs");
        let (http, spec) =
            read(server.client.get(server.url(&format!("/openapi/{s}.json"))).send().await.unwrap()).await;
        assert_eq!(http, 200);
        assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(spec["servers"][0]["url"], format!("/{s}"));
    }
    let (_, system) = read(server.client.get(server.url("/openapi/system.json")).send().await.unwrap()).await;
    assert!(system["paths"]["/api/auth/login"]["post"].is_object());
    let res = server.client.get(server.url("/openapi/nope.json")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn the_admin_ui_is_embedded_and_the_root_points_to_it() {
    let server = TestServer::start().await;
    let res = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/admin/");
    let res = server.client.get(server.url("/admin/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("<title>hearth</title>"));
    let res = server.client.get(server.url("/admin/app.js")).send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().contains("javascript"));
}

#[tokio::test]
async fn the_compatibility_root_serves_the_chosen_surface_at_the_root() {
    let server = TestServer::start().await;
    let (_, body) = read(server.client.post(server.url("/api/no/such")).json(&json!({})).send().await.unwrap()).await;
    failure_message("care", 200, &body);
    let server = TestServer::start_with(|c| c.compat_root = "system".into()).await;
    server.create_admin("root_admin", "Correct-Horse-9").await;
    let (_, body) =
        server.post_json("/api/auth/login", &json!({"loginname": "root_admin", "password": "Correct-Horse-9"})).await;
    assert_eq!(body["code"], 0, "system login at the root: {body}");
    let server = TestServer::start_with(|c| c.compat_root = "none".into()).await;
    let res = server.client.post(server.url("/api/auth/login")).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn responses_carry_a_request_id_and_basic_security_headers() {
    let server = TestServer::start().await;
    let res = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"].len(), 12);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers().get("access-control-allow-origin").is_none(), "CORS is off");
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let preflight = |server: &TestServer, origin: &str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/music/api/user/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let closed = TestServer::start().await;
    let res = preflight(&closed, "http://partner.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let open = TestServer::start_with(|c| c.cors_origins = "http://partner.example, http://other.example".into()).await;
    let res = preflight(&open, "http://partner.example").await.unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "http://partner.example");
    let res = preflight(&open, "http://stranger.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
