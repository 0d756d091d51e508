//! Every way a file reaches the disk or leaves it: care snapshots and portraits (base64),
//! music audio, covers, avatars and playlist covers (multipart), and every path that serves
//! a stored file. A client's file name never reaches the file system, oversized input is
//! refused in the surface's envelope and leaves no file and no row. (Transit CSV import and
//! backup restore are command-line only: no HTTP upload path exists for them.)

use crate::care_support;
use crate::common;
use crate::music_support;
use crate::open_support;

use std::collections::BTreeSet;
use std::path::Path;

use common::TestServer;
use music_support::{add_playlist, add_song, call, creator, data, file_part, multipart, png, wav, Body};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

/// Every file under the data folder but the database's own, relative to it.
fn files_in(server: &TestServer) -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(server.data(), server.data(), &mut out);
    out.retain(|f| !f.starts_with("hearth.db"));
    out
}

/// Whether `path` is `uploads/<bucket>/<32 hex>.<ext>`: a name the server made.
fn server_made(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3 && parts[0] == "uploads" && hearth::files::is_safe_name(parts[2])
}

fn rows(server: &TestServer, table: &str) -> i64 {
    server.sql().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn client_file_names_never_reach_the_disk() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "name_tester").await;
    let escape = format!("hearth-escape-{}", std::process::id());
    let hostile = [
        format!("../../../{escape}.wav"),
        format!("/tmp/{escape}.wav"),
        format!("..\\..\\{escape}.wav"),
        "../hearth.db".into(),
        ".tmp-x".into(),
    ];
    let before = files_in(&server);
    let served = |url: Value| {
        let server = &server;
        async move {
            let url = url.as_str().unwrap().to_owned();
            assert!(hearth::files::is_safe_name(url.rsplit('/').next().unwrap()), "{url}");
            assert_eq!(server.client.get(&url).send().await.unwrap().status(), 200, "{url}");
        }
    };
    for name in &hostile {
        let cover = name.replace(".wav", ".png");
        let form =
            multipart(&[("musicname", "n"), ("creator", &uid.to_string()), ("album", "1"), ("publishedTime", "1")])
                .part("res", file_part(wav(400), name, "audio/wav"))
                .part("musicAvatar", file_part(png(3, 3), &cover, "image/png"));
        let song = data(call(&server, Method::POST, "/api/music", Some(&token), Body::Multipart(form)).await);
        let mid = song["mid"].to_string();
        let res = multipart(&[("mid", &mid)]).part("file", file_part(wav(500), name, "audio/wav"));
        served(data(call(&server, Method::PUT, "/api/music/res", Some(&token), Body::Multipart(res)).await)).await;
        let avatar = multipart(&[("mid", &mid)]).part("file", file_part(png(4, 4), &cover, "image/png"));
        served(data(call(&server, Method::PUT, "/api/music/avatar", Some(&token), Body::Multipart(avatar)).await))
            .await;
        let me = Form::new().part("file", file_part(png(5, 5), &cover, "image/png"));
        served(data(call(&server, Method::PATCH, "/api/user/avatar", Some(&token), Body::Multipart(me)).await)).await;
        let list = multipart(&[("musiclistname", "covered")])
            .part("musiclistAvatar", file_part(png(6, 6), &cover, "image/png"));
        let list = data(call(&server, Method::POST, "/api/musiclist", Some(&token), Body::Multipart(list)).await);
        let change = multipart(&[("mlid", &list["mlid"].to_string())])
            .part("musiclistAvatar", file_part(png(7, 7), &cover, "image/png"));
        served(
            data(call(&server, Method::PUT, "/api/musiclist", Some(&token), Body::Multipart(change)).await)
                ["musiclist_pic"]
                .clone(),
        )
        .await;
    }
    let added: Vec<String> = files_in(&server).difference(&before).cloned().collect();
    assert!(!added.is_empty());
    assert!(added.iter().all(|f| server_made(f)), "{added:?}");
    let parent = server.data().parent().unwrap();
    for outside in [
        parent.join(format!("{escape}.wav")),
        parent.join(format!("{escape}.png")),
        Path::new("/tmp").join(format!("{escape}.wav")),
    ] {
        assert!(!outside.exists(), "{}", outside.display());
    }
}

