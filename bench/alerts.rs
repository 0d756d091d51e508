//! Alert latency: from a camera's upload answer to the Home Assistant MQTT event (through a
//! real mosquitto on a loopback port), to the Web Push request reaching a loopback push
//! service (signed and encrypted, as to a browser's push service) and to the care SSE
//! event, p50 and p99.
//!
//!     cargo bench --bench alerts
//!     BENCH_FALLS=500 cargo bench --bench alerts
//!
//! Needs `mosquitto` (Debian package). Uploads go one at a time with a 100 KB JPEG, so each
//! latency is of one alert on an otherwise idle server. The SSE event is often written before
//! the upload's answer reaches the client: such a latency counts as 0. The push service
//! answers 201 at once, so the figure is hearth's own queueing, encryption and signing.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use hearth::config::Config;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use support::{env, percentile};
use tokio::sync::mpsc;

struct Mosquitto(std::process::Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn call(client: &reqwest::Client, url: &str, kind: &str, subtype: &str, data: Value) -> anyhow::Result<Value> {
    let body = json!({ "id": 1, "type": kind, "subtype": subtype, "data": data });
    let answer: Value = client.post(url).json(&body).send().await?.json().await?;
    anyhow::ensure!(answer["status"] == 0, "{kind}/{subtype} failed: {answer}");
    Ok(answer["data"].clone())
}

fn report(name: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{name:<34} n={:<5} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let falls = env("BENCH_FALLS", 200);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let conf_dir = tempfile::tempdir()?;
    let conf = conf_dir.path().join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"))?;
    let _broker =
        Mosquitto(Command::new("mosquitto").arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(10), "mosquitto did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir()?;
    let (push_endpoint, mut push_events) = push_service().await?;
    let mut config = Config::for_tests(dir.path());
    config.mqtt_url = Some(format!("mqtt://127.0.0.1:{port}"));
    config.push_endpoint_hosts = vec!["127.0.0.1".into()];
    let running = hearth::start(config).await?;
    let base = format!("{}/care", running.base_url());
    let client = reqwest::Client::new();

    // A family account with a care session and its camera.
    let app = running.app.clone();
    let account = app
        .db
        .write(move |tx| {
            let new = hearth::identity::accounts::NewAccount {
                phone: Some("13900000009"),
                password_hash: "x",
                enabled: true,
                ..Default::default()
            };
            hearth::identity::accounts::create(tx, &new, &[hearth::identity::roles::USER])
        })
        .await?;
    let session = hearth::surfaces::care::open_console_session(&app, account, None, hearth::clock::now() + 86_400)
        .await
        .map_err(|e| anyhow::anyhow!("care session: {}", e.message()))?;
    let device = call(
        &client,
        &format!("{base}/api/device?token={session}"),
        "device",
        "add",
        json!({ "device": "hall camera" }),
    )
    .await?;
    let camera = device["device_id"].as_str().unwrap_or_default().to_owned();
    call(&client, &format!("{base}/api/push?token={session}"), "push", "subscribe", subscription(&push_endpoint))
        .await?;

    // MQTT: every fall event's arrival time.
    let mut options = MqttOptions::new("bench-subscriber", "127.0.0.1", port);
    options.set_max_packet_size(16 << 20, 16 << 20);
    let (mqtt, mut eventloop) = AsyncClient::new(options, 64);
    mqtt.subscribe("hearth/camera/+/event", QoS::AtLeastOnce).await?;
    let (mqtt_seen, mut mqtt_events) = mpsc::unbounded_channel::<Instant>();
    tokio::spawn(async move {
        while let Ok(event) = eventloop.poll().await {
            if let Event::Incoming(Packet::Publish(_)) = event {
                let _ = mqtt_seen.send(Instant::now());
            }
        }
    });
    // SSE: every notice event's arrival time.
    let stream = client.get(format!("{base}/api/notice/stream?token={session}")).send().await?;
    let (sse_seen, mut sse_events) = mpsc::unbounded_channel::<Instant>();
    tokio::spawn(async move {
        let mut body = stream.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if frame.lines().any(|l| l.starts_with("data:")) {
                    let _ = sse_seen.send(Instant::now());
                }
            }
        }
    });
    // Let the subscription and the stream settle before measuring.
    let settle = Instant::now() + Duration::from_secs(10);
    while running.app.config.mqtt_url.is_some() && Instant::now() < settle {
        if call(&client, &format!("{base}/api/notice?token={camera}"), "notice", "upload", warm_up()).await.is_ok()
            && tokio::time::timeout(Duration::from_millis(500), mqtt_events.recv()).await.is_ok()
        {
            break;
        }
    }
    // The warm-up's own SSE event may still be on its way.
    let _ = tokio::time::timeout(Duration::from_secs(1), sse_events.recv()).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), push_events.recv()).await;
    while mqtt_events.try_recv().is_ok() {}
    while sse_events.try_recv().is_ok() {}
    while push_events.try_recv().is_ok() {}

    let jpeg = support::jpeg_of_about(100_000);
    let data = json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&jpeg), "content": "fall" });
    let upload_url = format!("{base}/api/notice?token={camera}");
    let (mut to_mqtt, mut to_push, mut to_sse) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..falls {
        call(&client, &upload_url, "notice", "upload", data.clone()).await?;
        let answered = Instant::now();
        let wait = Duration::from_secs(5);
        let at = tokio::time::timeout(wait, mqtt_events.recv()).await?.unwrap_or(answered);
        to_mqtt.push(at.saturating_duration_since(answered));
        let at = tokio::time::timeout(wait, push_events.recv()).await?.unwrap_or(answered);
        to_push.push(at.saturating_duration_since(answered));
        let at = tokio::time::timeout(wait, sse_events.recv()).await?.unwrap_or(answered);
        to_sse.push(at.saturating_duration_since(answered));
    }
    println!("{falls} falls, one at a time, 100 KB JPEG snapshots");
    report("upload answer -> MQTT event", to_mqtt);
    report("upload answer -> Web Push request", to_push);
    report("upload answer -> SSE event", to_sse);
    running.stop().await?;
    Ok(())
}

/// A loopback push service answering 201 to everything; reports each request's arrival.
async fn push_service() -> anyhow::Result<(String, mpsc::UnboundedReceiver<Instant>)> {
    use poem::listener::{Acceptor, Listener, TcpListener};
    use poem::{handler, EndpointExt};

    #[handler]
    async fn receive(seen: poem::web::Data<&mpsc::UnboundedSender<Instant>>) -> poem::http::StatusCode {
        let _ = seen.send(Instant::now());
        poem::http::StatusCode::CREATED
    }

    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().ok_or_else(|| anyhow::anyhow!("no address"))?;
    let (seen, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(receive.data(seen)).await;
    });
    Ok((format!("http://{addr}/push/bench"), events))
}

/// A browser's subscription for `endpoint`; its key is P-256's generator point, a valid
/// public key nobody needs to decrypt with here.
fn subscription(endpoint: &str) -> Value {
    let hex = "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5";
    let point: Vec<u8> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    json!({ "endpoint": endpoint, "keys": { "p256dh": b64.encode(point), "auth": b64.encode([7u8; 16]) } })
}

fn warm_up() -> Value {
    let jpeg = support::jpeg_of_about(2_000);
    json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&jpeg), "content": "warm-up" })
}
