//! Backups and restores: an online archive of the database and uploads, restored into a
//! fresh folder that a new server then serves unchanged.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::TestServer;
use hearth::files::Bucket;
use serde_json::Value;

async fn admin(server: &TestServer) -> String {
    server.create_admin("root", "root-password").await;
    server.system_login("root", "root-password").await
}

async fn post(server: &TestServer, token: &str, path: &str) -> Value {
    let res = server.client.post(server.url(path)).bearer_auth(token).send().await.unwrap();
    common::read(res).await.1
}

fn table(server_db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(server_db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

fn uploads(data: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for bucket in Bucket::ALL {
        let dir = data.join("uploads").join(bucket.folder());
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let entry = entry.unwrap();
            all.push((
                format!("{}/{}", bucket.folder(), entry.file_name().to_string_lossy()),
                std::fs::read(entry.path()).unwrap(),
            ));
        }
    }
    all.sort();
    all
}

fn hearth(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hearth")).arg("--data").arg(data).args(args).output().unwrap()
}

#[tokio::test]
async fn a_backup_made_while_serving_restores_to_the_same_data() {
    let server = TestServer::start().await;
    let token = admin(&server).await;
    server.create_user("alice", "alice-pass").await;
    let files = &server.running().app.files;
    let kept: Vec<String> =
        (0..3u8).map(|i| files.put(Bucket::Notices, "jpg", &[0xFF, 0xD8, i]).unwrap().keep()).collect();
    files.put(Bucket::Songs, "mp3", b"ID3 song").unwrap().keep();

    let made = post(&server, &token, "/system/api/backup/create").await;
    assert_eq!(made["code"], 0, "{made}");
    let name = made["data"]["name"].as_str().unwrap().to_owned();
    assert_eq!(made["data"]["files"], 4);
    let listed = server.get_auth("/system/api/backup/list", &token).await.1;
    assert_eq!(listed["data"][0]["name"], name);
    let runs = server.get_auth("/system/api/backup/runs", &token).await.1;
    assert_eq!((runs["data"][0]["trigger"].as_str(), runs["data"][0]["error"].clone()), (Some("admin"), Value::Null));

    let download = server
        .client
        .get(server.url(&format!("/system/api/backup/download/{name}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains(&name));
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len() as i64, made["data"]["bytes"].as_i64().unwrap());

    // Changes after the backup are not in it.
    server.create_user("later", "later-pass").await;
    let before_accounts =
        table(&server.db_path(), "SELECT username FROM account WHERE username != 'later' ORDER BY id");
    let before_files = uploads(server.data());

    let target = tempfile::tempdir().unwrap();
    let archive = target.path().join("copy.tar");
    std::fs::write(&archive, &bytes).unwrap();
    let fresh = target.path().join("restored");
    let out = hearth(&fresh, &["restore", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(table(&fresh.join("hearth.db"), "SELECT username FROM account ORDER BY id"), before_accounts);
    assert_eq!(uploads(&fresh), before_files);
    let integrity = table(&fresh.join("hearth.db"), "PRAGMA integrity_check");
    assert_eq!(integrity, vec!["ok"]);
    for name in &kept {
        assert!(fresh.join("uploads/notices").join(name).is_file());
    }

    // A server on the restored folder serves the same accounts (secrets were not archived,
    // so everyone logs in again).
    let restored = TestServer::start_with(|c| c.data = fresh.clone()).await;
    restored.system_login("alice", "alice-pass").await;
    let (_, stale) = restored.get_auth("/system/api/backup/list", &token).await;
    assert_eq!(stale["code"], -1, "old tokens do not carry over");
}

#[tokio::test]
async fn restore_refuses_a_running_servers_folder_and_an_existing_database() {
    let server = TestServer::start().await;
    let token = admin(&server).await;
    let made = post(&server, &token, "/system/api/backup/create").await;
    let archive = server.data().join("backups").join(made["data"]["name"].as_str().unwrap());
    let out = hearth(server.data(), &["restore", archive.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a hearth server is using"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let data = server.data().to_path_buf();
    let dir = server.dir.clone();
    server.stop().await;
    let out = hearth(&data, &["restore", archive.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a database; pass --force"));
    let out = hearth(&data, &["restore", archive.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let aside: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("pre-restore-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(aside[0].path().join("hearth.db").is_file());
    drop(dir);
}

#[tokio::test]
async fn the_command_line_backs_up_a_live_server_and_rejects_hostile_archives() {
    let server = TestServer::start().await;
    admin(&server).await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("live.tar");
    let out = hearth(server.data(), &["backup", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = out_dir.path().join("r");
    assert!(hearth(&restored, &["restore", file.to_str().unwrap()]).status.success());
    assert_eq!(table(&restored.join("hearth.db"), "SELECT username FROM account"), vec!["root"]);

    // An archive with a path outside the data folder is refused and writes nothing there.
    let evil = out_dir.path().join("evil.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&evil).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_cksum();
    builder.append_data(&mut header, "hearth.db", &b"fake"[..]).unwrap();
    let mut header = tar::Header::new_gnu();
    let name = b"../escaped";
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    header.set_size(4);
    header.set_cksum();
    builder.append(&header, &b"boom"[..]).unwrap();
    builder.finish().unwrap();
    drop(builder);
    let target = out_dir.path().join("t");
    let out = hearth(&target, &["restore", evil.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unexpected entry \"../escaped\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out_dir.path().join("escaped").exists());
    assert!(!target.join("hearth.db").exists());
}

#[tokio::test]
async fn a_failed_backup_is_recorded_for_the_dashboard() {
    let server = TestServer::start().await;
    let token = admin(&server).await;
    std::fs::write(server.data().join("backups"), b"not a folder").unwrap();
    let failed = post(&server, &token, "/system/api/backup/create").await;
    assert_eq!(failed["code"], -1);
    assert!(failed["message"].as_str().unwrap().starts_with("backup failed: "), "{failed}");
    let runs = server.get_auth("/system/api/backup/runs", &token).await.1;
    assert!(runs["data"][0]["error"].as_str().is_some_and(|e| !e.is_empty()), "{runs}");
    server.create_user("plain", "plain-pass").await;
    let plain = server.system_login("plain", "plain-pass").await;
    assert_eq!(post(&server, &plain, "/system/api/backup/create").await["code"], -1);
}
