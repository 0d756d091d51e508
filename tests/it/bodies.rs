//! Bodies by operation: what an anonymous caller may make the server read is small whatever
//! the content type, and large uploads are read only after their sender is authenticated.

use crate::common::TestServer;

use futures_util::future::join_all;
use futures_util::{stream, StreamExt};
use serde_json::Value;

const MIB: usize = 1024 * 1024;

/// A 60 MiB multipart body produced as it is sent, so the client holds one chunk at a time.
fn streamed_multipart(size: usize) -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = (0..size / CHUNK).map(|_| Ok::<_, std::io::Error>(vec![b'a'; CHUNK]));
    reqwest::Body::wrap_stream(stream::iter(chunks))
}

fn resident_mib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() / 1024
}

async fn post(server: &TestServer, path: &str, body: reqwest::Body, length: Option<usize>) -> (u16, Value) {
    let mut request =
        server.client.post(server.url(path)).header("content-type", "multipart/form-data; boundary=xyz").body(body);
    if let Some(length) = length {
        request = request.header("content-length", length);
    }
    match request.send().await {
        Ok(res) => {
            let http = res.status().as_u16();
            (http, res.json().await.unwrap_or(Value::Null))
        }
        // The server may answer and close before the client finished sending.
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// The review's attack: 30 parallel 60 MiB multipart posts to music signup, declared and
/// chunked. Each is refused with 413 after at most 64 KiB, and the server's memory (this
/// process, which runs it) does not grow by the bodies' size.
#[tokio::test]
async fn anonymous_uploads_are_refused_after_64_kib_and_memory_stays_flat() {
    let server = TestServer::start().await;
    let before = resident_mib();
    let declared =
        (0..15).map(|_| post(&server, "/music/api/user/signup", streamed_multipart(60 * MIB), Some(60 * MIB)));
    let chunked = (0..15).map(|_| post(&server, "/music/api/user/signup", streamed_multipart(60 * MIB), None));
    let (declared, chunked) = futures_util::join!(join_all(declared), join_all(chunked));
    for (http, body) in declared.iter().chain(&chunked) {
        if *http != 0 {
            assert_eq!(*http, 413, "{body}");
            assert!(body["message"].as_str().unwrap().contains("65536 bytes"), "{body}");
        }
    }
    assert!(declared.iter().all(|(http, _)| *http == 413), "a declared length is refused before reading");
    let grown = resident_mib().saturating_sub(before);
    assert!(grown < 200, "resident memory grew by {grown} MiB for 1.8 GiB of refused bodies");
    // The same limit for any public operation, whatever the content type.
    let big_json = format!("{{\"loginname\":\"x\",\"password\":\"{}\"}}", "p".repeat(70 * 1024));
    let res = server
        .client
        .post(server.url("/system/api/auth/login"))
        .header("content-type", "application/json")
        .body(big_json)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
}

/// A camera snapshot may be megabytes, but only once the device token in its query works: a
/// wrong token is answered while the body is still coming (this one never ends, so a server
/// that read it first would never answer), and an upload without a token is refused for it.
#[tokio::test]
async fn large_bodies_are_read_only_after_their_sender_is_authenticated() {
    let server = TestServer::start().await;
    let start = stream::iter([Ok::<_, std::io::Error>(
        format!(r#"{{"id":4,"type":"notice","subtype":"upload","data":{{"base64":"{}"#, "A".repeat(128 * 1024))
            .into_bytes(),
    )]);
    let endless = reqwest::Body::wrap_stream(start.chain(stream::pending()));
    let sent = server
        .client
        .post(server.url("/care/api/notice?token=0123456789abcdef0123456789abcdef"))
        .header("content-type", "application/json")
        .body(endless)
        .send();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), sent)
        .await
        .expect("the server waited for the body of a camera whose token is wrong");
    if let Ok(res) = answer {
        let answer: Value = res.json().await.unwrap();
        assert_ne!(answer["status"], 0, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("token"), "{answer}");
    }

    let (http, body) = post(&server, "/music/api/music", streamed_multipart(MIB), Some(MIB)).await;
    assert_eq!(http, 401, "an upload without a token is refused for the token: {body}");
}