#[tokio::test]
async fn oversized_music_uploads_answer_413_and_leave_nothing() {
    let server = TestServer::start_with(|c| c.upload_limit = 64 * 1024).await;
    let (uid, token) = creator(&server, "big_sender").await;
    let song = add_song(&server, &token, "small", &uid.to_string()).await;
    let mlid = add_playlist(&server, &token, "small").await["mlid"].to_string();
    let mid = song["mid"].to_string();
    let before = (files_in(&server), rows(&server, "music_song"), rows(&server, "music_playlist"));
    let big_png = || file_part(vec![0x89; 80 * 1024], "big.png", "image/png");
    let uploads: Vec<(Method, &str, Form)> = vec![
        (
            Method::POST,
            "/api/music",
            multipart(&[("musicname", "n"), ("creator", "1"), ("album", "1"), ("publishedTime", "1")])
                .part("res", file_part(wav(40_000), "big.wav", "audio/wav")),
        ),
        (
            Method::PUT,
            "/api/music/res",
            multipart(&[("mid", &mid)]).part("file", file_part(wav(40_000), "big.wav", "audio/wav")),
        ),
        (Method::PUT, "/api/music/avatar", multipart(&[("mid", &mid)]).part("file", big_png())),
        (Method::PATCH, "/api/user/avatar", Form::new().part("file", big_png())),
        (Method::POST, "/api/musiclist", multipart(&[("musiclistname", "big")]).part("musiclistAvatar", big_png())),
        (Method::PUT, "/api/musiclist", multipart(&[("mlid", &mlid)]).part("musiclistAvatar", big_png())),
        // Without a declared length (chunked), the body is cut off at the limit all the same.
        (
            Method::POST,
            "/api/music",
            Form::new().part(
                "res",
                Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    (0..40).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 4096])),
                )))
                .file_name("chunked.wav"),
            ),
        ),
    ];
    for (method, path, form) in uploads {
        let (http, body) = call(&server, method, path, Some(&token), Body::Multipart(form)).await;
        assert_eq!((http, body["code"].clone(), body["status"].clone()), (413, json!(1), json!(413)), "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains("65536 bytes"), "{body}");
    }
    assert_eq!((files_in(&server), rows(&server, "music_song"), rows(&server, "music_playlist")), before);
    let me = data(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await);
    assert_eq!(me["avatarUrl"], "", "no avatar was set");
}

/// Sends only the head of a 50 MiB multipart upload and answers the response head, or None
/// when the server waits for the body instead of answering.
async fn head_only_upload(server: &TestServer, path: &str, authorization: Option<&str>) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 52428800\r\n\r\n--x\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer)).await.ok()?.unwrap();
    Some(String::from_utf8_lossy(&answer[..n]).into_owned())
}

#[tokio::test]
async fn music_refuses_an_upload_without_a_working_token_before_reading_its_body() {
    let server = TestServer::start().await;
    let (_, token) = creator(&server, "uploader1").await;
    let forged = format!("{}x", &token[..token.len() - 1]);
    for (auth, expected) in [(None, "401"), (Some(forged.as_str()), "401")] {
        let answer =
            head_only_upload(&server, "/music/api/music", auth).await.expect("answered without waiting for the body");
        assert!(answer.starts_with(&format!("HTTP/1.1 {expected}")), "{answer}");
        assert!(answer.contains("\"status\":401"), "in the music envelope: {answer}");
    }
    // A signed-in creator's upload is read as usual: the server waits for the body.
    assert_eq!(head_only_upload(&server, "/music/api/music", Some(&token)).await, None);
    assert_eq!(rows(&server, "music_song"), 0);
}

fn b64_of_len(decoded: usize) -> String {
    care_support::b64(&vec![0u8; decoded])
}

