//! Music surface benchmark: song-list throughput and recommendation latency over real HTTP,
//! with a catalogue of 100 000 songs (`BENCH_SONGS`) and 1 000 users seeded straight into the
//! database.
//!
//!     cargo bench --bench music
//!     BENCH_SECS=20 BENCH_CONNECTIONS=64 BENCH_SONGS=10000 cargo bench --bench music
//!
//! The server runs in this process (release build) on 127.0.0.1 with a throw-away data
//! folder; client and server share the machine's CPUs, so compare runs on one host only.

mod support;

use std::time::{Duration, Instant};

use hearth::config::Config;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;
use support::{env, http_ok, load, percentile};

const USERS: i64 = 1_000;
const CREATORS: i64 = 100;
const PLAYLISTS: i64 = 2_000;

/// Users 1..=USERS (the first CREATORS are 创作者), songs with one or two creators,
/// favourites skewed towards popular songs (about 20 per user), playlists of 5–30 songs.
fn seed(conn: &rusqlite::Transaction, songs: i64) -> rusqlite::Result<()> {
    let mut rng = StdRng::seed_from_u64(2);
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$0000000000000000000000000000000000000000000";
    let mut account = conn.prepare("INSERT INTO account (id, username, password_hash, nickname, created_at, updated_at) VALUES (?1, ?2, ?3, ?2, 0, 0)")?;
    let mut role = conn.prepare("INSERT INTO account_role (account_id, role_id) VALUES (?1, ?2)")?;
    for id in 1..=USERS {
        account.execute(params![id, format!("bench_user_{id}"), hash])?;
        role.execute([id, hearth::identity::roles::USER])?;
        if id <= CREATORS {
            role.execute([id, hearth::identity::roles::CREATOR])?;
        }
    }
    let mut song = conn.prepare(
        "INSERT INTO music_song (id, owner_id, name, creator, album, introduction, res_file, published_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, '[1]', 'seeded', ?5, ?6, ?6, ?6)",
    )?;
    let mut creator = conn.prepare("INSERT OR IGNORE INTO music_song_creator (song_id, creator_id) VALUES (?1, ?2)")?;
    for id in 1..=songs {
        let owner = rng.gen_range(1..=CREATORS);
        let mut creators = vec![owner];
        if rng.gen_bool(0.3) {
            creators.push(rng.gen_range(1..=CREATORS));
        }
        let json = serde_json::to_string(&creators).unwrap();
        song.execute(params![
            id,
            owner,
            format!("song {id} {}", ["love", "rain", "night", "road", "sun"][id as usize % 5]),
            json,
            format!("{id:032x}.mp3"),
            1_600_000_000 + id * 60
        ])?;
        for c in creators {
            creator.execute([id, c])?;
        }
    }
    let popular = |rng: &mut StdRng| -> i64 {
        // Squaring a uniform number favours low ids: a long tail like real listening.
        let x: f64 = rng.r#gen();
        1 + ((x * x) * (songs - 1) as f64) as i64
    };
    let mut fav =
        conn.prepare("INSERT OR IGNORE INTO music_song_fav (account_id, song_id, created_at) VALUES (?1, ?2, 0)")?;
    for user in 1..=USERS {
        for _ in 0..rng.gen_range(0..=40) {
            fav.execute([user, popular(&mut rng)])?;
        }
    }
    conn.execute(
        "UPDATE music_song SET fav_count = (SELECT COUNT(*) FROM music_song_fav f WHERE f.song_id = music_song.id)",
        [],
    )?;
    let mut playlist = conn.prepare("INSERT INTO music_playlist (id, owner_id, name, style, created_at, updated_at) VALUES (?1, ?2, ?3, 'pop', ?1, ?1)")?;
    let mut entry =
        conn.prepare("INSERT OR IGNORE INTO music_playlist_song (playlist_id, song_id, added_at) VALUES (?1, ?2, 0)")?;
    let mut list_fav = conn
        .prepare("INSERT OR IGNORE INTO music_playlist_fav (account_id, playlist_id, created_at) VALUES (?1, ?2, 0)")?;
    for id in 1..=PLAYLISTS {
        playlist.execute(params![id, rng.gen_range(1..=USERS), format!("list {id}")])?;
        for _ in 0..rng.gen_range(5..=30) {
            entry.execute([id, popular(&mut rng)])?;
        }
        for _ in 0..rng.gen_range(0..=5) {
            list_fav.execute([rng.gen_range(1..=USERS), id])?;
        }
    }
    Ok(())
}

