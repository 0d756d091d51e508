//! Fixes from replaying the five API documents as written: each test sends the request the
//! way a client written against the seed document does. Grouped by item.

use reqwest::Method;
use serde_json::json;

use crate::care_support as care;
use crate::common::TestServer;
use crate::music_support::{self as music, call, data, form, Body};
use crate::transit_support::{failed as transit_failed, Transit};

// Item 1: an administrator who sends their own `uid` (the document requires it) sees every task.
#[tokio::test]
async fn item01_music_tasklist_admin_with_own_uid_sees_every_task() {
    let server = TestServer::start().await;
    let (uid, token) = music::user(&server, "asker01").await;
    let (admin_uid, admin) = music::admin(&server, "boss0001").await;
    let (other_uid, other) = music::user(&server, "other001").await;
    data(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("newPermission", "creator")]),
        )
        .await,
    );
    let own = data(
        call(&server, Method::GET, &format!("/api/univer/tasklist?uid={admin_uid}"), Some(&admin), Body::None).await,
    );
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own[0]["beOperator"], uid);
    // `uid` of another account narrows the administrator's list to that account.
    let narrowed =
        data(call(&server, Method::GET, &format!("/api/univer/tasklist?uid={uid}"), Some(&admin), Body::None).await);
    assert_eq!(narrowed.as_array().unwrap().len(), 1);
    let none = data(
        call(&server, Method::GET, &format!("/api/univer/tasklist?uid={other_uid}"), Some(&admin), Body::None).await,
    );
    assert_eq!(none, json!([]));
    // Others still see only their own.
    assert_eq!(data(call(&server, Method::GET, "/api/univer/tasklist", Some(&other), Body::None).await), json!([]));
}

// Item 5: the original care client sends `"mode": "2"`.
#[tokio::test]
async fn item05_care_notice_get_accepts_a_numeric_string_mode() {
    let server = TestServer::start().await;
    let token = care::user(&server, "13800000005").await;
    let device = care::add_device(&server, &token, "kitchen").await;
    care::upload(&server, &device, "fall").await;
    let answer = care::call(&server, "/api/get/notice", Some(&token), "notice", "get", json!({"mode": "2"})).await;
    let list = care::ok(answer);
    assert_eq!(list["num"], 1, "{list}");
    for bad in [json!("two"), json!("7"), json!(true)] {
        let answer = care::call(&server, "/api/get/notice", Some(&token), "notice", "get", json!({"mode": bad})).await;
        care::fails(&answer, 102);
    }
}

// Item 9: workday classes are 1, 2 and 3 only.
#[tokio::test]
async fn item09_transit_workday_date_class_is_one_two_or_three() {
    let t = Transit::start().await;
    for class in [json!(0), json!(4), json!("9")] {
        let refused = t
            .post(
                "/api/manage/workday/create",
                &t.admin,
                json!({ "action": "add_workday", "date": "2020-01-02", "date_class": class }),
            )
            .await;
        assert!(transit_failed(&refused).contains("date_class must be 1"), "{refused}");
    }
    t.ok(
        Method::POST,
        "/api/manage/workday/create",
        json!({ "action": "add_workday", "date": "2020-01-02", "date_class": 2 }),
    )
    .await;
    let refused = t
        .send(
            Method::PUT,
            "/api/manage/workday/update",
            &t.admin.clone(),
            json!({ "action": "modify_workday", "date": "2020-01-02", "date_class": 5 }),
        )
        .await;
    assert!(transit_failed(&refused).contains("date_class must be 1"), "{refused}");
    let list = t.get("/api/manage/workday/list?action=list_workday", &t.admin).await;
    assert_eq!(list["data"], json!([{ "date": "2020-01-02", "date_class": 2 }]));
}