#[tokio::test]
async fn oversized_care_pictures_are_refused_before_anything_is_stored() {
    use care_support::{add_device, call, fails, user};
    // A body over the JSON limit: 413 with the care envelope.
    let server = TestServer::start_with(|c| c.json_limit = 64 * 1024).await;
    let token = user(&server, "13600000201").await;
    let device = add_device(&server, &token, "cam").await;
    let before = files_in(&server);
    for (path, auth, kind, subtype) in
        [("/care/api/notice", &device, "notice", "upload"), ("/care/api/portrait", &token, "portrait", "upload")]
    {
        let body = json!({"id": 3, "type": kind, "subtype": subtype, "data": {"base64": b64_of_len(80 * 1024)}});
        let res = server.client.post(server.url(&format!("{path}?token={auth}"))).json(&body).send().await.unwrap();
        let (http, answer) = common::read(res).await;
        assert_eq!((http, answer["status"].clone()), (413, json!(-2)), "{path}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("65536 bytes"));
    }
    assert_eq!(files_in(&server), before);

    // Within the body limit but over the document's 8 MiB picture: the care value error.
    let server = TestServer::start_with(|c| c.json_limit = 16 * 1024 * 1024).await;
    let token = user(&server, "13600000202").await;
    let device = add_device(&server, &token, "cam").await;
    let before = files_in(&server);
    let huge = json!({"base64": b64_of_len(8 * 1024 * 1024 + 1024)});
    fails(&call(&server, "/api/notice", Some(&device), "notice", "upload", huge.clone()).await, -204);
    fails(&call(&server, "/api/portrait", Some(&token), "portrait", "upload", huge).await, -204);
    assert_eq!(files_in(&server), before);
    assert_eq!(rows(&server, "notice"), 0);
    let portrait: Option<String> = server
        .sql()
        .query_row("SELECT care_portrait FROM account WHERE phone = '13600000202'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(portrait, None);
}

#[tokio::test]
async fn a_snapshot_just_under_the_documents_8_mib_fits_the_default_body_limit() {
    use care_support::{add_device, b64, call, ok, user};
    let server = TestServer::start().await;
    let token = user(&server, "13600000203").await;
    let device = add_device(&server, &token, "cam").await;
    // Noise does not compress: a 1600 × 1740 RGB PNG is just under 8 MiB, 10.7 MiB as base64.
    let mut seed = 7u32;
    let picture = image::RgbImage::from_fn(1600, 1740, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let [a, b, c, _] = seed.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    assert!((7 * 1024 * 1024..8 * 1024 * 1024).contains(&png.len()), "{} bytes", png.len());
    let stored =
        ok(call(&server, "/api/notice", Some(&device), "notice", "upload", json!({"base64": b64(&png)})).await);
    let name = stored["pic_name"].as_str().unwrap();
    assert_eq!(std::fs::read(server.data().join(format!("uploads/notices/{name}.png"))).unwrap(), png);
}

#[tokio::test]
async fn a_small_picture_claiming_a_huge_canvas_is_refused_everywhere() {
    use care_support::{add_device, b64, fails, user};
    let server = TestServer::start().await;
    let token = user(&server, "13600000204").await;
    let device = add_device(&server, &token, "cam").await;
    let mut bomb = std::io::Cursor::new(Vec::new());
    image::GrayImage::new(13_000, 13_000).write_to(&mut bomb, image::ImageFormat::Png).unwrap();
    let bomb = bomb.into_inner();
    let before = files_in(&server);
    for (path, auth, kind) in [("/api/notice", &device, "notice"), ("/api/portrait", &token, "portrait")] {
        fails(
            &care_support::call(&server, path, Some(auth), kind, "upload", json!({"base64": b64(&bomb)})).await,
            -204,
        );
    }
    let (_, music) = creator(&server, "bomber1").await;
    let form =
        multipart(&[("musicname", "boom"), ("creator", "[1]"), ("album", "[1]"), ("publishedTime", "1435645397")])
            .part("res", file_part(wav(4000), "a.wav", "audio/wav"))
            .part("musicAvatar", file_part(bomb, "cover.png", "image/png"));
    let (http, answer) = call(&server, Method::POST, "/api/music", Some(&music), Body::Multipart(form)).await;
    assert_eq!((http, answer["code"].clone()), (400, json!(1)), "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("musicAvatar"), "{answer}");
    assert_eq!(files_in(&server), before, "nothing stored");
}

#[tokio::test]
async fn care_pictures_are_stored_under_names_the_server_makes() {
    use care_support::{add_device, b64, call, ok, png_bytes, upload, user};
    let server = TestServer::start().await;
    let token = user(&server, "13600000211").await;
    let device = add_device(&server, &token, "cam").await;
    let before = files_in(&server);
    upload(&server, &device, "../../hearth.db").await;
    ok(call(
        &server,
        "/api/portrait",
        Some(&token),
        "portrait",
        "upload",
        json!({"base64": b64(&png_bytes(20, 10, 7))}),
    )
    .await);
    let added: Vec<String> = files_in(&server).difference(&before).cloned().collect();
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(added.iter().all(|f| server_made(f)), "{added:?}");
}

/// A body that must not be the database or any file outside the uploads.
fn assert_no_leak(what: &str, bytes: &[u8]) {
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"), "{what} served the database");
    assert!(!bytes.windows(9).any(|w| w == b"[package]"), "{what} served a file of the checkout");
}

/// A path, a header to send, and the keys its JSON answer must hold (Null: a plain 404).
type Probe<'a> = (String, Option<(&'a str, &'a str)>, Value);

#[tokio::test]
async fn no_serving_path_reads_outside_its_folder() {
    let server = TestServer::start().await;
    let admin = open_support::admin_token(&server).await;
    let reader = open_support::bearer(&server, &admin, json!(["care:read"])).await;
    let (admin, reader) = (format!("Bearer {admin}"), format!("Bearer {reader}"));
    let escapes = [
        "..%2Fhearth.db",
        "..%2F..%2Fhearth.db",
        "%2e%2e%2f%2e%2e%2fhearth.db",
        "..%5C..%5Chearth.db",
        "%2Fetc%2Fpasswd",
        "..%2F..%2F..%2FCargo.toml",
    ];
    for escape in escapes {
        let cases: Vec<Probe> = vec![
            (format!("/music/api/files/songs/{escape}"), None, json!({"code": 1, "status": 404})),
            (format!("/music/api/files/{escape}/x"), None, json!({"code": 1, "status": 400})),
            (format!("/system/api/backup/download/{escape}"), Some(("authorization", &admin)), json!({"code": -1})),
            (format!("/open/api/care/notices/{escape}/image"), Some(("authorization", &reader)), json!({"code": 404})),
            (format!("/admin/{escape}"), None, Value::Null),
            (format!("/openapi/{escape}"), None, Value::Null),
        ];
        for (path, header, expected) in cases {
            let mut req = server.client.get(server.url(&path));
            if let Some((name, value)) = header {
                req = req.header(name, value);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let bytes = res.bytes().await.unwrap();
            assert_no_leak(&path, &bytes);
            if let Value::Object(fields) = &expected {
                let body: Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| panic!("{path}: {}", String::from_utf8_lossy(&bytes)));
                for (key, value) in fields {
                    assert_eq!(&body[key], value, "{path}: {body}");
                }
            } else {
                assert_eq!(status, 404, "{path}");
            }
        }
        // The docs page answers any path below it with itself; the point is what it never serves.
        assert_no_leak(
            "docs",
            &server.client.get(server.url(&format!("/docs/{escape}"))).send().await.unwrap().bytes().await.unwrap(),
        );
        // A portrait path that is not a phone number gets the embedded stand-in picture.
        let res = server.client.get(server.url(&format!("/care/api/get/portrait/{escape}"))).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_no_leak("portrait", &res.bytes().await.unwrap());
    }
}
