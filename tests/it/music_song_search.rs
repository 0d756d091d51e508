//! The song list's name filter and totals as the list's indexes serve them: LIKE's meaning at
//! the edges (case, `%`, `_`, `\`, names shorter than a trigram), totals that follow every
//! change, and songs from before the indexes existed found after the upgrade.

use crate::common;
use crate::music_support;

use common::TestServer;
use music_support::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn list(server: &TestServer, token: &str, query: &str) -> (i64, Vec<String>) {
    let path = format!("/api/music?pageNum=1&pageSize=50&{query}");
    let body = data_with_total(call(server, Method::GET, &path, Some(token), Body::None).await);
    let names = body.0.as_array().unwrap().iter().map(|s| s["musicname"].as_str().unwrap().to_owned()).collect();
    (body.1, names)
}

fn data_with_total(answer: (u16, Value)) -> (Value, i64) {
    let total = answer.1["total"].as_i64().unwrap_or_else(|| panic!("no total in {}", answer.1));
    (data(answer), total)
}

fn named(query: &str) -> String {
    format!("musicname={}", urlencode(query))
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_name_filter_keeps_like_meaning_at_its_edges() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "search_owner").await;
    let names = [
        "Morning Rain",
        "morning sun",
        "MORNING road",
        "Émile",
        "émile",
        "ab",
        "50% off",
        "5x0 off",
        "5_0 off",
        "back\\slash",
        "say \"hi\"",
        "雨の夜",
    ];
    for name in names {
        add_song(&server, &token, name, &owner.to_string()).await;
    }
    let count = |query: &'static str| {
        let (server, token) = (&server, &token);
        async move { list(server, token, &named(query)).await }
    };
    // ASCII letters match whatever their case, through the trigram index and without it.
    assert_eq!(count("morning").await.0, 3);
    assert_eq!(count("MORN").await.0, 3);
    assert_eq!(count("orn").await.0, 3);
    assert_eq!(count("Mo").await.0, 3, "two characters: shorter than a trigram");
    assert_eq!(count("n").await.0, 3);
    // Other letters match only as written, as LIKE does.
    assert_eq!(count("Émile").await, (1, vec!["Émile".to_owned()]));
    assert_eq!(count("émile").await, (1, vec!["émile".to_owned()]));
    assert_eq!(count("mile").await.0, 2);
    assert_eq!(count("雨の夜").await.0, 1);
    assert_eq!(count("の夜").await.0, 1);
    // %, _ and \ are literal.
    assert_eq!(count("50%").await, (1, vec!["50% off".to_owned()]));
    assert_eq!(count("%").await.0, 1);
    assert_eq!(count("5_0").await, (1, vec!["5_0 off".to_owned()]));
    assert_eq!(count("_").await.0, 1);
    assert_eq!(count("k\\s").await, (1, vec!["back\\slash".to_owned()]));
    assert_eq!(count("\"hi\"").await.0, 1);
    assert_eq!(count("0 off").await.0, 2);
    assert_eq!(count("nothing like it").await, (0, vec![]));
    // Newest first, as without a filter.
    assert_eq!(count("orning").await.1, vec!["MORNING road", "morning sun", "Morning Rain"]);
}

#[tokio::test]
async fn totals_follow_every_change_to_the_songs() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "tally_owner").await;
    let (_, listener) = user(&server, "tally_listener").await;
    let (_, root) = admin(&server, "tally_admin").await;
    let mut mids = Vec::new();
    for name in ["river one", "river two", "river three", "lake"] {
        mids.push(add_song(&server, &token, name, &owner.to_string()).await["mid"].as_i64().unwrap());
    }
    let totals = |query: &'static str| {
        let (server, listener, root, token) = (&server, &listener, &root, &token);
        async move {
            (
                list(server, listener, query).await.0,
                list(server, root, query).await.0,
                list(server, token, &format!("{query}&mode=true")).await.0,
            )
        }
    };
    assert_eq!(totals("").await, (4, 4, 4));
    assert_eq!(totals("musicname=river").await, (3, 3, 3));

    // Renamed: found by the new name only.
    let rename = json!({"mid": mids[0], "musicname": "brook one"});
    data(call(&server, Method::PUT, "/api/music", Some(&token), Body::Json(rename)).await);
    assert_eq!(totals("musicname=river").await, (2, 2, 2));
    assert_eq!(list(&server, &listener, "musicname=brook").await, (1, vec!["brook one".to_owned()]));

    // Hidden: gone for listeners, still there for the owner and administrators.
    let hide = json!({"mid": mids[1], "type": true});
    data(call(&server, Method::DELETE, "/api/music/unshelve", Some(&token), Body::Json(hide)).await);
    assert_eq!(totals("").await, (3, 4, 4));
    assert_eq!(totals("musicname=river").await, (1, 2, 2));
    data(call(&server, Method::PATCH, "/api/music/shelve", Some(&token), form(&[("mid", mids[1].to_string())])).await);
    assert_eq!(totals("musicname=river").await, (2, 2, 2));

    // Removed for good, and added.
    let remove = json!({"mid": mids[2], "type": false});
    data(call(&server, Method::DELETE, "/api/music/unshelve", Some(&token), Body::Json(remove)).await);
    assert_eq!(totals("").await, (3, 3, 3));
    assert_eq!(totals("musicname=river").await, (1, 1, 1));
    add_song(&server, &token, "River four", &owner.to_string()).await;
    assert_eq!(totals("musicname=river").await, (2, 2, 2));
    assert_eq!(totals("").await, (4, 4, 4));
    // Another account's songs are not the owner's.
    let (other, other_token) = creator(&server, "tally_other").await;
    add_song(&server, &other_token, "river five", &other.to_string()).await;
    assert_eq!(totals("musicname=river").await, (3, 3, 2));
}

#[tokio::test]
async fn songs_from_before_the_search_index_are_found_after_the_upgrade() {
    let server = TestServer::start().await;
    let (owner, token) = creator(&server, "upgrade_owner").await;
    let (_, listener) = user(&server, "upgrade_listener").await;
    add_song(&server, &token, "old tune", &owner.to_string()).await;
    // Back to the schema before migration 17, with songs written as that schema kept them.
    let server = server
        .restart_after(|data| {
            let db = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
            common::rewind_to_migration_16(&db);
            db.execute_batch(
                "INSERT INTO music_song (owner_id, name, res_file, published_at, on_shelf, created_at, updated_at)
                     SELECT owner_id, 'older tune', 'older.wav', 0, 1, created_at + 1, updated_at FROM music_song;
                 INSERT INTO music_song (owner_id, name, res_file, published_at, on_shelf, created_at, updated_at)
                     SELECT owner_id, 'hidden tune', 'hidden.wav', 0, 0, created_at + 2, updated_at FROM music_song LIMIT 1;",
            )
            .unwrap();
        })
        .await;
    assert_eq!(list(&server, &listener, "").await.0, 2);
    assert_eq!(list(&server, &listener, "musicname=tune").await, (2, vec!["older tune".to_owned(), "old tune".into()]));
    assert_eq!(list(&server, &token, "musicname=tune&mode=true").await.0, 3);
    assert_eq!(list(&server, &listener, "musicname=older").await.0, 1);
}