// Item 10: every passenger born after the reference year is said so.
#[tokio::test]
async fn item10_transit_agestruct_says_when_everyone_was_born_after_the_reference_year() {
    let t = Transit::start().await;
    t.passenger("p1", 1990).await;
    t.passenger("p2", 2001).await;
    let empty = t.get("/api/echarts/agestruct?action=age_struct&year=1980", &t.analyst).await;
    let message = transit_failed(&empty);
    assert!(message.contains("born after the reference year 1980"), "{message}");
    assert!(!message.contains("no passenger has a birth year"), "{message}");
}

// Item 6: an unknown care route still echoes the request's `id`.
#[tokio::test]
async fn item06_care_unknown_route_echoes_the_request_id() {
    let server = TestServer::start().await;
    let body = json!({"id": 777, "type": "user", "subtype": "nothing", "data": {}});
    let answer = care::call_at(&server, "/care/api/no/such/route", None, body).await;
    assert_eq!((answer["id"].clone(), answer["status"].clone()), (json!(777), json!(-2)), "{answer}");
    let answer = care::call_at(&server, "/care/api/no/such/route", None, json!({"id": "12"})).await;
    assert_eq!(answer["id"], 12, "{answer}");
    let answer = care::call_at(&server, "/care/api/no/such/route", None, json!({"type": "user"})).await;
    assert_eq!(answer["id"], -1, "{answer}");
}

/// The document's own passenger bodies, byte for byte apart from the token: each ends its
/// object with a trailing comma.
fn document_body(token: &str, action: &str, passenger: &str) -> String {
    format!(
        "{{\n    \"token\":\"{token}\",\n    \"action\":\"{action}\",\n    \"passenger_id\": \"{passenger}\",\n    \
         \"dist\": 5105,\n    \"brith\": 1987,\n    \"gender\": 1,\n}}"
    )
}

// Item 8: transit JSON bodies accept a trailing comma before `}` or `]`, nothing else.
#[tokio::test]
async fn item08_transit_passenger_bodies_from_the_document_with_trailing_commas() {
    let t = Transit::start().await;
    let send = |method: Method, path: &'static str, text: String| {
        let req = t.server.client.request(method, t.url(path)).header("Content-Type", "application/json").body(text);
        async move { crate::common::read(req.send().await.unwrap()).await.1 }
    };
    let id = "d4ec5a712f2b24ce226970a8d315dfce";
    let created =
        send(Method::POST, "/api/manager/passenger/create", document_body(&t.admin, "add_passenger", id)).await;
    assert_eq!(created, json!({ "code": 2000 }));
    let mut update = document_body(&t.admin, "modify_trip", id).replace("1987", "1988");
    let updated = send(Method::PUT, "/api/manage/passenger/update", update.clone()).await;
    assert_eq!(updated, json!({ "code": 2000 }));
    let list = t.get("/api/manage/passenger/list", &t.admin).await;
    assert_eq!(list["data"][0]["birth"], 1988, "{list}");
    // Anything else that is not JSON stays refused.
    update = update.replace(",\n}", ",,\n}");
    let refused = send(Method::PUT, "/api/manage/passenger/update", update).await;
    assert!(transit_failed(&refused).contains("not valid JSON"), "{refused}");
    let single = send(Method::PUT, "/api/manage/passenger/update", format!("{{'token': '{}'}}", t.admin)).await;
    assert!(transit_failed(&single).contains("not valid JSON"), "{single}");
}

