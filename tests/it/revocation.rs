//! Revocations while the revoked token or app password is in use: signed-in callers are
//! served from memory (`identity::callers`), so each test keeps several clients calling with it, makes
//! the change through the API, and then requires every request that started after the
//! change's answer to be refused. Requests before the change must have been served, or the
//! test proves nothing about the cached path.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{read, TestServer};

const CLIENTS: usize = 6;
/// Requests that must start after the change before the load stops.
const AFTER: usize = 60;

struct Load {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<Vec<(Instant, bool)>>>,
}

/// What the clients ask: a system path with a Bearer token, or Subsonic's `ping` with an
/// app's credential in the query.
#[derive(Clone)]
enum Probe {
    System { path: String, token: String },
    Rest { query: Vec<(&'static str, String)> },
}

impl Probe {
    fn system(path: &str, token: &str) -> Probe {
        Probe::System { path: path.to_owned(), token: token.to_owned() }
    }

    /// Whether the request was served (Subsonic refuses with code 0 too, for the login limit).
    async fn served(&self, client: &reqwest::Client, base: &str) -> bool {
        match self {
            Probe::System { path, token } => {
                let (_, body) =
                    read(client.get(format!("{base}/system{path}")).bearer_auth(token).send().await.unwrap()).await;
                body["code"].as_i64().expect("a code") == 0
            }
            Probe::Rest { query } => {
                let req = client.get(format!("{base}/rest/ping")).query(query).query(&[
                    ("v", "1.16.1"),
                    ("c", "t"),
                    ("f", "json"),
                ]);
                let (_, body) = read(req.send().await.unwrap()).await;
                body["subsonic-response"]["status"] == "ok"
            }
        }
    }
}

/// `CLIENTS` clients asking `probe` back to back, each answer recorded with the moment its
/// request was sent.
fn load(server: &TestServer, probe: &Probe) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let workers = (0..CLIENTS)
        .map(|_| {
            let (client, base, probe) = (server.client.clone(), server.url(""), probe.clone());
            let (stop, answered) = (stop.clone(), answered.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    seen.push((sent, probe.served(&client, &base).await));
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                seen
            })
        })
        .collect();
    Load { stop, answered, workers }
}

impl Load {
    async fn until_answered(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.answered.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "the load stalled");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn finish(self) -> Vec<(Instant, bool)> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for worker in self.workers {
            all.extend(worker.await.unwrap());
        }
        all
    }
}

/// Runs `change` while `probe`'s credential is in use and checks that it took effect at once.
async fn takes_effect_at_once(server: &TestServer, probe: Probe, change: impl std::future::Future<Output = ()>) {
    let load = load(server, &probe);
    load.until_answered(40).await;
    change.await;
    let changed = Instant::now();
    let before = load.answered.load(Ordering::SeqCst);
    load.until_answered(before + AFTER + CLIENTS).await;
    let seen = load.finish().await;
    let served_before = seen.iter().filter(|(sent, served)| *sent < changed && *served).count();
    assert!(served_before >= 30, "the token was in use before the change: {served_before} served");
    let after: Vec<bool> = seen.iter().filter(|(sent, _)| *sent >= changed).map(|(_, served)| *served).collect();
    assert!(after.len() >= AFTER, "{} requests after the change", after.len());
    let served_after = after.iter().filter(|served| **served).count();
    assert_eq!(served_after, 0, "{served_after} of {} requests after the change were still served", after.len());
}

async fn call(server: &TestServer, token: &str, method: Method, path: impl AsRef<str>, body: Value) {
    let path = path.as_ref();
    let req = server.client.request(method, server.url(&format!("/system{path}"))).bearer_auth(token).json(&body);
    let (_, answer) = read(req.send().await.unwrap()).await;
    assert_eq!(answer["code"], 0, "{path}: {answer}");
}

/// A super-administrator's token, and a 管理员 `walker` (password `walker-pass`) with its id.
async fn root_and_manager(server: &TestServer) -> (String, i64) {
    server.create_admin("root", "root-password").await;
    let root = server.system_login("root", "root-password").await;
    let form = json!({"name": "Walker", "loginname": "walker", "password": "walker-pass", "isEnable": true,
                      "roleIdList": ["2"], "dataRoleIdList": []});
    let req = server.client.post(server.url("/system/api/auth/user/save")).bearer_auth(&root).json(&form);
    let (_, answer) = read(req.send().await.unwrap()).await;
    (root, answer["data"].as_i64().expect("the new user's id"))
}

