//! Soak benchmark: the release binary as a box runs it, under a mixed load of every surface
//! at half its measured peak for ten minutes; throughput, p50/p99 and the server's RSS per
//! minute, to show that memory stays flat.
//!
//!     cargo build --release && cargo bench --bench soak
//!     SOAK_SECS=120 SOAK_WINDOW=20 cargo bench --bench soak      a short run
//!
//! Settings: HEARTH_BIN (default target/release/hearth), SOAK_SECS (600), SOAK_WINDOW (60),
//! PEAK_SECS (20), BENCH_CONNECTIONS (32, for the peak), SOAK_TRIPS (200000), SOAK_SHARE
//! (50, percent of the peak). Results also go to bench/results/soak.json.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use support::{env, load, percentile, Check};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hearth(bin: &Path, data: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status =
        Command::new(bin).arg("--data").arg(data).args(["--log", "warn"]).args(args).stdout(Stdio::null()).status()?;
    ensure!(status.success(), "hearth {args:?} failed");
    Ok(())
}

/// The server's resident memory from /proc, in KiB: all of it, its heap and stacks
/// (anonymous), mapped files, and shared memory (SQLite's WAL index is a shared mapping).
#[derive(Clone, Copy, Default)]
struct Memory {
    rss: u64,
    anon: u64,
    file: u64,
    shmem: u64,
}

fn memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory { rss: field("VmRSS:"), anon: field("RssAnon:"), file: field("RssFile:"), shmem: field("RssShmem:") }
}

/// The server's open sockets (its listener and every client connection): each connection
/// holds buffers, so a burst of connections shows up in the heap.
fn sockets(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return 0 };
    fds.filter_map(Result::ok)
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:")))
        .count()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

