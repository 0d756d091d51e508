//! The account core's rules, tried through every door a security review found open: ranks
//! across surfaces, reset codes in the SMS outbox, weakening one's own role, console care
//! sessions after logout, and login names that differ only in case.

use crate::care_support;
use crate::common::{read, TestServer};
use crate::music_support::{self, PASSWORD};

use hearth::identity::tokens::md5_hex;
use reqwest::Method;
use serde_json::{json, Value};

const SUPER_PHONE: &str = "13900000001";
const MANAGER_PHONE: &str = "13900000002";

/// A super-administrator `care_admin` with a phone, and a 管理员 `manager01` who can log in
/// on every surface (username and phone, password `PASSWORD`).
async fn super_and_manager(server: &TestServer) -> (i64, i64) {
    care_support::admin(server, SUPER_PHONE).await;
    let super_id: i64 =
        server.sql().query_row("SELECT id FROM account WHERE username = 'care_admin'", [], |r| r.get(0)).unwrap();
    let (manager_id, _) = music_support::manager(server, "manager01").await;
    server
        .sql()
        .execute("UPDATE account SET phone = ?1 WHERE id = ?2", rusqlite::params![MANAGER_PHONE, manager_id])
        .unwrap();
    (super_id, manager_id)
}

async fn outbox(server: &TestServer, token: &str, phone: &str) -> Value {
    let (_, answer) = server.get_auth(&format!("/system/api/sms/outbox?phone={phone}"), token).await;
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"][0].clone()
}

async fn forget(server: &TestServer, phone: &str, hash: &str, pass: &str) -> Value {
    let data = json!({"phone": phone, "hash": hash, "pass": pass});
    care_support::call(server, "/api/user/password", None, "password", "forget", data).await
}

