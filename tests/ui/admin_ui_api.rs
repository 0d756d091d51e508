//! The system endpoints the admin UI needs beyond seed 001, over HTTP: the login captcha
//! after failed logins, and the caller's own permissions for the navigation.

use crate::common;

use common::TestServer;
use serde_json::{json, Value};

fn md5_hex(text: &str) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(text.as_bytes()))
}

async fn login(server: &TestServer, body: Value) -> Value {
    let (status, answer) = server.post_json("/system/api/auth/login", &body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// A fresh captcha, and its code as the picture shows it (read from the server's table).
async fn captcha(server: &TestServer) -> (String, String) {
    let res = server.client.get(server.url("/system/api/auth/captcha")).send().await.unwrap();
    let (status, answer) = common::read(res).await;
    assert_eq!((status, answer["code"].clone(), answer["message"].clone()), (200, json!(0), json!("SUCC")), "{answer}");
    let rand = answer["data"]["rand"].as_str().unwrap().to_owned();
    let png =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, answer["data"]["imgdata"].as_str().unwrap())
            .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "imgdata is a plain base64 PNG");
    assert_eq!(rand.len(), 5);
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();
    (rand, code)
}

#[tokio::test]
async fn three_failed_logins_for_a_name_require_a_captcha_until_a_login_succeeds() {
    let server = TestServer::start().await;
    server.create_admin("warden", "warden-password").await;
    server.create_user("other", "other-password").await;

    for attempt in 1..=3 {
        let answer = login(&server, json!({ "loginname": "warden", "password": "nope" })).await;
        assert_eq!(answer["code"], -1);
        let message = answer["message"].as_str().unwrap();
        assert!(message.starts_with("wrong login name or password"), "{message}");
        assert_eq!(message.contains("captcha"), attempt == 3, "attempt {attempt}: {message}");
    }

    // The right password alone is no longer enough, nor a made-up hash.
    let answer = login(&server, json!({ "loginname": "warden", "password": "warden-password" })).await;
    assert_eq!(answer["code"], -1);
    assert!(answer["message"].as_str().unwrap().contains("captcha is needed"), "{answer}");
    assert_eq!(answer["data"], Value::Null);
    let answer =
        login(&server, json!({ "loginname": "warden", "password": "warden-password", "hash": md5_hex("zzzzzabcde") }))
            .await;
    assert!(answer["message"].as_str().unwrap().contains("captcha answer is wrong"), "{answer}");

    // Another login name is not affected.
    assert_eq!(login(&server, json!({ "loginname": "other", "password": "other-password" })).await["code"], 0);

    // A right captcha with a wrong password still counts as a failure and uses the captcha up.
    let (rand, code) = captcha(&server).await;
    let hash = md5_hex(&format!("{code}{rand}"));
    let answer = login(&server, json!({ "loginname": "warden", "password": "nope", "hash": hash })).await;
    assert!(answer["message"].as_str().unwrap().contains("wrong login name or password"), "{answer}");
    let answer = login(&server, json!({ "loginname": "warden", "password": "warden-password", "hash": hash })).await;
    assert!(
        answer["message"].as_str().unwrap().contains("captcha answer is wrong"),
        "a captcha is single use: {answer}"
    );

    // The answer is case-insensitive (lowercase before hashing); then the login succeeds.
    let (rand, code) = captcha(&server).await;
    let answer = login(&server, json!({ "loginname": "warden", "password": "warden-password", "hash": md5_hex(&format!("{code}{rand}")).to_uppercase() })).await;
    assert_eq!(answer["code"], 0, "{answer}");
    assert!(answer["data"]["token"].is_string());

    // Success clears the count: the next login needs no captcha.
    let answer = login(&server, json!({ "loginname": "warden", "password": "warden-password" })).await;
    assert_eq!(answer["code"], 0, "{answer}");
}

