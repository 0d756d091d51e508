//! `/rest`, the Subsonic API: app passwords from the system surface, a real client written by
//! others (py-opensonic) against uploaded MP3s, and plain HTTP for the error codes, both
//! formats and the music surface's visibility rules.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestServer;
use crate::music_support::{admin, call, creator, data, file_part, form, multipart, png, user, wav, Body, PASSWORD};

/// A real MP3 made by Debian's `lame` from generated PCM.
fn mp3(server: &TestServer, name: &str) -> Vec<u8> {
    let dir = server.data().join("mp3-work");
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join(format!("{name}.wav")), dir.join(format!("{name}.mp3")));
    std::fs::write(&input, wav(16000)).unwrap();
    let status = Command::new("lame").args(["--quiet", "-b", "32"]).arg(&input).arg(&output).status();
    assert!(status.expect("lame is installed (scripts/test.sh installs it)").success());
    std::fs::read(&output).unwrap()
}

/// Uploads an MP3 with a 64×48 PNG cover through /music/api; answers its mid.
async fn upload(server: &TestServer, token: &str, name: &str, creator_uid: i64, bytes: Vec<u8>) -> i64 {
    let creators = format!("[{creator_uid}]");
    let form =
        multipart(&[("musicname", name), ("creator", &creators), ("album", "[1]"), ("publishedTime", "1435645397")])
            .part("res", file_part(bytes, "song.mp3", "audio/mpeg"))
            .part("musicAvatar", file_part(png(64, 48), "cover.png", "image/png"));
    data(call(server, Method::POST, "/api/music", Some(token), Body::Multipart(form)).await)["mid"].as_i64().unwrap()
}

/// A new app password of `username` (whose password is `PASSWORD`): (id, secret).
pub(crate) async fn app_password(server: &TestServer, username: &str, name: &str) -> (i64, String) {
    let token = server.system_login(username, PASSWORD).await;
    let res = server
        .client
        .post(server.url("/system/api/auth/appPasswords"))
        .bearer_auth(&token)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], 0, "{body}");
    (body["data"]["id"].as_i64().unwrap(), body["data"]["password"].as_str().unwrap().to_owned())
}

/// GET /rest/<method> with these parameters (v=1.16.1 and c added): (content type, body).
async fn rest(server: &TestServer, method: &str, params: &[(&str, &str)]) -> (String, String) {
    let mut query: Vec<(&str, &str)> = vec![("v", "1.16.1"), ("c", "test")];
    query.extend_from_slice(params);
    let res = server.client.get(server.url(&format!("/rest/{method}"))).query(&query).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (kind, res.text().await.unwrap())
}

/// The JSON `subsonic-response` of a call with `f=json`.
async fn rest_json(server: &TestServer, method: &str, params: &[(&str, &str)]) -> Value {
    let mut all = vec![("f", "json")];
    all.extend_from_slice(params);
    let (kind, text) = rest(server, method, &all).await;
    assert!(kind.starts_with("application/json"), "{kind}");
    serde_json::from_str::<Value>(&text).unwrap()["subsonic-response"].clone()
}

fn error_code(answer: &Value) -> i64 {
    assert_eq!(answer["status"], "failed", "{answer}");
    answer["error"]["code"].as_i64().unwrap()
}