#[tokio::test]
async fn an_administrator_cannot_read_a_higher_or_peer_administrators_reset_code() {
    let server = TestServer::start().await;
    super_and_manager(&server).await;
    let manager = server.system_login("manager01", PASSWORD).await;
    let super_token = server.system_login("care_admin", "Admin-Pass-1").await;

    for phone in [SUPER_PHONE, MANAGER_PHONE] {
        let asked = care_support::call(
            &server,
            "/api/captcha",
            None,
            "sms",
            "generate",
            json!({"phone": phone, "command_type": 2}),
        )
        .await;
        let rand = care_support::ok(asked)["rand"].as_str().unwrap().to_owned();
        let real: String =
            server.sql().query_row("SELECT code FROM sms_outbox WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();

        let seen = outbox(&server, &manager, phone).await;
        assert_eq!(seen["rand"], rand.as_str());
        let shown = seen["code"].as_str().unwrap();
        assert_ne!(shown, real, "a 管理员 must not read the code of {phone}");
        assert!(!seen["text"].as_str().unwrap().contains(&real), "{seen}");
        let refused = forget(&server, phone, &md5_hex(&format!("{shown}{rand}")), "Taken-Over-1").await;
        assert_ne!(refused["status"], 0, "{refused}");

        // A super-administrator reads every code.
        assert_eq!(outbox(&server, &super_token, phone).await["code"], real.as_str());
    }
    // The super-administrator's password is unchanged.
    care_support::login(&server, SUPER_PHONE, "Admin-Pass-1").await;

    // An ordinary account's code stays readable to administrators, who read it out.
    care_support::user(&server, "13900000003").await;
    let asked = care_support::call(
        &server,
        "/api/captcha",
        None,
        "sms",
        "generate",
        json!({"phone": "13900000003", "command_type": 2}),
    )
    .await;
    let rand = care_support::ok(asked)["rand"].as_str().unwrap().to_owned();
    let seen = outbox(&server, &manager, "13900000003").await;
    assert_eq!(seen["rand"], rand.as_str());
    assert_eq!(seen["code"].as_str().unwrap().len(), 5, "{seen}");
    server.stop().await;
}

#[tokio::test]
async fn an_administrator_cannot_change_an_account_that_outranks_it_on_any_surface() {
    let server = TestServer::start().await;
    let (super_id, _) = super_and_manager(&server).await;
    let profile = |server: &TestServer| -> (String, String, i64) {
        server
            .sql()
            .query_row("SELECT name, email, care_level FROM account WHERE id = ?1", [super_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap()
    };
    let before = profile(&server);

    // care: the administrators' user update.
    let care = care_support::login(&server, MANAGER_PHONE, PASSWORD).await;
    let answer = care_support::call(
        &server,
        "/api/admin/user",
        Some(&care),
        "user",
        "update",
        json!({"phone": SUPER_PHONE, "name": "owned", "level": 9}),
    )
    .await;
    assert_eq!(answer["status"], -103, "{answer}");

    // music: PUT /api/user with the super-administrator's uid.
    let music = music_support::token(&server, "manager01").await;
    let body = music_support::form(&[("uid", super_id.to_string()), ("emailAddress", "owned@example.com".into())]);
    let answer = music_support::call(&server, Method::PUT, "/api/user", Some(&music), body).await;
    music_support::failed(answer, 403);

    // system: edit and password reset.
    let system = server.system_login("manager01", PASSWORD).await;
    let res = server
        .client
        .put(server.url(&format!("/system/api/auth/user/update/{super_id}")))
        .bearer_auth(&system)
        .json(&json!({"loginname": "care_admin", "password": "Taken-Over-1"}))
        .send()
        .await
        .unwrap();
    let (_, answer) = read(res).await;
    assert_eq!(answer["code"], -1, "{answer}");

    assert_eq!(profile(&server), before, "nothing of the super-administrator changed");
    care_support::login(&server, SUPER_PHONE, "Admin-Pass-1").await;
    server.stop().await;
}

#[tokio::test]
async fn an_administrator_cannot_weaken_a_role_it_holds() {
    let server = TestServer::start().await;
    super_and_manager(&server).await;
    let manager = server.system_login("manager01", PASSWORD).await;
    let grants = |server: &TestServer| -> i64 {
        server.sql().query_row("SELECT count(*) FROM role_permission WHERE role_id = 2", [], |r| r.get(0)).unwrap()
    };
    let before = grants(&server);
    assert!(before > 0);

    let res = server
        .client
        .post(server.url("/system/api/auth/permission/rolePer/edit/2"))
        .bearer_auth(&manager)
        .json(&json!({"permissionList": []}))
        .send()
        .await
        .unwrap();
    let (_, answer) = read(res).await;
    assert_eq!(answer["code"], -1, "{answer}");
    let res = server
        .client
        .put(server.url("/system/api/auth/role/edit/2"))
        .bearer_auth(&manager)
        .json(&json!({"name": "管理员", "isEnable": false}))
        .send()
        .await
        .unwrap();
    let (_, answer) = read(res).await;
    assert_eq!(answer["code"], -1, "{answer}");

    assert_eq!(grants(&server), before);
    let (_, roles) = server.get_auth("/system/api/auth/role/roleList", &manager).await;
    assert_eq!(roles["code"], 0, "the 管理员 still works: {roles}");

    // A super-administrator may still change the role.
    let root = server.system_login("care_admin", "Admin-Pass-1").await;
    let res = server
        .client
        .post(server.url("/system/api/auth/permission/rolePer/edit/2"))
        .bearer_auth(&root)
        .json(&json!({"permissionList": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.1["code"], 0);
    assert_eq!(grants(&server), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_system_logout_ends_the_care_session_it_issued() {
    let server = TestServer::start().await;
    super_and_manager(&server).await;
    let system = server.system_login("care_admin", "Admin-Pass-1").await;
    let res = server.client.post(server.url("/system/api/auth/careSession")).bearer_auth(&system).send().await.unwrap();
    let (_, answer) = read(res).await;
    let care = answer["data"]["token"].as_str().expect("a care token").to_owned();
    let devices = || care_support::call(&server, "/api/device", Some(&care), "device", "list", json!({}));
    assert_eq!(devices().await["status"], 0);

    let res = server.client.post(server.url("/system/api/auth/logout")).bearer_auth(&system).send().await.unwrap();
    assert_eq!(read(res).await.1["code"], 0);
    assert_eq!(devices().await["status"], -101, "the console's care token died with its system session");
    server.stop().await;
}

#[tokio::test]
async fn login_names_are_unique_whatever_their_case() {
    let server = TestServer::start().await;
    let root = server.create_admin("root_admin", "Correct-Horse-9").await;
    assert!(root > 0);
    music_support::user(&server, "admin0").await;

    for variant in ["ADMIN0", "Admin0"] {
        let refused = music_support::signup(&server, variant, PASSWORD).await;
        music_support::failed(refused, 409);
    }
    let system = server.system_login("root_admin", "Correct-Horse-9").await;
    let res = server
        .client
        .post(server.url("/system/api/auth/user/save"))
        .bearer_auth(&system)
        .json(&json!({"name": "x", "loginname": "aDmIn0", "password": "secret-123"}))
        .send()
        .await
        .unwrap();
    let (_, answer) = read(res).await;
    assert_eq!(answer["code"], -1, "{answer}");
    let count: i64 = server
        .sql()
        .query_row("SELECT count(*) FROM account WHERE username = 'admin0' COLLATE NOCASE", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);

    // The one account answers to its name in any case.
    let token = music_support::login(&server, "ADMIN0", PASSWORD).await;
    assert!(music_support::data(token).is_string());
    server.stop().await;
}
