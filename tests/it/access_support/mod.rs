//! The access matrix's machinery: the accounts, camera and apps that call every operation,
//! requests built from the served OpenAPI documents (the documented shapes, with harmless
//! values: ids that do not exist, wrong passwords), and how each surface says "not signed
//! in", "no permission", "bad device token" and "scope missing".
#![allow(dead_code)]

pub mod table;

use std::collections::BTreeMap;

use hearth::identity::roles;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::common::TestServer;
use crate::{care_support, open_support};
use table::{Row, Who};

pub const SURFACES: [&str; 5] = ["care", "music", "transit", "system", "open"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Caller {
    Anonymous,
    /// A token no server issued.
    Forged,
    /// 普通用户
    User,
    /// 创作者 (and 普通用户)
    Creator,
    /// 分析员 (and 普通用户)
    Analyst,
    /// 管理员 (and 普通用户), not a super-administrator: what the default grants give.
    Admin,
    /// A camera with its device token.
    Device,
    /// An open-platform app holding only `NARROW_SCOPE`.
    NarrowApp,
    /// An open-platform app holding every scope.
    FullApp,
}

pub const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Forged,
    Caller::User,
    Caller::Creator,
    Caller::Analyst,
    Caller::Admin,
    Caller::Device,
    Caller::NarrowApp,
    Caller::FullApp,
];

pub const NARROW_SCOPE: &str = "music:read";

/// What an answer says about access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Past the gate: a success, or a failure of the request itself.
    Reached,
    SignedOut,
    NoPermission,
    BadDevice,
    NoScope,
}

/// What the table says `caller` gets from an operation open to `who`.
pub fn expected(who: Who, caller: Caller) -> Outcome {
    use Caller::*;
    let app = matches!(caller, NarrowApp | FullApp);
    match who {
        Who::Public => Outcome::Reached,
        Who::Device => match caller {
            Anonymous => Outcome::SignedOut,
            Device => Outcome::Reached,
            _ => Outcome::BadDevice,
        },
        Who::App | Who::Scope(_) => match (caller, who) {
            (FullApp, _) | (NarrowApp, Who::App) => Outcome::Reached,
            (NarrowApp, Who::Scope(scope)) if scope == NARROW_SCOPE => Outcome::Reached,
            (NarrowApp, _) => Outcome::NoScope,
            _ => Outcome::SignedOut,
        },
        _ if caller == Anonymous || caller == Forged || caller == Device || app => Outcome::SignedOut,
        Who::Signed => Outcome::Reached,
        Who::Creators if matches!(caller, Creator | Admin) => Outcome::Reached,
        Who::Analysts if matches!(caller, Analyst | Admin) => Outcome::Reached,
        Who::Admins if caller == Admin => Outcome::Reached,
        _ => Outcome::NoPermission,
    }
}

/// One operation of a served OpenAPI document.
pub struct Operation {
    pub surface: &'static str,
    pub method: String,
    pub path: String,
    spec: Value,
}

/// The answer to one call; `body` is Null for anything but JSON (files, streams).
pub struct Answer {
    pub http: u16,
    pub body: Value,
}

/// Every operation of every surface, as the server documents them right now.
pub async fn served_operations(server: &TestServer) -> (Vec<Operation>, BTreeMap<&'static str, Value>) {
    let mut ops = Vec::new();
    let mut docs = BTreeMap::new();
    for surface in SURFACES {
        let (http, doc) = crate::common::read(
            server.client.get(server.url(&format!("/openapi/{surface}.json"))).send().await.unwrap(),
        )
        .await;
        assert_eq!(http, 200);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, spec) in item.as_object().unwrap() {
                ops.push(Operation {
                    surface,
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    spec: spec.clone(),
                });
            }
        }
        docs.insert(surface, doc);
    }
    (ops, docs)
}

/// The callers of the matrix on one server.
pub struct World {
    pub server: TestServer,
    pub accounts: BTreeMap<Caller, i64>,
    pub device: String,
    pub narrow_app: String,
    pub full_app: String,
}

const FORGED_JWT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOjEsImV4cCI6NDEwMjQ0NDgwMH0.Zm9yZ2VkLXNpZ25hdHVyZQ";
const FORGED_CARE: &str = "0123456789abcdef0123456789abcdef";