async fn start(bin: &Path, data: &Path) -> anyhow::Result<Server> {
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(["--log", "warn", "--listen", &listen, "--login-max-failures", "1000000", "serve"])
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server { child, base: format!("http://{listen}") };
    for _ in 0..200 {
        if reqwest::get(format!("{}/health", server.base)).await.is_ok_and(|r| r.status() == 200) {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server did not answer /health")
}

async fn json_ok(res: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let body: Value = res.json().await.with_context(|| what.to_owned())?;
    Ok(body)
}

fn care_ok(status: u16, body: &[u8]) -> bool {
    status == 200 && support::has_field(body, r#""status":0"#)
}
fn code_ok(status: u16, body: &[u8]) -> bool {
    status == 200 && support::has_field(body, r#""code":0"#)
}
fn transit_ok(status: u16, body: &[u8]) -> bool {
    status == 200 && support::has_field(body, r#""code":2000"#)
}

/// Builds the request of one kind for the n-th time it is sent.
type MakeRequest = Box<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// One kind of request of the mix.
struct Op {
    name: &'static str,
    weight: u64,
    request: MakeRequest,
    check: Check,
}

struct Mix {
    ops: Vec<Op>,
    total: u64,
}

impl Mix {
    fn pick(&self, i: u64) -> &Op {
        let mut slot = (i.wrapping_mul(2_654_435_761)) % self.total;
        self.ops
            .iter()
            .find(|op| {
                if slot < op.weight {
                    true
                } else {
                    slot -= op.weight;
                    false
                }
            })
            .expect("an op")
    }
}

/// Accounts, a camera, songs and a transit dataset, then the mix over them.
async fn prepare(client: &reqwest::Client, base: &str) -> anyhow::Result<Mix> {
    let login = client
        .post(format!("{base}/system/api/auth/login"))
        .json(&json!({ "loginname": "soak", "password": "Soak-pass-123" }))
        .send()
        .await?;
    let jwt = json_ok(login, "system login").await?["data"]["token"].as_str().context("jwt")?.to_owned();
    let care_session = client.post(format!("{base}/system/api/auth/careSession")).bearer_auth(&jwt).send().await?;
    let care = json_ok(care_session, "care session").await?["data"]["token"].as_str().context("care token")?.to_owned();
    let add = |name: &str| json!({ "id": 1, "type": "device", "subtype": "add", "data": { "device": name } });
    let device_url = format!("{base}/care/api/device?token={care}");
    let watched = json_ok(client.post(&device_url).json(&add("watched")).send().await?, "device").await?["data"]
        ["device_id"]
        .as_str()
        .context("device")?
        .to_owned();
    let snapshot = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, support::jpeg_of_about(10_000));
    let upload_body = serde_json::to_vec(
        &json!({ "id": 1, "type": "notice", "subtype": "upload", "data": { "base64": snapshot, "content": "soak" } }),
    )?;
    for _ in 0..30 {
        let res = client
            .post(format!("{base}/care/api/notice?token={watched}"))
            .header("Content-Type", "application/json")
            .body(upload_body.clone())
            .send()
            .await?;
        let (status, body) = (res.status().as_u16(), res.bytes().await?);
        ensure!(care_ok(status, &body), "seeding a notice: {}", String::from_utf8_lossy(&body));
    }
    // Uploads during the run go to a camera nobody is bound to, so the listed notices stay 30.
    let busy = json_ok(client.post(&device_url).json(&add("busy")).send().await?, "device").await?["data"]["device_id"]
        .as_str()
        .context("device")?
        .to_owned();
    let unbind = json!({ "id": 1, "type": "device", "subtype": "unbind", "data": { "device_id": busy } });
    json_ok(client.post(&device_url).json(&unbind).send().await?, "unbind").await?;
    for n in 0..30 {
        let form = Form::new()
            .text("musicname", format!("soak song {n}"))
            .text("creator", "[1]")
            .text("album", "[1]")
            .text("publishedTime", "1435645397")
            .text("introduction", "soak")
            .part("res", Part::bytes(support::wav(4000)).file_name("song.wav").mime_str("audio/wav")?);
        let answer = json_ok(
            client.post(format!("{base}/music/api/music")).header("Authorization", &jwt).multipart(form).send().await?,
            "song",
        )
        .await?;
        ensure!(answer["code"] == 0, "song upload: {answer}");
    }

    let list_body = serde_json::to_vec(&json!({ "id": 1, "type": "notice", "subtype": "get", "data": { "mode": 2 } }))?;
    let (b, j, c) = (base.to_owned(), jwt.clone(), care.clone());
    let get = move |path: String| {
        let (b, j) = (b.clone(), j.clone());
        move |client: &reqwest::Client, i: u64| {
            client
                .get(format!(
                    "{b}{}",
                    path.replace("{d}", &format!("{:02}", i % 30 + 1)).replace("{s}", &format!("Sta{}", i % 168 + 1))
                ))
                .bearer_auth(&j)
        }
    };
    let op = |name, weight, request: MakeRequest, check| Op { name, weight, request, check };
    let (b2, c2, b3) = (base.to_owned(), c.clone(), base.to_owned());
    let ops = vec![
        op("health", 1, Box::new(get("/health".into())), support::http_ok),
        op(
            "care notice list",
            3,
            Box::new(move |client, _| {
                client
                    .post(format!("{b2}/care/api/get/notice?token={c2}"))
                    .header("Content-Type", "application/json")
                    .body(list_body.clone())
            }),
            care_ok,
        ),
        op(
            "care notice upload",
            1,
            Box::new(move |client, _| {
                client
                    .post(format!("{b3}/care/api/notice?token={busy}"))
                    .header("Content-Type", "application/json")
                    .body(upload_body.clone())
            }),
            care_ok,
        ),
        op(
            "care heartbeat",
            1,
            Box::new({
                let b = base.to_owned();
                move |client, _| client.get(format!("{b}/care/api/device/heartbeat?token={watched}"))
            }),
            care_ok,
        ),
        op("music song page", 3, Box::new(get("/music/api/music?pageNum=1&pageSize=20".into())), code_ok),
        op("music recommend", 1, Box::new(get("/music/api/musiclist/recommend".into())), code_ok),
        op("transit daily", 1, Box::new(get("/transit/api/echarts/daily".into())), transit_ok),
        op("transit od", 1, Box::new(get("/transit/api/echarts/od?date=2020-01-{d}&limit=20".into())), transit_ok),
        op(
            "transit realtime",
            1,
            Box::new(get("/transit/api/echarts/realtime?station={s}&date=2020-01-15".into())),
            transit_ok,
        ),
        op(
            "transit trip page",
            2,
            Box::new(get("/transit/api/manage/trip/list?station={s}&limit=20".into())),
            transit_ok,
        ),
        op("system users", 1, Box::new(get("/system/api/auth/user/userList?pageNum=1&pageSize=20".into())), code_ok),
    ];
    let total = ops.iter().map(|o| o.weight).sum();
    Ok(Mix { ops, total })
}

#[derive(Default)]
struct Window {
    requests: u64,
    failures: u64,
    late: u64,
    latencies: Vec<Duration>,
    rss_max: u64,
    end: Memory,
    wal_bytes: u64,
    sockets_max: usize,
}

impl Window {
    /// Prints the window as a table row and answers it as JSON.
    fn report(&mut self, until: u64, window: u64) -> Value {
        self.latencies.sort();
        let (p50, p99) = (percentile(&self.latencies, 0.5), percentile(&self.latencies, 0.99));
        let per_sec = self.requests as f64 / window as f64;
        println!(
            "{until:>5}s {per_sec:>8.0} {p50:>8.2} {p99:>8.2} {:>7} {:>5} {:>8} {:>9.1} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            self.failures, self.late, self.sockets_max, mib(self.rss_max), mib(self.end.rss), mib(self.end.anon), mib(self.end.file), mib(self.end.shmem),
            self.wal_bytes as f64 / 1048576.0
        );
        json!({
            "until_s": until, "requests_per_sec": per_sec, "p50_ms": p50, "p99_ms": p99, "failed": self.failures, "late": self.late,
            "rss_max_kib": self.rss_max, "rss_kib": self.end.rss, "rss_anon_kib": self.end.anon, "rss_file_kib": self.end.file,
            "rss_shmem_kib": self.end.shmem, "wal_bytes": self.wal_bytes, "sockets_max": self.sockets_max,
        })
    }
}

/// Sends the mix at `rate` a second, each request on its own task, for `secs`, printing a
/// row per `window` seconds as it closes. A request that cannot start because 512 are in
/// flight counts as late.
async fn open_loop(
    client: &reqwest::Client,
    mix: Arc<Mix>,
    rate: f64,
    secs: u64,
    window: u64,
    pid: u32,
    wal: PathBuf,
) -> Vec<Value> {
    let windows = (secs / window).max(1) as usize;
    let results: Arc<Mutex<Vec<Window>>> = Arc::new(Mutex::new((0..windows).map(|_| Window::default()).collect()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(512));
    let started = Instant::now();
    let window_of = move || ((started.elapsed().as_secs() / window) as usize).min(windows - 1);
    let sampler = {
        let results = results.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = memory(pid);
                let sockets = sockets(pid);
                let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
                let slot = &mut results.lock().unwrap()[window_of()];
                slot.rss_max = slot.rss_max.max(now.rss);
                slot.end = now;
                slot.wal_bytes = wal_bytes;
                slot.sockets_max = slot.sockets_max.max(sockets);
            }
        })
    };
    let reporter = {
        let results = results.clone();
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for w in 0..windows {
                // A second after the window closes, its last answers are in.
                tokio::time::sleep_until((started + Duration::from_secs((w as u64 + 1) * window + 1)).into()).await;
                rows.push(results.lock().unwrap()[w].report((w as u64 + 1) * window, window));
            }
            rows
        })
    };
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut i = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        next += period;
        tokio::time::sleep_until(next.into()).await;
        let w = window_of();
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            results.lock().unwrap()[w].late += 1;
            continue;
        };
        let (client, mix, results) = (client.clone(), mix.clone(), results.clone());
        tokio::spawn(async move {
            let op = mix.pick(i);
            let t = Instant::now();
            let good = match (op.request)(&client, i).send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    res.bytes().await.is_ok_and(|b| (op.check)(status, &b))
                }
                Err(_) => false,
            };
            let took = t.elapsed();
            let slot = &mut results.lock().unwrap()[w];
            slot.requests += 1;
            slot.failures += u64::from(!good);
            slot.latencies.push(took);
            drop(permit);
        });
        i += 1;
    }
    let rows = reporter.await.expect("the reporter");
    sampler.abort();
    rows
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("HEARTH_BIN").map(PathBuf::from).unwrap_or_else(|| root.join("target/release/hearth"));
    ensure!(bin.is_file(), "{} is missing: run `cargo build --release` first", bin.display());
    let (secs, window, peak_secs) = (env("SOAK_SECS", 600), env("SOAK_WINDOW", 60), env("PEAK_SECS", 20));
    let (connections, trips, share) = (env("BENCH_CONNECTIONS", 32), env("SOAK_TRIPS", 200_000), env("SOAK_SHARE", 50));
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let csv = dir.path().join("csv");
    let t = Instant::now();
    let trips_arg = trips.to_string();
    Command::new(&bin)
        .args(["transit", "synth", "--quiet", "--passengers", "20000", "--days", "30", "--trips", &trips_arg, "--out"])
        .arg(&csv)
        .status()?;
    hearth(&bin, &data, &["transit", "import", "--quiet", "--dir", csv.to_str().context("path")?])?;
    hearth(&bin, &data, &["admin", "create", "--username", "soak", "--password", "Soak-pass-123"])?;
    let server = start(&bin, &data).await?;
    let pid = server.child.id();
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    let mix = Arc::new(prepare(&client, &server.base).await?);
    println!(
        "prepared {trips} trips, 30 songs, 30 listed notices in {:.1} s; server RSS {:.1} MiB",
        t.elapsed().as_secs_f64(),
        mib(memory(pid).rss)
    );

    let m = mix.clone();
    let c = client.clone();
    let peak = load(connections, peak_secs, move |i| (m.pick(i).request)(&c, i), support::http_ok).await;
    peak.report(&format!("peak, {connections} connections"));
    let rate = peak.per_sec() * share as f64 / 100.0;
    println!("\nsoak at {share}% of peak: {rate:.0} requests/s for {secs} s, windows of {window} s (memory in MiB at the window's end)");
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>7} {:>5} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "until",
        "req/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "late",
        "sockets",
        "RSS max",
        "RSS",
        "heap",
        "files",
        "shared",
        "WAL"
    );
    let rows = open_loop(&client, mix.clone(), rate, secs, window, pid, data.join("hearth.db-wal")).await;
    let kib = |row: &Value, key: &str| row[key].as_u64().unwrap_or(0);
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "\nfrom the first window to the last: RSS {:.1} -> {:.1} MiB, heap {:.1} -> {:.1} MiB (ratio {:.3})",
            mib(kib(first, "rss_kib")),
            mib(kib(last, "rss_kib")),
            mib(kib(first, "rss_anon_kib")),
            mib(kib(last, "rss_anon_kib")),
            kib(last, "rss_anon_kib") as f64 / kib(first, "rss_anon_kib").max(1) as f64
        );
    }
    for op in &mix.ops {
        println!("  mix: {:<20} weight {}", op.name, op.weight);
    }
    let results = root.join("bench/results");
    std::fs::create_dir_all(&results)?;
    let summary = json!({ "peak_requests_per_sec": peak.per_sec(), "rate": rate, "secs": secs, "window_s": window, "windows": rows, "trips": trips });
    std::fs::write(results.join("soak.json"), serde_json::to_vec_pretty(&summary)?)?;
    drop(server);
    Ok(())
}