fn walker_form(roles: Value, enabled: bool) -> Value {
    json!({"name": "Walker", "loginname": "walker", "password": null, "isEnable": enabled,
           "roleIdList": roles, "dataRoleIdList": []})
}

#[tokio::test]
async fn a_logout_ends_the_token_for_every_request_after_it() {
    let server = TestServer::start().await;
    root_and_manager(&server).await;
    let walker = server.system_login("walker", "walker-pass").await;
    let logout = call(&server, &walker, Method::POST, "/api/auth/logout", json!({}));
    takes_effect_at_once(&server, Probe::system("/api/auth/role/roleList", &walker), logout).await;
    server.stop().await;
}

#[tokio::test]
async fn a_new_password_and_a_disabled_account_end_the_token_at_once() {
    let server = TestServer::start().await;
    let (root, id) = root_and_manager(&server).await;
    let walker = server.system_login("walker", "walker-pass").await;
    let new_password = call(
        &server,
        &root,
        Method::PUT,
        format!("/api/auth/user/update/{id}"),
        json!({"loginname": "walker", "password": "walker-pass-2"}),
    );
    takes_effect_at_once(&server, Probe::system("/api/auth/permission/mine", &walker), new_password).await;

    let walker = server.system_login("walker", "walker-pass-2").await;
    let disable =
        call(&server, &root, Method::PUT, format!("/api/auth/user/edit/{id}"), walker_form(json!(["2"]), false));
    takes_effect_at_once(&server, Probe::system("/api/auth/permission/mine", &walker), disable).await;
    server.stop().await;
}

#[tokio::test]
async fn losing_a_role_or_a_grant_refuses_the_very_next_request() {
    let server = TestServer::start().await;
    let (root, id) = root_and_manager(&server).await;
    let walker = server.system_login("walker", "walker-pass").await;
    let demote =
        call(&server, &root, Method::PUT, format!("/api/auth/user/edit/{id}"), walker_form(json!(["3"]), true));
    takes_effect_at_once(&server, Probe::system("/api/auth/role/roleList", &walker), demote).await;

    // Back to 管理员; then the role itself loses the role list.
    call(&server, &root, Method::PUT, format!("/api/auth/user/edit/{id}"), walker_form(json!(["2"]), true)).await;
    let req = server.client.get(server.url("/system/api/auth/permission/getPermissList/2")).bearer_auth(&root);
    let (_, held) = read(req.send().await.unwrap()).await;
    let held = held["data"]["rolePermissionInfoList"].as_array().expect("the role's permissions").clone();
    let kept: Vec<String> = held
        .iter()
        .filter(|p| p["permissionValue"] != "system:GET:/api/auth/role/roleList")
        .map(|p| p["id"].to_string())
        .collect();
    assert_eq!(kept.len() + 1, held.len(), "管理员 held the role list");
    let ungrant =
        call(&server, &root, Method::POST, "/api/auth/permission/rolePer/edit/2", json!({"permissionList": kept}));
    takes_effect_at_once(&server, Probe::system("/api/auth/role/roleList", &walker), ungrant).await;
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_app_password_ends_for_every_request_after_it() {
    let server = TestServer::start().await;
    let (root, _) = root_and_manager(&server).await;
    let req = server.client.post(server.url("/system/api/auth/appPasswords")).bearer_auth(&root);
    let (_, made) = read(req.json(&json!({"name": "Symfonium"})).send().await.unwrap()).await;
    let (id, secret) = (made["data"]["id"].as_i64().unwrap(), made["data"]["password"].as_str().unwrap().to_owned());
    let salt = "c0ffee";
    let token = hearth::identity::tokens::md5_hex(&format!("{secret}{salt}"));
    let probe = Probe::Rest { query: vec![("u", "root".into()), ("t", token), ("s", salt.into())] };
    let revoke = call(&server, &root, Method::DELETE, format!("/api/auth/appPasswords/{id}"), json!({}));
    takes_effect_at_once(&server, probe, revoke).await;
    server.stop().await;
}
