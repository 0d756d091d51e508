//! `header_timeout_secs` (issue 14): connections that never finish their request headers are
//! closed; requests whose headers arrived are never cut, however slow their body or answer.
//! Spoken over raw sockets, since an HTTP client always sends whole requests.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::care_support::{add_device, next_event, open_stream, upload, user};
use crate::common::TestServer;
use crate::music_support::{self as music, creator, file_part, multipart, png, wav};

/// Long enough for a 1 s timeout to fire on a loaded machine; never a time anything waits for.
const LIMIT: Duration = Duration::from_secs(15);

async fn timed_server() -> TestServer {
    let mut server = TestServer::start_with(|c| c.header_timeout_secs = 1).await;
    // Pooled connections would be closed by the server while idle; every call gets its own.
    server.client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    server
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.running().addr).await.expect("connect")
}

/// Reads until the server closes the socket (end of stream or reset); false if it is still
/// open after `limit`. Whatever the server sends first is skipped.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let closing = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(limit, closing).await.is_ok()
}

/// Reads one answer (head and a Content-Length body); returns the head.
async fn read_answer(socket: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return head;
            }
        }
        let n = tokio::time::timeout(LIMIT, socket.read(&mut buf)).await.expect("an answer").expect("read");
        assert!(n > 0, "closed before the answer was complete: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let server = timed_server().await;
    let mut socket = connect(&server).await;
    assert!(closed_within(&mut socket, LIMIT).await, "a silent connection stays open");
}

#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let server = timed_server().await;
    let mut socket = connect(&server).await;
    socket.write_all(b"GET /health HTTP/1.1\r\nHost: hearth\r\nX-Slow: ").await.unwrap();
    let (mut reader, mut writer) = socket.split();
    let mut buf = [0u8; 1024];
    let mut sent = 0;
    let closed = tokio::time::timeout(LIMIT, async {
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => panic!("an answer to unfinished headers: {}", String::from_utf8_lossy(&buf[..n])),
                },
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    if writer.write_all(b"a").await.is_err() {
                        return;
                    }
                    sent += 1;
                }
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a client trickling its headers is never cut off ({sent} bytes sent)");
    assert!(sent > 0, "the connection was closed before any trickle");
}

#[tokio::test]
async fn complete_requests_are_answered_and_the_idle_connection_closed_afterwards() {
    let server = timed_server().await;
    let mut socket = connect(&server).await;
    for _ in 0..2 {
        socket.write_all(b"GET /health HTTP/1.1\r\nHost: hearth\r\n\r\n").await.unwrap();
        let head = read_answer(&mut socket).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    assert!(closed_within(&mut socket, LIMIT).await, "an idle keep-alive connection stays open");
}

#[tokio::test]
async fn an_upload_trickled_past_the_timeout_is_answered() {
    let server = timed_server().await;
    let body = br#"{"id":7,"type":"user","subtype":"login","data":{}}"#;
    let mut socket = connect(&server).await;
    let head = format!(
        "POST /care/api/user/login HTTP/1.1\r\nHost: hearth\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // Ten pieces 200 ms apart: the body takes about twice the timeout.
    for piece in body.chunks(body.len().div_ceil(10)) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        socket.write_all(piece).await.expect("the upload is not cut off");
    }
    let head = read_answer(&mut socket).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[tokio::test]
async fn the_alert_stream_outlives_the_timeout() {
    let server = timed_server().await;
    let token = user(&server, "13600000091").await;
    let device = add_device(&server, &token, "hall").await;
    let mut stream = open_stream(&server, &token, None).await.bytes_stream();
    // A silent socket opened after the stream: once it is closed, the stream has been open
    // longer than the timeout.
    let mut silent = connect(&server).await;
    assert!(closed_within(&mut silent, LIMIT).await, "a silent connection stays open");
    let pic = upload(&server, &device, "kitchen").await;
    let mut buffer = String::new();
    let (_, data) = tokio::time::timeout(LIMIT, next_event(&mut stream, &mut buffer)).await.expect("the alert arrives");
    assert_eq!(data["pic_name"], pic.as_str());
}

#[tokio::test]
async fn a_download_read_slowly_past_the_timeout_arrives_whole() {
    let server = timed_server().await;
    let (_, token) = creator(&server, "slow_reader").await;
    // 12 MB: more than the kernel buffers between the two ends hold, so the server is still
    // writing it well after the timeout.
    let audio = wav(6_000_000);
    let form = multipart(&[("musicname", "long"), ("creator", "[2]"), ("album", "[53]"), ("publishedTime", "1")])
        .part("res", file_part(audio.clone(), "long.wav", "audio/wav"))
        .part("musicAvatar", file_part(png(4, 4), "cover.png", "image/png"));
    let song = music::data(
        music::call(&server, reqwest::Method::POST, "/api/music", Some(&token), music::Body::Multipart(form)).await,
    );
    let path = song["resUrl"].as_str().unwrap().strip_prefix(&server.base).unwrap().to_owned();

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut socket = socket.connect(server.running().addr).await.unwrap();
    socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: hearth\r\n\r\n").as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = vec![0u8; 128 * 1024];
    let whole = tokio::time::timeout(LIMIT, async {
        loop {
            let n = socket.read(&mut buf).await.expect("the download is not cut off");
            assert!(n > 0, "closed after {} bytes", received.len());
            received.extend_from_slice(&buf[..n]);
            let head_end = received.windows(4).position(|w| w == b"\r\n\r\n");
            if head_end.is_some_and(|end| received.len() >= end + 4 + audio.len()) {
                return;
            }
            // About 3 MB/s: the download takes several times the timeout.
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    })
    .await;
    assert!(whole.is_ok(), "the download stalled after {} bytes", received.len());
    let body_start = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(received.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&received[..body_start]));
    assert!(received[body_start..] == audio[..], "the download arrived altered");
}

#[tokio::test]
async fn two_hundred_idle_sockets_are_all_closed() {
    let server = timed_server().await;
    let mut sockets = Vec::new();
    for _ in 0..200 {
        sockets.push(connect(&server).await);
    }
    let closed = futures_util::future::join_all(sockets.iter_mut().map(|s| closed_within(s, LIMIT))).await;
    let open = closed.iter().filter(|closed| !**closed).count();
    assert_eq!(open, 0, "{open} of 200 idle sockets stayed open");
    // The server still answers afterwards.
    let res = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn zero_turns_the_timeout_off() {
    let untimed = TestServer::start_with(|c| c.header_timeout_secs = 0).await;
    untimed.config.validate().expect("0 is an accepted setting");
    let timed = timed_server().await;
    let mut kept = connect(&untimed).await;
    let mut cut = connect(&timed).await;
    assert!(closed_within(&mut cut, LIMIT).await, "a silent connection stays open");
    assert!(!closed_within(&mut kept, Duration::from_millis(500)).await, "closed though the timeout is off");
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: hearth\r\n\r\n").await.unwrap();
    let head = read_answer(&mut kept).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}
