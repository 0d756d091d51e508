//! Crash safety of the release binary: concurrent writers, SIGKILL at random moments,
//! restart; every write that was answered with success must be there with its file, no
//! upload may be left without its row, and the database must pass its integrity check.

mod care_support;
mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn release_binary() -> PathBuf {
    let path = std::env::var_os("HEARTH_RELEASE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/hearth"));
    assert!(path.is_file(), "{} is missing: build it with `cargo build --release` (scripts/test.sh does)", path.display());
    path
}

struct Server {
    child: Child,
    base: String,
}

fn start(data: &Path) -> Server {
    let mut child = Command::new(release_binary())
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

async fn care(client: &reqwest::Client, base: &str, path: &str, token: Option<&str>, kind: &str, subtype: &str, data: Value) -> reqwest::Result<Value> {
    let url = match token {
        Some(t) => format!("{base}/care{path}?token={t}"),
        None => format!("{base}/care{path}"),
    };
    client.post(url).json(&json!({"id": 1, "type": kind, "subtype": subtype, "data": data})).send().await?.json().await
}

/// Writers post fall notices until the server dies; answers the pic_names acknowledged.
async fn write_until_killed(base: String, device: String, acked: Arc<Mutex<Vec<String>>>, writer: u8) {
    let client = reqwest::Client::new();
    let picture = care_support::b64(&care_support::png_bytes(40, 30, writer));
    for n in 0.. {
        let sent = care(&client, &base, "/api/notice", Some(&device), "notice", "upload", json!({"base64": picture, "content": format!("w{writer}-{n}")})).await;
        match sent {
            Ok(answer) if answer["status"] == 0 => acked.lock().unwrap().push(answer["data"]["pic_name"].as_str().unwrap().to_owned()),
            Ok(answer) => panic!("a write failed while the server was up: {answer}"),
            Err(_) => return, // the server is gone
        }
    }
}

fn check(data: &Path, acked: &[String]) {
    let conn = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let mut stmt = conn.prepare("SELECT pic_name, file FROM notice").unwrap();
    let rows: Vec<(String, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let names: HashSet<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    for pic in acked {
        assert!(names.contains(pic.as_str()), "acknowledged notice {pic} is missing after the crash");
    }
    let files: HashSet<String> = std::fs::read_dir(data.join("uploads/notices"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let referenced: HashSet<String> = rows.iter().map(|(_, f)| f.clone()).collect();
    assert_eq!(files, referenced, "every row has its file and every file its row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = Command::new(release_binary())
        .args(["admin", "create", "--username", "root", "--password", "root-password", "--phone", "13900000000", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let seed: u64 = rand::thread_rng().r#gen();
    println!("crash schedule seed: {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let client = reqwest::Client::new();
    let mut server = start(&data);
    let login = care(&client, &server.base, "/api/user/login", None, "login", "pass", json!({"phone": "13900000000", "pass": "root-password", "enduring": true})).await.unwrap();
    let token = login["data"]["token"].as_str().expect("care login").to_owned();
    let added = care(&client, &server.base, "/api/device", Some(&token), "device", "add", json!({"device": "crash camera"})).await.unwrap();
    let device = added["data"]["device_id"].as_str().expect("device token").to_owned();

    let acked = Arc::new(Mutex::new(Vec::new()));
    for round in 0..4 {
        let writers: Vec<_> =
            (0..4u8).map(|w| tokio::spawn(write_until_killed(server.base.clone(), device.clone(), acked.clone(), w))).collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
        let before = acked.lock().unwrap().len();
        server = start(&data);
        check(&data, &acked.lock().unwrap());
        println!("round {round}: {before} acknowledged notices so far, all present");
    }
    assert!(acked.lock().unwrap().len() > 20, "the writers made progress");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