impl World {
    pub async fn start() -> World {
        // The probes log in with wrong passwords, draw captchas and send bad device tokens
        // from one address many times over; the limits are another test's subject.
        let server = TestServer::start_with(|c| {
            c.login_max_failures = 100_000;
            c.captcha_max_draws = 100_000;
            c.device_max_failures = 100_000;
        })
        .await;
        let mut accounts = BTreeMap::new();
        for (i, (caller, role)) in [
            (Caller::User, None),
            (Caller::Creator, Some(roles::CREATOR)),
            (Caller::Analyst, Some(roles::ANALYST)),
            (Caller::Admin, Some(roles::ADMIN)),
        ]
        .into_iter()
        .enumerate()
        {
            accounts.insert(caller, account(&server, &format!("matrix_{i}"), &format!("1370000000{i}"), role).await);
        }
        let root = open_support::admin_token(&server).await;
        let narrow_app = open_support::bearer(&server, &root, json!([NARROW_SCOPE])).await;
        let full_app = open_support::bearer(&server, &root, json!(["care:read", "transit:read", "music:read"])).await;
        let mut world = World { server, accounts, device: String::new(), narrow_app, full_app };
        let owner = world.token(Caller::User, "care").await.unwrap();
        world.device = care_support::add_device(&world.server, &owner, "matrix camera").await;
        world
    }

    /// A fresh credential per call, so a probe that ends sessions (a logout, a password
    /// change) cannot affect the next one.
    pub async fn token(&self, caller: Caller, surface: &str) -> Option<String> {
        let app = &self.server.running().app;
        Some(match caller {
            Caller::Anonymous => return None,
            Caller::Forged if surface == "care" => FORGED_CARE.into(),
            Caller::Forged => FORGED_JWT.into(),
            Caller::Device => self.device.clone(),
            Caller::NarrowApp => self.narrow_app.clone(),
            Caller::FullApp => self.full_app.clone(),
            account if surface == "care" => {
                let until = hearth::clock::now() + 3600;
                hearth::surfaces::care::open_console_session(app, self.accounts[&account], None, until).await.unwrap()
            }
            account => app.identity.open_jwt_session(self.accounts[&account], "system").await.unwrap().token,
        })
    }

    /// Calls `op` as `caller` with the documented request shape.
    pub async fn call(
        &self,
        docs: &BTreeMap<&'static str, Value>,
        op: &Operation,
        row: &Row,
        caller: Caller,
    ) -> Answer {
        let token = self.token(caller, op.surface).await;
        let url = self.server.url(&format!("/{}{}", op.surface, fill_path(op.surface, &op.path)));
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        let body_schema =
            op.spec["requestBody"]["content"].as_object().and_then(|c| c.values().next()).map(|m| m["schema"].clone());
        // Lists answer a page rather than "pageNum is required".
        let mut query: Vec<(String, String)> = op.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| match p["name"].as_str()? {
                "pageNum" => Some(("pageNum".into(), "1".into())),
                "pageSize" => Some(("pageSize".into(), "10".into())),
                _ => None,
            })
            .collect();
        let in_query = matches!(op.surface, "care" | "transit") && (body_schema.is_none() || op.surface == "care");
        if let (Some(token), true) = (&token, in_query) {
            query.push(("token".into(), token.clone()));
        }
        let mut req = self.server.client.request(method, url).query(&query);
        match (op.surface, &token) {
            ("music", Some(t)) => req = req.header("Authorization", t),
            ("system" | "open", Some(t)) => req = req.bearer_auth(t),
            _ => {}
        }
        let doc = &docs[op.surface];
        if op.surface == "care" && op.method == "POST" {
            let (kind, subtype, data) =
                row.care.unwrap_or_else(|| panic!("care {} needs a probe body in the table", op.path));
            let data: Value = serde_json::from_str(data).unwrap();
            req = req.json(&json!({"id": 7, "type": kind, "subtype": subtype, "data": data}));
        } else if let Some(schema) = body_schema {
            let schema = resolve(doc, &schema);
            if op.surface == "music" {
                req = music_body(req, doc, &schema);
            } else {
                let mut body = sample(doc, &schema);
                if let (Some(t), "transit") = (&token, op.surface) {
                    body["token"] = json!(t);
                }
                req = req.json(&body);
            }
        }
        let res = req.send().await.unwrap();
        let http = res.status().as_u16();
        let is_json =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"));
        let body = if is_json { res.json().await.unwrap() } else { Value::Null };
        Answer { http, body }
    }
}

/// An account with a login name and a care phone, holding 普通用户 and maybe one more role.
async fn account(server: &TestServer, username: &str, phone: &str, role: Option<i64>) -> i64 {
    let id = server.create_user(username, "Matrix-pass-1").await;
    let db = server.sql();
    db.execute("UPDATE account SET phone = ?1 WHERE id = ?2", rusqlite::params![phone, id]).unwrap();
    if let Some(role) = role {
        db.execute("INSERT INTO account_role (account_id, role_id) VALUES (?1, ?2)", [id, role]).unwrap();
    }
    id
}