// Item 2: `GET /api/musiclist` and `GET /api/univer/tasklist` parameters in a form body, as the
// document sends them; the query wins over the body.
#[tokio::test]
async fn item02_music_get_parameters_in_a_multipart_form_body() {
    let server = TestServer::start().await;
    let (uid, token) = music::creator(&server, "maker002").await;
    let (_, admin) = music::admin(&server, "boss0002").await;
    music::add_playlist(&server, &token, "hahaha").await;
    music::add_playlist(&server, &token, "other").await;
    let listed = |body: Body, query: &'static str| {
        let (server, token) = (&server, token.clone());
        async move { call(server, Method::GET, &format!("/api/musiclist{query}"), Some(&token), body).await }
    };
    let body = Body::Multipart(music::multipart(&[("pageNum", "1"), ("pageSize", "10"), ("musiclistname", "hahaha")]));
    let (_, found) = listed(body, "").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["data"][0]["musiclistname"], "hahaha");
    let body = form(&[("pageNum", "1"), ("musiclistname", "hahaha")]);
    assert_eq!(listed(body, "?musiclistname=other").await.1["data"][0]["musiclistname"], "other", "query first");

    let (asker, asker_token) = music::user(&server, "asker002").await;
    data(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&asker_token),
            form(&[("uid", asker.to_string().as_str()), ("newPermission", "creator")]),
        )
        .await,
    );
    // The creator's uid in the body narrows the administrator's list to nothing.
    let body = Body::Multipart(music::multipart(&[("uid", &uid.to_string())]));
    assert_eq!(data(call(&server, Method::GET, "/api/univer/tasklist", Some(&admin), body).await), json!([]));
    let body = Body::Multipart(music::multipart(&[("uid", &asker.to_string())]));
    let tasks = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&admin), body).await);
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["beOperator"], asker);
}

// Item 3: a Range past the end of a file answers in the music envelope.
#[tokio::test]
async fn item03_music_range_past_the_end_answers_416_in_the_envelope() {
    let server = TestServer::start().await;
    let (_, token) = music::creator(&server, "maker003").await;
    let song = music::add_song(&server, &token, "aaaa", "[2]").await;
    let res_url = song["resUrl"].as_str().unwrap();
    let size = music::wav(4000).len();
    let past = server.client.get(res_url).header("Range", format!("bytes={}-", size + 10)).send().await.unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(past.headers()["content-range"], format!("bytes */{size}"));
    assert!(past.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = past.json().await.unwrap();
    assert_eq!((body["code"].clone(), body["status"].clone()), (json!(1), json!(416)), "{body}");
    assert!(body["message"].as_str().unwrap().contains(&size.to_string()), "{body}");
}

// Item 14: profile size, favourites of unknown songs, playlist order within one second.
#[tokio::test]
async fn item14_music_profile_limit_unknown_song_favourites_and_playlist_order() {
    let server = TestServer::start().await;
    let (uid, token) = music::creator(&server, "maker014").await;
    let big = format!("{{\"bio\":\"{}\"}}", "x".repeat(64 * 1024));
    let update = json!({"uid": uid, "profile": big});
    let message = music::failed(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(update)).await, 400);
    assert!(message.contains("profile"), "{message}");
    let fits = json!({"uid": uid, "profile": "{\"bio\":\"short\"}"});
    data(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(fits)).await);

    for method in [Method::PUT, Method::DELETE] {
        let answer = call(&server, method.clone(), "/api/music/fav", Some(&token), form(&[("mid", "999")])).await;
        assert!(music::failed(answer, 404).contains("999"), "{method}");
    }

    let songs = [
        music::add_song(&server, &token, "one", "[2]").await,
        music::add_song(&server, &token, "two", "[2]").await,
        music::add_song(&server, &token, "three", "[2]").await,
    ];
    let mlid = music::add_playlist(&server, &token, "order").await["mlid"].to_string();
    // Added newest song first, all within the same second.
    for song in songs.iter().rev() {
        let fields = form(&[("mid", song["mid"].to_string()), ("mlid", mlid.clone())]);
        data(call(&server, Method::POST, "/api/music/listed", Some(&token), fields).await);
    }
    let path = format!("/api/musiclist/detail?pageNum=1&mlid={mlid}");
    let listed = data(call(&server, Method::GET, &path, Some(&token), Body::None).await);
    let names: Vec<_> = listed.as_array().unwrap().iter().map(|s| s["musicname"].as_str().unwrap()).collect();
    assert_eq!(names, ["three", "two", "one"]);
}

