//! The music library and playlists of the admin UI in a real browser: a song uploaded with
//! its cover (every field checked first, then the server's refusal shown), played in the
//! page with a real click and sought, filtered and paged, edited with a new audio file,
//! favourited, unshelved and shelved again, deleted; playlists created with a cover,
//! filled, played, emptied, renamed, favourited and deleted. The approval tasks, an
//! ordinary user's view, both languages and a phone are in admin_ui_music_tasks.rs.

use crate::admin_ui_support;
use crate::music_support;

use admin_ui_support::{account_id, drive, row, scalar, signed_in_admin, wait_on, Ui};
use music_support::{audio, fixture, png, wav};
use reqwest::Method;
use serde_json::json;

fn player_time(ui: &Ui, scope: &str) -> f64 {
    ui.js(&format!("document.querySelector('{scope} .player audio').currentTime")).as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_song_is_uploaded_played_and_sought_in_the_page_filtered_edited_unshelved_and_deleted() {
    let (server, ui) = signed_in_admin("music").await;
    let root = account_id(&server, "root");
    let ten_seconds = fixture(&server, "morning.wav", &wav(80_000));
    let five_seconds = fixture(&server, "morning-new.wav", &wav(40_000));
    let picture = fixture(&server, "morning.png", &png(4, 4));
    let notes = fixture(&server, "notes.txt", b"not audio");
    let gif = fixture(&server, "cover.gif", b"GIF89a");
    let fake = fixture(&server, "fake.wav", b"<html>not audio either</html>");

    drive(|| {
        ui.go("#/music");
        ui.wait_text("#songs .table-status", "No songs match.");
        ui.wait_text("#view .player", "Choose a song to play");

        // Every field is checked before anything is sent.
        ui.click("#upload-song");
        ui.wait("dialog form");
        assert_eq!(
            ui.js("document.querySelector('dialog [name=creator]').value"),
            json!(root.to_string()),
            "the uploader is the first creator"
        );
        ui.fill("dialog [name=creator]", "");
        ui.click("dialog button[type=submit]");
        for message in [
            "Title is required.",
            "Creator ids is required.",
            "Album ids is required.",
            "Published is required.",
            "Audio file is required.",
        ] {
            ui.wait_text("dialog .field-error", message);
        }
        ui.fill("dialog [name=musicname]", &"曲".repeat(101));
        ui.fill("dialog [name=creator]", "two");
        ui.fill("dialog [name=album]", "53");
        ui.fill("dialog [name=publishedTime]", "2015-06-30");
        ui.choose_file("dialog [name=res]", &notes);
        ui.choose_file("dialog [name=musicAvatar]", &gif);
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Title may have at most 100 characters.");
        ui.wait_text("dialog .field-error", "Creator ids must be numbers separated by commas");
        ui.wait_text("dialog .field-error", "Choose an MP3, FLAC, Ogg, WAV or M4A audio file.");
        ui.wait_text("dialog .field-error", "Choose a PNG or JPEG picture.");
        ui.shot("upload-invalid");
        assert_eq!(
            scalar(&server, "SELECT count(*) FROM music_song"),
            json!(0),
            "nothing sent while the form is wrong"
        );

        // A file named .wav that is not audio: the server's refusal, word for word.
        ui.fill("dialog [name=musicname]", "晨曲");
        ui.fill("dialog [name=creator]", &root.to_string());
        ui.choose_file("dialog [name=res]", &fake);
        ui.choose_file("dialog [name=musicAvatar]", &picture);
        ui.expect_refusal(400, "/music/api/music");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .form-error", "res: not a recognised audio file; send MP3, FLAC, Ogg, WAV or M4A");

        ui.choose_file("dialog [name=res]", &ten_seconds);
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Uploaded 晨曲");
        ui.wait_for("!document.querySelector('dialog')", "the upload dialog closed");
        ui.wait_text(&row("晨曲"), "On shelf");
        ui.wait_text(&row("晨曲"), "2015-06-30");
        ui.wait_text(&row("晨曲"), &format!("you (#{root})"));
        ui.wait_for(
            &format!("document.querySelector('{} img.cover').naturalWidth === 4", row("晨曲")),
            "the cover shown",
        );
        let (published, has_cover): (i64, bool) = server
            .sql()
            .query_row("SELECT published_at, cover_file IS NOT NULL FROM music_song WHERE name = '晨曲'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((published, has_cover), (1_435_622_400, true));

        // Played in the page after a real click; time runs, and a seek lands where asked.
        ui.mouse_click(&format!("{} button.play", row("晨曲")));
        ui.wait_for(&audio("#view", "!a.paused && a.currentTime > 0.2"), "the song to play");
        ui.wait_text("#view .player", "晨曲");
        let before = player_time(&ui, "#view");
        ui.wait_for(&audio("#view", &format!("a.currentTime > {before} + 0.3")), "playback to advance");
        assert!((ui.js("document.querySelector('#view .player audio').duration").as_f64().unwrap() - 10.0).abs() < 0.1);
        // The server answers Range requests, so the whole file is seekable while it streams.
        assert_eq!(ui.js("(() => { const a = document.querySelector('#view .player audio'); return a.seekable.length > 0 && a.seekable.end(0) > 9.9; })()"), json!(true));
        ui.js("document.querySelector('#view .player audio').currentTime = 7");
        ui.wait_for(&audio("#view", "!a.seeking && a.currentTime >= 7 && !a.paused"), "the seek to 7 s");
        ui.shot("playing");

        // A creator's songs, uploaded over HTTP, to page and filter.
        let (composer_uid, composer) = wait_on(music_support::creator(&server, "composer"));
        for i in 1..=11 {
            wait_on(music_support::add_song(&server, &composer, &format!("练习曲{i:02}"), &composer_uid.to_string()));
        }
        ui.click("#song-filters button[type=submit]");
        ui.wait_text("#songs .pager-info", "Page 1 of 2, 12 in all");
        ui.click("#songs .pager-next");
        ui.wait_text("#songs .pager-info", "Page 2 of 2");
        ui.wait(&row("晨曲"));
        ui.fill("#song-filters [name=musicname]", "练习曲1");
        ui.click("#song-filters button[type=submit]");
        ui.wait_text("#songs .pager-info", "2 in all");
        ui.wait(&row("练习曲10"));
        ui.fill("#song-filters [name=musicname]", "");
        ui.fill("#song-filters [name=creator]", "compo");
        ui.click("#song-filters button[type=submit]");
        ui.wait_text("#songs .pager-info", "11 in all");
        ui.fill("#song-filters [name=creator]", "");
        ui.check("#song-filters [name=mode]", true);
        ui.click("#song-filters button[type=submit]");
        ui.wait_text("#songs .pager-info", "1 in all");
        ui.wait(&row("晨曲"));
        ui.shot("library");

        // Edit: details and a new audio file; the old file goes.
        let old_file: String =
            server.sql().query_row("SELECT res_file FROM music_song WHERE name = '晨曲'", [], |r| r.get(0)).unwrap();
        ui.click(&format!("{} button.edit", row("晨曲")));
        ui.wait("dialog form");
        ui.fill("dialog [name=musicname]", "");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Title is required.");
        ui.fill("dialog [name=musicname]", "晨曲（新版）");
        ui.fill("dialog [name=lyric]", "太阳升起");
        ui.choose_file("dialog [name=res]", &five_seconds);
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Saved");
        ui.wait(&row("晨曲（新版）"));
        ui.wait_text("#view .player", "Choose a song to play");
        let (lyric, new_file): (String, String) = server
            .sql()
            .query_row("SELECT lyric, res_file FROM music_song WHERE name = '晨曲（新版）'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(lyric, "太阳升起");
        assert_ne!(new_file, old_file);
        assert!(!music_support::stored(&server, "songs").contains(&old_file), "the replaced file is deleted");
        let key = row("晨曲（新版）");

        // Favourite and undo.
        ui.click(&format!("{key} button.fav"));
        ui.wait_text(&format!("{key} button.fav"), "Unfavourite");
        ui.wait_text(&format!("{key} td[data-label=Favourites]"), "1");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_song_fav"), json!(1));
        ui.click(&format!("{key} button.fav"));
        ui.wait_text(&format!("{key} button.fav"), "Favourite");
        ui.wait_text(&format!("{key} td[data-label=Favourites]"), "0");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_song_fav"), json!(0));

        // Unshelved: still listed for its uploader, with its cover and audio fetched with the token.
        ui.click(&format!("{key} button.unshelve"));
        ui.wait_text(".notice", "is unshelved");
        ui.wait_text(&key, "Unshelved");
        ui.wait_for(
            &format!("document.querySelector('{key} img.cover').naturalWidth === 4"),
            "the hidden song's cover",
        );
        ui.mouse_click(&format!("{key} button.play"));
        ui.wait_for(
            &audio("#view", "a.src.startsWith('blob:') && !a.paused && a.currentTime > 0.2"),
            "the hidden song to play",
        );
        ui.click(&format!("{key} button.shelve"));
        ui.wait_text(".notice", "is on the shelf again");
        ui.wait_text(&key, "On shelf");
        assert_eq!(scalar(&server, "SELECT on_shelf FROM music_song WHERE name = '晨曲（新版）'"), json!(1));

        // Deleted for good after confirming: row, files and all.
        ui.mouse_click(&format!("{key} button.play"));
        ui.wait_for(&audio("#view", "!a.paused"), "playing before the delete");
        ui.click(&format!("{key} button.delete"));
        ui.wait_text("dialog", "Delete 晨曲（新版） for good?");
        ui.click("dialog button.danger");
        ui.wait_text(".notice", "Deleted");
        ui.wait_text("#songs .table-status", "No songs match.");
        ui.wait_text("#view .player", "Choose a song to play");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_song"), json!(11));
        assert!(!music_support::stored(&server, "songs").contains(&new_file), "the deleted song's file is gone");

        // Recommendations reach the creator's songs.
        ui.wait("#recommended tr[data-key^=练习曲]");

        // The dashboard counts what is there.
        ui.go("#/dashboard");
        ui.wait_text(".stat[data-card=music] .stat-value", "11");
        ui.wait_text(".stat[data-card=playlists] .stat-value", "0");
        ui.wait_text(".stat[data-card=tasks] .stat-value", "0");
        ui.shot("dashboard");
    });
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_are_created_with_a_cover_filled_played_emptied_renamed_favourited_and_deleted() {
    let (server, ui) = signed_in_admin("playlists").await;
    let root = account_id(&server, "root");
    let (composer_uid, composer) = music_support::creator(&server, "composer").await;
    let nocturne = music_support::add_song(&server, &composer, "夜曲", &composer_uid.to_string()).await;
    music_support::add_song(&server, &composer, "晨曲", &composer_uid.to_string()).await;
    // Another user's playlist holding 夜曲: once root favourites 夜曲, it is recommended.
    let (listener_uid, listener) = music_support::user(&server, "listener").await;
    let theirs = music_support::add_playlist(&server, &listener, "夜曲集").await;
    let entry = music_support::form(&[("mid", nocturne["mid"].to_string()), ("mlid", theirs["mlid"].to_string())]);
    music_support::data(music_support::call(&server, Method::POST, "/api/music/listed", Some(&listener), entry).await);
    let picture = fixture(&server, "list.png", &png(6, 6));
    let gif = fixture(&server, "list.gif", b"GIF89a");

    drive(|| {
        ui.go("#/playlists");
        ui.wait_text(&format!("#playlists {}", row("夜曲集")), &format!("listener (#{listener_uid})"));

        // Checked before sending, then created with its cover.
        ui.click("#add-playlist");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name is required.");
        ui.fill("dialog [name=musiclistname]", &"单".repeat(51));
        ui.fill("dialog [name=style]", &"s".repeat(51));
        ui.choose_file("dialog [name=musiclistAvatar]", &gif);
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name may have at most 50 characters.");
        ui.wait_text("dialog .field-error", "Style may have at most 50 characters.");
        ui.wait_text("dialog .field-error", "Choose a PNG or JPEG picture.");
        assert_eq!(
            scalar(&server, "SELECT count(*) FROM music_playlist"),
            json!(1),
            "nothing sent while the form is wrong"
        );
        ui.fill("dialog [name=musiclistname]", "我的最爱");
        ui.fill("dialog [name=introduction]", "清晨听的歌");
        ui.fill("dialog [name=style]", "古典");
        ui.choose_file("dialog [name=musiclistAvatar]", &picture);
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Created playlist 我的最爱");
        let mine = format!("#playlists {}", row("我的最爱"));
        ui.wait_text(&mine, "古典");
        ui.wait_text(&mine, &format!("you (#{root})"));
        ui.wait_for(&format!("document.querySelector('{mine} img.cover').naturalWidth === 6"), "the playlist's cover");
        let cover: String = server
            .sql()
            .query_row("SELECT cover_file FROM music_playlist WHERE name = '我的最爱'", [], |r| r.get(0))
            .unwrap();

        // Everyone's or mine; by style.
        ui.select("#playlist-scope", "mine");
        ui.wait_text("#playlists .pager-info", "1 in all");
        ui.select("#playlist-scope", "all");
        ui.wait_text("#playlists .pager-info", "2 in all");
        ui.fill("#playlist-filters [name=style]", "古典");
        ui.click("#playlist-filters button[type=submit]");
        ui.wait_text("#playlists .pager-info", "1 in all");
        ui.fill("#playlist-filters [name=style]", "");
        ui.click("#playlist-filters button[type=submit]");
        ui.wait_text("#playlists .pager-info", "2 in all");

        // From the library: a song into the playlist, another one favourited.
        ui.go("#/music");
        ui.click(&format!("{} button.add-to-playlist", row("晨曲")));
        ui.wait("dialog select[name=mlid]");
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Added 晨曲 to 我的最爱");
        ui.click(&format!("{} button.fav", row("夜曲")));
        ui.wait_text(&format!("{} button.fav", row("夜曲")), "Unfavourite");

        ui.go("#/playlists");
        ui.wait_text(&format!("{mine} td[data-label=Songs]"), "1");
        ui.wait(&format!("#recommended-playlists {}", row("夜曲集")));
        ui.shot("playlists");

        // The detail: its songs, played there, one removed.
        ui.click(&format!("{mine} button.open"));
        ui.wait_text("dialog", "清晨听的歌");
        ui.mouse_click(&format!("dialog {} button.play", row("晨曲")));
        ui.wait_for(&audio("dialog", "!a.paused && a.currentTime > 0.2"), "the song to play in the detail");
        ui.shot("playlist-detail");
        ui.click(&format!("dialog {} button.remove", row("晨曲")));
        ui.wait_text(".notice", "Removed 晨曲 from the playlist");
        ui.wait_text("dialog .table-status", "No songs in this playlist yet.");
        ui.wait_text("dialog .player", "Choose a song to play");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_playlist_song ps JOIN music_playlist p ON p.id = ps.playlist_id WHERE p.name = '我的最爱'"), json!(0));
        ui.click("dialog .close");
        ui.wait_for("!document.querySelector('dialog')", "the detail closed");
        ui.wait_text(&format!("{mine} td[data-label=Songs]"), "0");

        // Renamed, the introduction cleared, a new style.
        ui.click(&format!("{mine} button.edit"));
        ui.fill("dialog [name=musiclistname]", "最爱的歌");
        ui.fill("dialog [name=introduction]", "");
        ui.fill("dialog [name=style]", "流行");
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Saved");
        let renamed = format!("#playlists {}", row("最爱的歌"));
        ui.wait_text(&renamed, "流行");
        let (intro, style): (String, String) = server
            .sql()
            .query_row("SELECT introduction, style FROM music_playlist WHERE name = '最爱的歌'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((intro.as_str(), style.as_str()), ("", "流行"));

        // Someone else's playlist favourited.
        ui.click(&format!("#playlists {} button.fav", row("夜曲集")));
        ui.wait_text(&format!("#playlists {} button.fav", row("夜曲集")), "Unfavourite");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_playlist_fav"), json!(1));

        // Deleted after confirming; its cover goes, its songs stay.
        ui.click(&format!("{renamed} button.delete"));
        ui.wait_text("dialog", "Delete playlist 最爱的歌?");
        ui.click("dialog button.danger");
        ui.wait_text(".notice", "Deleted");
        ui.wait_for(&format!("!document.querySelector('{renamed}')"), "the playlist gone");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_playlist"), json!(1));
        assert!(!music_support::stored(&server, "covers").contains(&cover), "the cover is deleted");
        assert_eq!(scalar(&server, "SELECT count(*) FROM music_song"), json!(2));
        ui.go("#/dashboard");
        ui.wait_text(".stat[data-card=playlists] .stat-value", "1");
    });
    ui.assert_no_errors();
}