#[tokio::test]
async fn app_passwords_are_shown_once_listed_and_revoked() {
    let server = TestServer::start().await;
    server.create_admin("root", PASSWORD).await;
    let (id, secret) = app_password(&server, "root", "Symfonium").await;
    assert_eq!(secret.len(), 24);
    let key_file = server.data().join("secrets/app-passwords.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored: Vec<u8> =
        server.sql().query_row("SELECT sealed FROM app_password WHERE id = ?1", [id], |r| r.get(0)).unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is stored in the clear");

    let ok = rest_json(&server, "ping", &[("u", "root"), ("p", &secret)]).await;
    assert_eq!(ok["status"], "ok", "{ok}");
    let token = server.system_login("root", PASSWORD).await;
    let (_, listed) = server.get_auth("/system/api/auth/appPasswords", &token).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["data"][0]["name"], "Symfonium");
    assert!(listed["data"][0]["lastUsedTime"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(&secret), "the list shows the secret: {listed}");

    // Another account cannot revoke it; its owner can, and then it stops working at once.
    server.create_user("other", PASSWORD).await;
    let other = server.system_login("other", PASSWORD).await;
    let url = server.url(&format!("/system/api/auth/appPasswords/{id}"));
    let body: Value = server.client.delete(&url).bearer_auth(&other).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["code"], -1, "{body}");
    assert_eq!(rest_json(&server, "ping", &[("u", "root"), ("p", &secret)]).await["status"], "ok");
    let body: Value = server.client.delete(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(error_code(&rest_json(&server, "ping", &[("u", "root"), ("p", &secret)]).await), 40);

    // Changing the account's password ends every app password it has.
    let (_, second) = app_password(&server, "root", "DSub").await;
    // A new one works at once, though the account's app passwords were just read without it.
    assert_eq!(rest_json(&server, "ping", &[("u", "root"), ("p", &second)]).await["status"], "ok");
    assert_eq!(rest_json(&server, "ping", &[("apiKey", &second)]).await["status"], "ok");
    server.create_admin("root", "Another-pass-9").await;
    assert_eq!(error_code(&rest_json(&server, "ping", &[("apiKey", &second)]).await), 44);
    let left: i64 = server.sql().query_row("SELECT count(*) FROM app_password", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
}

/// Makes the client's venv when it is missing (scripts/test.sh makes it beforehand).
pub(crate) fn client_python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let python = target.join("subsonic-venv/bin/python");
    let status = Command::new("bash").arg(root.join("scripts/subsonic-client.sh")).status().unwrap();
    assert!(status.success(), "making the py-opensonic venv failed");
    python
}

/// Runs a py-opensonic script from tests/subsonic/ with its arguments as JSON; what it
/// printed, as JSON.
pub(crate) async fn run_client(script: &str, args: Value) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/subsonic").join(script);
    let python = client_python();
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(args.to_string()).output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_real_subsonic_client_searches_streams_stars_and_makes_playlists() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "singer").await;
    let song = mp3(&server, "harbour");
    let mid = upload(&server, &token, "Harbour Lights", uid, song.clone()).await;
    upload(&server, &token, "Other Tune", uid, mp3(&server, "other")).await;
    let (_, secret) = app_password(&server, "singer", "py-opensonic").await;
    let file = server.data().join("mp3-work/harbour.mp3");

    let port = server.running().addr.port();
    let args = json!({ "url": "http://127.0.0.1", "port": port, "user": "singer", "password": secret,
                       "file": file, "title": "Harbour" });
    let seen = run_client("client.py", args).await;

    assert_eq!(seen["ping"], true, "{seen}");
    assert_eq!(seen["wrong"], "CredentialError", "{seen}");
    assert_eq!((seen["legacy_ping"].clone(), seen["api_key_ping"].clone()), (json!(true), json!(true)));
    assert_eq!(seen["api_key_user"], "singer", "{seen}");
    let found = seen["search"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{seen}");
    assert_eq!(found[0]["id"], mid.to_string());
    assert_eq!(found[0]["suffix"], "mp3");
    assert_eq!(found[0]["size"], song.len());
    assert_eq!(seen["stream_equal"], true, "{seen}");
    assert_eq!(seen["starred"], json!([mid.to_string()]));
    assert_eq!(seen["missing_song"], "DataNotFoundError");

    // The star is a favourite of the music surface, the playlist one of its playlists.
    let (_, listed) =
        call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10&musicname=Harbour", Some(&token), Body::None)
            .await;
    assert_eq!(listed["data"][0]["favCount"], 1, "{listed}");
    let faved: i64 = server
        .sql()
        .query_row("SELECT count(*) FROM music_song_fav WHERE account_id = ?1 AND song_id = ?2", [uid, mid], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(faved, 1);
    let mlid = seen["playlist"]["id"].as_str().unwrap().to_owned();
    assert_eq!(seen["playlist"]["entries"], json!([mid.to_string()]));
    let lists = data(call(&server, Method::GET, "/api/musiclist?pageNum=1&mode=true", Some(&token), Body::None).await);
    assert_eq!(lists[0]["musiclistname"], "Road trip", "{lists}");
    assert_eq!(lists[0]["mlid"].to_string(), mlid);
    let detail = data(
        call(&server, Method::GET, &format!("/api/musiclist/detail?pageNum=1&mlid={mlid}"), Some(&token), Body::None)
            .await,
    );
    assert_eq!(detail[0]["mid"], mid, "{detail}");

    // The queue as the client saved it, both ways of naming the entry playing.
    let other = seen["other"].as_str().unwrap();
    let queued = json!([mid.to_string(), other, mid.to_string()]);
    assert_eq!(seen["queue"]["entries"], queued, "{seen}");
    assert_eq!((&seen["queue"]["current"], &seen["queue"]["position"]), (&json!(other), &json!(42000)), "{seen}");
    assert_eq!((&seen["queue"]["changedBy"], &seen["queue"]["username"]), (&json!("hearth-test"), &json!("singer")));
    assert_eq!(seen["queue_by_index"], json!({ "entries": queued, "currentIndex": 2, "position": 1000 }));
}

#[tokio::test]
async fn a_saved_play_queue_keeps_to_what_its_owner_may_still_play() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "queuer").await;
    let (_, secret) = app_password(&server, "queuer", "phone").await;
    let mut mids = Vec::new();
    for name in ["one", "two", "three"] {
        mids.push(upload(&server, &token, name, uid, mp3(&server, name)).await.to_string());
    }
    let me = [("u", "queuer"), ("p", secret.as_str())];
    let call_rest = |method: &'static str, params: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let mut query: Vec<(&str, &str)> = me.to_vec();
            query.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
            rest_json(server, method, &query).await
        }
    };
    let entries = |queue: &Value| -> Vec<String> {
        queue["entry"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    let ids = |list: &[&String]| list.iter().map(|id| ("id", id.to_string())).collect::<Vec<_>>();

    // Nothing saved yet: an answer without a queue.
    let none = call_rest("getPlayQueue", vec![]).await;
    assert_eq!((&none["status"], &none["playQueue"]), (&json!("ok"), &Value::Null), "{none}");

    // Bad input is refused whole: the saved queue stays as it was.
    let mut saved = ids(&[&mids[0], &mids[1], &mids[2]]);
    saved.extend([("current", mids[1].clone()), ("position", "5000".into())]);
    assert_eq!(call_rest("savePlayQueue", saved.clone()).await["status"], "ok");
    let mut unknown = ids(&[&mids[0], &"999999".to_string()]);
    unknown.push(("current", mids[0].clone()));
    assert_eq!(error_code(&call_rest("savePlayQueue", unknown).await), 70);
    let mut stray = ids(&[&mids[0]]);
    stray.push(("current", mids[2].clone()));
    assert_eq!(error_code(&call_rest("savePlayQueue", stray).await), 0);
    let mut outside = ids(&[&mids[0]]);
    outside.push(("currentIndex", "1".into()));
    assert_eq!(error_code(&call_rest("savePlayQueueByIndex", outside).await), 0);
    assert_eq!(error_code(&call_rest("savePlayQueueByIndex", ids(&[&mids[0]])).await), 10);
    let too_long = vec![("id", mids[0].clone()); 5001];
    assert_eq!(error_code(&call_rest("savePlayQueue", too_long).await), 0);
    let queue = call_rest("getPlayQueue", vec![]).await["playQueue"].clone();
    assert_eq!(entries(&queue), mids, "{queue}");
    assert_eq!((&queue["current"], &queue["position"]), (&json!(mids[1]), &json!(5000)), "{queue}");

    // Another account's queue is its own.
    user(&server, "neighbour").await;
    let (_, theirs) = app_password(&server, "neighbour", "phone").await;
    let empty = rest_json(&server, "getPlayQueue", &[("u", "neighbour"), ("p", &theirs)]).await;
    assert_eq!(empty["playQueue"], Value::Null, "{empty}");

    // The song playing is deleted: the next one left plays from its start.
    let fields = form(&[("mid", mids[1].clone()), ("type", "true".into())]);
    data(call(&server, Method::DELETE, "/api/music/unshelve", Some(&token), fields).await);
    let queue = call_rest("getPlayQueue", vec![]).await["playQueue"].clone();
    assert_eq!(entries(&queue), [mids[0].clone(), mids[2].clone()], "{queue}");
    assert_eq!((&queue["current"], &queue["position"]), (&json!(mids[2]), &json!(0)), "{queue}");
    let by_index = call_rest("getPlayQueueByIndex", vec![]).await["playQueueByIndex"].clone();
    assert_eq!(by_index["currentIndex"], 1, "{by_index}");

    // Saving none clears it.
    assert_eq!(call_rest("savePlayQueue", vec![]).await["status"], "ok");
    assert_eq!(call_rest("getPlayQueue", vec![]).await["playQueue"], Value::Null);
    let left: i64 = server.sql().query_row("SELECT count(*) FROM music_play_queue_entry", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn failures_answer_the_spec_codes_in_xml_and_json() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "owner1").await;
    let (_, secret) = app_password(&server, "owner1", "phone").await;
    let mid = upload(&server, &token, "Song", uid, mp3(&server, "s")).await;
    user(&server, "listener").await;
    let (_, listener) = app_password(&server, "listener", "phone").await;
    let me = [("u", "owner1"), ("p", secret.as_str())];

    // XML by default, with the envelope's attributes; `.view` is the same method.
    let (kind, xml) = rest(&server, "ping.view", &me).await;
    assert!(kind.starts_with("text/xml"), "{kind}");
    for part in [
        "<subsonic-response",
        "xmlns=\"http://subsonic.org/restapi\"",
        "status=\"ok\"",
        "version=\"1.16.1\"",
        "type=\"hearth\"",
        "openSubsonic=\"true\"",
        "serverVersion=\"",
    ] {
        assert!(xml.contains(part), "{part} missing in {xml}");
    }
    let (_, xml) = rest(&server, "getSong", &[me[0], me[1], ("id", &mid.to_string())]).await;
    assert!(
        xml.contains("<song ") && xml.contains(&format!(" id=\"{mid}\"")) && xml.contains("title=\"Song\""),
        "{xml}"
    );
    let (_, xml) = rest(&server, "ping", &[("u", "owner1"), ("p", "wrong")]).await;
    assert!(xml.contains("status=\"failed\"") && xml.contains("<error code=\"40\""), "{xml}");

    let json_code = |params: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            error_code(&rest_json(server, "getSong", &params).await)
        }
    };
    let s = |v: &str| v.to_owned();
    assert_eq!(json_code(vec![("id", mid.to_string())]).await, 10, "no u");
    assert_eq!(json_code(vec![("u", s("owner1")), ("id", mid.to_string())]).await, 10, "no p");
    assert_eq!(json_code(vec![("u", s("owner1")), ("t", s("abc")), ("id", mid.to_string())]).await, 10, "no s");
    assert_eq!(json_code(vec![("u", s("owner1")), ("p", s("nope")), ("id", mid.to_string())]).await, 40);
    assert_eq!(json_code(vec![("u", s("nobody")), ("p", secret.clone()), ("id", mid.to_string())]).await, 40);
    // An app password works only with its own account's name.
    assert_eq!(json_code(vec![("u", s("listener")), ("p", secret.clone()), ("id", mid.to_string())]).await, 40);
    assert_eq!(json_code(vec![("apiKey", secret.clone()), ("u", s("owner1"))]).await, 43);
    assert_eq!(json_code(vec![("u", s("owner1")), ("p", secret.clone()), ("t", s("x")), ("s", s("y"))]).await, 43);
    assert_eq!(json_code(vec![("apiKey", s("not-a-key"))]).await, 44);
    assert_eq!(json_code(vec![("u", s("owner1")), ("p", secret.clone())]).await, 10, "no id");
    assert_eq!(json_code(vec![("u", s("owner1")), ("p", secret.clone()), ("id", s("424242"))]).await, 70);
    for (version, code) in [("0.9.0", 20), ("2.0.0", 30), ("1.17.0", 30)] {
        let id = mid.to_string();
        let query = [("f", "json"), ("c", "test"), ("v", version), ("u", "owner1"), ("p", &secret), ("id", &id)];
        let res = server.client.get(server.url("/rest/getSong")).query(&query).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(error_code(&body["subsonic-response"]), code, "v={version}");
    }

    // Hex-encoded `p`, token auth and a POST form are the same credential.
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let enc = format!("enc:{hex}");
    assert_eq!(rest_json(&server, "ping", &[("u", "owner1"), ("p", &enc)]).await["status"], "ok");
    let salt = "c19b2d";
    let t = hearth::identity::tokens::md5_hex(&format!("{secret}{salt}"));
    assert_eq!(rest_json(&server, "ping", &[("u", "owner1"), ("t", &t), ("s", salt)]).await["status"], "ok");
    let res = server
        .client
        .post(server.url("/rest/getSong.view"))
        .form(&[("f", "json"), ("v", "1.16.1"), ("c", "t"), ("u", "owner1"), ("p", &secret), ("id", &mid.to_string())])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["subsonic-response"]["song"]["id"], mid.to_string(), "{body}");
    // A form body larger than the limit is refused in the envelope (in the format the query
    // asks for: the body is not read), before any credential check.
    let big = "x".repeat(20_000);
    let res = server
        .client
        .post(server.url("/rest/ping?f=json"))
        .form(&[("v", "1.16.1"), ("u", "owner1"), ("p", &secret), ("pad", &big)])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body["subsonic-response"]), 0, "{body}");

    // 50: someone else's playlist cannot be changed; it is still there.
    let made =
        rest_json(&server, "createPlaylist", &[me[0], me[1], ("name", "Mine"), ("songId", &mid.to_string())]).await;
    let plid = made["playlist"]["id"].as_str().unwrap().to_owned();
    let theirs = [("u", "listener"), ("p", listener.as_str()), ("id", plid.as_str())];
    assert_eq!(error_code(&rest_json(&server, "deletePlaylist", &theirs).await), 50);
    let kept = rest_json(&server, "getPlaylist", &theirs).await;
    assert_eq!(kept["playlist"]["entry"][0]["id"], mid.to_string(), "{kept}");
    assert_eq!(error_code(&rest_json(&server, "noSuchMethod", &me).await), 70);
}

