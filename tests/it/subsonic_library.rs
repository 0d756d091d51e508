//! `/rest` over a scanned library: tagged MP3 and FLAC files in a music folder become artists,
//! albums and genres that a real client (py-opensonic) browses, lists and searches; songs
//! unshelved for a while count in neither API's albums and artists.

use reqwest::Method;
use serde_json::{json, Value};

use crate::music_scan::{make, scan, server_for, Song};
use crate::music_support::{call, data, form, png, Body};
use crate::subsonic::{app_password, run_client};

fn song<'a>(title: &'a str, artist: &'a str, album: &'a str, track: u32, year: &'a str, genre: &'a str) -> Song<'a> {
    Song { title, artist, album, album_artist: artist, track, year, genre, ..Song::default() }
}

/// Two artists, three albums, six songs; files named so that path order is not track order.
fn fill(folder: &std::path::Path) {
    let swell = "The Swell/Harbour Lights";
    make(&folder.join(swell).join("a.mp3"), &song("Lantern", "The Swell", "Harbour Lights", 3, "2019", "Folk"));
    make(&folder.join(swell).join("b.mp3"), &song("Gulls", "The Swell", "Harbour Lights", 2, "2019", "Folk"));
    let low_tide =
        Song { cover: Some(png(32, 32)), ..song("Low Tide", "The Swell", "Harbour Lights", 1, "2019", "Folk") };
    make(&folder.join(swell).join("c.flac"), &low_tide);
    make(&folder.join("The Swell/Early/x.flac"), &song("First Light", "The Swell", "Early Days", 1, "2005", "Folk"));
    make(&folder.join("Mara/Blue/1.mp3"), &song("Nightcap", "Mara Quinn", "Blue Hour", 1, "2024", "Jazz"));
    make(&folder.join("Mara/Blue/2.flac"), &song("Smoke", "Mara Quinn", "Blue Hour", 2, "2024", "jazz"));
}

