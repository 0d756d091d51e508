//! The open platform and backups pages in a real browser: an app created with its secret
//! shown once, edited, its webhook deliveries listed after a fall alert, its secret
//! rotated, deleted; a backup made from the page, downloaded, and a failed run shown.

use crate::admin_ui_support;
use crate::care_support;
use crate::common;

use std::sync::{Arc, Mutex};

use admin_ui_support::{drive, scalar, signed_in_admin, wait_on};
use common::TestServer;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A webhook receiver on 127.0.0.1 that answers 200 and keeps each request's body.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/falls", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            kept.lock().unwrap().push(text[end + 4..].to_owned());
                            let _ = socket
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, bodies)
}

async fn open_token(server: &TestServer, app_id: &str, secret: &str) -> serde_json::Value {
    server.post_json("/open/api/token", &json!({ "appId": app_id, "appSecret": secret })).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_app_is_created_with_its_secret_shown_once_and_its_webhook_deliveries_are_listed() {
    let (server, ui) = signed_in_admin("open-apps").await;
    let (hook, received) = webhook_receiver().await;
    let family = care_support::user(&server, "13700000002").await;
    let camera = care_support::add_device(&server, &family, "卧室").await;

    let (app_id, secret) = drive(|| {
        ui.go("#/open-apps");
        ui.wait_text("#view .table-status", "No apps yet.");
        ui.click("#add-app");
        ui.fill("dialog [name=webhookUrl]", "ftp://example.org/x");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name is required.");
        ui.wait_text("dialog .field-error", "Scopes is required.");
        ui.wait_text("dialog .field-error", "starting with http:// or https://");
        ui.fill("dialog [name=name]", "社区平台");
        ui.check_label("dialog fieldset.choices", "care:read — read fall alerts and devices", true);
        ui.fill("dialog [name=webhookUrl]", &hook);
        ui.click("dialog button[type=submit]");
        ui.wait("dialog input[data-secret=app-secret]");
        ui.shot("secret-once");
        let app_id = ui.js("document.querySelector('input[data-secret=app-id]').value").as_str().unwrap().to_owned();
        let secret =
            ui.js("document.querySelector('input[data-secret=app-secret]').value").as_str().unwrap().to_owned();
        ui.mouse_click("dialog button[data-copy=app-secret]");
        ui.wait_text("dialog button[data-copy=app-secret]", "Copied");
        ui.click_text("dialog", "I have saved it");
        ui.wait_text("tr[data-key=社区平台]", &app_id);
        ui.wait_text("tr[data-key=社区平台]", "care:read");
        // Shown once: nowhere on the page now, not even in the edit form.
        ui.click("tr[data-key=社区平台] button.edit");
        ui.wait("dialog form");
        let page =
            ui.js("document.body.innerHTML + [...document.querySelectorAll('input')].map((i) => i.value).join()");
        assert!(!page.as_str().unwrap().contains(&secret), "the secret is not shown again");
        ui.click("dialog .close");
        (app_id, secret)
    });

    // The secret works, exactly as shown.
    let token = open_token(&server, &app_id, &secret).await;
    assert!(token["data"]["token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{token}");

    drive(|| {
        // A fall alert: the webhook is delivered, and the history says so.
        wait_on(care_support::upload(&server, &camera, "卧室跌倒"));
        let start = std::time::Instant::now();
        while scalar(&server, "SELECT count(*) FROM webhook_event WHERE status = 'delivered'") != json!(1) {
            assert!(start.elapsed().as_secs() < 20, "the webhook was not delivered");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ui.click("tr[data-key=社区平台] button.deliveries");
        ui.wait_text("dialog table.list", "Delivered");
        ui.wait_text("dialog table.list", "HTTP 200");
        ui.wait_text("dialog table.list", "care.notice.created");
        ui.wait_text("dialog .pager-info", "1 in all");
        ui.shot("deliveries");
        ui.click("dialog .close");

        // Edit: name, scopes, disabled; the server's refusal would show in the form.
        ui.click("tr[data-key=社区平台] button.edit");
        ui.fill("dialog [name=name]", "社区平台二期");
        ui.check_label("dialog fieldset.choices", "transit:read — read transit data", true);
        ui.check("dialog [name=enabled]", false);
        ui.click("dialog button[type=submit]");
        ui.wait_text("tr[data-key=社区平台二期]", "care:read transit:read");
        ui.wait_text("tr[data-key=社区平台二期]", "Disabled");

        // Rotate: a new secret, shown once.
        ui.click("tr[data-key=社区平台二期] button.rotate");
        ui.click("dialog button.danger");
        ui.wait("dialog input[data-secret=app-secret]");
        let rotated =
            ui.js("document.querySelector('input[data-secret=app-secret]').value").as_str().unwrap().to_owned();
        assert_ne!(rotated, secret);
        ui.click_text("dialog", "I have saved it");
        ui.shot("apps");

        // On a phone.
        ui.phone();
        ui.reload();
        ui.wait("tr[data-key=社区平台二期]");
        ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", "open apps to fit 375 px");
        ui.shot("phone-apps");

        // Delete.
        ui.click("tr[data-key=社区平台二期] button.delete");
        ui.click("dialog button.danger");
        ui.wait_text("#view .table-status", "No apps yet.");
    });
    assert_eq!(scalar(&server, "SELECT count(*) FROM open_app"), json!(0));
    assert!(received.lock().unwrap()[0].contains("卧室跌倒"));
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_made_from_the_page_downloaded_and_failed_runs_are_visible() {
    let (server, ui) = signed_in_admin("backups").await;
    drive(|| {
        ui.go("#/backups");
        ui.wait_text("#archives .table-status", "No archives yet.");
        ui.wait_text("#runs .table-status", "No backup has run yet.");
        ui.click("#make-backup");
        ui.wait_text(".notice", "Backup made");
        ui.wait_text("#archives .pager-info", "1 in all");
        ui.wait_text("#runs", "OK");
        ui.wait_text("#runs", "Administrator");
        let name = scalar(&server, "SELECT file FROM backup_run");
        let bytes = scalar(&server, "SELECT bytes FROM backup_run");
        ui.wait(&format!("#archives tr[data-key='{}']", name.as_str().unwrap()));

        // Download: the archive reaches the browser whole.
        ui.js("(() => { window.downloaded = []; const make = URL.createObjectURL; URL.createObjectURL = (b) => { window.downloaded.push(b.size); return make(b); }; })()");
        ui.click("#archives button.download");
        ui.wait_for("window.downloaded.length === 1", "the download");
        assert_eq!(ui.js("window.downloaded[0]"), bytes);

        // A failed run (as the scheduler records one) is shown with its reason.
        server
            .sql()
            .execute(
                "INSERT INTO backup_run (started_at, finished_at, trigger, error) VALUES (strftime('%s','now'), strftime('%s','now'), 'scheduled', 'disk full: no space left on device')",
                [],
            )
            .unwrap();
        ui.reload();
        ui.wait_text("#runs", "Failed");
        ui.wait_text("#runs .run-error", "disk full");
        ui.wait_text("#runs", "Scheduled");
        ui.shot("backups");
        ui.go("#/dashboard");
        ui.wait_text(".stat[data-card=backups] .stat-value.error", "Failed");
        ui.wait_text(".stat[data-card=backups]", "disk full");
        ui.shot("dashboard-failed-backup");
        ui.phone();
        ui.reload();
        ui.go("#/backups");
        ui.wait_text("#runs", "Failed");
        ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", "backups to fit 375 px");
        ui.shot("phone-backups");
    });
    ui.assert_no_errors();
}
