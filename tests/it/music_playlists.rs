//! Playlists (create, cover, rename, lists, detail, entries, favourites, delete) and the
//! recommendation endpoints over HTTP.

use crate::common;
use crate::music_support;

use common::TestServer;
use music_support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn playlists_from_creation_to_deletion() {
    let server = TestServer::start().await;
    let (maker, maker_token) = creator(&server, "list_creator").await;
    let (owner, token) = user(&server, "list_owner").await;
    let (_, stranger) = user(&server, "list_stranger").await;
    let (_, root) = admin(&server, "root_admin").await;
    let s1 = add_song(&server, &maker_token, "first", &maker.to_string()).await;
    let s2 = add_song(&server, &maker_token, "second", &maker.to_string()).await;

    // Created from a form field as documented; both time spellings come back.
    let created = data(
        call(&server, Method::POST, "/api/musiclist", Some(&token), form(&[("musiclistname", "喜欢的歌曲")])).await,
    );
    let mlid = created["mlid"].as_i64().unwrap();
    assert_eq!(
        (created["musiclistname"].clone(), created["uid"].clone(), created["musiclist_pic"].clone()),
        (json!("喜欢的歌曲"), json!(owner), json!(""))
    );
    assert_eq!(created["createdTime"], created["created_time"]);
    assert_eq!(created["updatedTime"], created["updated_time"]);
    assert!(failed(call(&server, Method::POST, "/api/musiclist", Some(&token), form::<&str>(&[])).await, 400)
        .contains("musiclistname"));
    assert!(failed(
        call(&server, Method::POST, "/api/musiclist", Some(&token), form(&[("musiclistname", "x".repeat(51))])).await,
        400
    )
    .contains("musiclistname"));

    // Cover, introduction and style; the old cover goes when replaced.
    let mlid_text = mlid.to_string();
    let update = multipart(&[("mlid", &mlid_text), ("introduction", "....."), ("style", "anime")])
        .part("musiclistAvatar", file_part(png(5, 5), "p.png", "image/png"));
    let updated = data(call(&server, Method::PUT, "/api/musiclist", Some(&token), Body::Multipart(update)).await);
    assert_eq!((updated["introduction"].clone(), updated["style"].clone()), (json!("....."), json!("anime")));
    let pic = updated["musiclist_pic"].as_str().unwrap().to_owned();
    assert!(pic.starts_with(&format!("{}/music/api/files/covers/", server.base)));
    assert_eq!(server.client.get(&pic).send().await.unwrap().status(), 200);
    let update = multipart(&[("mlid", &mlid_text)]).part("musiclistAvatar", file_part(png(6, 6), "q.png", "image/png"));
    let replaced = data(call(&server, Method::PUT, "/api/musiclist", Some(&token), Body::Multipart(update)).await);
    assert_eq!(replaced["style"], "anime", "untouched");
    assert!(!stored(&server, "covers").contains(&file_name(&json!(pic))));
    let update = multipart(&[("mlid", &mlid_text), ("style", "rock")]);
    failed(call(&server, Method::PUT, "/api/musiclist", Some(&stranger), Body::Multipart(update)).await, 403);
    let bad =
        multipart(&[("mlid", &mlid_text)]).part("musiclistAvatar", file_part(b"nope".to_vec(), "p.png", "image/png"));
    failed(call(&server, Method::PUT, "/api/musiclist", Some(&token), Body::Multipart(bad)).await, 400);

    // Rename.
    data(
        call(
            &server,
            Method::PUT,
            "/api/musiclist/name",
            Some(&token),
            Body::Multipart(multipart(&[("mlid", &mlid_text), ("musiclistname", "hahaha")])),
        )
        .await,
    );
    failed(
        call(
            &server,
            Method::PUT,
            "/api/musiclist/name",
            Some(&stranger),
            form(&[("mlid", mlid_text.as_str()), ("musiclistname", "mine now")]),
        )
        .await,
        403,
    );
    failed(
        call(
            &server,
            Method::PUT,
            "/api/musiclist/name",
            Some(&token),
            form(&[("mlid", "999"), ("musiclistname", "ghost")]),
        )
        .await,
        404,
    );

    // Songs in and out; only the owner (or an administrator) may change the entries.
    for song in [&s1, &s2] {
        data(
            call(
                &server,
                Method::POST,
                "/api/music/listed",
                Some(&token),
                Body::Multipart(multipart(&[("mid", &song["mid"].to_string()), ("mlid", &mlid_text)])),
            )
            .await,
        );
    }
    data(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&token),
            form(&[("mid", s1["mid"].to_string()), ("mlid", mlid_text.clone())]),
        )
        .await,
    );
    failed(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&stranger),
            form(&[("mid", s1["mid"].to_string()), ("mlid", mlid_text.clone())]),
        )
        .await,
        403,
    );
    failed(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&token),
            form(&[("mid", "999".to_owned()), ("mlid", mlid_text.clone())]),
        )
        .await,
        404,
    );
    let detail = |query: String, token: String| {
        let server = &server;
        async move { call(server, Method::GET, &format!("/api/musiclist/detail?{query}"), Some(&token), Body::None).await }
    };
    let (_, songs) = detail(format!("pageNum=1&pageSize=10&mlid={mlid}"), stranger.clone()).await;
    assert_eq!(songs["total"], 2);
    assert_eq!(songs["data"][0], s1);
    assert_eq!(songs["data"][1]["mid"], s2["mid"]);
    let (_, paged) = detail(format!("pageNum=2&mlid={mlid}&pageSize=1"), stranger.clone()).await;
    assert_eq!(paged["data"][0]["mid"], s2["mid"]);
    assert!(failed(detail("pageNum=1".into(), stranger.clone()).await, 400).contains("mlid"));
    assert!(failed(detail(format!("mlid={mlid}"), stranger.clone()).await, 400).contains("pageNum"));
    failed(detail("pageNum=1&mlid=999".into(), stranger.clone()).await, 404);
    failed(
        call(
            &server,
            Method::DELETE,
            "/api/music/listed",
            Some(&stranger),
            form(&[("mid", s2["mid"].to_string()), ("mlid", mlid_text.clone())]),
        )
        .await,
        403,
    );
    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/listed",
            Some(&token),
            Body::Multipart(multipart(&[("mid", &s2["mid"].to_string()), ("mlid", &mlid_text)])),
        )
        .await,
    );
    failed(
        call(
            &server,
            Method::DELETE,
            "/api/music/listed",
            Some(&token),
            form(&[("mid", s2["mid"].to_string()), ("mlid", mlid_text.clone())]),
        )
        .await,
        404,
    );
    let (_, songs) = detail(format!("pageNum=1&mlid={mlid}"), token.clone()).await;
    assert_eq!(songs["total"], 1);

    // Lists: global, own, another user's, filtered.
    let other = add_playlist(&server, &stranger, "stranger's").await;
    let list = |query: &str, token: &str| {
        let (path, token, server) = (format!("/api/musiclist?{query}"), token.to_owned(), &server);
        async move { call(server, Method::GET, &path, Some(&token), Body::None).await }
    };
    let (_, global) = list("pageNum=1&pageSize=10&mode=false", &token).await;
    assert_eq!(global["total"], 2);
    assert_eq!(global["data"][0]["mlid"], other["mlid"]);
    let hahaha = &global["data"][1];
    assert_eq!(
        (hahaha["musiclistname"].clone(), hahaha["songCount"].clone(), hahaha["style"].clone()),
        (json!("hahaha"), json!(1), json!("anime"))
    );
    let (_, own) = list("pageNum=1&mode=true", &token).await;
    assert_eq!((own["total"].clone(), own["data"][0]["mlid"].clone()), (json!(1), json!(mlid)));
    let (_, theirs) = list(&format!("pageNum=1&mode=true&uid={owner}"), &stranger).await;
    assert_eq!(theirs["data"][0]["mlid"], mlid);
    for query in
        [format!("pageNum=1&mlid={mlid}"), "pageNum=1&musiclistname=hah".into(), "pageNum=1&style=anime".into()]
    {
        let (_, found) = list(&query, &stranger).await;
        assert_eq!((found["total"].clone(), found["data"][0]["mlid"].clone()), (json!(1), json!(mlid)), "{query}");
    }
    failed(list("pageSize=10", &token).await, 400);

    // Favourites: anyone may favourite a playlist; deleting it is the owner's (or an administrator's).
    data(
        call(
            &server,
            Method::POST,
            "/api/musiclist/fav",
            Some(&stranger),
            Body::Multipart(multipart(&[("mlid", &mlid_text)])),
        )
        .await,
    );
    data(
        call(&server, Method::POST, "/api/musiclist/fav", Some(&stranger), form(&[("mlid", mlid_text.as_str())])).await,
    );
    let (_, found) = list(&format!("pageNum=1&mlid={mlid}"), &stranger).await;
    assert_eq!(found["data"][0]["favCount"], 1);
    failed(call(&server, Method::POST, "/api/musiclist/fav", Some(&stranger), form(&[("mlid", "999")])).await, 404);
    data(
        call(&server, Method::DELETE, "/api/musiclist/fav", Some(&stranger), form(&[("mlid", mlid_text.as_str())]))
            .await,
    );
    failed(
        call(&server, Method::DELETE, "/api/musiclist", Some(&stranger), form(&[("mlid", mlid_text.as_str())])).await,
        403,
    );
    let covers_before = stored(&server, "covers").len();
    data(
        call(
            &server,
            Method::DELETE,
            "/api/musiclist",
            Some(&token),
            Body::Multipart(multipart(&[("mlid", &mlid_text)])),
        )
        .await,
    );
    assert_eq!(stored(&server, "covers").len(), covers_before - 1, "its cover is deleted");
    failed(
        call(&server, Method::DELETE, "/api/musiclist", Some(&token), form(&[("mlid", mlid_text.as_str())])).await,
        404,
    );
    data(
        call(&server, Method::DELETE, "/api/musiclist", Some(&root), form(&[("mlid", other["mlid"].to_string())]))
            .await,
    );
    let (_, empty) = list("pageNum=1", &token).await;
    assert_eq!((empty["total"].clone(), empty["data"].clone()), (json!(0), json!([])));
    let (_, songs) = call(&server, Method::GET, "/api/music?pageNum=1&pageSize=10", Some(&token), Body::None).await;
    assert_eq!(songs["total"], 2, "songs stay in the library");
}