#[tokio::test]
async fn songs_hidden_by_the_music_surface_stay_hidden() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "maker1").await;
    let mid = upload(&server, &token, "Secret Song", uid, mp3(&server, "hidden")).await;
    let shown = upload(&server, &token, "Open Song", uid, mp3(&server, "open")).await;
    user(&server, "fanfan").await;
    let (_, fan) = app_password(&server, "fanfan", "phone").await;
    let auth = [("u", "fanfan"), ("p", fan.as_str())];
    let found = rest_json(&server, "search3", &[auth[0], auth[1], ("query", "Song")]).await;
    assert_eq!(found["searchResult3"]["song"].as_array().unwrap().len(), 2, "{found}");

    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&token),
            form(&[("mid", mid.to_string()), ("type", "true".into())]),
        )
        .await,
    );
    let found = rest_json(&server, "search3", &[auth[0], auth[1], ("query", "")]).await;
    let ids: Vec<&str> =
        found["searchResult3"]["song"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![shown.to_string()], "{found}");
    let id = mid.to_string();
    for method in ["getSong", "stream", "download", "star", "getCoverArt"] {
        let answer = rest_json(&server, method, &[auth[0], auth[1], ("id", &id)]).await;
        assert_eq!(error_code(&answer), 70, "{method}: {answer}");
    }
    for (method, key) in [("getArtists", "artists"), ("getAlbumList2", "albumList2"), ("getGenres", "genres")] {
        let empty = rest_json(&server, method, &[auth[0], auth[1], ("type", "newest")]).await;
        assert_eq!(empty["status"], "ok", "{empty}");
        assert!(empty[key].is_object(), "{method}: {empty}");
    }
    let random = rest_json(&server, "getRandomSongs", &[auth[0], auth[1], ("size", "50")]).await;
    assert_eq!(random["randomSongs"]["song"].as_array().unwrap().len(), 1, "{random}");
}

