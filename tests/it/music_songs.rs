//! Songs: multipart uploads checked by content, the filtered list, edits, file replacement,
//! streaming with Range, unshelving and shelving, favourites and ownership.

use crate::common;
use crate::music_support;

use common::TestServer;
use music_support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn upload_list_and_stream_a_song() {
    let server = TestServer::start().await;
    let (uid, token) = creator(&server, "creator_one").await;
    let song = add_song(&server, &token, "aaaa", "[2,25]").await;
    assert_eq!(song["musicname"], "aaaa");
    assert_eq!(song["creator"], json!([2, 25]));
    assert_eq!(song["album"], json!([53]));
    assert_eq!(song["publishedTime"], 1435645397);
    assert_eq!(song["introduction"], "intro");
    assert_eq!(song["uid"], uid);
    assert!(song["createdTime"].as_i64().unwrap() > 1_700_000_000 && song["updatedTime"].is_i64());
    let res_url = song["resUrl"].as_str().unwrap().to_owned();
    assert!(
        res_url.starts_with(&format!("{}/music/api/files/songs/", server.base)) && res_url.ends_with(".wav"),
        "{res_url}"
    );
    assert!(song["musicAvatar"].as_str().unwrap().ends_with(".png"));
    assert_eq!(stored(&server, "songs").len(), 1);
    assert_eq!(stored(&server, "covers").len(), 1);

    // The audio streams with Range, as a browser's <audio> element asks for it.
    let whole = server.client.get(&res_url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let bytes = whole.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), wav(4000).as_slice());
    let part = server.client.get(&res_url).header("Range", "bytes=44-99").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 44-99/{}", bytes.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[44..100]);
    let tail = server.client.get(&res_url).header("Range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[bytes.len() - 10..]);
    let nothing = server
        .client
        .get(server.url("/music/api/files/songs/0123456789abcdef0123456789abcdef.wav"))
        .send()
        .await
        .unwrap();
    failed(common::read(nothing).await, 404);

    // Anyone signed in lists it.
    let (_, listener) = user(&server, "listener_1").await;
    let (status, body) =
        call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&listener), Body::None).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["data"][0], song);
}