#[tokio::test]
async fn the_captcha_and_login_are_public_and_catalogued() {
    let server = TestServer::start().await;
    let conn = server.sql();
    let remark: String = conn
        .query_row("SELECT remark FROM permission WHERE permission_value = 'system:GET:/api/auth/captcha'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(remark, "default audience: public");
    let remark: String = conn
        .query_row(
            "SELECT remark FROM permission WHERE permission_value = 'system:GET:/api/auth/permission/mine'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(remark, "default audience: any signed-in account");
}

#[tokio::test]
async fn mine_answers_the_callers_own_pages_and_operations() {
    let server = TestServer::start().await;
    server.create_admin("root", "root-password").await;
    let admin = server.system_login("root", "root-password").await;
    let (_, me) = server.get_auth("/system/api/auth/permission/mine", &admin).await;
    assert_eq!(me["code"], 0, "{me}");
    assert_eq!(me["data"]["loginname"], "root");
    assert_eq!(me["data"]["superAdmin"], true);
    assert_eq!(me["data"]["roles"], json!(["超级管理员"]));
    let all = me["data"]["permissions"].as_array().unwrap();
    assert!(all.contains(&json!("admin:roles")) && all.contains(&json!("system:GET:/api/auth/role/roleList")), "{me}");

    // An ordinary user (普通用户) sees the everyone pages, not the administrators' ones.
    let id = server.create_user("carer", "carer-password").await;
    let carer = server.system_login("carer", "carer-password").await;
    let (_, me) = server.get_auth("/system/api/auth/permission/mine", &carer).await;
    assert_eq!(me["data"]["id"], id);
    assert_eq!(me["data"]["superAdmin"], false);
    assert_eq!(me["data"]["roles"], json!(["普通用户"]));
    let held = me["data"]["permissions"].as_array().unwrap();
    assert!(held.contains(&json!("admin:dashboard")) && held.contains(&json!("admin:music")), "{me}");
    assert!(
        !held.contains(&json!("admin:users")) && !held.contains(&json!("system:GET:/api/auth/role/roleList")),
        "{me}"
    );

    // A custom role holding one page and one operation: that is exactly what the account has.
    let call = |method: reqwest::Method, path: &str, body: Value| {
        let req = server.client.request(method, server.url(path)).bearer_auth(&admin).json(&body);
        async move { common::read(req.send().await.unwrap()).await.1 }
    };
    let role = call(
        reqwest::Method::POST,
        "/system/api/auth/role/save",
        json!({ "name": "护理组长", "remark": "", "isEnable": true }),
    )
    .await;
    let role = role["data"].as_i64().unwrap();
    let ids: Vec<i64> = server
        .sql()
        .prepare(
            "SELECT id FROM permission WHERE permission_value IN ('admin:users', 'system:GET:/api/auth/user/userList')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids.len(), 2);
    let saved = call(
        reqwest::Method::POST,
        &format!("/system/api/auth/permission/rolePer/edit/{role}"),
        json!({ "permissionList": ids }),
    )
    .await;
    assert_eq!(saved["code"], 0, "{saved}");
    let edited = call(
        reqwest::Method::PUT,
        &format!("/system/api/auth/user/edit/{id}"),
        json!({ "name": "carer", "loginname": "carer", "roleIdList": [role] }),
    )
    .await;
    assert_eq!(edited["code"], 0, "{edited}");
    let (_, me) = server.get_auth("/system/api/auth/permission/mine", &carer).await;
    assert_eq!(me["code"], 0, "a role without the entry still reads its own permissions: {me}");
    assert_eq!(me["data"]["roles"], json!(["护理组长"]));
    assert_eq!(me["data"]["permissions"], json!(["system:GET:/api/auth/user/userList", "admin:users"]));

    // Without a valid token: the system envelope's refusal.
    let (_, answer) = server.get_auth("/system/api/auth/permission/mine", "not-a-token").await;
    assert_eq!(answer["code"], -1);
    assert_eq!(answer["data"], Value::Null);
}

async fn care_session(server: &TestServer, token: &str) -> Value {
    let res = server.client.post(server.url("/system/api/auth/careSession")).bearer_auth(token).send().await.unwrap();
    let (status, answer) = common::read(res).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn care(server: &TestServer, token: &str, kind: &str, subtype: &str, data: Value) -> Value {
    let path = if kind == "device" { "/care/api/device" } else { "/care/api/get/notice" };
    let res = server
        .client
        .post(server.url(&format!("{path}?token={token}")))
        .json(&json!({"id": 7, "type": kind, "subtype": subtype, "data": data}))
        .send()
        .await
        .unwrap();
    common::read(res).await.1
}

#[tokio::test]
async fn a_console_session_is_exchanged_for_a_care_session_of_the_same_account() {
    let server = TestServer::start().await;
    let root_id = server.create_admin("root", "root-password").await;
    let system = server.system_login("root", "root-password").await;

    let answer = care_session(&server, &system).await;
    assert_eq!((answer["code"].clone(), answer["message"].clone()), (json!(0), json!("SUCC")), "{answer}");
    let token = answer["data"]["token"].as_str().unwrap().to_owned();
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");

    // The care token acts as the same account: a device it adds is bound to root.
    let added = care(&server, &token, "device", "add", json!({"device": "门厅"})).await;
    assert_eq!(added["status"], 0, "{added}");
    let owner: i64 = server.sql().query_row("SELECT account_id FROM device_binding", [], |r| r.get(0)).unwrap();
    assert_eq!(owner, root_id);
    let listed = care(&server, &token, "device", "list", json!({})).await;
    assert_eq!(listed["data"]["list"][0]["device"], "门厅", "{listed}");

    // An ordinary care session: 10 idle minutes, and it ends no later than the console's.
    let (idle, care_expiry, system_expiry): (i64, i64, i64) = server
        .sql()
        .query_row(
            "SELECT c.idle_secs, c.expires_at, s.expires_at FROM session c, session s
             WHERE c.surface = 'care' AND s.surface = 'system'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(idle, 600);
    assert!(care_expiry <= system_expiry, "{care_expiry} > {system_expiry}");

    // Without a valid console session there is none; after logout neither.
    let refused = care_session(&server, "not-a-token").await;
    assert_eq!(refused["code"], -1, "{refused}");
    let res = server.client.post(server.url("/system/api/auth/logout")).bearer_auth(&system).send().await.unwrap();
    assert_eq!(common::read(res).await.1["code"], 0);
    let refused = care_session(&server, &system).await;
    assert_eq!(refused["code"], -1, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("log in again"), "{refused}");

    // It is catalogued for everyone, like permission/mine, so a role can be denied it.
    server.create_user("carer", "carer-password").await;
    let carer = server.system_login("carer", "carer-password").await;
    let answer = care_session(&server, &carer).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let catalogued: i64 = server
        .sql()
        .query_row(
            "SELECT count(*) FROM permission WHERE permission_value = 'system:POST:/api/auth/careSession'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(catalogued, 1);
}
