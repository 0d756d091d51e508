//! Start, stop and start again: graceful shutdown, persistence across restarts, the setup
//! link, the command line, configuration and the committed OpenAPI documents.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::{read, TestServer};
use serde_json::json;

const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let server = TestServer::start().await;
    server.create_admin("root_admin", "Correct-Horse-9").await;
    // The request's body arrives in two parts; shutdown starts between them.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let url = server.url("/system/api/auth/login");
    let client = server.client.clone();
    let in_flight = tokio::spawn(async move {
        let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
        client.post(url).header("content-type", "application/json").body(body).send().await
    });
    tx.send(Ok(br#"{"loginname":"root_admin","#.to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = server.base.clone();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are refused while the old request is still being served.
    assert!(reqwest::get(format!("{base}/health")).await.is_err());
    tx.send(Ok(br#""password":"Correct-Horse-9"}"#.to_vec())).await.unwrap();
    drop(tx);
    let res = in_flight.await.unwrap().expect("the in-flight request is answered");
    let (_, body) = read(res).await;
    assert_eq!(body["code"], 0, "{body}");
    stopping.await.unwrap();
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn a_restart_keeps_accounts_and_sessions() {
    let server = TestServer::start().await;
    server.create_admin("root_admin", "Correct-Horse-9").await;
    let token = server.system_login("root_admin", "Correct-Horse-9").await;
    let server = server.restart().await;
    let (_, body) = server.get_auth("/system/api/sms/outbox", &token).await;
    assert_eq!(body["code"], 0, "the old token still works: {body}");
    server.system_login("root_admin", "Correct-Horse-9").await;
    // A clean stop leaves the WAL folded into the database file.
    let dir = server.dir.clone();
    server.stop().await;
    let wal = std::fs::metadata(dir.path().join("hearth.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0);
}

#[tokio::test]
async fn the_setup_link_creates_the_first_administrator_once() {
    let server = TestServer::start().await;
    let token = server.running().setup_token.clone().expect("no administrator yet: a setup link");
    let body = json!({"token": token, "loginname": "owner", "password": "Owner-pass-1", "phone": "13812345678"});
    let (_, short) = server
        .post_json("/system/api/setup", &json!({"token": token, "loginname": "owner", "password": "short"}))
        .await;
    assert!(short["message"].as_str().unwrap().contains("8 characters"));
    let (_, answer) = server.post_json("/system/api/setup", &body).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let session = answer["data"]["token"].as_str().unwrap();
    assert_eq!(server.get_auth("/system/api/sms/outbox", session).await.1["code"], 0);
    let (_, again) = server.post_json("/system/api/setup", &body).await;
    assert_eq!(again["code"], -1);
    let server = server.restart().await;
    assert!(server.running().setup_token.is_none(), "an administrator exists now");
    server.system_login("owner", "Owner-pass-1").await;
}

#[tokio::test]
async fn an_expired_or_forged_setup_token_is_refused() {
    let server = TestServer::start().await;
    let token = server.running().setup_token.clone().unwrap();
    let (_, forged) = server
        .post_json(
            "/system/api/setup",
            &json!({"token": "0".repeat(32), "loginname": "x", "password": "Long-enough-1"}),
        )
        .await;
    assert_eq!(forged["code"], -1);
    server.sql().execute("UPDATE setup_token SET expires_at = 0", []).unwrap();
    let (_, late) = server
        .post_json("/system/api/setup", &json!({"token": token, "loginname": "x", "password": "Long-enough-1"}))
        .await;
    assert_eq!(late["code"], -1);
    assert!(late["message"].as_str().unwrap().contains("expired"));
}

#[cfg(unix)]
#[tokio::test]
async fn secrets_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let mode = std::fs::metadata(server.data().join("secrets/jwt.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn hearth(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(HEARTH).arg("--data").arg(data).args(args).env_remove("HEARTH_LISTEN").output().expect("run hearth")
}

#[tokio::test]
async fn admin_create_is_idempotent_and_the_server_accepts_the_account() {
    let dir = tempfile::tempdir().unwrap();
    for password in ["First-pass-1", "Second-pass-2"] {
        let out = hearth(
            dir.path(),
            &["admin", "create", "--username", "boss", "--password", password, "--phone", "13900001111"],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("boss"));
    }
    let bad = hearth(dir.path(), &["admin", "create", "--username", "boss", "--password", "short"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("8 characters"));
    let config = hearth::config::Config::for_tests(dir.path());
    let running = hearth::start(config).await.unwrap();
    let accounts: i64 = rusqlite::Connection::open(dir.path().join("hearth.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM account WHERE username = 'boss' AND phone = '13900001111'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(accounts, 1);
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/system/api/auth/login", running.base_url()))
        .json(&json!({"loginname": "boss", "password": "Second-pass-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.1["code"], 0);
    assert!(running.setup_token.is_none());
    running.stop().await.unwrap();
}

#[test]
fn unknown_config_keys_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hearth.toml"), "listen = \"127.0.0.1:0\"\nlisten_port = 9\n").unwrap();
    let out = hearth(dir.path(), &["serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen_port") && err.contains("hearth.toml"), "{err}");
}

#[test]
fn flags_beat_environment_beats_file_beats_defaults() {
    use hearth::config::{Config, Settings};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hearth.toml"),
        "listen = \"127.0.0.1:1111\"\njson_limit = 5\ncompat_root = \"music\"\n",
    )
    .unwrap();
    // clap gives flags precedence over environment; here the merged CLI layer has `listen` only.
    let cli = Settings { listen: Some("127.0.0.1:2222".into()), ..Settings::default() };
    let config = Config::load(dir.path(), &cli).unwrap();
    assert_eq!(config.listen, "127.0.0.1:2222");
    assert_eq!(config.json_limit, 5);
    assert_eq!(config.compat_root, "music");
    assert_eq!(config.upload_limit, 64 * 1024 * 1024, "default");
    std::fs::write(dir.path().join("hearth.toml"), "compat_root = \"radio\"\n").unwrap();
    assert!(Config::load(dir.path(), &Settings::default()).unwrap_err().to_string().contains("radio"));
}

#[test]
fn environment_is_read_and_flags_win_over_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hearth.toml"), "compat_root = \"bogus\"\n").unwrap();
    // The file's bad value is overridden by the environment, which a flag overrides in turn.
    let out = Command::new(HEARTH)
        .arg("--data")
        .arg(dir.path())
        .args(["admin", "create", "--username", "a", "--password", "Long-enough-1"])
        .env("HEARTH_COMPAT_ROOT", "care")
        .output()
        .unwrap();
    assert!(out.status.success(), "env beats file: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(HEARTH)
        .arg("--data")
        .arg(dir.path())
        .args(["--compat-root", "nonsense", "admin", "create", "--username", "a", "--password", "Long-enough-1"])
        .env("HEARTH_COMPAT_ROOT", "care")
        .output()
        .unwrap();
    assert!(!out.status.success(), "flag beats env");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonsense"));
}

/// The server serves the committed documents as they are, so they must be the ones the code
/// describes. `HEARTH_WRITE_OPENAPI=1` rewrites them from the code instead of checking.
#[test]
fn the_committed_openapi_documents_match_the_code() {
    let scratch = tempfile::tempdir().unwrap();
    let app = hearth::AppState::open(hearth::config::Config::for_tests(scratch.path())).unwrap();
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let rewrite = std::env::var_os("HEARTH_WRITE_OPENAPI").is_some();
    let specs = hearth::specs(&app);
    assert_eq!(specs.len(), 5);
    for (surface, json) in specs {
        let path = committed.join(format!("{surface}.json"));
        let fresh = hearth::pretty_spec(&json).unwrap();
        if rewrite {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let saved = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            fresh == saved,
            "openapi/{surface}.json is out of date: run `HEARTH_WRITE_OPENAPI=1 cargo test --test it committed_openapi`, \
             then build again and commit the result"
        );
    }
}

/// `hearth openapi --out DIR` writes the documents the server serves, byte for byte as committed.
#[test]
fn the_openapi_command_writes_the_served_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(HEARTH).args(["openapi", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    for surface in ["care", "music", "transit", "system", "open"] {
        let name = format!("{surface}.json");
        let written = std::fs::read(dir.path().join(&name)).unwrap();
        assert_eq!(written, std::fs::read(committed.join(&name)).unwrap(), "{name}");
    }
}
