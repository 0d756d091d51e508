//! Care surface benchmark: fall-notice uploads with a 100 KB JPEG (decoded, verified and
//! written to disk atomically before the row) and notice-list requests, over real HTTP.
//!
//!     cargo bench --bench care
//!     BENCH_SECS=20 BENCH_CONNECTIONS=16 BENCH_NOTICES=500 cargo bench --bench care
//!
//! The server runs in this process (release build) on 127.0.0.1 with a throw-away data
//! folder on the machine's disk; client and server share the CPUs, so compare runs on one
//! host only.

mod support;

use std::time::Instant;

use base64::Engine;
use hearth::config::Config;
use serde_json::{json, Value};
use support::{env, load};

fn succeeded(status: u16, body: &[u8]) -> bool {
    status == 200 && support::has_field(body, r#""status":0"#)
}

async fn call(client: &reqwest::Client, url: &str, kind: &str, subtype: &str, data: Value) -> anyhow::Result<Value> {
    let body = json!({ "id": 1, "type": kind, "subtype": subtype, "data": data });
    let answer: Value = client.post(url).json(&body).send().await?.json().await?;
    anyhow::ensure!(answer["status"] == 0, "{kind}/{subtype} failed: {answer}");
    Ok(answer["data"].clone())
}

/// A phone account with a care session and one camera of its own: (session, device token).
async fn family(
    running: &hearth::Running,
    client: &reqwest::Client,
    base: &str,
    phone: &str,
) -> anyhow::Result<(String, String)> {
    let app = running.app.clone();
    let phone = phone.to_owned();
    let account = app
        .db
        .write(move |tx| {
            let new = hearth::identity::accounts::NewAccount {
                phone: Some(&phone),
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
        client,
        &format!("{base}/api/device?token={session}"),
        "device",
        "add",
        json!({ "device": "hall camera" }),
    )
    .await?;
    Ok((session, device["device_id"].as_str().unwrap_or_default().to_owned()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = env("BENCH_SECS", 10);
    let connections = env("BENCH_CONNECTIONS", 8);
    let listed = env("BENCH_NOTICES", 100);
    let dir = tempfile::tempdir()?;
    let running = hearth::start(Config::for_tests(dir.path())).await?;
    let base = format!("{}/care", running.base_url());
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections as usize).build()?;

    let jpeg = support::jpeg_of_about(100_000);
    let upload = serde_json::to_vec(&json!({
        "id": 1, "type": "notice", "subtype": "upload",
        "data": { "base64": base64::engine::general_purpose::STANDARD.encode(&jpeg), "content": "fall in the hall" }
    }))?;
    println!("snapshot: {} byte JPEG, {} byte request body", jpeg.len(), upload.len());

    // A family whose camera has `listed` notices, for the list; another camera for uploads.
    let (reader, their_camera) = family(&running, &client, &base, "13900000001").await?;
    let seeded = Instant::now();
    let seed_url = format!("{base}/api/notice?token={their_camera}");
    for _ in 0..listed {
        let res = client.post(&seed_url).header("Content-Type", "application/json").body(upload.clone()).send().await?;
        anyhow::ensure!(succeeded(res.status().as_u16(), &res.bytes().await?), "seeding a notice failed");
    }
    println!("seeded {listed} notices in {:.1} s", seeded.elapsed().as_secs_f64());
    let (_, camera) = family(&running, &client, &base, "13900000002").await?;

    println!(
        "\n{connections} connections, {secs} s per run, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (c, url) = (client.clone(), format!("{base}/api/notice?token={camera}"));
    let post = move |_| c.post(&url).header("Content-Type", "application/json").body(upload.clone());
    let uploads = load(connections, secs, post, succeeded).await;
    uploads.report("POST /api/notice (100 KB JPEG)");
    println!("{:<34} {:>9.1} MB/s of snapshots stored", "", uploads.per_sec() * jpeg.len() as f64 / 1e6);

    let list = serde_json::to_vec(&json!({ "id": 1, "type": "notice", "subtype": "get", "data": { "mode": 2 } }))?;
    let (c, url) = (client.clone(), format!("{base}/api/get/notice?token={reader}"));
    let get = move |_| c.post(&url).header("Content-Type", "application/json").body(list.clone());
    load(connections, 1, get.clone(), succeeded).await;
    load(connections, secs, get, succeeded).await.report(&format!("POST /api/get/notice ({listed} notices)"));

    let stored: i64 = running
        .app
        .db
        .read(|c| Ok::<_, hearth::db::DbError>(c.query_row("SELECT count(*) FROM notice", [], |r| r.get(0))?))
        .await?;
    println!("\nnotices stored: {stored}");
    running.stop().await?;
    Ok(())
}
