//! `/rest` for what listeners do: ratings, plays and "now playing", album lists made from
//! them, lyrics, recommendations and avatars, driven by a real client (py-opensonic) over a
//! scanned folder, and checked against the music surface's own view.

use reqwest::multipart::Form;
use reqwest::Method;
use serde_json::{json, Value};

use crate::music_scan::{make, scan, server_for, Song};
use crate::music_support::{call, data, file_part, png, user, Body};
use crate::subsonic::{app_password, run_client};

fn song<'a>(title: &'a str, artist: &'a str, album: &'a str, track: u32, lyrics: &'a str) -> Song<'a> {
    Song { title, artist, album, album_artist: artist, track, year: "2019", genre: "Folk", lyrics, ..Song::default() }
}

fn fill(folder: &std::path::Path) {
    let lantern = song("Lantern", "The Swell", "Harbour Lights", 1, "lantern line one\nline two");
    make(&folder.join("swell/harbour/1.mp3"), &lantern);
    make(&folder.join("swell/harbour/2.flac"), &song("Gulls", "The Swell", "Harbour Lights", 2, ""));
    make(&folder.join("swell/early/1.flac"), &song("First Light", "The Swell", "Early Days", 1, ""));
    make(&folder.join("mara/blue/1.mp3"), &song("Nightcap", "Mara Quinn", "Blue Hour", 1, ""));
    make(&folder.join("mara/blue/2.mp3"), &song("Smoke", "Mara Quinn", "Blue Hour", 2, ""));
}

#[tokio::test]
async fn a_real_client_rates_scrobbles_and_gets_lyrics_recommendations_and_avatars() {
    let folder = tempfile::tempdir().unwrap();
    fill(folder.path());
    let (server, system, _) = server_for(folder.path()).await;
    scan(&server, &system).await;
    let (fan_uid, fan_token) = user(&server, "fanfan").await;
    let (_, secret) = app_password(&server, "fanfan", "py-opensonic").await;
    let avatar = png(8, 8);
    let form = Form::new().part("file", file_part(avatar.clone(), "me.png", "image/png"));
    data(call(&server, Method::PATCH, "/api/user/avatar", Some(&fan_token), Body::Multipart(form)).await);

    let songs: serde_json::Map<String, Value> = {
        let sql = server.sql();
        let mut stmt = sql.prepare("SELECT name, id FROM music_song").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).unwrap();
        rows.map(|r| r.unwrap()).map(|(name, id)| (name, json!(id.to_string()))).collect()
    };
    let swell: i64 =
        server.sql().query_row("SELECT id FROM music_artist WHERE name = 'The Swell'", [], |r| r.get(0)).unwrap();
    let port = server.running().addr.port();
    let args = json!({ "url": "http://127.0.0.1", "port": port, "user": "fanfan", "password": secret,
                       "songs": songs, "swell": format!("ar-{swell}") });
    let seen = run_client("activity.py", args).await;

    // Ratings: on the song, averaged on its album, removed by 0.
    assert_eq!((seen["lantern_rating"].clone(), seen["gulls_rating"].clone()), (json!(5), Value::Null), "{seen}");
    let ratings = &seen["album_ratings"];
    assert_eq!((ratings["Harbour Lights"].clone(), ratings["Blue Hour"].clone()), (json!(5), json!(3)), "{seen}");
    assert_eq!(ratings["Early Days"], Value::Null, "{seen}");
    assert_eq!(seen["highest"], json!(["Harbour Lights", "Blue Hour"]), "{seen}");
    let stored: i64 = server
        .sql()
        .query_row("SELECT count(*) FROM music_song_rating WHERE account_id = ?1", [fan_uid], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 3);

    // Plays: counted per song and album, "recent" by the latest play, "now playing" apart.
    assert_eq!(seen["nightcap_plays"]["count"], 2, "{seen}");
    assert!(seen["nightcap_plays"]["played"].is_string(), "{seen}");
    assert_eq!(seen["gulls_plays"], 0, "a play only started is not counted: {seen}");
    assert_eq!(seen["frequent"], json!(["Blue Hour", "Early Days"]), "{seen}");
    assert_eq!(seen["recent"], json!(["Early Days", "Blue Hour"]), "{seen}");
    assert_eq!(seen["album_plays"], json!({ "Blue Hour": 2, "Early Days": 1 }), "{seen}");
    assert_eq!(
        seen["now_playing"],
        json!([{ "title": "Gulls", "username": "fanfan", "player": "hearth-test", "minutesAgo": 0 }]),
        "{seen}"
    );
    assert_eq!((seen["starred_before"].clone(), seen["starred"].clone()), (json!([]), json!(["Blue Hour"])));

    // Lyrics from the scanned tags, by artist and title (case ignored) or by song.
    assert_eq!(
        seen["lyrics"],
        json!({ "artist": "The Swell", "title": "Lantern", "value": "lantern line one\nline two" }),
        "{seen}"
    );
    assert_eq!(seen["no_lyrics"], "", "{seen}");
    assert_eq!(seen["structured"], json!([["lantern line one", "line two"]]), "{seen}");

    // Top songs are the artist's songs in the order the music surface recommends them;
    // similar songs are the recommendations beside the artist (less the caller's favourites).
    let recommended = data(
        call(&server, Method::GET, "/api/musiclist/recommend?pageNum=1&pageSize=50", Some(&fan_token), Body::None)
            .await,
    );
    let titles: Vec<Value> = recommended.as_array().unwrap().iter().map(|s| s["musicname"].clone()).collect();
    let swell_songs = [json!("Lantern"), json!("Gulls"), json!("First Light")];
    let expected: Vec<&Value> = titles.iter().filter(|t| swell_songs.contains(t)).collect();
    assert_eq!(expected.len(), 3, "{recommended}");
    assert_eq!(seen["top"], json!(expected), "{seen}");
    assert_eq!(seen["top_nobody"], json!([]));
    assert_eq!(seen["similar"], json!(["Nightcap"]), "{seen}");
    assert_eq!(seen["similar_to_song"], json!(["Nightcap"]), "{seen}");
    assert_eq!(seen["similar_missing"], "DataNotFoundError");

    // The avatar set on the music surface; none for an account without one.
    assert_eq!(seen["avatar"]["bytes"], hex::encode(&avatar), "{seen}");
    assert_eq!(seen["root_avatar"], "DataNotFoundError");
}

