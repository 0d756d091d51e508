//! Limits that cannot be raced: each limited check takes its attempt from the limiter
//! before it does the work, or for a cheap lookup before its outcome is told
//! (`FailureLimiter::reserve`), so requests sent all at once cannot all pass the limit
//! before any of them is counted. Every test fires real parallel HTTP requests; were the
//! limiter asked only before the work and told of the failure after, nearly all of them
//! would be evaluated and each test would see far more than the limit.

use crate::care_support::{self, fails};
use crate::common::TestServer;
use crate::music_support::{self, call, form, PASSWORD};

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::join_all;
use hearth::identity::tokens::md5_hex;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Wrong SMS codes one phone may send within 15 minutes (`CareState::sms_failures`).
const SMS_MAX_FAILURES: usize = 10;

/// Sends every request before the server reads any of them, then collects the care
/// answers. Each connection first carries a call no limit counts (a heartbeat without a
/// token), so the server has accepted them all and waits on each; the writes that follow
/// never yield to the runtime the in-process server shares, so it sees the requests at
/// nearly the same moment: the widest race a client can make.
async fn all_at_once(server: &TestServer, requests: Vec<String>) -> Vec<Value> {
    let addr = server.running().addr;
    let warm =
        request("GET", "/care/api/device/heartbeat", None).replace("Connection: close", "Connection: keep-alive");
    let open = requests.iter().map(|_| async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(warm.as_bytes()).await.unwrap();
        assert_eq!(answer(&mut stream).await["status"], -100);
        stream
    });
    let mut sent = Vec::new();
    for (stream, request) in join_all(open).await.into_iter().zip(&requests) {
        let mut stream = stream.into_std().unwrap();
        std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
        sent.push(TcpStream::from_std(stream).unwrap());
    }
    join_all(sent.iter_mut().map(answer)).await
}

/// Reads one HTTP/1.1 answer (HTTP 200, as care answers every failure) and its JSON body.
async fn answer(stream: &mut TcpStream) -> Value {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            assert!(head.starts_with("HTTP/1.1 200"), "{text}");
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
                .unwrap_or_else(|| panic!("no Content-Length: {text}"))
                .unwrap();
            if body.len() >= length {
                return serde_json::from_str(&body[..length]).unwrap_or_else(|e| panic!("{e}: {text}"));
            }
        }
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the connection closed mid-answer: {text}");
        raw.extend_from_slice(&chunk[..read]);
    }
}

fn request(method: &str, path: &str, body: Option<&Value>) -> String {
    let body = body.map(Value::to_string).unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn with_status(answers: &[Value], status: i64) -> usize {
    answers.iter().filter(|a| a["status"] == status).count()
}

/// 200 heartbeats with made-up device tokens from one address against a limit of 2: at most
/// 2 lookups are answered (-104), the rest wait (-103). Then the address's right token
/// waits too, while a camera at another address carries on. A token lookup is one quick
/// indexed read, so the race window is narrow: several worker threads and a limit of 2 make
/// a check-then-count limiter show (it let 4 to 9 lookups through here), where 5 did not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_device_tokens_are_answered_at_most_the_limit() {
    let server = TestServer::start_with(|c| {
        c.device_max_failures = 2;
        c.device_window_secs = 300;
    })
    .await;
    let family = care_support::user(&server, "13600000701").await;
    let token = care_support::add_device(&server, &family, "porch").await;
    let guesses = (0..200).map(|n| request("GET", &format!("/care/api/device/heartbeat?token={n:032x}"), None));
    let answers = all_at_once(&server, guesses.collect()).await;
    let told = with_status(&answers, -104);
    let limited = with_status(&answers, -103);
    assert!((1..=2).contains(&told), "{told} lookups answered: {answers:?}");
    assert_eq!(told + limited, 200, "{answers:?}");
    let heartbeat = format!("/api/device/heartbeat?token={token}");
    fails(&care_support::get(&server, &heartbeat).await, -103);
    let camera = reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 7))).build().unwrap();
    let (http, answer) =
        crate::common::read(camera.get(server.url(&format!("/care{heartbeat}"))).send().await.unwrap()).await;
    assert_eq!((http, answer["status"].clone()), (200, json!(0)), "{answer}");
}

