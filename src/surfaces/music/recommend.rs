//! Recommendations (CONTRACT §6). Songs are ranked, in this order of precedence, by
//! 1. collaborative filtering: how often the song was favourited by the users who share a
//!    favourite with the caller, plus how many playlists hold it together with one of the
//!    caller's favourites;
//! 2. how many creators it shares with the caller's favourites;
//! 3. how many users favourited it;
//! 4. how new it is (then the higher id).
//!
//! The caller's favourites and songs on temporary leave are never recommended. Each key
//! is zero for a new user, so the ranking falls through to popularity and novelty and is
//! never empty while a visible song exists; the final keys make it a total order, so the
//! same data always gives the same list.
//!
//! Playlists are ranked by how many of the caller's favourite songs they hold plus how
//! often they were favourited by users who share a favourite playlist with the caller,
//! then by favourites, then newest; the caller's own, already favourited and empty
//! playlists are left out.

use rusqlite::{params, Connection};

use super::songs::{song_from_row, SongItem, SONG_COLUMNS};
use crate::identity::Caller;

pub fn songs(conn: &Connection, caller: &Caller, limit: i64, base: &str) -> rusqlite::Result<Vec<SongItem>> {
    songs_among(conn, caller, limit, base, Among::All)
}

/// Which songs the ranking may name: the ranking itself never changes, so the songs of one
/// artist keep the order they have among all songs.
#[derive(Debug, Clone, Copy)]
pub enum Among {
    All,
    /// Songs naming this artist (a row of `music_artist`), the caller's favourites included:
    /// an artist's top songs should not lose the ones the caller likes best
    OfArtist(i64),
    /// Songs not naming it
    NotOfArtist(i64),
}

pub fn songs_among(
    conn: &Connection,
    caller: &Caller,
    limit: i64,
    base: &str,
    among: Among,
) -> rusqlite::Result<Vec<SongItem>> {
    let (only, except) = match among {
        Among::All => (None, None),
        Among::OfArtist(id) => (Some(id), None),
        Among::NotOfArtist(id) => (None, Some(id)),
    };
    let sql = format!(
        "WITH seeds AS (SELECT song_id FROM music_song_fav WHERE account_id = ?1),
         co AS (
             SELECT f2.song_id AS song_id, COUNT(*) AS n
             FROM music_song_fav f1 JOIN music_song_fav f2 ON f2.account_id = f1.account_id AND f2.song_id <> f1.song_id
             WHERE f1.song_id IN seeds AND f1.account_id <> ?1 GROUP BY f2.song_id
             UNION ALL
             SELECT p2.song_id, COUNT(*)
             FROM music_playlist_song p1 JOIN music_playlist_song p2 ON p2.playlist_id = p1.playlist_id AND p2.song_id <> p1.song_id
             WHERE p1.song_id IN seeds GROUP BY p2.song_id),
         cf AS (SELECT song_id, SUM(n) AS n FROM co GROUP BY song_id),
         cr AS (
             SELECT c2.song_id AS song_id, COUNT(DISTINCT c1.creator_id) AS n
             FROM music_song_creator c1 JOIN music_song_creator c2 ON c2.creator_id = c1.creator_id
             WHERE c1.song_id IN seeds GROUP BY c2.song_id)
         SELECT {SONG_COLUMNS} FROM music_song s
         LEFT JOIN cf ON cf.song_id = s.id LEFT JOIN cr ON cr.song_id = s.id
         WHERE s.on_shelf = 1 AND (?3 IS NOT NULL OR s.id NOT IN seeds)
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM music_song_artist l WHERE l.song_id = s.id AND l.artist_id = ?3))
           AND (?4 IS NULL OR NOT EXISTS (SELECT 1 FROM music_song_artist l WHERE l.song_id = s.id AND l.artist_id = ?4))
         ORDER BY COALESCE(cf.n, 0) DESC, COALESCE(cr.n, 0) DESC, s.fav_count DESC, s.created_at DESC, s.id DESC
         LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![caller.account_id, limit, only, except], |r| song_from_row(r, base))?;
    rows.collect()
}