#[tokio::test]
async fn uploads_are_checked_and_a_failed_upload_leaves_nothing() {
    let server = TestServer::start().await;
    let (_, token) = creator(&server, "creator_two").await;
    let fields = [("musicname", "song"), ("creator", "3"), ("album", "4,5"), ("publishedTime", "1712645397")];
    let send = |form| call(&server, Method::POST, "/api/music", Some(&token), Body::Multipart(form));

    let not_audio =
        multipart(&fields).part("res", file_part(b"<html>definitely not audio</html>".to_vec(), "a.mp3", "audio/mpeg"));
    assert!(failed(send(not_audio).await, 400).starts_with("res"));
    let bad_cover = multipart(&fields)
        .part("res", file_part(wav(100), "a.wav", "audio/wav"))
        .part("musicAvatar", file_part(b"\x89PNG\r\n\x1a\n broken".to_vec(), "c.png", "image/png"));
    assert!(failed(send(bad_cover).await, 400).starts_with("musicAvatar"));
    let no_file = multipart(&fields);
    assert!(failed(send(no_file).await, 400).contains("res"));
    for missing in ["musicname", "creator", "album", "publishedTime"] {
        let partial: Vec<_> = fields.iter().copied().filter(|(k, _)| *k != missing).collect();
        let form = multipart(&partial).part("res", file_part(wav(100), "a.wav", "audio/wav"));
        assert!(failed(send(form).await, 400).contains(missing), "{missing}");
    }
    let bad_creator = multipart(&[("musicname", "song"), ("creator", "two"), ("album", "4"), ("publishedTime", "1")])
        .part("res", file_part(wav(100), "a.wav", "audio/wav"));
    assert!(failed(send(bad_creator).await, 400).starts_with("creator"));
    let blank_name = multipart(&[("musicname", "   "), ("creator", "2"), ("album", "4"), ("publishedTime", "1")])
        .part("res", file_part(wav(100), "a.wav", "audio/wav"));
    assert!(failed(send(blank_name).await, 400).starts_with("musicname"));
    assert!(stored(&server, "songs").is_empty(), "{:?}", stored(&server, "songs"));
    assert!(stored(&server, "covers").is_empty());
    let rows: i64 = server.sql().query_row("SELECT COUNT(*) FROM music_song", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 0);

    // Other audio formats by their magic bytes; a comma list of creators.
    // An empty file input (as a browser sends it) counts as no cover.
    let mp3 = multipart(&fields)
        .part("res", file_part(b"ID3\x04\x00\x00\x00\x00\x00\x00 frames follow".to_vec(), "a.mp3", "audio/mpeg"))
        .part("musicAvatar", file_part(Vec::new(), "", "application/octet-stream"));
    let song = data(send(mp3).await);
    assert!(song["resUrl"].as_str().unwrap().ends_with(".mp3"));
    assert_eq!(song["album"], json!([4, 5]));
    assert_eq!(song["musicAvatar"], "");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let server = TestServer::start().await;
    let (alice, alice_token) = creator(&server, "alice_music").await;
    let (bob, bob_token) = creator(&server, "bob_the_maker").await;
    for i in 1..=3 {
        add_song(&server, &alice_token, &format!("morning {i}"), &alice.to_string()).await;
    }
    add_song(&server, &bob_token, "evening 100%", &format!("[{bob},{alice}]")).await;
    let list = |query: &str, token: &str| {
        let path = format!("/api/music?{query}");
        let token = token.to_owned();
        let server = &server;
        async move { call(server, Method::GET, &path, Some(&token), Body::None).await }
    };
    let names = |body: &serde_json::Value| {
        body["data"].as_array().unwrap().iter().map(|s| s["musicname"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };

    let (_, all) = list("pageNum=1&pageSize=2", &bob_token).await;
    assert_eq!((all["total"].clone(), names(&all)), (json!(4), vec!["evening 100%".to_owned(), "morning 3".into()]));
    let (_, second) = list("pageNum=2&pageSize=2", &bob_token).await;
    assert_eq!(names(&second), vec!["morning 2", "morning 1"]);
    let (_, by_name) = list("pageNum=1&pageSize=10&musicname=morn", &bob_token).await;
    assert_eq!(by_name["total"], 3);
    let (_, literal) = list("pageNum=1&pageSize=10&musicname=100%25", &bob_token).await;
    assert_eq!(names(&literal), vec!["evening 100%"]);
    let (_, by_creator) = list("pageNum=1&pageSize=10&creator=bob_the", &alice_token).await;
    assert_eq!(names(&by_creator), vec!["evening 100%"]);
    let (_, by_creator_id) = list(&format!("pageNum=1&pageSize=10&creator={alice}"), &alice_token).await;
    assert_eq!(by_creator_id["total"], 4);
    let (_, own) = list("pageNum=1&pageSize=10&mode=true", &bob_token).await;
    assert_eq!(names(&own), vec!["evening 100%"]);
    let (_, everyone) = list("pageNum=1&pageSize=10&mode=false", &bob_token).await;
    assert_eq!(everyone["total"], 4);

    for (query, word) in [
        ("pageSize=10", "pageNum"),
        ("pageNum=1", "pageSize"),
        ("pageNum=0&pageSize=10", "pageNum"),
        ("pageNum=1&pageSize=100000", "pageSize"),
        ("pageNum=x&pageSize=1", "pageNum"),
    ] {
        let message = failed(list(query, &bob_token).await, 400);
        assert!(message.contains(word), "{query}: {message}");
    }
    failed(call(&server, Method::GET, "/api/music?pageNum=1&pageSize=1", None, Body::None).await, 401);
}

#[tokio::test]
async fn update_replace_and_ownership() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "owner_creator").await;
    let (_, rival) = creator(&server, "rival_creator").await;
    let (_, root) = admin(&server, "root_admin").await;
    let song = add_song(&server, &token, "draft", &owner.to_string()).await;
    let mid = song["mid"].as_i64().unwrap();

    let edit = json!({"mid": mid, "musicname": "aaa", "creator": "[43,543]", "introduction": "bbbbb", "publishedTime": 1712645397, "lyric": "………………"});
    let edited = data(call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(edit.clone())).await);
    assert_eq!(
        (edited["musicname"].clone(), edited["creator"].clone(), edited["lyric"].clone()),
        (json!("aaa"), json!([43, 543]), json!("………………"))
    );
    assert_eq!(edited["album"], json!([53]), "untouched");
    let partial = data(
        call(
            &server,
            Method::PUT,
            "/api/music",
            Some(&token),
            Body::Json(json!({"mid": mid.to_string(), "creator": [7], "publishedTime": "1712645000"})),
        )
        .await,
    );
    assert_eq!(
        (partial["musicname"].clone(), partial["creator"].clone(), partial["publishedTime"].clone()),
        (json!("aaa"), json!([7]), json!(1712645000))
    );
    failed(
        call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(json!({"mid": mid, "creator": "[x]"}))).await,
        400,
    );
    failed(
        call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(json!({"mid": mid, "publishedTime": -5})))
            .await,
        400,
    );
    failed(
        call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(json!({"musicname": "no mid"}))).await,
        400,
    );
    failed(
        call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(json!({"mid": 999, "musicname": "ghost"})))
            .await,
        404,
    );
    assert!(failed(call(&server, Method::PUT, "/api/music", Some(&rival), Body::Json(edit.clone())).await, 403)
        .contains("not yours"));
    data(
        call(
            &server,
            Method::PUT,
            "/api/music",
            Some(&root),
            Body::Json(json!({"mid": mid, "introduction": "by admin"})),
        )
        .await,
    );

    // Replacing the audio and the cover removes the old files.
    let old_res = file_name(&song["resUrl"]);
    let old_cover = file_name(&song["musicAvatar"]);
    let form = multipart(&[("mid", &mid.to_string())]).part("file", file_part(wav(800), "b.wav", "audio/wav"));
    let res_url = data(call(&server, Method::PUT, "/api/music/res", Some(&token), Body::Multipart(form)).await);
    assert_eq!(stored(&server, "songs"), vec![file_name(&res_url)]);
    assert_ne!(file_name(&res_url), old_res);
    let bytes = server.client.get(res_url.as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.len(), wav(800).len());
    let form = multipart(&[("mid", &mid.to_string())]).part("file", file_part(png(3, 3), "c.png", "image/png"));
    let cover_url = data(call(&server, Method::PUT, "/api/music/avatar", Some(&token), Body::Multipart(form)).await);
    assert_eq!(stored(&server, "covers"), vec![file_name(&cover_url)]);
    assert_ne!(file_name(&cover_url), old_cover);

    // Someone else's replacement, or a bad file, changes nothing and leaves nothing.
    let form = multipart(&[("mid", &mid.to_string())]).part("file", file_part(wav(100), "x.wav", "audio/wav"));
    failed(call(&server, Method::PUT, "/api/music/res", Some(&rival), Body::Multipart(form)).await, 403);
    let form = multipart(&[("mid", &mid.to_string())])
        .part("file", file_part(b"not an image at all".to_vec(), "x.png", "image/png"));
    failed(call(&server, Method::PUT, "/api/music/avatar", Some(&token), Body::Multipart(form)).await, 400);
    let form = multipart(&[("mid", &mid.to_string())]);
    assert!(failed(call(&server, Method::PUT, "/api/music/res", Some(&token), Body::Multipart(form)).await, 400)
        .contains("file"));
    assert_eq!(stored(&server, "songs"), vec![file_name(&res_url)]);
    assert_eq!(stored(&server, "covers"), vec![file_name(&cover_url)]);

    // A 普通用户 may not upload or edit at all.
    let (_, plain) = user(&server, "plain_listener").await;
    failed(
        call(&server, Method::PUT, "/api/music", Some(&plain), Body::Json(json!({"mid": mid, "musicname": "mine"})))
            .await,
        403,
    );
}