#[tokio::test]
async fn a_real_client_browses_artists_albums_and_genres_of_a_scanned_folder() {
    let folder = tempfile::tempdir().unwrap();
    fill(folder.path());
    let (server, system, _) = server_for(folder.path()).await;
    let runs = scan(&server, &system).await["runs"].as_u64().unwrap();
    let (_, secret) = app_password(&server, "root", "py-opensonic").await;

    let port = server.running().addr.port();
    let args = json!({ "url": "http://127.0.0.1", "port": port, "user": "root", "password": secret });
    let seen = run_client("library.py", args).await;

    // The app's startScan ran one more scan of the folder, which found the six files again.
    let (_, status) = server.get_auth("/system/api/music/scan", &system).await;
    assert_eq!(status["data"]["runs"].as_u64(), Some(runs + 1), "{status}");
    assert_eq!(seen["scan_count"], 6, "{seen}");

    // Filed by letter past the article; counts of albums per artist.
    assert_eq!(seen["index"], json!({ "M": ["Mara Quinn"], "S": ["The Swell"] }), "{seen}");
    assert!(seen["ignored"].as_str().unwrap().split(' ').any(|a| a == "The"));
    assert_eq!(seen["artists"]["The Swell"]["albumCount"], 2);
    assert_eq!(seen["artists"]["Mara Quinn"]["albumCount"], 1);
    let swell_id = seen["artists"]["The Swell"]["id"].as_str().unwrap().to_owned();
    assert!(swell_id.starts_with("ar-"), "{swell_id}");

    // An artist's albums by year, with their year, song count and cover.
    let albums = seen["swell_albums"].as_array().unwrap();
    let names: Vec<_> = albums.iter().map(|a| (a["name"].clone(), a["year"].clone(), a["songCount"].clone())).collect();
    assert_eq!(
        names,
        vec![(json!("Early Days"), json!(2005), json!(1)), (json!("Harbour Lights"), json!(2019), json!(3))]
    );
    let harbour = &seen["harbour"];
    let album_id = harbour["id"].as_str().unwrap().to_owned();
    assert!(album_id.starts_with("al-"), "{harbour}");
    assert_eq!(
        (harbour["artist"].as_str(), harbour["artistId"].as_str()),
        (Some("The Swell"), Some(swell_id.as_str()))
    );
    assert_eq!(harbour["coverArt"], json!(album_id), "{harbour}");
    assert_eq!(albums[0]["coverArt"], Value::Null, "Early Days has no cover: {seen}");

    // getAlbum: the songs in track order, whatever the file names, each knowing its album.
    let songs = seen["harbour_songs"].as_array().unwrap();
    let order: Vec<_> = songs.iter().map(|s| (s["title"].clone(), s["track"].clone())).collect();
    assert_eq!(order, vec![(json!("Low Tide"), json!(1)), (json!("Gulls"), json!(2)), (json!("Lantern"), json!(3))]);
    for s in songs {
        assert_eq!((s["album"].as_str(), s["albumId"].as_str()), (Some("Harbour Lights"), Some(album_id.as_str())));
        assert_eq!(
            (s["artistId"].as_str(), s["year"].as_i64(), s["genre"].as_str()),
            (Some(swell_id.as_str()), Some(2019), Some("Folk"))
        );
        assert_eq!(s["disc"], 1, "{s}");
        assert!(s["duration"].is_i64(), "{s}");
    }
    assert_eq!(songs[0]["suffix"], "flac");
    assert_eq!(songs[1]["suffix"], "mp3");
    // Each song's size is its file's in the folder.
    for (s, file) in songs.iter().zip(["c.flac", "b.mp3", "a.mp3"]) {
        let on_disk = std::fs::metadata(folder.path().join("The Swell/Harbour Lights").join(file)).unwrap().len();
        assert_eq!(s["size"], on_disk, "{s}");
    }
    // A playlist lasts as long as its songs together, listed or opened.
    let total: i64 = songs.iter().map(|s| s["duration"].as_i64().unwrap()).sum();
    assert!(total > 0, "{seen}");
    assert_eq!(seen["playlist_duration"], json!({ "listed": total, "one": total }));

    // Album lists: by name, by year both ways, by genre (case ignored), paged.
    assert_eq!(seen["by_name"], json!(["Blue Hour", "Early Days", "Harbour Lights"]));
    assert_eq!(seen["by_year"], json!(["Early Days", "Harbour Lights"]));
    assert_eq!(seen["by_year_reversed"], json!(["Blue Hour", "Harbour Lights", "Early Days"]));
    assert_eq!(seen["by_genre"], json!(["Blue Hour"]));
    assert_eq!(seen["paged"], json!(["Early Days"]));

    // Genres count songs and albums; spellings differing in case are one genre.
    assert_eq!(seen["genres"]["Folk"], json!({ "songs": 4, "albums": 2 }), "{seen}");
    let jazz = seen["genres"].as_object().unwrap().iter().find(|(k, _)| k.eq_ignore_ascii_case("jazz")).unwrap().1;
    assert_eq!(jazz, &json!({ "songs": 2, "albums": 1 }));
    assert_eq!(seen["genres"].as_object().unwrap().len(), 2, "{seen}");
    assert_eq!(seen["songs_by_genre"], json!(["First Light", "Gulls", "Lantern", "Low Tide"]));

    // search3 finds albums and artists; the folder view walks artist -> albums -> songs.
    assert_eq!(seen["search_albums"], json!(["Harbour Lights"]));
    assert_eq!(seen["search_artists"], json!(["The Swell"]));
    // Songs are found by their album and artist tags too.
    assert_eq!(seen["search_album_songs"], json!(["Gulls", "Lantern", "Low Tide"]));
    assert_eq!(seen["search_artist_songs"], json!(["Nightcap", "Smoke"]));

    // Random songs keep to the genre (case ignored) and the years asked for.
    assert_eq!(seen["random_jazz"], json!(["Nightcap", "Smoke"]));
    assert_eq!(seen["random_years"], json!(["First Light"]));
    assert_eq!(seen["random_folk_since"], json!(["Gulls", "Lantern", "Low Tide"]));
    assert_eq!(seen["directory"], json!(["Early Days", "Harbour Lights"]));
    assert_eq!(seen["directory_songs"], json!(["Low Tide", "Gulls", "Lantern"]));

    // getCoverArt serves the album's cover: the PNG embedded in one of its songs.
    let res = server
        .client
        .get(server.url("/rest/getCoverArt"))
        .query(&[("v", "1.16.1"), ("c", "test"), ("u", "root"), ("p", &secret), ("id", &album_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "not the PNG cover: {}", String::from_utf8_lossy(&bytes));

    // stream serves a scanned song's file as it lies in the music folder.
    let res = server
        .client
        .get(server.url("/rest/stream"))
        .query(&[
            ("v", "1.16.1"),
            ("c", "test"),
            ("u", "root"),
            ("p", &secret),
            ("id", songs[0]["id"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let on_disk = std::fs::read(folder.path().join("The Swell/Harbour Lights/c.flac")).unwrap();
    assert!(res.bytes().await.unwrap() == on_disk, "stream differs from the file in the folder");
}

/// The JSON `subsonic-response` of GET /rest/<method> as root with this app password.
async fn rest_json(server: &crate::common::TestServer, secret: &str, method: &str, params: &[(&str, &str)]) -> Value {
    let mut query = vec![("v", "1.16.1"), ("c", "test"), ("f", "json"), ("u", "root"), ("p", secret)];
    query.extend_from_slice(params);
    let res = server.client.get(server.url(&format!("/rest/{method}"))).query(&query).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["subsonic-response"].clone()
}

#[tokio::test]
async fn album_methods_refuse_bad_parameters_with_the_spec_codes() {
    let folder = tempfile::tempdir().unwrap();
    make(&folder.path().join("a/1.mp3"), &song("Only", "Solo", "Alone", 1, "2001", "Pop"));
    let (server, system, _) = server_for(folder.path()).await;
    scan(&server, &system).await;
    let (_, secret) = app_password(&server, "root", "phone").await;
    let code = |answer: &Value| {
        assert_eq!(answer["status"], "failed", "{answer}");
        answer["error"]["code"].as_i64().unwrap()
    };

    assert_eq!(code(&rest_json(&server, &secret, "getAlbumList2", &[]).await), 10);
    assert_eq!(code(&rest_json(&server, &secret, "getAlbumList2", &[("type", "byYear"), ("fromYear", "1")]).await), 10);
    assert_eq!(code(&rest_json(&server, &secret, "getAlbumList", &[("type", "byGenre")]).await), 10);
    let odd = rest_json(&server, &secret, "getAlbumList2", &[("type", "loudest")]).await;
    assert_eq!(code(&odd), 0);
    assert!(odd["error"]["message"].as_str().unwrap().contains("loudest"), "{odd}");
    assert_eq!(code(&rest_json(&server, &secret, "getAlbum", &[("id", "al-999")]).await), 70);
    assert_eq!(code(&rest_json(&server, &secret, "getArtist", &[("id", "ar-x")]).await), 70);
    assert_eq!(code(&rest_json(&server, &secret, "getMusicDirectory", &[("id", "zz-1")]).await), 70);

    // A listener may follow a scan but not start one: that is an administrator's operation.
    crate::music_support::user(&server, "listener").await;
    let (_, listener) = app_password(&server, "listener", "phone").await;
    let as_listener = |method: &'static str| {
        let (server, listener) = (&server, &listener);
        async move {
            let query = [("v", "1.16.1"), ("c", "test"), ("f", "json"), ("u", "listener"), ("p", listener)];
            let res = server.client.get(server.url(&format!("/rest/{method}"))).query(&query).send().await.unwrap();
            res.json::<Value>().await.unwrap()["subsonic-response"].clone()
        }
    };
    assert_eq!(code(&as_listener("startScan").await), 50);
    let status = as_listener("getScanStatus").await;
    assert_eq!((&status["status"], &status["scanStatus"]["scanning"]), (&json!("ok"), &json!(false)), "{status}");
    assert_eq!(status["scanStatus"]["count"], 1, "the one file the last scan found: {status}");

    // Lists nothing counts are empty but well formed; the one album is there by name.
    let frequent = rest_json(&server, &secret, "getAlbumList2", &[("type", "frequent")]).await;
    assert_eq!(frequent["albumList2"]["album"], json!([]), "{frequent}");
    let listed = rest_json(&server, &secret, "getAlbumList", &[("type", "alphabeticalByName")]).await;
    assert_eq!(listed["albumList"]["album"][0]["title"], "Alone", "{listed}");
    assert_eq!(listed["albumList"]["album"][0]["isDir"], true, "{listed}");
}

#[tokio::test]
async fn songs_are_found_by_their_album_artist_and_by_the_year_of_an_untagged_file() {
    let folder = tempfile::tempdir().unwrap();
    let mix = folder.path().join("Mix/1.mp3");
    let compiled = Song {
        title: "Sunrise",
        artist: "Bo Lind",
        album: "Summer Mix",
        album_artist: "Various Artists",
        genre: "Pop",
        ..Song::default()
    };
    make(&mix, &compiled);
    make(&folder.path().join("Solo/1.mp3"), &song("Only", "Solo", "Alone", 1, "2001", "Pop"));
    // Without a year tag a scanned song's year is the file's: the scan takes it as published.
    let june_2011 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_306_886_400);
    std::fs::File::options().write(true).open(&mix).unwrap().set_modified(june_2011).unwrap();
    let (server, system, _) = server_for(folder.path()).await;
    scan(&server, &system).await;
    let (_, secret) = app_password(&server, "root", "phone").await;
    let titles = |list: &Value| -> Vec<String> {
        let mut titles: Vec<String> =
            list.as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap().to_owned()).collect();
        titles.sort();
        titles
    };

    let only_songs = [("artistCount", "0"), ("albumCount", "0")];
    let found = rest_json(&server, &secret, "search3", &[&[("query", "various")], &only_songs[..]].concat()).await;
    assert_eq!(titles(&found["searchResult3"]["song"]), ["Sunrise"], "{found}");

    let random = |from: &'static str, to: &'static str| {
        let (server, secret) = (&server, &secret);
        async move {
            let answer =
                rest_json(server, secret, "getRandomSongs", &[("size", "10"), ("fromYear", from), ("toYear", to)])
                    .await;
            titles(&answer["randomSongs"]["song"])
        }
    };
    assert_eq!(random("2011", "2011").await, ["Sunrise"]);
    assert_eq!(random("2000", "2005").await, ["Only"]);
    assert!(random("2012", "2030").await.is_empty());
    let found = rest_json(&server, &secret, "search3", &[&[("query", "sunrise")], &only_songs[..]].concat()).await;
    assert_eq!(found["searchResult3"]["song"][0]["year"], 2011, "the year shown is the one filtered on: {found}");
}

/// The album and artist counts of both APIs, as the owner (an administrator) sees them.
async fn counts(server: &crate::common::TestServer, music: &str, secret: &str) -> Value {
    let get = |path: &'static str| call(server, Method::GET, path, Some(music), Body::None);
    let albums = data(get("/api/albums?pageNum=1&pageSize=50").await);
    let artists = data(get("/api/artists?pageNum=1&pageSize=50").await);
    let rest_albums = rest_json(server, secret, "getAlbumList2", &[("type", "alphabeticalByName")]).await;
    let rest_artists = rest_json(server, secret, "getArtists", &[]).await;
    let pairs = |list: &Value, count: &str| -> Value {
        list.as_array().unwrap().iter().map(|a| json!([a["name"], a[count]])).collect()
    };
    let indexed: Vec<Value> = rest_artists["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .collect();
    json!({
        "music_albums": pairs(&albums, "songCount"),
        "music_artists": pairs(&artists, "songCount"),
        "rest_albums": pairs(&rest_albums["albumList2"]["album"], "songCount"),
        "rest_artists": pairs(&Value::Array(indexed), "albumCount"),
    })
}

#[tokio::test]
async fn songs_unshelved_for_a_while_count_in_no_album_or_artist_of_either_api() {
    let folder = tempfile::tempdir().unwrap();
    fill(folder.path());
    let (server, system, music) = server_for(folder.path()).await;
    scan(&server, &system).await;
    let (_, secret) = app_password(&server, "root", "phone").await;
    let before = counts(&server, &music, &secret).await;
    assert_eq!(before["music_albums"], json!([["Blue Hour", 2], ["Early Days", 1], ["Harbour Lights", 3]]));
    assert_eq!(before["rest_albums"], before["music_albums"]);
    assert_eq!(before["music_artists"], json!([["Mara Quinn", 2], ["The Swell", 4]]));

    // The owner unshelves one of the Swell's songs and both of Mara Quinn's.
    for title in ["Lantern", "Nightcap", "Smoke"] {
        let id: i64 =
            server.sql().query_row("SELECT id FROM music_song WHERE name = ?1", [title], |r| r.get(0)).unwrap();
        let fields = form(&[("mid", id.to_string()), ("type", "true".into())]);
        data(call(&server, Method::DELETE, "/api/music/unshelve", Some(&music), fields).await);
    }
    let after = counts(&server, &music, &secret).await;
    assert_eq!(after["music_albums"], json!([["Early Days", 1], ["Harbour Lights", 2]]), "{after}");
    assert_eq!(after["rest_albums"], after["music_albums"], "{after}");
    assert_eq!(after["music_artists"], json!([["The Swell", 3]]), "{after}");
    assert_eq!(after["rest_artists"], json!([["The Swell", 2]]), "{after}");
}
