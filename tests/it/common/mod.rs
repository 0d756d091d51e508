//! Starts the real hearth app in-process on 127.0.0.1:0 with a temporary data folder, and
//! talks HTTP to it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hearth::config::Config;
use serde_json::{json, Value};

pub struct TestServer {
    running: Option<hearth::Running>,
    pub dir: Arc<tempfile::TempDir>,
    pub config: Config,
    pub client: reqwest::Client,
    pub base: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config::for_tests(dir.path());
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    async fn start_in(dir: Arc<tempfile::TempDir>, config: Config) -> TestServer {
        let running = hearth::start(config.clone()).await.expect("server starts");
        let base = running.base_url();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        TestServer { running: Some(running), dir, config, client, base }
    }

    pub fn running(&self) -> &hearth::Running {
        self.running.as_ref().expect("running")
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hearth.db")
    }

    /// A direct connection to the server's database file, for checks a client cannot make.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).expect("open db")
    }

    pub async fn stop(mut self) {
        self.running.take().expect("running").stop().await.expect("clean stop");
    }

    /// Stops and starts again on the same data folder (and a new port).
    pub async fn restart(mut self) -> TestServer {
        self.running.take().expect("running").stop().await.expect("clean stop");
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".into();
        Self::start_in(self.dir.clone(), config).await
    }

    /// Stops and starts again on the same data folder with its configuration changed.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        self.running.take().expect("running").stop().await.expect("clean stop");
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".into();
        adjust(&mut config);
        Self::start_in(self.dir.clone(), config).await
    }

    /// Stops, runs `between` on the stopped server's data folder, and starts again.
    pub async fn restart_after(mut self, between: impl FnOnce(&Path)) -> TestServer {
        self.running.take().expect("running").stop().await.expect("clean stop");
        between(self.dir.path());
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".into();
        Self::start_in(self.dir.clone(), config).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Creates (or updates) a super-administrator through the same code `hearth admin create` uses.
    pub async fn create_admin(&self, username: &str, password: &str) -> i64 {
        let app = &self.running().app;
        let hash = app.identity.passwords.hash(hearth::identity::password::Asker::SignedIn, password).await.unwrap();
        let name = username.to_owned();
        app.db.write(move |tx| hearth::identity::accounts::upsert_super_admin(tx, &name, &hash, None)).await.unwrap()
    }

    /// Creates an ordinary user (role 普通用户) with a login name.
    pub async fn create_user(&self, username: &str, password: &str) -> i64 {
        let app = &self.running().app;
        let hash = app.identity.passwords.hash(hearth::identity::password::Asker::SignedIn, password).await.unwrap();
        let name = username.to_owned();
        app.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO account (username, password_hash, created_at, updated_at) VALUES (?1, ?2, 0, 0)",
                    rusqlite::params![name, hash],
                )?;
                let id = tx.last_insert_rowid();
                hearth::identity::roles::grant(tx, id, hearth::identity::roles::USER)?;
                Ok::<_, hearth::db::DbError>(id)
            })
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self.client.post(self.url(path)).json(body).send().await.unwrap();
        read(res).await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        read(res).await
    }

    /// Logs in on the system surface; panics unless it succeeds.
    pub async fn system_login(&self, loginname: &str, password: &str) -> String {
        let (status, body) =
            self.post_json("/system/api/auth/login", &json!({ "loginname": loginname, "password": password })).await;
        assert_eq!(status, 200);
        assert_eq!(body["code"], 0, "login failed: {body}");
        body["data"]["token"].as_str().expect("token").to_owned()
    }
}

/// Status and JSON body; panics with the raw text when the body is not JSON.
pub async fn read(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, body)
}

/// Takes a stopped server's database back to the schema before migration 17 (the song list's
/// indexes and tallies, the passengers' birth-year rollup, the play queues), data kept, so
/// that the next start migrates existing rows.
pub fn rewind_to_migration_16(db: &rusqlite::Connection) {
    db.execute_batch(
        "DROP TRIGGER music_song_name_add; DROP TRIGGER music_song_name_drop; DROP TRIGGER music_song_name_change;
         DROP TRIGGER music_song_census_add; DROP TRIGGER music_song_census_drop; DROP TRIGGER music_song_census_change;
         DROP TABLE music_song_name; DROP TABLE music_song_census;
         DROP INDEX music_song_by_created; DROP INDEX music_song_by_owner;
         CREATE INDEX music_song_by_owner ON music_song(owner_id);
         DROP TRIGGER transit_birth_year_add; DROP TRIGGER transit_birth_year_drop; DROP TRIGGER transit_birth_year_change;
         DROP TABLE transit_birth_year;
         DROP TABLE music_play_queue_entry; DROP TABLE music_play_queue;
         PRAGMA user_version = 16;",
    )
    .unwrap();
}
