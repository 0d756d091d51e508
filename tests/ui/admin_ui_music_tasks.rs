//! The approval tasks of the admin UI in a real browser: an ordinary user's view of the
//! music pages and their permission request, validated, sent, refused while one waits,
//! approved by the administrator (and holding at once), a further one rejected; a ban asked
//! for another account and approved; then every music page and its dialogs in both
//! languages and on a 375 px phone.

use crate::admin_ui_support;
use crate::music_support;

use admin_ui_support::{account_id, drive, row, scalar, signed_in_admin, switch_to, wait_on};
use music_support::audio;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_permission_request_is_approved_another_rejected_a_ban_approved_and_a_non_admin_sees_only_theirs() {
    let (server, ui) = signed_in_admin("tasks").await;
    let root = account_id(&server, "root");
    let (listener_uid, _) = music_support::user(&server, "listener").await;
    let (dreamer_uid, _) = music_support::user(&server, "dreamer1").await;
    let (composer_uid, composer) = music_support::creator(&server, "composer").await;
    music_support::add_song(&server, &composer, "夜曲", &composer_uid.to_string()).await;
    let hidden = music_support::add_song(&server, &composer, "秘曲", &composer_uid.to_string()).await;
    let unshelve = music_support::Body::Json(json!({ "mid": hidden["mid"], "type": true }));
    music_support::data(
        music_support::call(&server, Method::DELETE, "/api/music/unshelve", Some(&composer), unshelve).await,
    );
    let listener = music_support::PASSWORD;

    drive(|| {
        ui.go("#/tasks");
        ui.wait_text("#view .table-status", "No tasks.");
        ui.wait_text("#my-group", "Administrator");

        // An ordinary user: the music pages, without upload or changes to others' songs.
        switch_to(&ui, "listener", listener);
        let nav = ui.js("[...document.querySelectorAll('#nav a')].map((a) => a.dataset.page)");
        for page in ["music", "playlists", "tasks"] {
            assert!(nav.as_array().unwrap().contains(&json!(page)), "{nav}");
        }
        ui.wait_text(".stat[data-card=music] .stat-value", "1");
        ui.wait_text(".stat[data-card=tasks] .stat-value", "0");
        ui.go("#/music");
        ui.wait(&format!("#songs {} button.play", row("夜曲")));
        ui.wait_text("#view .lead", "Only creators and administrators may upload songs.");
        assert_eq!(ui.js("!!document.querySelector('#upload-song')"), json!(false));
        assert_eq!(
            ui.js(
                "document.querySelectorAll('#songs button.edit, #songs button.delete, #songs button.unshelve').length"
            ),
            json!(0)
        );
        assert_eq!(
            ui.js("document.body.innerText.includes('秘曲')"),
            json!(false),
            "an unshelved song is hidden from others"
        );
        ui.shot("library-as-user");

        // The user asks to become a creator: checked first, then sent.
        ui.go("#/tasks");
        ui.wait_text("#my-group", "Ordinary user");
        assert_eq!(ui.js("!!document.querySelector('#task-uid')"), json!(false));
        ui.click("#ask-permission");
        ui.wait("dialog form");
        assert_eq!(ui.js("!!document.querySelector('dialog [name=uid]')"), json!(false), "only for themselves");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "New permission group is required.");
        ui.select("dialog [name=newPermission]", "user");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "You are already in the group Ordinary user.");
        ui.select("dialog [name=newPermission]", "creator");
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Request sent (task #1)");
        ui.wait_text(&row("1"), "Change to Creator");
        ui.wait_text(&row("1"), "Waiting");
        assert_eq!(ui.js("!!document.querySelector('button.approve')"), json!(false));
        // A second one while the first waits: the server's refusal in the form.
        ui.click("#ask-permission");
        ui.select("dialog [name=newPermission]", "admin");
        ui.expect_refusal(409, "/music/api/user/permission");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .form-error", "task 1 for this account is still waiting for an administrator");
        ui.shot("request-refused");
        ui.click("dialog .close");

        // The administrator approves it; the user is a creator from the next request on.
        switch_to(&ui, "root", "root-password");
        ui.wait_text(".stat[data-card=tasks] .stat-value", "1");
        ui.go("#/tasks");
        // Administrators also see login names, from the system's user list.
        ui.wait_text(&row("1"), &format!("listener (#{listener_uid})"));
        ui.click(&format!("{} button.approve", row("1")));
        ui.wait_text(".notice", "Task #1 approved");
        ui.wait_text(&row("1"), "Approved");
        ui.wait_text(&row("1"), &format!("you (#{root})"));
        assert_eq!(
            scalar(
                &server,
                &format!("SELECT count(*) FROM account_role WHERE account_id = {listener_uid} AND role_id = 4")
            ),
            json!(1)
        );

        switch_to(&ui, "listener", listener);
        ui.go("#/music");
        ui.wait("#upload-song");
        ui.go("#/tasks");
        ui.wait_text("#my-group", "Creator");
        ui.wait_text(&row("1"), "Approved");
        ui.click("#ask-permission");
        ui.select("dialog [name=newPermission]", "admin");
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Request sent (task #2)");

        // Rejected after confirming.
        switch_to(&ui, "root", "root-password");
        ui.go("#/tasks");
        ui.click(&format!("{} button.reject", row("2")));
        ui.wait_text("dialog", "Reject task #2 (Change to Administrator)?");
        ui.click("dialog button.danger");
        ui.wait_text(".notice", "Task #2 rejected");
        ui.wait_text(&row("2"), "Rejected");

        // The administrator asks for a ban on another account's behalf, and approves it.
        ui.click("#ask-ban");
        ui.fill("dialog [name=uid]", "abc");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "A user id is a positive whole number.");
        ui.fill("dialog [name=uid]", &dreamer_uid.to_string());
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Request sent (task #3)");
        ui.wait_text(&row("3"), "Ban the account");
        ui.select("#task-status", "TOC");
        ui.wait_text("#view .pager-info", "1 in all");
        ui.select("#task-status", "");
        ui.fill("#task-uid", &listener_uid.to_string());
        ui.click("#view .filters button[type=submit]");
        ui.wait_text("#view .pager-info", "2 in all");
        ui.fill("#task-uid", "");
        ui.click("#view .filters button[type=submit]");
        ui.wait_text("#view .pager-info", "3 in all");
        ui.click(&format!("{} button.approve", row("3")));
        ui.wait_text("dialog", &format!("Approve the ban of dreamer1 (#{dreamer_uid})?"));
        ui.click("dialog button.danger");
        ui.wait_text(".notice", "Task #3 approved");
        ui.wait_text(&row("3"), "Approved");
        ui.shot("tasks");
        assert_eq!(scalar(&server, &format!("SELECT banned FROM account WHERE id = {dreamer_uid}")), json!(1));
        let refused = wait_on(music_support::login(&server, "dreamer1", music_support::PASSWORD));
        assert_eq!(music_support::failed(refused, 403), "this account is banned");

        // The user sees their own tasks only, the rejection among them, and is still a creator.
        switch_to(&ui, "listener", listener);
        ui.go("#/tasks");
        ui.wait_text("#view .pager-info", "2 in all");
        ui.wait_text(&row("2"), "Rejected");
        ui.wait_text("#my-group", "Creator");
        ui.shot("tasks-as-user");
    });
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_music_pages_speak_both_languages_and_fit_a_phone() {
    let (server, ui) = signed_in_admin("music-pages").await;
    let (composer_uid, composer) = music_support::creator(&server, "composer").await;
    let song = music_support::add_song(&server, &composer, "夜曲", &composer_uid.to_string()).await;
    let list = music_support::add_playlist(&server, &composer, "夜曲集").await;
    let entry = music_support::form(&[("mid", song["mid"].to_string()), ("mlid", list["mlid"].to_string())]);
    music_support::data(music_support::call(&server, Method::POST, "/api/music/listed", Some(&composer), entry).await);
    let ask = music_support::form(&[("uid", composer_uid.to_string()), ("newPermission", "admin".to_string())]);
    music_support::data(
        music_support::call(&server, Method::PATCH, "/api/user/permission", Some(&composer), ask).await,
    );

    // The pages, a dialog of each, and a word a row shows in that language.
    let pages = [
        ("music", "#upload-song", [("en", "Music library", "On shelf"), ("zh-CN", "曲库", "已上架")]),
        (
            "playlists",
            &*format!("#playlists {} button.open", row("夜曲集")),
            [("en", "Playlists", "Open"), ("zh-CN", "歌单", "查看")],
        ),
        ("tasks", "#ask-permission", [("en", "Approval tasks", "Waiting"), ("zh-CN", "审批", "等待审批")]),
    ];
    // A dictionary key shows through when a text is missing.
    let untranslated = r"/\b(music|player|playlists|tasks)\.[A-Za-z]/.test(document.body.innerText)";
    drive(|| {
        for (index, lang) in ["en", "zh-CN"].into_iter().enumerate() {
            ui.select("#lang", lang);
            for (page, dialog, texts) in &pages {
                let (_, title, word) = texts[index];
                ui.go(&format!("#/{page}"));
                ui.wait_text("#view h1", title);
                ui.wait_text("#view table.list", word);
                ui.shot(&format!("{page}-{lang}"));
                ui.click(dialog);
                ui.wait("dialog");
                assert_eq!(ui.js(untranslated), json!(false), "{page} in {lang}: {}", ui.js("document.body.innerText"));
                ui.shot(&format!("{page}-dialog-{lang}"));
                ui.click("dialog .close");
                ui.wait_for("!document.querySelector('dialog')", "the dialog closed");
            }
        }

        // A phone: nothing scrolls sideways, dialogs fit, and a tap plays a song.
        ui.select("#lang", "en");
        ui.phone();
        ui.reload();
        for (page, dialog, _) in &pages {
            ui.go(&format!("#/{page}"));
            ui.wait("#view .pager-info:not(:empty)");
            ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", &format!("{page} to fit 375 px"));
            ui.shot(&format!("phone-{page}"));
            ui.click(dialog);
            ui.wait_for(
                "document.querySelector('dialog').getBoundingClientRect().width <= 375",
                &format!("the {page} dialog to fit"),
            );
            ui.shot(&format!("phone-{page}-dialog"));
            ui.click("dialog .close");
            ui.wait_for("!document.querySelector('dialog')", "the dialog closed");
        }
        ui.go("#/music");
        ui.mouse_click(&format!("{} button.play", row("夜曲")));
        ui.wait_for(&audio("#view", "!a.paused && a.currentTime > 0.1"), "the song to play on a phone");
        ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", "the player to fit 375 px");
        ui.shot("phone-playing");
    });
    ui.assert_no_errors();
}
