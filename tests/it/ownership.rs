//! Owner-or-administrator operations (the rows the access table marks `owned`): a second
//! account never reads or changes the first one's devices, notices, hidden songs,
//! playlists, tasks or account. Reading other people's playlists is allowed: the music
//! document's list is global.

use crate::access_support;
use crate::care_support;
use crate::common;
use crate::music_support;

use std::collections::BTreeSet;
use std::time::Duration;

use common::TestServer;
use music_support::{
    add_playlist, add_song, call, creator, data, failed, file_part, form, manager, multipart, png, user, wav, Body,
};
use reqwest::Method;
use serde_json::{json, Value};

type Covered = &'static [(&'static str, &'static str, &'static str)];

const CARE: Covered =
    &[("care", "POST", "/api/device"), ("care", "POST", "/api/get/notice"), ("care", "GET", "/api/notice/stream")];

#[tokio::test]
async fn devices_notices_and_alerts_belong_to_the_bound_accounts() {
    use care_support::*;
    let server = TestServer::start().await;
    let owner = user(&server, "13600000101").await;
    let other = user(&server, "13600000102").await;
    let camera = add_device(&server, &owner, "bedroom").await;
    let other_camera = add_device(&server, &other, "porch").await;

    // Live alerts: the other account's first alert is its own camera's, sent after the owner's.
    let mut owner_stream = (open_stream(&server, &owner, None).await.bytes_stream(), String::new());
    let mut other_stream = (open_stream(&server, &other, None).await.bytes_stream(), String::new());
    let pic = upload(&server, &camera, "fall").await;
    let other_pic = upload(&server, &other_camera, "porch fall").await;
    let wait = Duration::from_secs(5);
    let (_, first) =
        tokio::time::timeout(wait, next_event(&mut other_stream.0, &mut other_stream.1)).await.expect("an alert");
    assert_eq!(first["pic_name"], other_pic.as_str());
    let (_, first) =
        tokio::time::timeout(wait, next_event(&mut owner_stream.0, &mut owner_stream.1)).await.expect("an alert");
    assert_eq!(first["pic_name"], pic.as_str());

    // Devices: listed to bound accounts only; unbinding someone else's is "no such device".
    let list = |token: String| {
        let server = &server;
        async move { ok(call(server, "/api/device", Some(&token), "device", "list", json!({})).await) }
    };
    let mine = list(owner.clone()).await;
    let theirs = list(other.clone()).await;
    assert_eq!((theirs["num"].clone(), theirs["list"][0]["device"].clone()), (json!(1), json!("porch")));
    fails(
        &call(&server, "/api/device", Some(&other), "device", "unbind", json!({"id": mine["list"][0]["id"]})).await,
        100,
    );
    assert_eq!(list(owner.clone()).await["num"], 1, "still bound");

    // Notices: the other account neither lists, reads nor marks the owner's.
    let event = notices(&server, &owner, 2).await[0]["event_id"].clone();
    let seen: Vec<Value> = notices(&server, &other, 2).await.iter().map(|n| n["pic_name"].clone()).collect();
    assert_eq!(seen, [json!(other_pic)]);
    for subtype in ["info", "sign"] {
        fails(
            &call(&server, "/api/get/notice", Some(&other), "notice", subtype, json!({"event_id": event})).await,
            100,
        );
    }
    let read = ok(call(&server, "/api/get/notice", Some(&owner), "notice", "info", json!({"event_id": event})).await);
    assert!(read["base64"].as_str().is_some_and(|b| !b.is_empty()));
    assert_eq!(notices(&server, &owner, 0).await.len(), 1, "the other account's attempt marked nothing read");
}

const SONGS: Covered = &[
    ("music", "GET", "/api/music"),
    ("music", "GET", "/api/files/{kind}/{name}"),
    ("music", "PUT", "/api/music/fav"),
    ("music", "GET", "/api/musiclist/detail"),
    ("music", "GET", "/api/musiclist/recommend"),
    ("music", "PUT", "/api/music"),
    ("music", "PUT", "/api/music/res"),
    ("music", "PUT", "/api/music/avatar"),
    ("music", "DELETE", "/api/music/unshelve"),
    ("music", "DELETE", "/api/music/shelve"),
    ("music", "PATCH", "/api/music/shelve"),
];

