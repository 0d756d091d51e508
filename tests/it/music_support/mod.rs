//! Helpers for the music surface's tests: accounts in each permission group, the request
//! shapes the document uses, and small real media files made in code.
#![allow(dead_code)]

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{read, TestServer};

pub const PASSWORD: &str = "Ajm564237";

/// A request body in one of the shapes the document uses.
pub enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(Value),
    Multipart(Form),
}

pub async fn call(server: &TestServer, method: Method, path: &str, token: Option<&str>, body: Body) -> (u16, Value) {
    let mut req = server.client.request(method, server.url(&format!("/music{path}")));
    if let Some(token) = token {
        req = req.header("Authorization", token);
    }
    req = match body {
        Body::None => req,
        Body::Form(fields) => req.form(&fields),
        Body::Json(value) => req.json(&value),
        Body::Multipart(form) => req.multipart(form),
    };
    read(req.send().await.unwrap()).await
}

/// Asserts a success envelope and returns its data.
pub fn data(answer: (u16, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["code"].clone(), body["status"].clone(), body["message"].clone()),
        (json!(0), json!(200), json!("操作成功")),
        "{body}"
    );
    body["data"].clone()
}

/// Asserts a failure envelope with this HTTP status and returns its message.
pub fn failed(answer: (u16, Value), status: u16) -> String {
    let (http, body) = answer;
    assert_eq!(http, status, "{body}");
    assert_eq!(body["code"], 1, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["data"].is_null(), "{body}");
    body["message"].as_str().unwrap().to_owned()
}

pub fn form<S: AsRef<str>>(fields: &[(&'static str, S)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, v.as_ref().to_owned())).collect())
}

pub fn multipart(fields: &[(&'static str, &str)]) -> Form {
    fields.iter().fold(Form::new(), |f, (k, v)| f.text(*k, v.to_string()))
}

pub fn file_part(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap()
}

pub async fn signup(server: &TestServer, username: &str, password: &str) -> (u16, Value) {
    call(server, Method::POST, "/api/user/signup", None, form(&[("username", username), ("password", password)])).await
}

pub async fn login(server: &TestServer, username: &str, password: &str) -> (u16, Value) {
    call(server, Method::POST, "/api/user/login", None, form(&[("username", username), ("password", password)])).await
}

pub async fn token(server: &TestServer, username: &str) -> String {
    data(login(server, username, PASSWORD).await).as_str().unwrap().to_owned()
}

fn uid_of(server: &TestServer, username: &str) -> i64 {
    server.sql().query_row("SELECT id FROM account WHERE username = ?1", [username], |r| r.get(0)).unwrap()
}

/// Signs up a 普通用户 and logs in: (uid, token).
pub async fn user(server: &TestServer, username: &str) -> (i64, String) {
    data(signup(server, username, PASSWORD).await);
    (uid_of(server, username), token(server, username).await)
}

/// A 创作者 (who may upload): (uid, token).
pub async fn creator(server: &TestServer, username: &str) -> (i64, String) {
    data(signup(server, username, PASSWORD).await);
    let uid = uid_of(server, username);
    server.sql().execute("INSERT INTO account_role (account_id, role_id) VALUES (?1, 4)", [uid]).unwrap();
    (uid, token(server, username).await)
}

/// A 超级管理员: (uid, token).
pub async fn admin(server: &TestServer, username: &str) -> (i64, String) {
    let uid = server.create_admin(username, PASSWORD).await;
    (uid, token(server, username).await)
}

/// A 管理员 (not super): (uid, token).
pub async fn manager(server: &TestServer, username: &str) -> (i64, String) {
    data(signup(server, username, PASSWORD).await);
    let uid = uid_of(server, username);
    server.sql().execute("INSERT INTO account_role (account_id, role_id) VALUES (?1, 2)", [uid]).unwrap();
    (uid, token(server, username).await)
}

/// A real 8 kHz mono 16-bit WAV of `samples` samples of a square wave.
pub fn wav(samples: u32) -> Vec<u8> {
    let data_len = samples * 2;
    let mut out = Vec::new();
    out.extend(b"RIFF");
    out.extend((36 + data_len).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend(16u32.to_le_bytes());
    out.extend(1u16.to_le_bytes()); // PCM
    out.extend(1u16.to_le_bytes()); // mono
    out.extend(8000u32.to_le_bytes());
    out.extend(16000u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(16u16.to_le_bytes());
    out.extend(b"data");
    out.extend(data_len.to_le_bytes());
    for i in 0..samples {
        let v: i16 = if (i / 20) % 2 == 0 { 8000 } else { -8000 };
        out.extend(v.to_le_bytes());
    }
    out
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Uploads a song with a WAV and a PNG cover; returns the song as answered.
pub async fn add_song(server: &TestServer, token: &str, name: &str, creators: &str) -> Value {
    let form = multipart(&[
        ("musicname", name),
        ("creator", creators),
        ("album", "[53]"),
        ("publishedTime", "1435645397"),
        ("introduction", "intro"),
    ])
    .part("res", file_part(wav(4000), "song.wav", "audio/wav"))
    .part("musicAvatar", file_part(png(4, 4), "cover.png", "image/png"));
    data(call(server, Method::POST, "/api/music", Some(token), Body::Multipart(form)).await)
}

/// Creates a playlist; returns it as answered.
pub async fn add_playlist(server: &TestServer, token: &str, name: &str) -> Value {
    data(
        call(
            server,
            Method::POST,
            "/api/musiclist",
            Some(token),
            Body::Multipart(multipart(&[("musiclistname", name)])),
        )
        .await,
    )
}

/// A file on disk, for a browser's file inputs.
pub fn fixture(server: &TestServer, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = server.data().join("browser-files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A page condition on the `<audio>` of the admin UI's player under `scope`, called `a`.
pub fn audio(scope: &str, condition: &str) -> String {
    format!("(() => {{ const a = document.querySelector('{scope} .player audio'); return !!a && ({condition}); }})()")
}

/// Files in an uploads bucket folder.
pub fn stored(server: &TestServer, bucket: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data().join("uploads").join(bucket))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The file name at the end of a file URL.
pub fn file_name(url: &Value) -> String {
    url.as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}