#[tokio::test]
async fn streams_honour_range_and_covers_come_in_the_asked_size() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "djdjdj").await;
    let song = mp3(&server, "ranged");
    let mid = upload(&server, &token, "Ranged", uid, song.clone()).await;
    let (_, secret) = app_password(&server, "djdjdj", "phone").await;
    let query = [("v", "1.16.1"), ("c", "t"), ("u", "djdjdj"), ("p", secret.as_str()), ("id", &mid.to_string())];
    let res = server
        .client
        .get(server.url("/rest/stream"))
        .query(&query)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &song[100..200]);
    let res = server.client.get(server.url("/rest/download.view")).query(&query).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &song[..]);

    let cover = format!("mf-{mid}");
    let mut sized = query.to_vec();
    sized[4] = ("id", &cover);
    sized.push(("size", "32"));
    let res = server.client.get(server.url("/rest/getCoverArt")).query(&sized).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let image = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (32, 24));
    sized.pop();
    let res = server.client.get(server.url("/rest/getCoverArt")).query(&sized).send().await.unwrap();
    let image = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (64, 48));
}

#[tokio::test]
async fn failed_subsonic_logins_count_against_the_shared_limit() {
    let server = TestServer::start_with(|config| config.login_max_failures = 3).await;
    server.create_admin("root", PASSWORD).await;
    let (_, secret) = app_password(&server, "root", "phone").await;
    for _ in 0..3 {
        assert_eq!(error_code(&rest_json(&server, "ping", &[("u", "root"), ("p", "wrong")]).await), 40);
    }
    // The right app password is refused too until the window passes: the limit is per address.
    let refused = rest_json(&server, "ping", &[("u", "root"), ("p", &secret)]).await;
    assert_eq!(error_code(&refused), 0, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("too many failed logins"), "{refused}");
}

