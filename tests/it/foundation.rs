//! The foundation over HTTP: system login and tokens, the SMS outbox, captcha and SMS code
//! services, the envelope of every error class on every surface, body limits, health, docs,
//! setup link, compatibility root.

use crate::common;

use common::{read, TestServer};
use serde_json::{json, Value};

const ADMIN: &str = "root_admin";
const ADMIN_PASS: &str = "Correct-Horse-9";

async fn with_admin() -> (TestServer, String) {
    let server = TestServer::start().await;
    server.create_admin(ADMIN, ADMIN_PASS).await;
    let token = server.system_login(ADMIN, ADMIN_PASS).await;
    (server, token)
}

#[tokio::test]
async fn login_answers_a_token_and_its_expiration_time() {
    let (server, token) = with_admin().await;
    let (_, body) =
        server.post_json("/system/api/auth/login", &json!({"loginname": ADMIN, "password": ADMIN_PASS})).await;
    assert_eq!(body["message"], "SUCC");
    let expiry = body["data"]["expirationTime"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(expiry, "%Y-%m-%d %H:%M:%S").is_ok(), "{expiry}");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let (status, outbox) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!((status, outbox["code"].clone()), (200, json!(0)));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let (server, _) = with_admin().await;
    let (s1, wrong) =
        server.post_json("/system/api/auth/login", &json!({"loginname": ADMIN, "password": "nope-nope"})).await;
    let (s2, unknown) =
        server.post_json("/system/api/auth/login", &json!({"loginname": "ghost", "password": "nope-nope"})).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(wrong["code"], -1);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["data"], Value::Null);
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_tokens_die_at_once() {
    let (server, _) = with_admin().await;
    let id = server.create_user("plain_user", "Plain-pass-1").await;
    let token = server.system_login("plain_user", "Plain-pass-1").await;
    let app = server.running().app.clone();
    app.db
        .write(move |tx| hearth::identity::accounts::set_enabled(tx, &hearth::identity::Caller::operator(), id, false))
        .await
        .unwrap();
    let (_, body) = server
        .post_json("/system/api/auth/login", &json!({"loginname": "plain_user", "password": "Plain-pass-1"}))
        .await;
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("disabled"), "{body}");
    let (_, body) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("log in again"), "{body}");
}

#[tokio::test]
async fn logout_revokes_only_that_token_and_password_change_revokes_all() {
    let (server, first) = with_admin().await;
    let second = server.system_login(ADMIN, ADMIN_PASS).await;
    let res = server.client.post(server.url("/system/api/auth/logout")).bearer_auth(&first).send().await.unwrap();
    assert_eq!(read(res).await.1["code"], 0);
    assert_eq!(server.get_auth("/system/api/sms/outbox", &first).await.1["code"], -1);
    assert_eq!(server.get_auth("/system/api/sms/outbox", &second).await.1["code"], 0);
    // `hearth admin create` on an existing name sets a new password: every session ends.
    server.create_admin(ADMIN, "Another-pass-2").await;
    assert_eq!(server.get_auth("/system/api/sms/outbox", &second).await.1["code"], -1);
    server.system_login(ADMIN, "Another-pass-2").await;
}