#[tokio::test]
async fn recommendations_over_http() {
    let server = TestServer::start().await;
    let (maker, maker_token) = creator(&server, "rec_creator").await;
    let (_, me) = user(&server, "rec_listener").await;
    let (_, peer) = user(&server, "rec_peer_one").await;
    let (_, newbie) = user(&server, "rec_newcomer").await;

    // An empty catalogue answers an empty list, not an error.
    let (status, body) = call(&server, Method::GET, "/api/musiclist/recommend", Some(&newbie), Body::None).await;
    assert_eq!((status, body["data"].clone(), body["total"].clone()), (200, json!([]), json!(0)));
    assert_eq!(
        data(call(&server, Method::GET, "/api/musiclist/recommend/list", Some(&newbie), Body::None).await),
        json!([])
    );

    let mut mids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        mids.push(add_song(&server, &maker_token, name, &maker.to_string()).await["mid"].as_i64().unwrap());
    }
    let fav = |token: &str, mid: i64| {
        let (token, server) = (token.to_owned(), &server);
        async move {
            data(call(server, Method::PUT, "/api/music/fav", Some(&token), form(&[("mid", mid.to_string())])).await)
        }
    };
    // I like a; my peer likes a and c; so c comes first for me, and a is never offered to me.
    fav(&me, mids[0]).await;
    fav(&peer, mids[0]).await;
    fav(&peer, mids[2]).await;
    let ids =
        |v: serde_json::Value| v.as_array().unwrap().iter().map(|s| s["mid"].as_i64().unwrap()).collect::<Vec<_>>();
    let mine = ids(data(call(&server, Method::GET, "/api/musiclist/recommend", Some(&me), Body::None).await));
    assert_eq!(mine[0], mids[2]);
    assert!(!mine.contains(&mids[0]));
    assert_eq!(mine.len(), 3);
    // A newcomer gets the most favourited first, then the newest.
    let fresh =
        ids(data(call(&server, Method::GET, "/api/musiclist/recommend?pageSize=3", Some(&newbie), Body::None).await));
    assert_eq!(fresh, vec![mids[0], mids[2], mids[3]]);
    failed(call(&server, Method::GET, "/api/musiclist/recommend?pageSize=0", Some(&newbie), Body::None).await, 400);

    // Playlists: the peer's list holding my favourite is offered; my own never is.
    let theirs = add_playlist(&server, &peer, "peer list").await;
    data(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&peer),
            form(&[("mid", mids[0].to_string()), ("mlid", theirs["mlid"].to_string())]),
        )
        .await,
    );
    let own = add_playlist(&server, &me, "my list").await;
    data(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&me),
            form(&[("mid", mids[1].to_string()), ("mlid", own["mlid"].to_string())]),
        )
        .await,
    );
    let lists = data(call(&server, Method::GET, "/api/musiclist/recommend/list", Some(&me), Body::None).await);
    assert_eq!(lists.as_array().unwrap().len(), 1);
    assert_eq!(lists[0]["mlid"], theirs["mlid"]);
    assert_eq!(lists[0]["created_time"], lists[0]["createdTime"]);
    failed(call(&server, Method::GET, "/api/musiclist/recommend/list", None, Body::None).await, 401);
}