/// `t` and `s` of the token form for `secret`, with a salt of its own per `n`.
fn token_auth(secret: &str, n: usize) -> (String, String) {
    let salt = format!("salt{n:04}");
    (hearth::identity::tokens::md5_hex(&format!("{secret}{salt}")), salt)
}

#[tokio::test]
async fn a_burst_of_requests_from_one_app_is_not_taken_for_failed_logins() {
    // A cover grid: many requests at once, each with a fresh salt as apps send them. Only
    // failures may count against the address, however many good ones are in flight.
    let server = TestServer::start_with(|config| config.login_max_failures = 3).await;
    server.create_admin("root", PASSWORD).await;
    let (_, secret) = app_password(&server, "root", "Symfonium").await;
    let burst = (0..40).map(|n| {
        let (token, salt) = token_auth(&secret, n);
        let server = &server;
        async move { rest_json(server, "ping", &[("u", "root"), ("t", &token), ("s", &salt)]).await }
    });
    for answer in futures_util::future::join_all(burst).await {
        assert_eq!(answer["status"], "ok", "{answer}");
    }
    let (token, salt) = token_auth(&secret, 99);
    let answer = rest_json(&server, "ping", &[("u", "root"), ("t", &token), ("s", &salt)]).await;
    assert_eq!(answer["status"], "ok", "{answer}");
}