/// Bad values are refused; "now playing" and album lists leave out songs unshelved since,
/// and those songs can be neither played nor rated.
#[tokio::test]
async fn now_playing_and_album_lists_hide_songs_unshelved_since() {
    let folder = tempfile::tempdir().unwrap();
    fill(folder.path());
    let (server, system, music) = server_for(folder.path()).await;
    scan(&server, &system).await;
    user(&server, "fanfan").await;
    let (_, secret) = app_password(&server, "fanfan", "phone").await;
    let id: i64 = server.sql().query_row("SELECT id FROM music_song WHERE name = 'Smoke'", [], |r| r.get(0)).unwrap();
    let id = id.to_string();
    let rest = |method: &'static str, extra: Vec<(&'static str, String)>| {
        let (server, secret) = (&server, secret.clone());
        async move {
            let mut query: Vec<(&str, String)> =
                vec![("v", "1.16.1".into()), ("c", "phone".into()), ("f", "json".into()), ("u", "fanfan".into())];
            query.push(("p", secret));
            query.extend(extra);
            let res = server.client.get(server.url(&format!("/rest/{method}"))).query(&query).send().await.unwrap();
            res.json::<Value>().await.unwrap()["subsonic-response"].clone()
        }
    };
    for submission in ["true", "false"] {
        let done = rest("scrobble", vec![("id", id.clone()), ("submission", submission.into())]).await;
        assert_eq!(done["status"], "ok", "{done}");
    }
    let playing = rest("getNowPlaying", vec![]).await;
    assert_eq!(playing["nowPlaying"]["entry"][0]["title"], "Smoke", "{playing}");
    let frequent = rest("getAlbumList2", vec![("type", "frequent".into())]).await;
    assert_eq!(frequent["albumList2"]["album"][0]["name"], "Blue Hour", "{frequent}");
    let bad = rest("scrobble", vec![("id", id.clone()), ("submission", "maybe".into())]).await;
    assert_eq!(bad["error"]["code"], 0, "{bad}");
    let bad = rest("setRating", vec![("id", id.clone()), ("rating", "9".into())]).await;
    assert_eq!(bad["error"]["code"], 0, "{bad}");
    let bad = rest("setRating", vec![("id", format!("al-{id}")), ("rating", "3".into())]).await;
    assert_eq!(bad["error"]["code"], 70, "{bad}");

    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&music),
            crate::music_support::form(&[("mid", id.clone()), ("type", "true".into())]),
        )
        .await,
    );
    let playing = rest("getNowPlaying", vec![]).await;
    assert_eq!(playing["nowPlaying"]["entry"], json!([]), "{playing}");
    let frequent = rest("getAlbumList2", vec![("type", "frequent".into())]).await;
    assert_eq!(frequent["albumList2"]["album"], json!([]), "{frequent}");
    let refused = rest("scrobble", vec![("id", id.clone())]).await;
    assert_eq!(refused["error"]["code"], 70, "{refused}");
    let refused = rest("setRating", vec![("id", id), ("rating", "3".into())]).await;
    assert_eq!(refused["error"]["code"], 70, "{refused}");
}
