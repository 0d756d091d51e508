//! Crash safety of the server binary: concurrent writers of fall notices with snapshots,
//! song uploads with audio and cover, and transit trips, SIGKILL at random moments,
//! restart; every write that was answered with success must be there with its files, no
//! upload may be left without its row, the rollups must still count every trip, and the
//! database must pass its integrity check.

use crate::{care_support, music_support};

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// The binary cargo built beside this test, or another one (the release build) named by
/// `HEARTH_BIN`: the crash behaviour is SQLite's and the file store's, the same in both.
fn server_binary() -> PathBuf {
    let path = std::env::var_os("HEARTH_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_hearth").into());
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

struct Server {
    child: Child,
    base: String,
}

fn start(data: &Path) -> Server {
    let mut child = Command::new(server_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--backup-interval-hours", "0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hearth");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("hearth printed its address").unwrap();
        if let Some(addr) = line.split(" listening on ").nth(1) {
            break addr.trim().to_owned();
        }
    };
    Server { child, base: format!("http://{addr}") }
}

async fn care(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    kind: &str,
    subtype: &str,
    data: Value,
) -> reqwest::Result<Value> {
    let url = match token {
        Some(t) => format!("{base}/care{path}?token={t}"),
        None => format!("{base}/care{path}"),
    };
    client.post(url).json(&json!({"id": 1, "type": kind, "subtype": subtype, "data": data})).send().await?.json().await
}

/// What the writers were told was stored: notice pic_names, song ids, trip prices (each
/// trip gets a price no other has, to find it again).
#[derive(Default)]
struct Acked {
    notices: Vec<String>,
    songs: Vec<i64>,
    trips: Vec<i64>,
}

