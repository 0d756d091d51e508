//! Music folders scanned in place: real MP3 and FLAC files (encoded by Debian's `lame` and
//! `flac` from generated PCM, tags written by mutagen, a tagger written by others) become
//! songs, albums and artists; they stream from the folder; rescans pick up added, changed
//! and removed files; only administrators start or watch a scan.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestServer;
use crate::music_support::{self, call, data, png, Body, PASSWORD};

pub(crate) struct Song<'a> {
    pub(crate) title: &'a str,
    pub(crate) artist: &'a str,
    pub(crate) album: &'a str,
    pub(crate) album_artist: &'a str,
    pub(crate) track: u32,
    pub(crate) year: &'a str,
    pub(crate) genre: &'a str,
    pub(crate) cover: Option<Vec<u8>>,
    pub(crate) lyrics: &'a str,
}

impl Default for Song<'_> {
    fn default() -> Self {
        Song {
            title: "",
            artist: "",
            album: "",
            album_artist: "",
            track: 1,
            year: "",
            genre: "",
            cover: None,
            lyrics: "",
        }
    }
}

/// Encodes one second of tone to `path` (.mp3 with lame, .flac with flac) and tags it.
pub(crate) fn make(path: &Path, song: &Song) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let pcm = path.with_extension("wav");
    std::fs::write(&pcm, music_support::wav(8000)).unwrap();
    let encoded = match path.extension().unwrap().to_str().unwrap() {
        "mp3" => Command::new("lame").args(["--quiet", "-b", "64"]).arg(&pcm).arg(path).status(),
        "flac" => Command::new("flac").args(["--silent", "-f", "-o"]).arg(path).arg(&pcm).status(),
        other => panic!("no encoder for {other}"),
    };
    assert!(encoded.expect("lame and flac are installed (scripts/test.sh)").success());
    std::fs::remove_file(&pcm).unwrap();
    tag(path, song);
}

/// Writes the song's tags with mutagen (tests/subsonic/tag.py, in the py-opensonic venv),
/// replacing those the file had.
fn tag(path: &Path, song: &Song) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/subsonic/tag.py");
    let args = json!({
        "path": path, "title": song.title, "artist": song.artist, "album": song.album,
        "album_artist": song.album_artist, "track": song.track, "disc": 1, "year": song.year,
        "genre": song.genre, "lyrics": song.lyrics, "cover": hex::encode(song.cover.as_deref().unwrap_or_default()),
    });
    let out = Command::new(crate::subsonic::client_python()).arg(script).arg(args.to_string()).output().unwrap();
    assert!(out.status.success(), "tagging {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
}

fn harbour(track: u32, title: &str) -> Song<'_> {
    Song {
        title,
        artist: "The Tides",
        album: "Harbour Lights",
        album_artist: "The Tides",
        track,
        year: "2019",
        genre: "Folk",
        ..Song::default()
    }
}

/// A server with `folder` as its music folder, an administrator and their system token.
pub(crate) async fn server_for(folder: &Path) -> (TestServer, String, String) {
    let folder = folder.to_path_buf();
    let server = TestServer::start_with(move |c| {
        c.music_folders = vec![folder];
        c.music_scan_interval_mins = 0;
    })
    .await;
    server.create_admin("root", PASSWORD).await;
    let system = server.system_login("root", PASSWORD).await;
    let music = music_support::token(&server, "root").await;
    (server, system, music)
}

async fn scan_status(server: &TestServer, token: &str) -> Value {
    let (status, body) = server.get_auth("/system/api/music/scan", token).await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    body["data"].clone()
}

/// Starts a scan (waiting out one already running, such as the one at start) and waits
/// until it has finished; returns its status.
pub(crate) async fn scan(server: &TestServer, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let before = scan_status(server, token).await["runs"].as_u64().unwrap();
        let res = server.client.post(server.url("/system/api/music/scan")).bearer_auth(token).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], 0, "{body}");
        if body["data"]["startedNow"] == true {
            assert_eq!(body["data"]["running"], true, "{body}");
            break before;
        }
        assert!(Instant::now() < deadline, "a scan never became free to start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    loop {
        let status = scan_status(server, token).await;
        if status["running"] == false && status["runs"].as_u64().unwrap() > runs {
            assert!(status["error"].is_null(), "{status}");
            return status;
        }
        assert!(Instant::now() < deadline, "the scan did not finish: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn songs(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = call(server, Method::GET, "/api/music?pageNum=1&pageSize=100", Some(token), Body::None).await;
    let list = data((status, body)).as_array().unwrap().clone();
    list
}

fn by_name<'a>(items: &'a [Value], field: &str, name: &str) -> &'a Value {
    items.iter().find(|i| i[field] == name).unwrap_or_else(|| panic!("no {name} in {items:?}"))
}