/// Path parameters: ids and names that match nothing, in each parameter's own format.
fn fill_path(surface: &str, path: &str) -> String {
    path.split('/')
        .map(|segment| match (surface, segment) {
            ("music", "{kind}") => "songs",
            ("music", "{name}") => "0123456789abcdef0123456789abcdef.wav",
            ("system", "{name}") => "hearth-20000101-000000.tar",
            (_, "{event_id}") => "00000000000000000000000000000000",
            (_, s) if s.starts_with('{') => "999999",
            (_, s) => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn resolve(doc: &Value, schema: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(reference) => resolve(doc, &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()]),
        None => schema.clone(),
    }
}

/// A value of the schema's shape: the required fields only, numbers that name nothing.
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(first) = schema["oneOf"].get(0).or_else(|| schema["anyOf"].get(0)).or_else(|| schema["allOf"].get(0)) {
        return sample(doc, first);
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut object = Map::new();
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                object.insert(name.to_owned(), sample(doc, &schema["properties"][name]));
            }
            Value::Object(object)
        }
        Some("integer" | "number") => json!(999999),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        // A digit reads as a name, a number or a list of ids alike.
        Some("string") => json!("1"),
        _ => json!({}),
    }
}

/// The music document's bodies: multipart/form-data when a file is required (small file
/// parts), x-www-form-urlencoded otherwise; required fields only.
fn music_body(req: reqwest::RequestBuilder, doc: &Value, schema: &Value) -> reqwest::RequestBuilder {
    let mut texts = Vec::new();
    let mut files = Vec::new();
    for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let field = resolve(doc, &schema["properties"][name]);
        if field["format"] == "binary" {
            files.push(name.to_owned());
        } else {
            let text = match sample(doc, &field) {
                Value::String(text) => text,
                other => other.to_string(),
            };
            texts.push((name.to_owned(), text));
        }
    }
    if files.is_empty() {
        return req.form(&texts);
    }
    let form = texts.into_iter().fold(Form::new(), |form, (name, text)| form.text(name, text));
    req.multipart(
        files
            .into_iter()
            .fold(form, |form, name| form.part(name, Part::bytes(b"not really media".to_vec()).file_name("probe.bin"))),
    )
}

/// Reads an answer's access verdict in `surface`'s own words, or says why it is unreadable.
pub fn outcome(surface: &str, path: &str, answer: &Answer) -> Result<Outcome, String> {
    let body = &answer.body;
    let message = body["message"].as_str().or_else(|| body["msg"].as_str()).unwrap_or_default();
    if message.starts_with("no such endpoint") || message.starts_with("this endpoint does not accept") {
        return Err(format!("not routed: {body}"));
    }
    let signed_out =
        message.starts_with("not logged in") || message.starts_with("the token ") || message.starts_with("请先登录");
    let by_role = message.starts_with("no permission for ") || message == "需要高级管理员权限才可导出数据";
    // The two care endpoints whose own tables answer a bad token with status 1.
    let own_table = matches!(path, "/api/user/info" | "/api/user/doki")
        && (message.starts_with("Error Token") || message.starts_with("Token not existed"));
    let verdict = match (surface, body["status"].as_i64(), &body["code"]) {
        ("care", Some(-100 | -101), _) => Outcome::SignedOut,
        ("care", Some(1), _) if own_table => Outcome::SignedOut,
        ("care", Some(-103), _) if by_role => Outcome::NoPermission,
        ("care", Some(-104), _) => Outcome::BadDevice,
        ("music", Some(401), _) if signed_out => Outcome::SignedOut,
        ("music", Some(403), _) if by_role => Outcome::NoPermission,
        ("transit", _, code) if code == 1000 && signed_out => Outcome::SignedOut,
        ("transit", _, code) if code == 1000 && by_role => Outcome::NoPermission,
        ("system", _, code) if code == -1 && signed_out => Outcome::SignedOut,
        ("system", _, code) if code == -1 && by_role => Outcome::NoPermission,
        ("open", _, code) if code == 10003 => Outcome::SignedOut,
        ("open", _, code) if code == 16000 => Outcome::NoScope,
        _ => Outcome::Reached,
    };
    // Music refuses with the HTTP status it names; every other surface with HTTP 200.
    let http = match (surface, verdict) {
        (_, Outcome::Reached) => answer.http,
        ("music", _) => body["status"].as_u64().unwrap_or_default() as u16,
        _ => 200,
    };
    if answer.http != http {
        return Err(format!("HTTP {} with {body}", answer.http));
    }
    Ok(verdict)
}