pub fn playlists(conn: &Connection, uid: i64, limit: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "WITH seeds AS (SELECT song_id FROM music_song_fav WHERE account_id = ?1),
         mine AS (SELECT playlist_id FROM music_playlist_fav WHERE account_id = ?1),
         overlap AS (SELECT playlist_id, COUNT(*) AS n FROM music_playlist_song WHERE song_id IN seeds GROUP BY playlist_id),
         cofav AS (
             SELECT f2.playlist_id AS playlist_id, COUNT(*) AS n
             FROM music_playlist_fav f1 JOIN music_playlist_fav f2 ON f2.account_id = f1.account_id AND f2.playlist_id <> f1.playlist_id
             WHERE f1.playlist_id IN mine AND f1.account_id <> ?1 GROUP BY f2.playlist_id),
         pop AS (SELECT playlist_id, COUNT(*) AS n FROM music_playlist_fav GROUP BY playlist_id)
         SELECT p.id FROM music_playlist p
         LEFT JOIN overlap o ON o.playlist_id = p.id LEFT JOIN cofav c ON c.playlist_id = p.id LEFT JOIN pop ON pop.playlist_id = p.id
         WHERE p.owner_id <> ?1 AND p.id NOT IN mine
           AND EXISTS (SELECT 1 FROM music_playlist_song ps JOIN music_song s ON s.id = ps.song_id
                       WHERE ps.playlist_id = p.id AND s.on_shelf = 1)
         ORDER BY COALESCE(o.n, 0) + COALESCE(c.n, 0) DESC, COALESCE(pop.n, 0) DESC, p.created_at DESC, p.id DESC
         LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![uid, limit], |r| r.get(0))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::roles;

    /// A migrated database in a temp folder, and a plain connection to it.
    fn catalogue() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        crate::db::Db::open(&path, 1).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for id in 1..=5 {
            conn.execute("INSERT INTO account (id, username, password_hash, created_at, updated_at) VALUES (?1, 'u' || ?1, 'x', 0, 0)", [id]).unwrap();
        }
        (dir, conn)
    }

    fn song(conn: &Connection, id: i64, creators: &[i64]) {
        conn.execute(
            "INSERT INTO music_song (id, owner_id, name, creator, res_file, published_at, created_at, updated_at) VALUES (?1, 5, 's', '[]', 'f' || ?1, 0, ?1, ?1)",
            [id],
        )
        .unwrap();
        for c in creators {
            conn.execute("INSERT INTO music_song_creator (song_id, creator_id) VALUES (?1, ?2)", [id, *c]).unwrap();
        }
    }

    fn fav(conn: &Connection, user: i64, song: i64) {
        conn.execute("INSERT INTO music_song_fav (account_id, song_id, created_at) VALUES (?1, ?2, 0)", [user, song])
            .unwrap();
        conn.execute("UPDATE music_song SET fav_count = fav_count + 1 WHERE id = ?1", [song]).unwrap();
    }

    fn playlist(conn: &Connection, id: i64, owner: i64, songs: &[i64]) {
        conn.execute(
            "INSERT INTO music_playlist (id, owner_id, name, created_at, updated_at) VALUES (?1, ?2, 'p', ?1, ?1)",
            [id, owner],
        )
        .unwrap();
        for s in songs {
            conn.execute(
                "INSERT INTO music_playlist_song (playlist_id, song_id, added_at) VALUES (?1, ?2, 0)",
                [id, *s],
            )
            .unwrap();
        }
    }

    fn user(id: i64) -> Caller {
        Caller { account_id: id, session_id: 0, roles: vec![roles::USER] }
    }

    fn ranked(conn: &Connection, id: i64) -> Vec<i64> {
        songs(conn, &user(id), 100, "").unwrap().iter().map(|s| s.mid).collect()
    }

    /// Songs 1–6 (6 newest). User 1 favourites song 1; users 2 and 3 share that favourite
    /// and also like 3 (both) and 4 (user 3); user 4's playlist pairs 1 with 5; song 2
    /// shares song 1's creator.
    fn small_catalogue() -> (tempfile::TempDir, Connection) {
        let (dir, conn) = catalogue();
        for (id, creators) in [(1, &[100][..]), (2, &[100]), (3, &[200]), (4, &[300]), (5, &[300]), (6, &[400])] {
            song(&conn, id, creators);
        }
        fav(&conn, 1, 1);
        for (u, s) in [(2, 1), (2, 3), (3, 1), (3, 3), (3, 4)] {
            fav(&conn, u, s);
        }
        playlist(&conn, 1, 4, &[1, 5]);
        (dir, conn)
    }

    #[test]
    fn songs_follow_the_four_tiers() {
        let (_dir, conn) = small_catalogue();
        // 3: two co-favourites; 4 and 5: one signal each, 4 favourited once; 2: same creator; 6: newest.
        assert_eq!(ranked(&conn, 1), vec![3, 4, 5, 2, 6]);
        assert_eq!(ranked(&conn, 1), ranked(&conn, 1), "deterministic");
    }

    #[test]
    fn a_new_user_gets_popular_then_new_songs() {
        let (_dir, conn) = small_catalogue();
        // Favourite counts: 1 → 3, 3 → 2, 4 → 1; the rest newest first.
        assert_eq!(ranked(&conn, 5), vec![1, 3, 4, 6, 5, 2]);
    }

    #[test]
    fn hidden_songs_are_never_recommended_and_an_empty_catalogue_is_fine() {
        let (_dir, conn) = small_catalogue();
        conn.execute("UPDATE music_song SET on_shelf = 0 WHERE id IN (3, 6)", []).unwrap();
        assert_eq!(ranked(&conn, 1), vec![4, 5, 2]);
        let (_dir, empty) = catalogue();
        assert!(ranked(&empty, 1).is_empty());
        assert!(playlists(&empty, 1, 10).unwrap().is_empty());
    }

    #[test]
    fn playlists_rank_by_overlap_then_favourites_then_newest() {
        let (_dir, conn) = small_catalogue();
        playlist(&conn, 2, 2, &[3]);
        playlist(&conn, 3, 3, &[6]);
        playlist(&conn, 4, 1, &[2]); // the caller's own
        playlist(&conn, 5, 2, &[]); // empty
        conn.execute("INSERT INTO music_playlist_fav (account_id, playlist_id, created_at) VALUES (2, 3, 0)", [])
            .unwrap();
        // 1 holds the caller's favourite; 3 was favourited once; 2 is left.
        assert_eq!(playlists(&conn, 1, 10).unwrap(), vec![1, 3, 2]);
        // Once the caller favourites playlist 3, users sharing it (user 2) lead to theirs.
        conn.execute("INSERT INTO music_playlist_fav (account_id, playlist_id, created_at) VALUES (1, 3, 0)", [])
            .unwrap();
        conn.execute("INSERT INTO music_playlist_fav (account_id, playlist_id, created_at) VALUES (2, 2, 0)", [])
            .unwrap();
        // 2 now scores like 1 and is favourited more.
        assert_eq!(playlists(&conn, 1, 10).unwrap(), vec![2, 1]);
        assert_eq!(playlists(&conn, 1, 1).unwrap(), vec![2]);
    }
}
