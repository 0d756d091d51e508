//! Helpers for the open-platform tests: apps created by an administrator on the system
//! surface, their tokens, and reads in the document's shapes.
#![allow(dead_code)]

use serde_json::{json, Value};

use crate::care_support;
use crate::common::{self, TestServer};

pub async fn admin_token(server: &TestServer) -> String {
    server.create_admin("root", "root-password").await;
    server.system_login("root", "root-password").await
}

pub async fn system(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = server.client.request(method, server.url(&format!("/system{path}"))).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let (status, value) = common::read(req.send().await.unwrap()).await;
    assert_eq!(status, 200);
    value
}

pub async fn create_app(server: &TestServer, admin: &str, scopes: Value, webhook: Option<&str>) -> Value {
    let body = json!({ "name": "partner", "scopes": scopes, "webhookUrl": webhook });
    let created = system(server, admin, reqwest::Method::POST, "/api/open/app/save", Some(body)).await;
    assert_eq!(created["code"], 0, "{created}");
    created["data"].clone()
}

pub async fn token(server: &TestServer, app: &Value) -> Value {
    let (status, body) =
        server.post_json("/open/api/token", &json!({ "appId": app["appId"], "appSecret": app["appSecret"] })).await;
    assert_eq!(status, 200);
    body
}

pub fn assert_open_error(body: &Value, code: i64) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body["timestamp"].as_str().map(str::len), Some(13), "{body}");
}

/// A token of a new app holding `scopes`.
pub async fn bearer(server: &TestServer, admin: &str, scopes: Value) -> String {
    let app = create_app(server, admin, scopes, None).await;
    token(server, &app).await["data"]["token"].as_str().unwrap().to_owned()
}

pub async fn open_get(server: &TestServer, bearer: &str, path: &str) -> Value {
    let res = server.client.get(server.url(path)).bearer_auth(bearer).send().await.unwrap();
    let (status, body) = common::read(res).await;
    assert_eq!(status, 200);
    body
}

/// A camera on the LAN: a care account with a device that posts fall snapshots.
pub async fn camera(server: &TestServer) -> String {
    let family = care_support::user(server, "13800000001").await;
    care_support::add_device(server, &family, "hall camera").await
}
