//! Tokens and passwords never reach the log. This file is its own test binary, so it can
//! own the global tracing subscriber and read everything the server logs. The output
//! formats are tested on the real `hearth` executable with its stdout piped, as journald or
//! a log file would take it.

#[path = "it/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Runs `hearth serve` with its stdout piped and these extra flags, makes one request, stops
/// it with SIGTERM and answers everything it printed.
async fn piped_run(flags: &[&str]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["serve", "--listen", "127.0.0.1:0", "--backup-interval-hours", "0", "--log", "info", "--data"])
        .arg(data.path())
        .args(flags)
        .env_remove("NO_COLOR")
        .env_remove("HEARTH_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start hearth");
    let (lines, received) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let left = deadline.checked_duration_since(Instant::now()).expect("hearth printed its address in time");
        let line = received.recv_timeout(left).expect("hearth printed its address");
        output.push(line.clone());
        if let Some(addr) = line.split(" listening on ").nth(1) {
            break addr.trim().to_owned();
        }
    };
    let res = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(res.status(), 200);
    // SAFETY: kill only sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert!(status.success(), "hearth exits cleanly on SIGTERM: {status}");
    reader.join().unwrap();
    output.extend(received.try_iter());
    output.join("\n")
}

#[tokio::test]
async fn piped_text_logs_carry_no_colour_codes_and_are_flushed_at_exit() {
    let log = piped_run(&[]).await;
    assert!(!log.contains('\x1b'), "escape sequences in piped output:\n{log:?}");
    assert!(log.contains("/health") && log.contains("status=200"), "the request line is there:\n{log}");
    // The last line is written by the background writer as the process exits.
    assert!(log.contains("hearth stopped cleanly"), "the last line was flushed:\n{log}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_level_target_and_message() {
    let log = piped_run(&["--log-format", "json"]).await;
    assert!(!log.contains('\x1b'), "{log:?}");
    let mut events = Vec::new();
    for line in log.lines() {
        // What hearth prints for a person (its address, a setup link) is not a log line.
        if line.starts_with("hearth ") || line.starts_with("No administrator") || line.starts_with("  http") {
            continue;
        }
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line:?}"));
        for field in ["timestamp", "level", "target", "message"] {
            assert!(event[field].is_string(), "{field} missing in {line}");
        }
        events.push(event);
    }
    let request = events
        .iter()
        .find(|e| e["target"] == "hearth::request" && e["path"] == "/health")
        .unwrap_or_else(|| panic!("the request line is there:\n{log}"));
    assert_eq!((request["level"].as_str(), request["status"].as_u64()), (Some("INFO"), Some(200)));
    assert!(events.iter().any(|e| e["message"] == "hearth stopped cleanly"), "flushed at exit:\n{log}");
}