fn mids(answer: (u16, Value)) -> Vec<i64> {
    data(answer).as_array().unwrap().iter().map(|s| s["mid"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_hidden_song_is_seen_only_by_its_uploader_and_administrators_and_only_they_change_songs() {
    let server = TestServer::start().await;
    let (owner, owner_token) = creator(&server, "song_owner").await;
    let (_, rival) = creator(&server, "rival_maker").await;
    let (_, listener) = user(&server, "plain_listener").await;
    let (_, admin) = manager(&server, "the_manager").await;
    let hidden = add_song(&server, &owner_token, "hidden", &owner.to_string()).await;
    let shown = add_song(&server, &owner_token, "shown", &owner.to_string()).await;
    let (mid, shown_mid) = (hidden["mid"].as_i64().unwrap(), shown["mid"].as_i64().unwrap());
    let playlist = add_playlist(&server, &owner_token, "both").await;
    for song in [mid, shown_mid] {
        data(
            call(
                &server,
                Method::POST,
                "/api/music/listed",
                Some(&owner_token),
                form(&[("mid", song.to_string()), ("mlid", playlist["mlid"].to_string())]),
            )
            .await,
        );
    }
    data(
        call(
            &server,
            Method::DELETE,
            "/api/music/unshelve",
            Some(&owner_token),
            Body::Json(json!({"mid": mid, "type": true})),
        )
        .await,
    );

    let list = "/api/music?pageNum=1&pageSize=10";
    let detail = format!("/api/musiclist/detail?pageNum=1&mlid={}", playlist["mlid"]);
    for token in [&listener, &rival] {
        assert_eq!(mids(call(&server, Method::GET, list, Some(token), Body::None).await), [shown_mid]);
        assert_eq!(mids(call(&server, Method::GET, &detail, Some(token), Body::None).await), [shown_mid]);
        assert_eq!(
            mids(call(&server, Method::GET, "/api/musiclist/recommend", Some(token), Body::None).await),
            [shown_mid]
        );
        failed(call(&server, Method::PUT, "/api/music/fav", Some(token), form(&[("mid", mid.to_string())])).await, 404);
        for url in [&hidden["resUrl"], &hidden["musicAvatar"]] {
            failed(
                common::read(
                    server
                        .client
                        .get(url.as_str().unwrap())
                        .header("Authorization", token.as_str())
                        .send()
                        .await
                        .unwrap(),
                )
                .await,
                404,
            );
        }
    }
    // The listener is no creator at all; the rival is, but the hidden song is not theirs.
    for method in [Method::DELETE, Method::PATCH] {
        failed(
            call(&server, method.clone(), "/api/music/shelve", Some(&listener), form(&[("mid", mid.to_string())]))
                .await,
            403,
        );
        failed(call(&server, method, "/api/music/shelve", Some(&rival), form(&[("mid", mid.to_string())])).await, 404);
    }
    for token in [&owner_token, &admin] {
        assert_eq!(mids(call(&server, Method::GET, &detail, Some(token), Body::None).await), [mid, shown_mid]);
        let res = server
            .client
            .get(hidden["resUrl"].as_str().unwrap())
            .header("Authorization", token.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert!(mids(call(&server, Method::GET, &format!("{list}&mode=true"), Some(&owner_token), Body::None).await)
        .contains(&mid));
    assert!(mids(call(&server, Method::GET, list, Some(&admin), Body::None).await).contains(&mid));

    // Someone else's visible song: the rival changes nothing, an administrator may.
    let shown_mid_text = shown_mid.to_string();
    let refused: [(Method, &str, Body); 4] = [
        (Method::PUT, "/api/music", Body::Json(json!({"mid": shown_mid, "musicname": "taken"}))),
        (
            Method::PUT,
            "/api/music/res",
            Body::Multipart(
                multipart(&[("mid", &shown_mid_text)]).part("file", file_part(wav(200), "a.wav", "audio/wav")),
            ),
        ),
        (
            Method::PUT,
            "/api/music/avatar",
            Body::Multipart(
                multipart(&[("mid", &shown_mid_text)]).part("file", file_part(png(2, 2), "c.png", "image/png")),
            ),
        ),
        (Method::DELETE, "/api/music/unshelve", Body::Json(json!({"mid": shown_mid, "type": false}))),
    ];
    for (method, path, body) in refused {
        assert!(failed(call(&server, method, path, Some(&rival), body).await, 403).contains("not yours"), "{path}");
    }
    let now = data(call(&server, Method::GET, list, Some(&listener), Body::None).await)[0].clone();
    assert_eq!(
        (now["musicname"].clone(), now["resUrl"].clone(), now["musicAvatar"].clone()),
        (json!("shown"), shown["resUrl"].clone(), shown["musicAvatar"].clone())
    );
    data(
        call(
            &server,
            Method::PUT,
            "/api/music",
            Some(&admin),
            Body::Json(json!({"mid": shown_mid, "introduction": "checked"})),
        )
        .await,
    );
    data(call(&server, Method::PATCH, "/api/music/shelve", Some(&admin), form(&[("mid", mid.to_string())])).await);
    assert_eq!(
        mids(call(&server, Method::GET, list, Some(&listener), Body::None).await).len(),
        2,
        "shelved again by an administrator"
    );
}

const PLAYLISTS: Covered = &[
    ("music", "DELETE", "/api/musiclist"),
    ("music", "PUT", "/api/musiclist"),
    ("music", "PUT", "/api/musiclist/name"),
    ("music", "POST", "/api/music/listed"),
    ("music", "DELETE", "/api/music/listed"),
];

#[tokio::test]
async fn only_a_playlists_owner_or_an_administrator_changes_it_though_everyone_may_read_it() {
    let server = TestServer::start().await;
    let (maker, maker_token) = creator(&server, "song_maker").await;
    let (_, owner) = user(&server, "list_owner").await;
    let (_, other) = user(&server, "list_other").await;
    let (_, admin) = manager(&server, "list_manager").await;
    let song = add_song(&server, &maker_token, "track", &maker.to_string()).await["mid"].to_string();
    let mlid = add_playlist(&server, &owner, "mine").await["mlid"].to_string();
    data(
        call(
            &server,
            Method::POST,
            "/api/music/listed",
            Some(&owner),
            form(&[("mid", song.clone()), ("mlid", mlid.clone())]),
        )
        .await,
    );

    let changes = || -> [(Method, &str, Body); 5] {
        [
            (Method::PUT, "/api/musiclist/name", form(&[("mlid", mlid.clone()), ("musiclistname", "taken".into())])),
            (Method::PUT, "/api/musiclist", Body::Multipart(multipart(&[("mlid", &mlid), ("introduction", "taken")]))),
            (Method::POST, "/api/music/listed", form(&[("mid", song.clone()), ("mlid", mlid.clone())])),
            (Method::DELETE, "/api/music/listed", form(&[("mid", song.clone()), ("mlid", mlid.clone())])),
            (Method::DELETE, "/api/musiclist", form(&[("mlid", mlid.clone())])),
        ]
    };
    for (method, path, body) in changes() {
        assert!(failed(call(&server, method, path, Some(&other), body).await, 403).contains("not yours"), "{path}");
    }
    let detail = format!("/api/musiclist/detail?pageNum=1&mlid={mlid}");
    assert_eq!(
        mids(call(&server, Method::GET, &detail, Some(&other), Body::None).await).len(),
        1,
        "readable, and unchanged"
    );
    let (_, lists) =
        call(&server, Method::GET, &format!("/api/musiclist?pageNum=1&mlid={mlid}"), Some(&other), Body::None).await;
    assert_eq!(
        (lists["data"][0]["musiclistname"].clone(), lists["data"][0]["introduction"].clone()),
        (json!("mine"), json!(""))
    );
    // An administrator may make every one of those changes.
    for (method, path, body) in changes() {
        data(call(&server, method, path, Some(&admin), body).await);
    }
}

const ACCOUNTS: Covered = &[
    ("music", "GET", "/api/univer/tasklist"),
    ("music", "PATCH", "/api/user/permission"),
    ("music", "PATCH", "/api/user/ban"),
    ("music", "PUT", "/api/user"),
];

#[tokio::test]
async fn tasks_and_account_changes_are_the_accounts_own() {
    let server = TestServer::start().await;
    let (owner, owner_token) = user(&server, "task_owner").await;
    let (_, other) = user(&server, "task_other").await;
    let (_, admin) = manager(&server, "task_manager").await;
    let task = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&owner_token),
            form(&[("uid", owner.to_string()), ("newPermission", "creator".into())]),
        )
        .await,
    );

    let uid = owner.to_string();
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&other),
            form(&[("uid", uid.clone()), ("newPermission", "user".into())]),
        )
        .await,
        403,
    );
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&other),
            form(&[("uid", uid.clone()), ("isBanned", "true".into())]),
        )
        .await,
        403,
    );
    failed(
        call(&server, Method::PUT, "/api/user", Some(&other), Body::Json(json!({"uid": owner, "nickname": "taken"})))
            .await,
        403,
    );
    failed(
        call(&server, Method::GET, &format!("/api/univer/tasklist?uid={owner}"), Some(&other), Body::None).await,
        403,
    );
    assert_eq!(data(call(&server, Method::GET, "/api/univer/tasklist", Some(&other), Body::None).await), json!([]));

    let own = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&owner_token), Body::None).await);
    assert_eq!((own.as_array().unwrap().len(), own[0]["taskId"].clone()), (1, task.clone()));
    let all = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&admin), Body::None).await);
    assert!(all.as_array().unwrap().iter().any(|t| t["taskId"] == task));
    let nickname = |token: String| {
        let server = &server;
        async move { data(call(server, Method::GET, "/api/user", Some(&token), Body::None).await)["nickname"].clone() }
    };
    assert_eq!(nickname(owner_token.clone()).await, "task_owner", "unchanged by the other account");
    data(
        call(&server, Method::PUT, "/api/user", Some(&admin), Body::Json(json!({"uid": owner, "nickname": "renamed"})))
            .await,
    );
    assert_eq!(nickname(owner_token).await, "renamed");
}

#[test]
fn every_owner_or_administrator_row_of_the_access_table_is_exercised_here() {
    let covered: BTreeSet<_> = [CARE, SONGS, PLAYLISTS, ACCOUNTS].concat().into_iter().collect();
    let owned: BTreeSet<_> =
        access_support::table::TABLE.iter().filter(|r| r.owned).map(|r| (r.surface, r.method, r.path)).collect();
    assert_eq!(covered, owned);
}