/// One request at a time, for `users` different users: the latency a person sees.
async fn latency(client: &reqwest::Client, base: &str, tokens: &[String], path: &str) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut empty = 0;
    for token in tokens {
        let t = Instant::now();
        let res = client.get(format!("{base}{path}")).header("Authorization", token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        times.push(t.elapsed());
        if body["data"].as_array().is_none_or(|a| a.is_empty()) {
            empty += 1;
        }
    }
    times.sort();
    (times, empty)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = env("BENCH_SECS", 10);
    let connections = env("BENCH_CONNECTIONS", 32);
    let sample_users = env("BENCH_USERS", 300) as i64;
    let songs = env("BENCH_SONGS", 100_000) as i64;
    let dir = tempfile::tempdir()?;
    let running = hearth::start(Config::for_tests(dir.path())).await?;
    let app = running.app.clone();
    let base = format!("{}/music", running.base_url());

    let t = Instant::now();
    app.db.write(move |tx| Ok::<_, hearth::db::DbError>(seed(tx, songs)?)).await?;
    let favs: i64 = app
        .db
        .read(|c| Ok::<_, hearth::db::DbError>(c.query_row("SELECT COUNT(*) FROM music_song_fav", [], |r| r.get(0))?))
        .await?;
    println!(
        "seeded {songs} songs, {USERS} users, {favs} favourites, {PLAYLISTS} playlists in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut tokens = Vec::new();
    for uid in 1..=sample_users.min(USERS) {
        tokens.push(app.identity.open_jwt_session(uid, "music").await?.token);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections as usize).build()?;
    let list = |client: &reqwest::Client, base: &str, token: &str| {
        let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
        move |query: String| client.get(format!("{base}/api/music?{query}")).header("Authorization", &token)
    };
    let page = list(&client, &base, &tokens[0]);
    // Warm up connections and statement caches.
    load(connections, 1, move |i| page(format!("pageNum={}&pageSize=20", 1 + i % 50)), http_ok).await;

    println!(
        "\n{connections} connections, {secs} s per run, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let page = list(&client, &base, &tokens[0]);
    load(connections, secs, move |i| page(format!("pageNum={}&pageSize=20", 1 + i % 50)), http_ok)
        .await
        .report("GET /api/music (page 1-50)");
    let page = list(&client, &base, &tokens[0]);
    let named = move |i: u64| {
        page(format!("pageNum=1&pageSize=20&musicname={}", ["love", "rain", "night", "road", "sun"][i as usize % 5]))
    };
    load(connections, secs, named, http_ok).await.report("GET /api/music?musicname=");

    println!("\nsequential, one request per user for {} users", tokens.len());
    // One request at a time: the song list's own latency, without queueing behind other clients.
    let rare = format!("musicname=song%20{}", songs / 2 + 7);
    for path in [
        "/api/music?pageNum=7&pageSize=20".to_owned(),
        "/api/music?pageNum=1&pageSize=20&musicname=love".to_owned(),
        format!("/api/music?pageNum=1&pageSize=20&{rare}"),
        "/api/musiclist/recommend".to_owned(),
        "/api/musiclist/recommend/list".to_owned(),
    ] {
        let path = path.as_str();
        let (times, empty) = latency(&client, &base, &tokens, path).await;
        println!(
            "{path:<52} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms   (empty answers: {empty})",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 1.0)
        );
    }
    running.stop().await?;
    Ok(())
}
