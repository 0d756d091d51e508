//! The admin UI in a real browser: Debian's headless Chromium drives the console served by
//! the real app. Every test fails on any console error, uncaught exception or failed load,
//! and writes a screenshot of each page it visits to target/ui-screenshots/.

mod admin_ui_support;
mod common;

use admin_ui_support::Ui;
use common::TestServer;
use serde_json::{Value, json};

/// Runs blocking browser work without stalling the server's runtime.
fn drive<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

fn scalar(server: &TestServer, sql: &str) -> Value {
    let conn = server.sql();
    conn.query_row(sql, [], |r| {
        Ok(match r.get_ref(0)? {
            rusqlite::types::ValueRef::Null => Value::Null,
            rusqlite::types::ValueRef::Integer(i) => json!(i),
            rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
            other => panic!("unexpected {other:?}"),
        })
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Signs in through the form.
fn sign_in(ui: &Ui, loginname: &str, password: &str) {
    ui.wait("#signin form");
    ui.fill("#signin [name=loginname]", loginname);
    ui.fill("#signin [name=password]", password);
    ui.click("#signin button[type=submit]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_then_sign_in_with_the_captcha_after_failures_and_language_remembered() {
    let server = TestServer::start().await;
    let token = server.running().setup_token.clone().expect("a fresh box prints a setup link");
    drive(|| {
        let ui = Ui::launch(&server.base, "setup");
        ui.load(&format!("#/setup/{token}"));
        ui.wait("#setup form");
        ui.select("#lang", "en");
        ui.wait_text("#setup h1", "Create the administrator");
        ui.shot("setup");

        // Validation happens before anything is sent.
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .field-error", "Login name is required.");
        ui.fill("#setup [name=loginname]", "boss");
        ui.fill("#setup [name=password]", "short");
        ui.fill("#setup [name=confirm]", "different");
        ui.fill("#setup [name=phone]", "123");
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .field-error", "Password needs at least 8 characters.");
        ui.wait_text("#setup .field-error", "The two passwords differ.");
        ui.wait_text("#setup .field-error", "Enter an 11-digit mobile number.");
        ui.shot("setup-invalid");
        assert_eq!(scalar(&server, "SELECT count(*) FROM account"), json!(0), "nothing sent while the form is invalid");

        ui.fill("#setup [name=password]", "correct-horse");
        ui.fill("#setup [name=confirm]", "correct-horse");
        ui.fill("#setup [name=phone]", "13800000001");
        ui.click("#setup button[type=submit]");
        ui.wait_for("location.hash === '#/dashboard'", "the dashboard after setup");
        ui.wait_text("#nav", "Users");
        ui.wait_text(".stat[data-card=users] .stat-value", "1");
        ui.shot("dashboard");
        assert_eq!(scalar(&server, "SELECT phone FROM account WHERE username = 'boss'"), json!("13800000001"));

        // The link works once.
        ui.click("#signout");
        ui.wait("#signin form");
        ui.load(&format!("#/setup/{token}"));
        ui.fill("#setup [name=loginname]", "intruder");
        ui.fill("#setup [name=password]", "another-password");
        ui.fill("#setup [name=confirm]", "another-password");
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .form-error", "setup link is not valid");

        // Three wrong passwords: the server asks for the captcha and the form shows it.
        ui.go("#/signin");
        for attempt in 1..=3 {
            sign_in(&ui, "boss", "wrong-password");
            if attempt < 3 {
                ui.wait_text("#signin .form-error", "wrong login name or password");
                ui.js("document.querySelector('#signin .form-error').textContent = ''");
            }
        }
        ui.wait_text("#signin .form-error", "captcha is needed");
        ui.wait_for("document.querySelector('.captcha-img').src.startsWith('data:image/png;base64,')", "the captcha image");
        ui.wait("#captcha-row");
        ui.shot("signin-captcha");

        // A wrong answer is refused with the server's message and a new picture.
        let first = ui.js("document.querySelector('.captcha-img').src");
        ui.fill("#signin [name=password]", "correct-horse");
        ui.fill("#signin [name=captcha]", "AAAAA");
        ui.click("#signin button[type=submit]");
        ui.wait_text("#signin .form-error", "captcha answer is wrong");
        ui.wait_for(&format!("document.querySelector('.captcha-img').src !== {first}"), "a new captcha picture");

        // The right answer (read from the server's table, as a person reads the picture) signs in.
        let code = scalar(&server, "SELECT code FROM captcha ORDER BY rowid DESC LIMIT 1");
        ui.fill("#signin [name=password]", "correct-horse");
        ui.fill("#signin [name=captcha]", &code.as_str().unwrap().to_uppercase());
        ui.click("#signin button[type=submit]");
        ui.wait_for("location.hash === '#/dashboard'", "the dashboard after signing in");

        // Language: switch to Chinese, and it stays after a reload.
        ui.select("#lang", "zh-CN");
        ui.wait_text("#nav", "用户");
        ui.wait_text("#view h1", "概览");
        ui.shot("dashboard-zh");
        ui.reload();
        ui.wait_text("#nav", "角色");
        assert_eq!(ui.js("document.documentElement.lang"), json!("zh-CN"));
        assert_eq!(ui.js("localStorage.getItem('hearth.lang')"), json!("zh-CN"));
        ui.select("#lang", "en");
        ui.wait_text("#nav", "Roles");
        ui.reload();
        ui.wait_text("#nav", "Departments");
        ui.assert_no_errors();
    });
}