#[tokio::test]
async fn unshelved_songs_are_hidden_and_permanent_removal_deletes_files() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "shelf_owner").await;
    let (_, listener) = user(&server, "shelf_listener").await;
    let (_, root) = admin(&server, "root_admin").await;
    let song = add_song(&server, &token, "on leave", &owner.to_string()).await;
    let keep = add_song(&server, &token, "stays", &owner.to_string()).await;
    let mid = song["mid"].as_i64().unwrap();
    let res_url = song["resUrl"].as_str().unwrap().to_owned();
    let cover_url = song["musicAvatar"].as_str().unwrap().to_owned();
    data(
        call(
            &server,
            Method::PUT,
            "/api/music/fav",
            Some(&listener),
            Body::Multipart(multipart(&[("mid", &mid.to_string())])),
        )
        .await,
    );

    failed(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&listener),
            Body::Json(json!({"mid": mid, "type": true})),
        )
        .await,
        403,
    );
    failed(
        call(&server, Method::DELETE, "/api/music/unshelve", Some(&token), Body::Json(json!({"mid": mid}))).await,
        400,
    );
    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&token),
            Body::Json(json!({"mid": mid, "type": true})),
        )
        .await,
    );

    // Hidden from the listener: list, favourite, files; the owner and administrators still see it.
    let (_, seen) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&listener), Body::None).await;
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["data"][0]["mid"], keep["mid"]);
    failed(call(&server, Method::PUT, "/api/music/fav", Some(&listener), form(&[("mid", mid.to_string())])).await, 404);
    for url in [&res_url, &cover_url] {
        failed(common::read(server.client.get(url).send().await.unwrap()).await, 404);
        failed(
            common::read(server.client.get(url).header("Authorization", &listener).send().await.unwrap()).await,
            404,
        );
        assert_eq!(server.client.get(url).header("Authorization", &token).send().await.unwrap().status(), 200);
        assert_eq!(server.client.get(url).header("Authorization", &root).send().await.unwrap().status(), 200);
    }
    // The shelf (global list) shows on-shelf songs; the owner's own list and administrators show all.
    let (_, shelf) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&token), Body::None).await;
    assert_eq!(shelf["total"], 1);
    let (_, own) =
        call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10&mode=true", Some(&token), Body::None).await;
    assert_eq!(own["total"], 2);
    assert_eq!(own["data"][1]["onShelf"], false);
    let (_, everything) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&root), Body::None).await;
    assert_eq!(everything["total"], 2);

    // Back on the shelf (DELETE with a form body as documented, PATCH too).
    data(call(&server, Method::DELETE, "/api/music/shelve", Some(&token), form(&[("mid", mid.to_string())])).await);
    assert_eq!(server.client.get(&res_url).send().await.unwrap().status(), 200);
    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&token),
            Body::Json(json!({"mid": mid, "type": "true"})),
        )
        .await,
    );
    data(call(&server, Method::PATCH, "/api/music/shelve", Some(&root), form(&[("mid", mid.to_string())])).await);
    let (_, seen) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&listener), Body::None).await;
    assert_eq!(seen["total"], 2);

    // Permanent removal deletes the row, its favourites and playlist entries, and its files.
    let playlist = add_playlist(&server, &listener, "mine").await;
    data(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&listener),
            form(&[("mid", mid.to_string()), ("mlid", playlist["mlid"].to_string())]),
        )
        .await,
    );
    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&token),
            Body::Json(json!({"mid": mid, "type": false})),
        )
        .await,
    );
    assert_eq!(stored(&server, "songs"), vec![file_name(&keep["resUrl"])]);
    assert_eq!(stored(&server, "covers"), vec![file_name(&keep["musicAvatar"])]);
    let refs: i64 = server
        .sql()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM music_song_fav) + (SELECT COUNT(*) FROM music_playlist_song)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refs, 0);
    failed(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&token),
            Body::Json(json!({"mid": mid, "type": false})),
        )
        .await,
        404,
    );
    failed(common::read(server.client.get(&res_url).header("Authorization", &token).send().await.unwrap()).await, 404);
}