// Item 4: after 5 failed logins, `password/change` accepts the captcha `hash` as login does,
// and a successful check clears the count.
#[tokio::test]
async fn item04_care_password_change_accepts_the_captcha_hash_after_failed_logins() {
    let server = TestServer::start().await;
    let phone = "13750680018";
    care::register(&server, phone, "right").await;
    for _ in 0..5 {
        let answer =
            care::call(&server, "/api/user/login", None, "login", "pass", json!({"phone": phone, "pass": "wrong"}));
        care::fails(&answer.await, 101);
    }
    let change = |data: serde_json::Value| care::call(&server, "/api/user/password", None, "password", "change", data);
    care::fails(&change(json!({"phone": phone, "old": "right", "new": "newer"})).await, -4);
    let img = care::ok(care::call(&server, "/api/captcha", None, "img", "generate", json!({})).await);
    let rand = img["rand"].as_str().unwrap();
    let code: String =
        server.sql().query_row("SELECT code FROM captcha WHERE rand = ?1", [rand], |r| r.get(0)).unwrap();
    let hash = hearth::identity::tokens::md5_hex(&format!("{code}{rand}"));
    care::ok(change(json!({"phone": phone, "old": "right", "new": "newer", "hash": hash})).await);
    // The count is cleared: the next login needs no captcha.
    care::login(&server, phone, "newer").await;
}

// Item 7: with `care_legacy_device_ids`, `device add` names the device md5(name + "helpaged"), so
// firmware that hard-codes that id uploads unchanged; random tokens stay the default.
#[tokio::test]
async fn item07_care_legacy_device_ids_are_opt_in() {
    let legacy = TestServer::start_with(|config| config.care_legacy_device_ids = true).await;
    let token = care::user(&legacy, "13800000007").await;
    let firmware_id = hearth::identity::tokens::md5_hex("客厅摄像头helpaged");
    assert_eq!(care::add_device(&legacy, &token, "客厅摄像头").await, firmware_id);
    care::upload(&legacy, &firmware_id, "fall").await;
    assert_eq!(care::notices(&legacy, &token, 2).await.len(), 1);

    let default = TestServer::start().await;
    let token = care::user(&default, "13800000008").await;
    let device = care::add_device(&default, &token, "客厅摄像头").await;
    assert_ne!(device, firmware_id);
    let refused = care::call(
        &default,
        "/api/notice",
        Some(&firmware_id),
        "notice",
        "upload",
        json!({"base64": "", "content": "x"}),
    );
    care::fails(&refused.await, -104);
}

/// The box's own non-loopback IPv4 addresses, read with `ip` independently of the server.
fn lan_ipv4_addresses() -> Vec<String> {
    let out = std::process::Command::new("ip").args(["-o", "-4", "addr", "show"]).output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_whitespace().skip_while(|w| *w != "inet").nth(1))
        .filter_map(|cidr| cidr.split('/').next())
        .filter(|ip| !ip.starts_with("127."))
        .map(str::to_owned)
        .collect()
}