async fn get_bytes(server: &TestServer, url: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = server.client.get(url);
    if let Some(range) = range {
        req = req.header("Range", range);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn scanned_files_become_songs_albums_and_artists_served_in_place() {
    let outside = tempfile::tempdir().unwrap();
    let folder = outside.path().join("music");
    let cover = png(12, 8);
    make(&folder.join("Tides/Harbour Lights/01 Low Water.mp3"), &harbour(1, "Low Water"));
    make(
        &folder.join("Tides/Harbour Lights/02 High Water.flac"),
        &Song { lyrics: "fold the page", ..harbour(2, "High Water") },
    );
    let solo = Song {
        title: "Paper Boats",
        artist: "Mina; Guest",
        album: "Solo",
        track: 3,
        year: "2021",
        genre: "Pop",
        cover: Some(cover.clone()),
        ..Song::default()
    };
    make(&folder.join("Mina/Paper Boats.mp3"), &solo);
    make(&outside.path().join("secret.mp3"), &harbour(9, "Outside"));
    std::os::unix::fs::symlink(outside.path().join("secret.mp3"), folder.join("leak.mp3")).unwrap();
    std::fs::write(folder.join("notes.txt"), "not music").unwrap();

    let (server, system, music) = server_for(&folder).await;
    let status = scan(&server, &system).await;
    assert_eq!((status["seen"].clone(), status["added"].clone()), (json!(3), json!(3)), "{status}");

    let (status, body) =
        call(&server, Method::GET, "/api/albums?pageNum=1&pageSize=50", Some(&music), Body::None).await;
    assert_eq!(body["total"], 2, "{body}");
    let albums = data((status, body)).as_array().unwrap().clone();
    let harbour_album = by_name(&albums, "name", "Harbour Lights");
    assert_eq!(
        (&harbour_album["artist"], &harbour_album["year"], &harbour_album["songCount"], &harbour_album["cover"]),
        (&json!("The Tides"), &json!(2019), &json!(2), &json!(""))
    );
    let solo_album = by_name(&albums, "name", "Solo");
    assert_eq!(
        (&solo_album["artist"], &solo_album["year"], &solo_album["songCount"]),
        (&json!("Mina"), &json!(2021), &json!(1))
    );

    let artists =
        data(call(&server, Method::GET, "/api/artists?pageNum=1&pageSize=50", Some(&music), Body::None).await);
    let artists = artists.as_array().unwrap();
    let names: Vec<&str> = artists.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Guest", "Mina", "The Tides"]);
    assert_eq!((&artists[2]["songCount"], &artists[2]["albumCount"]), (&json!(2), &json!(1)));
    assert_eq!((&artists[0]["songCount"], &artists[0]["albumCount"]), (&json!(1), &json!(0)));

    // A user who is not the owner sees them too, as uploaded songs on shelf.
    let (_, user) = music_support::user(&server, "listener").await;
    let listed = songs(&server, &user).await;
    assert_eq!(listed.len(), 3);
    let low = by_name(&listed, "musicname", "Low Water");
    assert_eq!(low["album"], json!([harbour_album["id"]]));
    assert_eq!(
        low["uid"],
        server.sql().query_row("SELECT id FROM account WHERE username = 'root'", [], |r| r.get::<_, i64>(0)).unwrap()
    );
    assert_eq!(low["musicAvatar"], "");
    let paper = by_name(&listed, "musicname", "Paper Boats");
    assert_eq!(by_name(&listed, "musicname", "High Water")["lyric"], "fold the page");

    // The audio streams from the folder itself, whole and by range; nothing was copied.
    let file = std::fs::read(folder.join("Tides/Harbour Lights/02 High Water.flac")).unwrap();
    let high = by_name(&listed, "musicname", "High Water");
    let url = high["resUrl"].as_str().unwrap();
    assert_eq!(get_bytes(&server, url, None).await, (200, file.clone()));
    assert_eq!(get_bytes(&server, url, Some("bytes=10-19")).await, (206, file[10..20].to_vec()));
    assert_eq!(music_support::stored(&server, "songs"), Vec::<String>::new(), "nothing copied into uploads");
    assert_eq!(get_bytes(&server, paper["musicAvatar"].as_str().unwrap(), None).await, (200, cover));

    // The tag columns hold what the files say.
    let (track, duration, bit_rate, genre): (i64, i64, i64, String) = server
        .sql()
        .query_row("SELECT track, duration, bit_rate, genre FROM music_song WHERE name = 'Low Water'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!((track, duration, genre.as_str()), (1, 1, "Folk"));
    assert!(bit_rate > 0, "bit rate {bit_rate}");

    // Its file is the folder's: replacing the audio through the API is refused.
    let form = music_support::multipart(&[("mid", &high["mid"].to_string())])
        .part("file", music_support::file_part(music_support::wav(800), "x.wav", "audio/wav"));
    let message = music_support::failed(
        call(&server, Method::PUT, "/api/music/res", Some(&music), Body::Multipart(form)).await,
        409,
    );
    assert!(message.contains("music folder"), "{message}");
    assert_eq!(get_bytes(&server, url, None).await, (200, file));
    server.stop().await;
}

#[tokio::test]
async fn rescans_pick_up_added_changed_and_removed_files() {
    let outside = tempfile::tempdir().unwrap();
    let folder = outside.path().join("music");
    make(&folder.join("a.mp3"), &harbour(1, "First"));
    make(&folder.join("b.mp3"), &harbour(2, "Second"));
    make(&folder.join("c.flac"), &harbour(3, "Third"));
    let (server, system, music) = server_for(&folder).await;
    scan(&server, &system).await;
    let first_ids: Vec<i64> = songs(&server, &music).await.iter().map(|s| s["mid"].as_i64().unwrap()).collect();
    assert_eq!(first_ids.len(), 3);

    let unchanged = scan(&server, &system).await;
    assert_eq!(
        [&unchanged["seen"], &unchanged["added"], &unchanged["changed"], &unchanged["removed"]],
        [&json!(3), &json!(0), &json!(0), &json!(0)]
    );

    make(&folder.join("sub/d.mp3"), &Song { album: "Other", year: "2001", ..harbour(1, "Fourth") });
    tag(&folder.join("b.mp3"), &Song { title: "Second, retitled", ..harbour(2, "") });
    // Tag padding can keep the size; the modification time tells the change.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options().write(true).open(folder.join("b.mp3")).unwrap().set_modified(later).unwrap();
    std::fs::remove_file(folder.join("c.flac")).unwrap();
    let status = scan(&server, &system).await;
    assert_eq!(
        [&status["seen"], &status["added"], &status["changed"], &status["removed"]],
        [&json!(3), &json!(1), &json!(1), &json!(1)],
        "{status}"
    );
    let listed = songs(&server, &music).await;
    let mut names: Vec<&str> = listed.iter().map(|s| s["musicname"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["First", "Fourth", "Second, retitled"]);
    let retitled = by_name(&listed, "musicname", "Second, retitled");
    assert!(first_ids.contains(&retitled["mid"].as_i64().unwrap()), "a changed file keeps its song id");

    let albums = data(call(&server, Method::GET, "/api/albums?pageNum=1&pageSize=50", Some(&music), Body::None).await);
    let albums = albums.as_array().unwrap();
    assert_eq!(by_name(albums, "name", "Harbour Lights")["songCount"], 2);
    assert_eq!(by_name(albums, "name", "Other")["year"], 2001);
    server.stop().await;
}

#[tokio::test]
async fn only_administrators_start_or_watch_a_scan() {
    let folder = tempfile::tempdir().unwrap();
    let (server, system, _) = server_for(folder.path()).await;
    server.create_user("plain", PASSWORD).await;
    let plain = server.system_login("plain", PASSWORD).await;
    for token in [None, Some("not-a-token"), Some(plain.as_str())] {
        for method in [Method::GET, Method::POST] {
            let mut req = server.client.request(method.clone(), server.url("/system/api/music/scan"));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let body: Value = req.send().await.unwrap().json().await.unwrap();
            assert_eq!(body["code"], -1, "{method} with {token:?}: {body}");
            assert!(body["data"].is_null());
        }
    }
    let status = scan(&server, &system).await;
    assert_eq!((&status["seen"], &status["folders"]), (&json!(0), &json!([folder.path().to_string_lossy()])));
    server.stop().await;
}

#[tokio::test]
async fn without_music_folders_a_scan_is_refused_in_words() {
    let server = TestServer::start().await;
    server.create_admin("root", PASSWORD).await;
    let system = server.system_login("root", PASSWORD).await;
    let res = server.client.post(server.url("/system/api/music/scan")).bearer_auth(&system).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], -1);
    assert!(body["message"].as_str().unwrap().contains("no music folders"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn the_command_line_scans_into_the_data_folder() {
    let outside = tempfile::tempdir().unwrap();
    let (folder, data) = (outside.path().join("music"), outside.path().join("data"));
    make(&folder.join("one.mp3"), &harbour(1, "One"));
    make(&folder.join("two.flac"), &harbour(2, "Two"));
    let hearth = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hearth")).arg("--data").arg(&data).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        // The log shares stdout and is written by its own thread, so it may come before or
        // after the summary.
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout.lines().rfind(|line| line.starts_with("scanned ")).unwrap_or_default().to_owned()
    };
    hearth(&["admin", "create", "--username", "root", "--password", PASSWORD]);
    let folder_arg = folder.to_str().unwrap();
    let printed = hearth(&["music", "scan", "--music-folder", folder_arg]);
    assert!(printed.starts_with("scanned 2 files in "), "{printed}");
    assert!(printed.contains(": 2 added, 0 changed, 0 removed"), "{printed}");
    std::fs::remove_file(folder.join("one.mp3")).unwrap();
    let printed = hearth(&["music", "scan", "--music-folder", folder_arg]);
    assert!(printed.contains(": 0 added, 0 changed, 1 removed"), "{printed}");
    let conn = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM music_song")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["Two"]);
}
