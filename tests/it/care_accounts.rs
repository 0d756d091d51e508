//! care (seed 004): envelopes, captchas, phone accounts, sessions and profiles, spoken in
//! the document's JSON.

use crate::care_support;
use crate::common;

use care_support::*;
use common::{read, TestServer};
use hearth::identity::tokens::md5_hex;
use serde_json::json;

#[tokio::test]
async fn envelope_mistakes_get_the_global_statuses_and_echo_the_id() {
    let server = TestServer::start().await;
    let login = "/care/api/user/login";
    let res = server.client.post(server.url(login)).body("{not json").send().await.unwrap();
    let (_, body) = read(res).await;
    assert_eq!((body["id"].clone(), body["status"].clone()), (json!(-1), json!(-2)));
    let body = call_at(&server, login, None, json!({"type": "login", "subtype": "pass", "data": {}})).await;
    fails(&body, -1);
    let body = call_at(&server, login, None, json!({"id": "77", "type": "login", "data": {}})).await;
    assert_eq!(body["id"], 77, "a numeric string id is echoed as its integer");
    fails(&body, -1);
    let body =
        call_at(&server, login, None, json!({"id": "abc", "type": "login", "subtype": "pass", "data": {"pass": "x"}}))
            .await;
    assert_eq!(body["id"], -1);
    fails(&body, -3);
    assert!(body["message"].as_str().unwrap().contains("phone"), "{body}");
    let body = call_at(&server, login, None, json!({"id": 9, "type": "login", "subtype": "nope", "data": {}})).await;
    assert_eq!(body["id"], 9);
    fails(&body, -2);
    let body = call_at(
        &server,
        login,
        None,
        json!({"id": 9, "type": "login", "subtype": "pass", "data": {"phone": 13700000000i64, "pass": "x"}}),
    )
    .await;
    fails(&body, -203);
    let body = call(&server, "/api/user/nickname", None, "info", "nickname", json!({"user_id": "13700000000"})).await;
    fails(&body, -100);
    let body =
        call(&server, "/api/user/nickname", Some("0123456789abcdef0123456789abcdef"), "info", "nickname", json!({}))
            .await;
    fails(&body, -101);
}

#[tokio::test]
async fn image_captcha_round_trip_reads_the_code_from_the_captcha_table() {
    let server = TestServer::start().await;
    let data = ok(call(&server, "/api/captcha", None, "img", "generate", json!({})).await);
    let rand = data["rand"].as_str().unwrap().to_owned();
    assert_eq!(rand.len(), 5);
    let png =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data["imgdata"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "imgdata is a plain base64 PNG");
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();
    assert_eq!(code.len(), 5);

    let wrong =
        call(&server, "/api/captcha", None, "img", "validate", json!({"hash": md5_hex(&format!("zzzzz{rand}"))})).await;
    fails(&wrong, 100);
    let hash = md5_hex(&format!("{}{rand}", code.to_lowercase())).to_uppercase();
    ok(call(&server, "/api/captcha", None, "img", "validate", json!({"hash": hash})).await);
    let again = call(&server, "/api/captcha", None, "img", "validate", json!({"hash": hash})).await;
    fails(&again, 100);
    assert_eq!(again["message"].as_str().unwrap().split(':').next(), Some("Error captcha hash"));
}