#[tokio::test]
async fn an_expired_token_never_works() {
    let server = TestServer::start_with(|c| c.token_hours = 0).await;
    server.create_admin(ADMIN, ADMIN_PASS).await;
    let token = server.system_login(ADMIN, ADMIN_PASS).await;
    let (_, body) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
    // Nor does a session row whose expiry has passed, even if the JWT were still valid.
    let server = TestServer::start().await;
    server.create_admin(ADMIN, ADMIN_PASS).await;
    let token = server.system_login(ADMIN, ADMIN_PASS).await;
    server.sql().execute("UPDATE session SET expires_at = 0", []).unwrap();
    assert_eq!(server.get_auth("/system/api/sms/outbox", &token).await.1["code"], -1);
    assert_eq!(server.sql().query_row("SELECT COUNT(*) FROM session", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let (server, token) = with_admin().await;
    let stored: Vec<u8> = server.sql().query_row("SELECT token_hash FROM session", [], |r| r.get(0)).unwrap();
    assert_eq!(stored.len(), 32);
    let dump: Vec<u8> = std::fs::read(server.db_path()).unwrap();
    let wal = std::fs::read(server.data().join("hearth.db-wal")).unwrap_or_default();
    for bytes in [dump, wal] {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "raw token on disk");
    }
}

#[tokio::test]
async fn an_ordinary_user_is_refused_the_administrators_outbox() {
    let (server, _) = with_admin().await;
    server.create_user("plain_user", "Plain-pass-1").await;
    let token = server.system_login("plain_user", "Plain-pass-1").await;
    let (status, body) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("no permission"), "{body}");
}

#[tokio::test]
async fn failed_logins_are_limited_per_client_address() {
    let server = TestServer::start_with(|c| c.login_max_failures = 3).await;
    server.create_admin(ADMIN, ADMIN_PASS).await;
    for _ in 0..3 {
        let (_, body) =
            server.post_json("/system/api/auth/login", &json!({"loginname": ADMIN, "password": "bad-guess"})).await;
        assert!(body["message"].as_str().unwrap().contains("wrong login name or password"));
    }
    // Now even the right password waits: otherwise guessing would simply continue.
    let res = server
        .client
        .post(server.url("/system/api/auth/login"))
        .json(&json!({"loginname": ADMIN, "password": ADMIN_PASS}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after));
    let body = read(res).await.1;
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("retry in"), "{body}");
}

#[tokio::test]
async fn successful_logins_are_never_counted() {
    let server = TestServer::start_with(|c| c.login_max_failures = 2).await;
    server.create_admin(ADMIN, ADMIN_PASS).await;
    for _ in 0..5 {
        server.system_login(ADMIN, ADMIN_PASS).await;
    }
}

#[tokio::test]
async fn the_sms_outbox_lists_codes_newest_first_with_paging() {
    let (server, token) = with_admin().await;
    let identity = &server.running().app.identity;
    let first = identity.send_sms_code("13800000001", 1).await.unwrap();
    let second = identity.send_sms_code("13800000002", 2).await.unwrap();
    let (_, body) = server.get_auth("/system/api/sms/outbox?pageNum=1&pageSize=1", &token).await;
    assert_eq!(body["total"], 2);
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["rand"], second.as_str());
    assert_eq!(rows[0]["commandType"], 2);
    assert!(rows[0]["text"].as_str().unwrap().contains(rows[0]["code"].as_str().unwrap()));
    let (_, body) = server.get_auth("/system/api/sms/outbox?phone=13800000001", &token).await;
    assert_eq!(body["data"][0]["rand"], first.as_str());
    assert_eq!(body["total"], 1);
    let (_, body) = server.get_auth("/system/api/sms/outbox?pageSize=0", &token).await;
    assert_eq!(body["code"], -1);
}

fn md5(text: &str) -> String {
    hearth::identity::tokens::md5_hex(text)
}

#[tokio::test]
async fn an_image_captcha_is_a_real_png_and_passes_once() {
    let server = TestServer::start().await;
    let identity = &server.running().app.identity;
    let captcha = identity.new_image_captcha().await.unwrap();
    let png = image::load_from_memory(&captcha.png).expect("decodable image");
    assert!(png.width() >= 100 && png.height() >= 40);
    assert_eq!(captcha.rand.len(), 5);
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [&captcha.rand], |r| r.get(0)).unwrap();
    assert_eq!(code.len(), 5);
    assert_eq!(code, code.to_lowercase());
    let hash = md5(&format!("{code}{}", captcha.rand)).to_uppercase();
    assert!(!identity.check_image_captcha("127.0.0.9", &md5("wrong")).await.unwrap());
    assert!(identity.check_image_captcha("127.0.0.9", &hash).await.unwrap(), "case-insensitive hash passes");
    assert!(!identity.check_image_captcha("127.0.0.9", &hash).await.unwrap(), "single use");
    // An expired captcha never passes.
    let late = identity.new_image_captcha().await.unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [&late.rand], |r| r.get(0)).unwrap();
    server.sql().execute("UPDATE captcha SET expires_at = 0", []).unwrap();
    assert!(!identity.check_image_captcha("127.0.0.9", &md5(&format!("{code}{}", late.rand))).await.unwrap());
}