// Item 16: on first start the setup link is printed with the box's LAN addresses too.
#[test]
fn item16_first_start_prints_the_setup_link_for_every_lan_address() {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("--data")
        .arg(data.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("HEARTH_PUBLIC_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Reading blocks until the server prints; a thread keeps the deadline in our hands.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut links = Vec::new();
    let mut seen_intro = false;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else { break };
        if line.starts_with("No administrator yet") {
            seen_intro = true;
        } else if seen_intro && line.contains("/admin/#/setup/") {
            links.push(line.trim().to_owned());
            if line.contains("//localhost:") {
                break;
            }
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert!(links.last().is_some_and(|l| l.starts_with("http://localhost:")), "{links:?}");
    let lan = lan_ipv4_addresses();
    for ip in &lan {
        assert!(links.iter().any(|l| l.starts_with(&format!("http://{ip}:"))), "no link for {ip}: {links:?}");
    }
    assert_eq!(links.len(), lan.len() + 1, "{links:?}");
    assert!(!links.iter().any(|l| l.contains("127.0.0.1")), "{links:?}");
}

// Item 15: `hearth <subcommand> --help` lists only what that subcommand uses.
#[test]
fn item15_each_subcommand_help_lists_only_its_own_options() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth")).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let serve = help(&["serve", "--help"]);
    for setting in ["--listen", "--json-limit", "--care-legacy-device-ids", "--care-referer-hosts"] {
        assert!(serve.contains(setting), "serve --help lacks {setting}");
    }
    for args in [
        &["admin", "create", "--help"][..],
        &["backup", "--help"],
        &["restore", "--help"],
        &["openapi", "--help"],
        &["transit", "import", "--help"],
        &["transit", "synth", "--help"],
    ] {
        let text = help(args);
        for setting in ["--listen", "--json-limit", "--compat-root", "--care-referer-hosts", "--token-hours"] {
            assert!(!text.contains(setting), "{args:?} lists {setting}:\n{text}");
        }
    }
    assert!(help(&["admin", "create", "--help"]).contains("--username"));
    // Server settings still work before `serve` and after it.
    let data = tempfile::tempdir().unwrap();
    for args in [&["--listen", "not-an-address", "serve"][..], &["serve", "--listen", "not-an-address"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("--data")
            .arg(data.path())
            .args(args)
            .env_remove("HEARTH_LISTEN")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not-an-address"), "{args:?}");
    }
}

// Item 12: `Authorization` without `Bearer `: open says the header must be `Bearer <token>`;
// system also takes the raw token, as music does.
#[tokio::test]
async fn item12_authorization_without_bearer_on_system_and_open() {
    let server = TestServer::start().await;
    let admin = crate::open_support::admin_token(&server).await;
    let raw = |path: &str, value: String| {
        let req = server.client.get(server.url(path)).header("Authorization", value);
        async move { crate::common::read(req.send().await.unwrap()).await.1 }
    };
    let users = raw("/system/api/auth/user/userList", admin.clone()).await;
    assert_eq!(users["code"], 0, "raw token on system: {users}");
    let bearer = crate::open_support::bearer(&server, &admin, json!(["transit:read"])).await;
    let answer = raw("/open/api/transit/stations", bearer.clone()).await;
    crate::open_support::assert_open_error(&answer, 10003);
    assert!(answer["message"].as_str().unwrap().contains("must be `Bearer <token>`"), "{answer}");
    let answer = raw("/open/api/transit/stations", format!("Token {bearer}")).await;
    assert!(answer["message"].as_str().unwrap().contains("must be `Bearer <token>`"), "{answer}");
    // No header at all still says no token was sent.
    let (_, none) =
        crate::common::read(server.client.get(server.url("/open/api/transit/stations")).send().await.unwrap()).await;
    assert!(none["message"].as_str().unwrap().contains("no token"), "{none}");
    assert_eq!(raw("/open/api/transit/stations", format!("Bearer {bearer}")).await["code"], 1);
}

// Item 11: the transit token in a JSON body works on every endpoint, GETs included.
#[tokio::test]
async fn item11_transit_token_in_a_json_body_on_get_endpoints() {
    let t = Transit::start().await;
    t.passenger("p1", 1990).await;
    let get = |path: &'static str, body: serde_json::Value| {
        let req = t.server.client.get(t.url(path)).json(&body);
        async move { crate::common::read(req.send().await.unwrap()).await.1 }
    };
    for path in [
        "/api/manage/passenger/list",
        "/api/manage/station/list",
        "/api/manage/workday/list",
        "/api/manage/trip/list",
        "/api/echarts/daily",
        "/api/echarts/agestruct",
    ] {
        let answer = get(path, json!({ "token": t.admin })).await;
        assert_eq!(answer["code"], 2000, "{path}: {answer}");
    }
    let listed = get("/api/manage/passenger/list", json!({ "token": t.admin })).await;
    assert_eq!(listed["total"], 1);
    let refused = get("/api/manage/passenger/list", json!({ "token": "forged" })).await;
    assert_eq!(refused["code"], 1000, "{refused}");
}