#[tokio::test]
async fn register_and_login_through_the_sms_outbox() {
    let server = TestServer::start().await;
    let bad = call(&server, "/api/captcha", None, "sms", "generate", json!({"phone": "12345"})).await;
    fails(&bad, 1016);

    let phone = "13750687010";
    let wrong = call(
        &server,
        "/api/user/register",
        None,
        "register",
        "phone",
        json!({"phone": phone, "hash": md5_hex("nope"), "pass": "wlc570Q0"}),
    )
    .await;
    fails(&wrong, 400);
    // An image-captcha hash never passes an SMS check.
    let img = ok(call(&server, "/api/captcha", None, "img", "generate", json!({})).await);
    let rand = img["rand"].as_str().unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [rand], |r| r.get(0)).unwrap();
    let img_hash = md5_hex(&format!("{code}{rand}"));
    fails(
        &call(
            &server,
            "/api/user/register",
            None,
            "register",
            "phone",
            json!({"phone": phone, "hash": img_hash, "pass": "x"}),
        )
        .await,
        400,
    );
    // A code for forgotten passwords does not register.
    let forget_hash = sms_hash(&server, phone, 2).await;
    fails(
        &call(
            &server,
            "/api/user/register",
            None,
            "register",
            "phone",
            json!({"phone": phone, "hash": forget_hash, "pass": "x"}),
        )
        .await,
        400,
    );

    let hash = sms_hash(&server, phone, 1).await;
    let done = call(
        &server,
        "/api/user/register",
        None,
        "register",
        "phone",
        json!({"phone": phone, "hash": hash, "pass": "wlc570Q0"}),
    )
    .await;
    assert_eq!(done["id"], 4321);
    assert_eq!(ok(done), json!({}));
    let role: i64 = server
        .sql()
        .query_row(
            "SELECT ar.role_id FROM account a JOIN account_role ar ON ar.account_id = a.id WHERE a.phone = ?1",
            [phone],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(role, hearth::identity::roles::USER);
    let stored: String =
        server.sql().query_row("SELECT password_hash FROM account WHERE phone = ?1", [phone], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("$argon2id$"));

    fails(
        &call(
            &server,
            "/api/user/register",
            None,
            "register",
            "phone",
            json!({"phone": phone, "hash": hash, "pass": "x"}),
        )
        .await,
        101,
    );

    // Expired: the document's -4.
    let other = "13900000001";
    let old = sms_hash(&server, other, 1).await;
    server.sql().execute("UPDATE sms_code SET expires_at = expires_at - 181 WHERE phone = ?1", [other]).unwrap();
    fails(
        &call(
            &server,
            "/api/user/register",
            None,
            "register",
            "phone",
            json!({"phone": other, "hash": old, "pass": "x"}),
        )
        .await,
        -4,
    );

    let token = login(&server, phone, "wlc570Q0").await;
    assert_eq!(ok(get(&server, &format!("/api/user/info?token={token}")).await)["phone"], phone);
    fails(
        &call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "wrong"})).await,
        101,
    );
    fails(
        &call(&server, "/api/user/login", None, "login", "pass", json!({"phone": "13999999999", "pass": "wrong"}))
            .await,
        100,
    );
}

#[tokio::test]
async fn forgotten_and_changed_passwords_end_every_session() {
    let server = TestServer::start().await;
    let phone = "13750680001";
    register(&server, phone, "first-pass").await;
    let a = login(&server, phone, "first-pass").await;
    let b = login(&server, phone, "first-pass").await;

    let hash = sms_hash(&server, phone, 2).await;
    let forget = |hash: String, pass: &'static str| {
        let server = &server;
        async move {
            call(
                server,
                "/api/user/password",
                None,
                "password",
                "forget",
                json!({"phone": phone, "hash": hash, "pass": pass}),
            )
            .await
        }
    };
    fails(&forget(md5_hex("wrong"), "second-pass").await, 400);
    ok(forget(hash.clone(), "second-pass").await);
    fails(&forget(hash, "third-pass").await, 400);
    for token in [&a, &b] {
        fails(&get(&server, &format!("/api/user/info?token={token}")).await, 1);
    }
    fails(
        &call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "first-pass"})).await,
        101,
    );
    let c = login(&server, phone, "second-pass").await;

    let change = |old: &'static str, new: &'static str| {
        let server = &server;
        async move {
            call(
                server,
                "/api/user/password",
                None,
                "password",
                "change",
                json!({"phone": phone, "old": old, "new": new}),
            )
            .await
        }
    };
    fails(&change("nope", "x").await, 101);
    ok(change("second-pass", "abc123").await);
    fails(&get(&server, &format!("/api/user/doki?token={c}")).await, 1);
    login(&server, phone, "abc123").await;
}

#[tokio::test]
async fn sessions_are_capped_expire_when_idle_and_doki_keeps_them_alive() {
    let server = TestServer::start().await;
    let phone = "13750680002";
    register(&server, phone, "pw").await;
    let mut tokens = Vec::new();
    for _ in 0..11 {
        tokens.push(login(&server, phone, "pw").await);
    }
    fails(&get(&server, &format!("/api/user/doki?token={}", tokens[0])).await, 1);
    for token in &tokens[1..] {
        ok(get(&server, &format!("/api/user/doki?token={token}")).await);
    }
    let count: i64 = server
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM session s JOIN account a ON a.id = s.account_id WHERE a.phone = ?1",
            [phone],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 10);

    // Idle time passes in the database; the server, which keeps signed-in callers in memory, is
    // told the file changed behind its back.
    let backdate = |secs: i64| {
        server.sql().execute("UPDATE session SET last_used_at = last_used_at - ?1", [secs]).unwrap();
        server.running().app.identity.forget_callers();
    };
    // doki keeps a session alive: 8 idle minutes, doki, 8 more, still valid.
    let kept = &tokens[10];
    backdate(480);
    ok(get(&server, &format!("/api/user/doki?token={kept}")).await);
    backdate(480);
    ok(get(&server, &format!("/api/user/doki?token={kept}")).await);
    // Ten idle minutes and it is gone for good.
    backdate(601);
    let expired = get(&server, &format!("/api/user/doki?token={kept}")).await;
    fails(&expired, 1);
    assert_eq!(expired["message"].as_str().unwrap().split(':').next(), Some("Token not existed"));
    fails(&call(&server, "/api/user/nickname", Some(kept), "info", "nickname", json!({"user_id": phone})).await, -101);

    // An enduring token ignores idleness.
    let enduring = ok(call(
        &server,
        "/api/user/login",
        None,
        "login",
        "pass",
        json!({"phone": phone, "pass": "pw", "enduring": 1}),
    )
    .await);
    let enduring = enduring["token"].as_str().unwrap();
    backdate(86_400);
    ok(get(&server, &format!("/api/user/doki?token={enduring}")).await);
    // "enduring" that is not an int counts as 0.
    let loose = ok(call(
        &server,
        "/api/user/login",
        None,
        "login",
        "pass",
        json!({"phone": phone, "pass": "pw", "enduring": "yes"}),
    )
    .await);
    let idle: Option<i64> =
        server.sql().query_row("SELECT idle_secs FROM session ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(idle, Some(600), "{loose}");
    fails(&get(&server, "/api/user/doki").await, -100);
}