#[tokio::test]
async fn favourites_toggle_and_count() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "fav_creator").await;
    let (_, fan) = user(&server, "fav_listener").await;
    let song = add_song(&server, &token, "loved", &owner.to_string()).await;
    let mid = song["mid"].to_string();
    data(call(&server, Method::PUT, "/api/music/fav", Some(&fan), Body::Multipart(multipart(&[("mid", &mid)]))).await);
    data(call(&server, Method::PUT, "/api/music/fav", Some(&fan), form(&[("mid", &mid)])).await);
    let (_, list) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=1", Some(&fan), Body::None).await;
    assert_eq!(list["data"][0]["favCount"], 1, "favouriting twice counts once");
    data(
        call(&server, Method::DELETE, "/api/music/fav", Some(&fan), Body::Multipart(multipart(&[("mid", &mid)]))).await,
    );
    data(
        call(&server, Method::DELETE, "/api/music/fav", Some(&fan), Body::Multipart(multipart(&[("mid", &mid)]))).await,
    );
    let (_, list) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=1", Some(&fan), Body::None).await;
    assert_eq!(list["data"][0]["favCount"], 0);
    failed(call(&server, Method::PUT, "/api/music/fav", Some(&fan), form(&[("mid", "999")])).await, 404);
    assert!(
        failed(call(&server, Method::PUT, "/api/music/fav", Some(&fan), form::<&str>(&[])).await, 400).contains("mid")
    );
    failed(call(&server, Method::PUT, "/api/music/fav", None, form(&[("mid", &mid)])).await, 401);
}