#[tokio::test]
async fn sms_codes_are_bound_to_phone_and_purpose_single_use_and_expire() {
    use hearth::identity::sms::SmsCheck;
    let server = TestServer::start().await;
    let identity = &server.running().app.identity;
    let rand = identity.send_sms_code("13900000000", 1).await.unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM sms_outbox WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();
    assert!(code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()));
    let hash = md5(&format!("{code}{rand}"));
    assert_eq!(identity.check_sms_code("13900000001", 1, &hash).await.unwrap(), SmsCheck::Mismatch);
    assert_eq!(identity.check_sms_code("13900000000", 2, &hash).await.unwrap(), SmsCheck::Mismatch);
    assert!(!identity.check_image_captcha("127.0.0.9", &hash).await.unwrap(), "an SMS hash is no image captcha");
    assert_eq!(identity.check_sms_code("13900000000", 1, &hash).await.unwrap(), SmsCheck::Passed);
    assert_eq!(identity.check_sms_code("13900000000", 1, &hash).await.unwrap(), SmsCheck::Mismatch);
    let rand = identity.send_sms_code("13900000000", 2).await.unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM sms_code WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();
    server.sql().execute("UPDATE sms_code SET expires_at = expires_at - 181", []).unwrap();
    assert_eq!(
        identity.check_sms_code("13900000000", 2, &md5(&format!("{code}{rand}"))).await.unwrap(),
        SmsCheck::Expired
    );
}

#[tokio::test]
async fn the_webhook_sms_sender_posts_phone_and_text_to_the_gateway() {
    use poem::{handler, post, web::Json, EndpointExt, Route};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    #[handler]
    async fn receive(
        Json(body): Json<Value>,
        tx: poem::web::Data<&tokio::sync::mpsc::UnboundedSender<Value>>,
    ) -> &'static str {
        tx.send(body).unwrap();
        "ok"
    }
    let acceptor =
        poem::listener::Listener::into_acceptor(poem::listener::TcpListener::bind("127.0.0.1:0")).await.unwrap();
    let gateway = poem::listener::Acceptor::local_addr(&acceptor)[0].as_socket_addr().copied().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(Route::new().at("/sms", post(receive).data(tx))));
    let server = TestServer::start_with(|c| c.sms_webhook = Some(format!("http://{gateway}/sms"))).await;
    let rand = server.running().app.identity.send_sms_code("13700000000", 1).await.unwrap();
    let sent = rx.recv().await.unwrap();
    assert_eq!(sent["phone"], "13700000000");
    let code: String =
        server.sql().query_row("SELECT code FROM sms_code WHERE rand = ?1", [&rand], |r| r.get(0)).unwrap();
    assert!(sent["text"].as_str().unwrap().contains(&code));
    let outbox: i64 = server.sql().query_row("SELECT COUNT(*) FROM sms_outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(outbox, 0, "the webhook sender does not write the outbox");
    // A gateway that is down: the caller hears of it and the code is not left valid.
    let server = TestServer::start_with(|c| c.sms_webhook = Some("http://127.0.0.1:9/sms".into())).await;
    assert!(server.running().app.identity.send_sms_code("13700000000", 1).await.is_err());
    let left: i64 = server.sql().query_row("SELECT COUNT(*) FROM sms_code", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
}