#[tokio::test]
async fn parallel_wrong_guesses_are_counted_before_any_is_answered() {
    let server = TestServer::start_with(|config| config.login_max_failures = 3).await;
    server.create_admin("root", PASSWORD).await;
    let (_, secret) = app_password(&server, "root", "phone").await;
    // Warm: the account's app passwords are in memory, so guesses are decided at once.
    assert_eq!(rest_json(&server, "ping", &[("u", "root"), ("p", &secret)]).await["status"], "ok");
    let guesses = (0..30).map(|n| {
        let (server, guess) = (&server, format!("guess{n}"));
        async move { rest_json(server, "ping", &[("u", "root"), ("p", &guess)]).await }
    });
    let codes: Vec<i64> = futures_util::future::join_all(guesses).await.iter().map(error_code).collect();
    assert_eq!(codes.iter().filter(|c| **c == 40).count(), 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 27, "the rest are refused by the limit: {codes:?}");
}

#[tokio::test]
async fn a_ban_reaches_the_next_rest_request_of_a_signed_in_app() {
    let server = TestServer::start().await;
    let (uid, _) = user(&server, "listener").await;
    let (_, secret) = app_password(&server, "listener", "phone").await;
    let auth = [("u", "listener"), ("p", secret.as_str())];
    assert_eq!(rest_json(&server, "ping", &auth).await["status"], "ok");
    // The music surface's ban: an administrator asks, then approves the task.
    let (_, root) = admin(&server, "rootroot").await;
    let ban = |banned: &'static str| {
        let (server, root) = (&server, root.clone());
        async move {
            let ask = form(&[("uid", uid.to_string()), ("isBanned", banned.to_owned())]);
            let task = data(call(server, Method::PATCH, "/api/user/ban", Some(&root), ask).await).to_string();
            data(call(server, Method::PATCH, "/api/univer/banuser", Some(&root), form(&[("taskId", task)])).await);
        }
    };
    ban("true").await;
    assert_eq!(error_code(&rest_json(&server, "ping", &auth).await), 50, "a banned account is refused at once");
    ban("false").await;
    assert_eq!(rest_json(&server, "ping", &auth).await["status"], "ok");
}

