//! The OpenAPI documents declare what the surfaces really answer: real answers, successes
//! and failures, are checked against the schema their own document declares for them, so
//! a client generated from `/openapi/<surface>.json` reads every answer it can get.

use crate::care_support;
use crate::common;

use common::{read, TestServer};
use reqwest::RequestBuilder;
use serde_json::{json, Value};

const PHONE: &str = "13800000001";
const PASSWORD: &str = "Admin-Pass-1";

/// Whether `value` is valid under `schema`: the subset of OpenAPI 3.0 schemas the
/// documents use ($ref, anyOf, oneOf, allOf, nullable, type, required, properties, items,
/// enum, minimum, maximum, maxProperties).
fn valid(spec: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return valid(spec, &spec["components"]["schemas"][name], value);
    }
    if value.is_null() && schema["nullable"] == true {
        return Ok(());
    }
    if let Some(shapes) = schema["anyOf"].as_array() {
        let errors: Vec<String> = shapes.iter().filter_map(|s| valid(spec, s, value).err()).collect();
        if errors.len() == shapes.len() {
            return Err(format!("no shape of anyOf matches {value}: {errors:?}"));
        }
    }
    if let Some(shapes) = schema["oneOf"].as_array() {
        let matching = shapes.iter().filter(|s| valid(spec, s, value).is_ok()).count();
        if matching != 1 {
            return Err(format!("{matching} shapes of oneOf match {value}"));
        }
    }
    for shape in schema["allOf"].as_array().into_iter().flatten() {
        valid(spec, shape, value)?;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{value} is not one of {allowed:?}"));
        }
    }
    let fits = match schema["type"].as_str() {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => return Err(format!("unknown type {other}")),
    };
    if !fits {
        return Err(format!("{value} is not of type {}", schema["type"]));
    }
    if let (Some(n), Some(min)) = (value.as_f64(), schema["minimum"].as_f64()) {
        if n < min {
            return Err(format!("{n} is below {min}"));
        }
    }
    if let (Some(n), Some(max)) = (value.as_f64(), schema["maximum"].as_f64()) {
        if n > max {
            return Err(format!("{n} is above {max}"));
        }
    }
    if let (Some(fields), Some(max)) = (value.as_object(), schema["maxProperties"].as_u64()) {
        if fields.len() as u64 > max {
            return Err(format!("{value} has more than {max} properties"));
        }
    }
    for key in schema["required"].as_array().into_iter().flatten() {
        if value.get(key.as_str().unwrap()).is_none() {
            return Err(format!("{key} is missing from {value}"));
        }
    }
    for (key, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(field) = value.get(key) {
            valid(spec, property, field).map_err(|e| format!("{key}: {e}"))?;
        }
    }
    if let Some(items) = schema.get("items") {
        for item in value.as_array().into_iter().flatten() {
            valid(spec, items, item)?;
        }
    }
    Ok(())
}

struct Site {
    server: TestServer,
}

impl Site {
    /// A server with a super-administrator who can log in on every surface.
    async fn start() -> Site {
        let server = TestServer::start().await;
        care_support::admin(&server, PHONE).await;
        Site { server }
    }

    async fn spec(&self, surface: &str) -> Value {
        read(self.server.client.get(self.server.url(&format!("/openapi/{surface}.json"))).send().await.unwrap()).await.1
    }

    /// Sends the request and checks the answer against the schema `surface`'s document
    /// declares for `method path` at the answer's status; answers the body.
    async fn checked(&self, surface: &str, method: &str, path: &str, request: RequestBuilder) -> Value {
        let spec = self.spec(surface).await;
        let (http, body) = read(request.send().await.unwrap()).await;
        let declared = &spec["paths"][path][method]["responses"][http.to_string()];
        let schema = &declared["content"]["application/json; charset=utf-8"]["schema"];
        assert!(schema.is_object(), "{surface} {method} {path}: HTTP {http} with JSON is not declared");
        if let Err(e) = valid(&spec, schema, &body) {
            panic!("{surface} {method} {path}: {e}");
        }
        let shapes = schema["anyOf"]
            .as_array()
            .map_or(1, |shapes| shapes.iter().filter(|shape| valid(&spec, shape, &body).is_ok()).count());
        assert_eq!(shapes, 1, "{surface} {method} {path}: {body} must match exactly one declared shape");
        body
    }

    /// A success must not pass for a failure: the failure shape rejects it.
    async fn success(&self, surface: &str, method: &str, path: &str, request: RequestBuilder) -> Value {
        let body = self.checked(surface, method, path, request).await;
        let failure = json!({ "$ref": format!("#/components/schemas/{}Failure", capitalized(surface)) });
        let spec = self.spec(surface).await;
        assert!(
            spec.pointer(&format!("/components/schemas/{}Failure", capitalized(surface))).is_some(),
            "{surface} declares its failure"
        );
        assert!(
            valid(&spec, &failure, &body).is_err(),
            "{surface} {method} {path}: the failure shape accepts the success {body}"
        );
        body
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.server.client.get(self.server.url(path))
    }

    async fn token(&self, path: &str, body: Value, pointer: &str) -> String {
        let (_, answer) = self.server.post_json(path, &body).await;
        answer.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{path}: {answer}")).to_owned()
    }
}

fn capitalized(surface: &str) -> String {
    surface[..1].to_uppercase() + &surface[1..]
}

