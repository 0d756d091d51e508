//! The app passwords page in a real browser: one is created and shown once with a copy
//! button, listed without its secret, used by a Subsonic call from the test (its last use then
//! shows), revoked, and refused by `/rest` from then on.

use crate::admin_ui_support::{drive, row, scalar, signed_in_admin};
use crate::common::TestServer;
use serde_json::{json, Value};

/// `/rest/ping` as root with this app password: the `subsonic-response`.
async fn ping(server: &TestServer, secret: &str) -> Value {
    let query = [("v", "1.16.1"), ("c", "ui-test"), ("f", "json"), ("u", "root"), ("p", secret)];
    let res = server.client.get(server.url("/rest/ping")).query(&query).send().await.unwrap();
    res.json::<Value>().await.unwrap()["subsonic-response"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_password_is_shown_once_listed_used_and_revoked() {
    let (server, ui) = signed_in_admin("app-passwords").await;
    let symfonium = row("Symfonium on my phone");

    let secret = drive(|| {
        ui.go("#/app-passwords");
        ui.wait_text("#view .table-status", "No app passwords yet.");
        ui.click("#add-app-password");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "What it is for is required.");
        ui.fill("dialog [name=name]", "Symfonium on my phone");
        ui.click("dialog button[type=submit]");
        ui.wait("dialog input[data-secret=app-password]");
        ui.wait_text("dialog", "shown only now");
        let secret =
            ui.js("document.querySelector('input[data-secret=app-password]').value").as_str().unwrap().to_owned();
        ui.mouse_click("dialog button[data-copy=app-password]");
        ui.wait_text("dialog button[data-copy=app-password]", "Copied");
        ui.shot("app-password-once");
        ui.click_text("dialog", "I have saved it");
        ui.wait_text(&symfonium, "Never");
        let page =
            ui.js("document.body.innerHTML + [...document.querySelectorAll('input')].map((i) => i.value).join()");
        assert!(!page.as_str().unwrap().contains(&secret), "the secret is shown again");
        secret
    });
    assert_eq!(secret.len(), 24, "{secret}");

    // A Subsonic app signs in with it; the list then shows its last use.
    assert_eq!(ping(&server, &secret).await["status"], "ok");
    drive(|| {
        ui.reload();
        ui.wait(&symfonium);
        let used =
            format!("!document.querySelector('{}').textContent.includes('Never')", symfonium.replace('\'', "\\'"));
        ui.wait_for(&used, "the last use to show");
        ui.shot("app-passwords");

        ui.click(&format!("{symfonium} button.revoke"));
        ui.wait_text("dialog", "stop working at once");
        ui.click("dialog button.danger");
        ui.wait_text("#view .table-status", "No app passwords yet.");
    });
    assert_eq!(scalar(&server, "SELECT count(*) FROM app_password"), json!(0));
    let refused = ping(&server, &secret).await;
    assert_eq!(
        (refused["status"].clone(), refused["error"]["code"].clone()),
        (json!("failed"), json!(40)),
        "{refused}"
    );
    ui.assert_no_errors();
}