/// The three writers' requests; `None` once the server is gone.
async fn write_one(client: &reqwest::Client, base: &str, auth: &Auth, writer: u8, n: u32) -> Option<(char, Value)> {
    let sent = match n % 3 {
        0 => {
            let picture = care_support::b64(&care_support::png_bytes(40, 30, writer));
            let data = json!({"base64": picture, "content": format!("w{writer}-{n}")});
            care(client, base, "/api/notice", Some(&auth.device), "notice", "upload", data).await.map(|a| ('n', a))
        }
        1 => {
            let form = music_support::multipart(&[
                ("musicname", "crash song"),
                ("creator", "[1]"),
                ("album", "[1]"),
                ("publishedTime", "1435645397"),
            ])
            .part("res", music_support::file_part(music_support::wav(800), "a.wav", "audio/wav"))
            .part("musicAvatar", music_support::file_part(music_support::png(4, 4), "c.png", "image/png"));
            let res = client
                .post(format!("{base}/music/api/music"))
                .header("Authorization", &auth.jwt)
                .multipart(form)
                .send()
                .await;
            match res {
                Ok(r) => r.json().await.map(|a| ('s', a)),
                Err(e) => Err(e),
            }
        }
        _ => {
            // One rider may not enter one station twice at the same time: each trip its own minute.
            let price = i64::from(writer) * 1_000_000 + i64::from(n);
            let entered = chrono::NaiveDate::from_ymd_opt(2020, 7, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
                + chrono::Duration::minutes(price);
            let at = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
            let trip = json!({"action": "add_trip", "token": auth.jwt, "user_id": "rider", "in_station": "A", "in_station_time": at(entered),
                "out_station": "B", "out_station_time": at(entered + chrono::Duration::seconds(30)), "channel": 1, "price": price});
            let res = client.post(format!("{base}/transit/api/manage/trip/create")).json(&trip).send().await;
            match res {
                Ok(r) => r.json::<Value>().await.map(|a| ('t', json!({"answer": a, "price": price}))),
                Err(e) => Err(e),
            }
        }
    };
    sent.ok()
}

struct Auth {
    device: String,
    jwt: String,
}

/// A writer sends notices, songs and trips in turn until the server dies; each round
/// numbers its writes from `first` on, so no two writes are alike.
async fn write_until_killed(base: String, auth: Arc<Auth>, acked: Arc<Mutex<Acked>>, writer: u8, first: u32) {
    let client = reqwest::Client::new();
    for n in first.. {
        let Some((kind, answer)) = write_one(&client, &base, &auth, writer, n).await else { return };
        let mut acked = acked.lock().unwrap();
        match kind {
            'n' if answer["status"] == 0 => acked.notices.push(answer["data"]["pic_name"].as_str().unwrap().to_owned()),
            's' if answer["code"] == 0 => acked.songs.push(answer["data"]["mid"].as_i64().unwrap()),
            't' if answer["answer"]["code"] == 2000 => acked.trips.push(answer["price"].as_i64().unwrap()),
            _ => panic!("a write failed while the server was up: {answer}"),
        }
    }
}

/// The files of an uploads bucket.
fn stored(data: &Path, bucket: &str) -> HashSet<String> {
    match std::fs::read_dir(data.join("uploads").join(bucket)) {
        Ok(dir) => dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => HashSet::new(),
    }
}

fn column(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn check(data: &Path, acked: &Acked) {
    let conn = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");

    let notices: HashSet<String> = column(&conn, "SELECT pic_name FROM notice").into_iter().collect();
    for pic in &acked.notices {
        assert!(notices.contains(pic), "acknowledged notice {pic} is missing after the crash");
    }
    let snapshots: HashSet<String> = column(&conn, "SELECT file FROM notice").into_iter().collect();
    assert_eq!(stored(data, "notices"), snapshots, "every notice has its snapshot and every snapshot its notice");

    let songs: HashSet<i64> = conn
        .prepare("SELECT id FROM music_song")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for mid in &acked.songs {
        assert!(songs.contains(mid), "acknowledged song {mid} is missing after the crash");
    }
    let audio: HashSet<String> = column(&conn, "SELECT res_file FROM music_song").into_iter().collect();
    assert_eq!(stored(data, "songs"), audio, "every song has its audio and every audio file its song");
    let covers: HashSet<String> =
        column(&conn, "SELECT cover_file FROM music_song WHERE cover_file IS NOT NULL").into_iter().collect();
    assert_eq!(stored(data, "covers"), covers, "every cover belongs to a song");

    let prices: HashSet<i64> = conn
        .prepare("SELECT price FROM transit_trip")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for price in &acked.trips {
        assert!(prices.contains(price), "acknowledged trip {price} is missing after the crash");
    }
    let (trips, counted): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM transit_trip), (SELECT coalesce(sum(n), 0) FROM transit_day_total)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(trips, counted, "the daily rollup counts every stored trip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = Command::new(server_binary())
        .args([
            "admin",
            "create",
            "--username",
            "root",
            "--password",
            "root-password",
            "--phone",
            "13900000000",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let seed: u64 = rand::thread_rng().r#gen();
    println!("crash schedule seed: {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let client = reqwest::Client::new();
    let mut server = start(&data);
    let login = care(
        &client,
        &server.base,
        "/api/user/login",
        None,
        "login",
        "pass",
        json!({"phone": "13900000000", "pass": "root-password", "enduring": true}),
    )
    .await
    .unwrap();
    let token = login["data"]["token"].as_str().expect("care login").to_owned();
    let added =
        care(&client, &server.base, "/api/device", Some(&token), "device", "add", json!({"device": "crash camera"}))
            .await
            .unwrap();
    let device = added["data"]["device_id"].as_str().expect("device token").to_owned();
    let signed_in = client
        .post(format!("{}/system/api/auth/login", server.base))
        .json(&json!({"loginname": "root", "password": "root-password"}))
        .send()
        .await
        .unwrap();
    let jwt = signed_in.json::<Value>().await.unwrap()["data"]["token"].as_str().expect("system login").to_owned();
    for (path, body) in [
        (
            "station/create",
            json!({"station_id": 1, "station_name": "A", "station_route": "1号线", "admin_area": "Dist1"}),
        ),
        (
            "station/create",
            json!({"station_id": 2, "station_name": "B", "station_route": "1号线", "admin_area": "Dist1"}),
        ),
        ("passenger/create", json!({"passenger_id": "rider", "dist": 5105, "birth": 1990, "gender": 1})),
    ] {
        let mut body = body;
        body["token"] = json!(jwt);
        let answer: Value = client
            .post(format!("{}/transit/api/manage/{path}", server.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["code"], 2000, "{path}: {answer}");
    }
    let auth = Arc::new(Auth { device, jwt });

    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..4 {
        let writers: Vec<_> = (0..4u8)
            .map(|w| {
                tokio::spawn(write_until_killed(server.base.clone(), auth.clone(), acked.clone(), w, round * 100_000))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
        server = start(&data);
        let acked = acked.lock().unwrap();
        check(&data, &acked);
        println!(
            "round {round}: {} notices, {} songs, {} trips acknowledged so far, all present",
            acked.notices.len(),
            acked.songs.len(),
            acked.trips.len()
        );
    }
    let acked = acked.lock().unwrap();
    assert!(acked.notices.len() > 10 && acked.songs.len() > 10 && acked.trips.len() > 10, "the writers made progress");
    drop(acked);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