#[tokio::test]
async fn successes_and_failures_both_match_the_declared_answer() {
    let b = Site::start().await;
    let login = json!({"username": "care_admin", "password": PASSWORD});
    let system = b
        .token("/system/api/auth/login", json!({"loginname": "care_admin", "password": PASSWORD}), "/data/token")
        .await;
    let music = b.token("/music/api/user/login", login.clone(), "/data").await;
    let transit = b.token("/transit/api/userprofile/login", login, "/data/token").await;
    let care = care_support::login(&b.server, PHONE, PASSWORD).await;

    let roles = b
        .success(
            "system",
            "get",
            "/api/auth/role/roleList",
            b.get("/system/api/auth/role/roleList").bearer_auth(&system),
        )
        .await;
    assert_eq!(roles["code"], 0);
    b.checked("system", "get", "/api/auth/role/roleList", b.get("/system/api/auth/role/roleList")).await;

    // An account without e-mail or nickname answers them as null, as the document shows.
    let profile = b.success("care", "get", "/api/user/info", b.get(&format!("/care/api/user/info?token={care}"))).await;
    assert_eq!((profile["status"].clone(), profile["data"]["email"].clone()), (json!(0), Value::Null));
    b.checked("care", "get", "/api/user/info", b.get("/care/api/user/info?token=0123456789abcdef0123456789abcdef"))
        .await;
    // Answers whose `data` depends on the subtype: a list of accounts, a list of notices.
    let care_post = |path: &str, kind: &str, subtype: &str, data: Value| {
        let body = json!({"id": 1, "type": kind, "subtype": subtype, "data": data});
        b.server.client.post(b.server.url(&format!("/care{path}?token={care}"))).json(&body)
    };
    let accounts =
        b.success("care", "post", "/api/admin/user", care_post("/api/admin/user", "user", "list", json!({}))).await;
    assert_eq!(accounts["data"][0]["phone"], PHONE);
    let camera = care_support::add_device(&b.server, &care, "hall camera").await;
    care_support::upload(&b.server, &camera, "a fall in the hall").await;
    let notices = b
        .success("care", "post", "/api/get/notice", care_post("/api/get/notice", "notice", "get", json!({"mode": 2})))
        .await;
    assert_eq!(notices["data"]["num"], 1);

    // Never banned: the ban times are null.
    let user = b.success("music", "get", "/api/user", b.get("/music/api/user").header("Authorization", &music)).await;
    assert_eq!(user["data"]["bannedStart"], Value::Null);
    b.checked("music", "get", "/api/user", b.get("/music/api/user")).await;

    let stations = b.get(&format!("/transit/api/manage/station/list?token={transit}"));
    assert_eq!(b.success("transit", "get", "/api/manage/station/list", stations).await["code"], 2000);
    b.checked("transit", "get", "/api/manage/station/list", b.get("/transit/api/manage/station/list")).await;

    let app = json!({"name": "partner", "scopes": ["care:read"]});
    let (_, created) = read(
        b.server
            .client
            .post(b.server.url("/system/api/open/app/save"))
            .bearer_auth(&system)
            .json(&app)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let credentials = json!({"appId": created["data"]["appId"], "appSecret": created["data"]["appSecret"]});
    let open = b.token("/open/api/token", credentials, "/data/token").await;
    assert_eq!(b.success("open", "get", "/api/app", b.get("/open/api/app").bearer_auth(&open)).await["code"], 1);
    b.checked("open", "get", "/api/app", b.get("/open/api/app")).await;
}

#[tokio::test]
async fn streams_files_and_required_parameters_are_declared_as_served() {
    let b = Site::start().await;
    let care = b.spec("care").await;
    let stream = &care["paths"]["/api/notice/stream"]["get"]["responses"]["200"]["content"];
    let event = &stream["text/event-stream"]["schema"];
    // `device` (a camera offline or back) and `escalation` events carry no id: only notices resume.
    assert_eq!(event["required"], json!(["event", "data"]), "one schema per event: {stream}");
    assert_eq!(event["properties"]["event"]["enum"], json!(["notice", "device", "escalation"]));
    assert!(stream["application/json; charset=utf-8"].is_object(), "a refused stream answers in the envelope");

    let music = b.spec("music").await;
    let files = &music["paths"]["/api/files/{kind}/{name}"]["get"]["responses"];
    for status in ["200", "206"] {
        let types: Vec<&String> = files[status]["content"].as_object().unwrap().keys().collect();
        assert_eq!(types, ["audio/*", "image/*"], "files are served with the type of what was stored");
    }
    let required = |path: &str| -> Vec<String> {
        let params = music["paths"][path]["get"]["parameters"].as_array().unwrap();
        params.iter().filter(|p| p["required"] == true).map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(required("/api/music"), ["pageNum", "pageSize"]);
    assert_eq!(required("/api/musiclist"), ["pageNum"]);
    assert_eq!(required("/api/musiclist/detail"), ["pageNum", "mlid"]);
    // The handler still answers a missing one with its own message.
    let music_token =
        b.token("/music/api/user/login", json!({"username": "care_admin", "password": PASSWORD}), "/data").await;
    let (http, body) =
        read(b.get("/music/api/music?pageSize=5").header("Authorization", &music_token).send().await.unwrap()).await;
    assert_eq!((http, body["message"].as_str()), (400, Some("pageNum is required (the page number, from 1)")));
}