/// Cameras behind one address (a NAT, a gateway) calling in at the same moment: however
/// many right tokens are in flight, none is taken for a guess. Only a lookup that found
/// nothing counts, and it is counted before it is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_right_device_tokens_from_one_address_is_never_limited() {
    let server = TestServer::start_with(|c| {
        c.device_max_failures = 2;
        c.device_window_secs = 300;
    })
    .await;
    let family = care_support::user(&server, "13600000703").await;
    let token = care_support::add_device(&server, &family, "hall").await;
    let heartbeats = (0..200).map(|_| request("GET", &format!("/care/api/device/heartbeat?token={token}"), None));
    let answers = all_at_once(&server, heartbeats.collect()).await;
    let refused = with_status(&answers, -103);
    assert_eq!(with_status(&answers, 0), 200, "{refused} of 200 right tokens refused as guesses");
}

/// 200 registrations with wrong SMS codes for one phone: at most 10 codes are compared
/// (400, "does not match"), the rest wait (-103); then the right code waits too, and no
/// account was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_sms_codes_are_compared_at_most_the_limit() {
    let server = TestServer::start().await;
    let phone = "13600000702";
    let right = care_support::sms_hash(&server, phone, 1).await;
    let register = |hash: String| {
        let server = &server;
        async move {
            let data = json!({"phone": phone, "hash": hash, "pass": "pass-of-702"});
            care_support::call(server, "/api/user/register", None, "register", "phone", data).await
        }
    };
    let guesses = (0..200).map(|n| {
        let envelope = json!({"id": n, "type": "register", "subtype": "phone",
            "data": {"phone": phone, "hash": md5_hex(&format!("guess {n}")), "pass": "pass-of-702"}});
        request("POST", "/care/api/user/register", Some(&envelope))
    });
    let answers = all_at_once(&server, guesses.collect()).await;
    let compared = answers
        .iter()
        .filter(|a| a["status"] == 400 && a["message"].as_str().unwrap().contains("does not match"))
        .count();
    let limited = with_status(&answers, -103);
    assert!((1..=SMS_MAX_FAILURES).contains(&compared), "{compared} codes compared: {answers:?}");
    assert_eq!(compared + limited, 200, "{answers:?}");
    fails(&register(right).await, -103);
    let accounts: i64 =
        server.sql().query_row("SELECT COUNT(*) FROM account WHERE phone = ?1", [phone], |r| r.get(0)).unwrap();
    assert_eq!(accounts, 0);
}

/// 40 parallel password changes with a wrong old_pwd against a limit of 10: at most 10 are
/// checked with Argon2 (400 naming old_pwd), the rest wait (429); then the right one waits too.
#[tokio::test]
async fn parallel_wrong_old_passwords_are_checked_at_most_the_limit() {
    let server = TestServer::start_with(|c| c.login_max_failures = 10).await;
    let (uid, token) = music_support::user(&server, "changer01").await;
    let stored = || -> String {
        server.sql().query_row("SELECT password_hash FROM account WHERE id = ?1", [uid], |r| r.get(0)).unwrap()
    };
    let before = stored();
    let tries = (0..40).map(|_| {
        let fields = [("old_pwd", "Wrong-Pass-9"), ("new_pwd", "Newpass123"), ("re_pwd", "Newpass123")];
        call(&server, Method::PATCH, "/api/user/password", Some(&token), form(&fields))
    });
    let answers = join_all(tries).await;
    let checked = answers
        .iter()
        .filter(|(http, body)| *http == 400 && body["message"].as_str().unwrap().contains("old_pwd"))
        .count();
    let limited = answers.iter().filter(|(http, _)| *http == 429).count();
    assert!((1..=10).contains(&checked), "{checked} wrong old_pwd answers: {answers:?}");
    assert_eq!(checked + limited, 40, "{answers:?}");
    let fields = [("old_pwd", PASSWORD), ("new_pwd", "Newpass123"), ("re_pwd", "Newpass123")];
    let (http, _) = call(&server, Method::PATCH, "/api/user/password", Some(&token), form(&fields)).await;
    assert_eq!(http, 429);
    assert_eq!(stored(), before, "the password did not change");
}