#[tokio::test]
async fn a_role_without_the_song_list_cannot_browse_or_stream_through_rest() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "maker3").await;
    let mid = upload(&server, &token, "Granted Song", uid, mp3(&server, "granted")).await.to_string();
    let (fan_uid, _) = user(&server, "fanfan").await;
    let (_, fan) = app_password(&server, "fanfan", "phone").await;
    let auth = [("u", "fanfan"), ("p", fan.as_str())];
    let calls: [(&str, Vec<(&str, &str)>); 4] = [
        ("search3", vec![("query", "Song")]),
        ("getSong", vec![("id", mid.as_str())]),
        ("stream", vec![("id", mid.as_str())]),
        ("getAlbumList2", vec![("type", "newest")]),
    ];
    let found = rest_json(&server, "search3", &[auth[0], auth[1], ("query", "Song")]).await;
    assert_eq!(found["status"], "ok", "{found}");

    // The super-administrator takes the song list away from the listener's role.
    admin(&server, "rootroot").await;
    let sys = server.system_login("rootroot", PASSWORD).await;
    let roles: Vec<i64> = server
        .sql()
        .prepare("SELECT role_id FROM account_role WHERE account_id = ?1")
        .unwrap()
        .query_map([fan_uid], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(roles.len(), 1, "a listener holds one role");
    let path = format!("/system/api/auth/permission/getPermissList/{}", roles[0]);
    let (_, held) = server.get_auth(&path, &sys).await;
    let held = held["data"]["rolePermissionInfoList"].as_array().unwrap().clone();
    let kept: Vec<String> =
        held.iter().filter(|p| p["permissionValue"] != "music:GET:/api/music").map(|p| p["id"].to_string()).collect();
    assert_eq!(kept.len() + 1, held.len(), "the role held the song list");
    let res = server
        .client
        .post(server.url(&format!("/system/api/auth/permission/rolePer/edit/{}", roles[0])))
        .bearer_auth(&sys)
        .json(&json!({ "permissionList": kept }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 0);

    for (method, params) in &calls {
        let mut all = vec![auth[0], auth[1]];
        all.extend(params.iter().copied());
        let answer = rest_json(&server, method, &all).await;
        assert_eq!(error_code(&answer), 50, "{method}: {answer}");
    }
    let pong = rest_json(&server, "ping", &auth).await;
    assert_eq!(pong["status"], "ok", "signing in needs no grant: {pong}");
}
