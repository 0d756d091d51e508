//! Tokens and passwords never reach the log. This file is its own test binary, so it can
//! own the global tracing subscriber and read everything the server logs.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::TestServer;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_log_but_requests_do() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().with_env_filter("trace").with_ansi(false).with_writer(move || writer.clone()).init();
    let server = TestServer::start().await;
    let password = "Very-Secret-Pass-93";
    server.create_admin("log_admin", password).await;
    let token = server.system_login("log_admin", password).await;
    server.get_auth("/system/api/sms/outbox?pageSize=5", &token).await;
    let res =
        server.client.get(server.url(&format!("/care/api/notice/stream?token={token}&x=1"))).send().await.unwrap();
    assert!(res.status().is_success());
    server.post_json("/system/api/auth/login", &json!({"loginname": "log_admin", "password": "Wrong-Secret-77"})).await;
    let setup = server.running().setup_token.clone();
    server.stop().await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("/system/api/sms/outbox?pageSize=5"), "request lines are logged:\n{log}");
    assert!(log.contains("token=***&x=1"), "query secrets are masked:\n{log}");
    assert!(log.contains("status=200") && log.contains("request_id="), "{log}");
    for secret in [password, "Wrong-Secret-77", token.as_str()] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
    if let Some(setup) = setup {
        assert!(!log.contains(&setup), "the setup token leaked into the log");
    }
}
