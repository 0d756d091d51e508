//! Issue 14's limits: credential checks that cannot be raced, account creation per client
//! address, anonymous Argon2 work that cannot starve signed-in callers, and a private data
//! folder. Every request speaks HTTP to the real server; races are real parallel requests.

use crate::common::TestServer;
use crate::music_support::{self, PASSWORD};

use futures_util::future::join_all;

/// 200 parallel wrong music logins against a limit of 20: at most 20 are evaluated (answer
/// "wrong"); the rest are refused as too many (429) or busy (503) without an Argon2 check.
#[tokio::test]
async fn parallel_wrong_music_logins_are_evaluated_at_most_the_limit() {
    let server = TestServer::start_with(|c| c.login_max_failures = 20).await;
    server.create_user("raced_user", "Right-Pass-1").await;
    let tries = (0..200).map(|_| music_support::login(&server, "raced_user", "Wrong-Pass-1"));
    let answers = join_all(tries).await;
    let wrong = answers.iter().filter(|(http, _)| *http == 401).count();
    let refused = answers.iter().filter(|(http, _)| *http == 429 || *http == 503).count();
    assert!((1..=20).contains(&wrong), "{wrong} wrong-password answers");
    assert_eq!(wrong + refused, 200, "{answers:?}");
}

fn accounts(server: &TestServer) -> i64 {
    server.sql().query_row("SELECT COUNT(*) FROM account", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn the_eleventh_signup_from_one_address_is_refused_in_the_music_envelope() {
    let server = TestServer::start().await;
    for n in 0..10 {
        music_support::data(music_support::signup(&server, &format!("signup{n:02}"), PASSWORD).await);
    }
    let message = music_support::failed(music_support::signup(&server, "signup10", PASSWORD).await, 429);
    assert!(message.contains("retry in"), "{message}");
    assert_eq!(accounts(&server), 10);
}

#[tokio::test]
async fn sixty_parallel_signups_from_one_address_create_at_most_the_limit() {
    let server = TestServer::start().await;
    let tries = (0..60).map(|n| {
        let name = format!("parallel{n:02}");
        let server = &server;
        async move { music_support::signup(server, &name, PASSWORD).await }
    });
    let answers = join_all(tries).await;
    let created = answers.iter().filter(|(http, _)| *http == 200).count();
    assert!((1..=10).contains(&created), "{created} created: {answers:?}");
    assert_eq!(accounts(&server) as usize, created);
    assert!(answers.iter().all(|(http, _)| [200, 429, 503].contains(http)), "{answers:?}");
}

/// 300 bogus setup posts are refused for their token before any hashing (none is "busy",
/// which a hashed one would be with a queue of 8), and a real login meanwhile succeeds.
#[tokio::test]
async fn bogus_setup_posts_do_not_hash_and_do_not_starve_a_login() {
    let server = TestServer::start_with(|c| c.login_max_failures = 1000).await;
    assert!(server.running().setup_token.is_some());
    server.create_user("realuser1", "Right-Pass-1").await;
    let bogus = (0..300).map(|n| {
        let body =
            serde_json::json!({"token": format!("{n:032x}"), "loginname": "intruder", "password": "Long-Enough-1"});
        let server = &server;
        async move { server.post_json("/system/api/setup", &body).await }
    });
    let login = music_support::login(&server, "realuser1", "Right-Pass-1");
    let (answers, login) = tokio::join!(join_all(bogus), login);
    let token = music_support::data(login);
    assert!(token.as_str().is_some_and(|t| !t.is_empty()));
    for (http, body) in &answers {
        assert_eq!(*http, 200, "{body}");
        assert_eq!(body["code"], -1, "{body}");
        assert!(body["message"].as_str().unwrap().contains("setup link is not valid"), "{body}");
    }
    let admins: i64 =
        server.sql().query_row("SELECT COUNT(*) FROM account WHERE username = 'intruder'", [], |r| r.get(0)).unwrap();
    assert_eq!(admins, 0);
}

/// Started with umask 022, every folder under the data folder is 0700 and every file 0600.
#[tokio::test]
async fn the_data_folder_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: sets the process's file-creation mask, as a careless service manager would.
    unsafe { libc::umask(0o022) };
    let server = TestServer::start().await;
    music_support::user(&server, "private01").await;
    let admin_id = server.create_admin("keeper01", "Keeper-Pass-1").await;
    assert!(admin_id > 0);
    let token = server.system_login("keeper01", "Keeper-Pass-1").await;
    let res = server.client.post(server.url("/system/api/backup/create")).bearer_auth(&token).send().await.unwrap();
    let (_, backup) = crate::common::read(res).await;
    let mut seen = 0;
    let mut stack = vec![server.data().to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                seen += 1;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{} (backup answer {backup})", path.display());
            }
        }
    }
    assert!(seen >= 3, "only {seen} files");
}
