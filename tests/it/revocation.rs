//! Revocations while the revoked token is in use: signed-in callers are served from memory
//! (`identity::callers`), so each test keeps several clients calling with the token, makes
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
    workers: Vec<tokio::task::JoinHandle<Vec<(Instant, i64)>>>,
}

/// `CLIENTS` clients calling `GET /system<path>` with `token` back to back, each answer
/// recorded with the moment its request was sent.
fn load(server: &TestServer, path: &str, token: &str) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let workers = (0..CLIENTS)
        .map(|_| {
            let (client, url, token) = (server.client.clone(), server.url(&format!("/system{path}")), token.to_owned());
            let (stop, answered) = (stop.clone(), answered.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    let (_, body) = read(client.get(&url).bearer_auth(&token).send().await.unwrap()).await;
                    seen.push((sent, body["code"].as_i64().expect("a code")));
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

    async fn finish(self) -> Vec<(Instant, i64)> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for worker in self.workers {
            all.extend(worker.await.unwrap());
        }
        all
    }
}

/// Runs `change` while the token is in use and checks that it took effect at once.
async fn takes_effect_at_once(
    server: &TestServer,
    path: &str,
    token: &str,
    change: impl std::future::Future<Output = ()>,
) {
    let load = load(server, path, token);
    load.until_answered(40).await;
    change.await;
    let changed = Instant::now();
    let before = load.answered.load(Ordering::SeqCst);
    load.until_answered(before + AFTER + CLIENTS).await;
    let seen = load.finish().await;
    let served_before = seen.iter().filter(|(sent, code)| *sent < changed && *code == 0).count();
    assert!(served_before >= 30, "the token was in use before the change: {served_before} served");
    let after: Vec<i64> = seen.iter().filter(|(sent, _)| *sent >= changed).map(|(_, code)| *code).collect();
    assert!(after.len() >= AFTER, "{} requests after the change", after.len());
    let served_after = after.iter().filter(|code| **code == 0).count();
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
    takes_effect_at_once(&server, "/api/auth/role/roleList", &walker, logout).await;
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
    takes_effect_at_once(&server, "/api/auth/permission/mine", &walker, new_password).await;

    let walker = server.system_login("walker", "walker-pass-2").await;
    let disable =
        call(&server, &root, Method::PUT, format!("/api/auth/user/edit/{id}"), walker_form(json!(["2"]), false));
    takes_effect_at_once(&server, "/api/auth/permission/mine", &walker, disable).await;
    server.stop().await;
}

#[tokio::test]
async fn losing_a_role_or_a_grant_refuses_the_very_next_request() {
    let server = TestServer::start().await;
    let (root, id) = root_and_manager(&server).await;
    let walker = server.system_login("walker", "walker-pass").await;
    let demote =
        call(&server, &root, Method::PUT, format!("/api/auth/user/edit/{id}"), walker_form(json!(["3"]), true));
    takes_effect_at_once(&server, "/api/auth/role/roleList", &walker, demote).await;

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
    takes_effect_at_once(&server, "/api/auth/role/roleList", &walker, ungrant).await;
    server.stop().await;
}