#[tokio::test]
async fn five_failed_logins_for_a_phone_then_an_image_captcha_is_needed() {
    let server = TestServer::start().await;
    let phone = "13750680003";
    register(&server, phone, "right").await;
    for _ in 0..5 {
        fails(
            &call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "wrong"})).await,
            101,
        );
    }
    fails(&call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "right"})).await, -4);
    let img = ok(call(&server, "/api/captcha", None, "img", "generate", json!({})).await);
    let rand = img["rand"].as_str().unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [rand], |r| r.get(0)).unwrap();
    let hash = md5_hex(&format!("{code}{rand}"));
    ok(call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "right", "hash": hash}))
        .await);
}

#[tokio::test]
async fn nickname_and_profile_read_and_update() {
    let server = TestServer::start().await;
    let phone = "13750680004";
    let token = user(&server, phone).await;
    let info = ok(get(&server, &format!("/api/user/info?token={token}")).await);
    assert_eq!(info, json!({"phone": phone, "name": null, "nickname": null, "email": null, "level": 1}));

    let update = |data: serde_json::Value| {
        let (server, token) = (&server, token.clone());
        async move { call(server, "/api/user/info", Some(&token), "info", "update", data).await }
    };
    ok(update(json!({"phone": phone, "name": "王凌超", "nickname": "FatBallFish", "email": "893721708@qq.com"})).await);
    let info = ok(get(&server, &format!("/api/user/info?token={token}")).await);
    assert_eq!(
        info,
        json!({"phone": phone, "name": "王凌超", "nickname": "FatBallFish", "email": "893721708@qq.com", "level": 1})
    );
    fails(&update(json!({"phone": "13000000000", "name": "x"})).await, -204);
    fails(&update(json!({"phone": phone, "level": 5})).await, -103);
    fails(&update(json!({"phone": phone, "level": null})).await, -203);
    fails(&update(json!({"phone": phone, "name": "x".repeat(21)})).await, -204);
    ok(update(json!({"phone": phone, "email": null})).await);
    assert_eq!(ok(get(&server, &format!("/api/user/info?token={token}")).await)["email"], json!(null));

    let nick =
        ok(call(&server, "/api/user/nickname", Some(&token), "info", "nickname", json!({"user_id": phone})).await);
    assert_eq!(nick, json!({"nickname": "FatBallFish"}));
    let nick = ok(call(&server, "/api/user/nickname", Some(&token), "info", "nickname", json!({"phone": phone})).await);
    assert_eq!(nick["nickname"], "FatBallFish");
    fails(
        &call(&server, "/api/user/nickname", Some(&token), "info", "nickname", json!({"user_id": "13999999999"})).await,
        100,
    );

    let bad = get(&server, "/api/user/info?token=0123456789abcdef0123456789abcdef").await;
    fails(&bad, 1);
    fails(&get(&server, "/api/user/info").await, -100);
}

#[tokio::test]
async fn the_compat_root_serves_the_same_api() {
    let server = TestServer::start().await;
    let data =
        call_at(&server, "/api/captcha", None, json!({"id": "12", "type": "img", "subtype": "generate", "data": {}}))
            .await;
    assert_eq!(data["id"], 12);
    assert_eq!(data["status"], 0);
    let token = user(&server, "13750680005").await;
    let (_, info) =
        read(server.client.get(server.url(&format!("/api/user/info?token={token}"))).send().await.unwrap()).await;
    assert_eq!(info["data"]["phone"], "13750680005");
}
