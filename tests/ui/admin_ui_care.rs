//! The care pages of the admin UI in a real browser: devices added (token shown once),
//! bound and unbound; a fall alert posted by a simulated camera appearing live, with its
//! snapshot, marked read, filtered by state and device; the dashboard's care counts.

use crate::admin_ui_support;
use crate::care_support;

use admin_ui_support::{drive, scalar, signed_in_admin, wait_on};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_added_bound_and_unbound_and_a_cameras_fall_alert_arrives_live_and_is_marked_read() {
    let (server, ui) = signed_in_admin("care").await;
    // A family member's phone account with a camera of its own, whose token root will bind.
    let family = care_support::user(&server, "13700000001").await;
    let hall_token = care_support::add_device(&server, &family, "门厅").await;

    drive(|| {
        // Without devices the alerts page says what to do.
        ui.go("#/alerts");
        ui.wait_text("#view .table-status", "No device is bound to your account yet");
        ui.wait_text("#live-state", "Live");

        // Add a device: validated first, then its token shown once with a copy button.
        ui.go("#/devices");
        ui.wait_text("#view .table-status", "No devices yet.");
        ui.click("#add-device");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name is required.");
        ui.fill("dialog [name=device]", &"长".repeat(65));
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name may have at most 64 characters.");
        ui.fill("dialog [name=device]", "客厅摄像头");
        ui.click("dialog button[type=submit]");
        ui.wait("dialog input[data-secret=device-token]");
        ui.shot("device-token");
        let token =
            ui.js("document.querySelector('input[data-secret=device-token]').value").as_str().unwrap().to_owned();
        assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
        ui.mouse_click("dialog button[data-copy=device-token]");
        ui.wait_text("dialog button[data-copy=device-token]", "Copied");
        ui.click_text("dialog", "I have saved it");
        ui.wait_for("!document.querySelector('dialog')", "the token dialog closed");
        ui.wait_text("tr[data-key=客厅摄像头]", "Offline");
        ui.wait_text("tr[data-key=客厅摄像头]", "Never");
        assert!(!ui.js("document.body.innerText").as_str().unwrap().contains(&token), "the token is not shown again");

        // The camera calls in: online, with the time it was last seen.
        let beat = wait_on(care_support::get(&server, &format!("/api/device/heartbeat?token={token}")));
        assert_eq!(beat["status"], 0, "{beat}");
        ui.go("#/dashboard");
        ui.go("#/devices");
        ui.wait_text("tr[data-key=客厅摄像头]", "Online");

        // Bind the family's camera by its token: the format is checked, then the server.
        ui.click("#bind-device");
        ui.fill("dialog [name=device_id]", "not-a-token");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "32 hexadecimal characters");
        ui.fill("dialog [name=device_id]", &"0".repeat(32));
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .form-error", "device_id not exist");
        ui.fill("dialog [name=device_id]", &hall_token);
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Device bound");
        ui.wait("tr[data-key=门厅]");
        ui.shot("devices");

        // The alerts page, live: a real click lets the page play its tone.
        ui.go("#/alerts");
        ui.wait_text("#view .table-status", "No alerts match.");
        ui.wait_text("#live-state", "Live");
        ui.mouse_click("#view h1");
        ui.js("window.stillTheSamePage = true");
        let pic = wait_on(care_support::upload(&server, &token, "老人在客厅跌倒"));
        ui.wait_text("#alert-banner", "New fall alert: 客厅摄像头");
        ui.wait("tr.fresh");
        ui.wait_text("tr.fresh", "老人在客厅跌倒");
        assert_eq!(ui.js("window.stillTheSamePage"), json!(true), "no reload");
        assert_eq!(ui.js("document.querySelector('#alert-banner').dataset.tone"), json!("played"), "the tone played");
        ui.shot("alert-arrived");

        // The snapshot, then mark read from it.
        ui.click("#alert-banner button.view");
        ui.wait_for(
            "(() => { const i = document.querySelector('dialog img.snapshot'); return i && i.complete && i.naturalWidth === 8; })()",
            "the snapshot picture",
        );
        // An administrator sees how the alert went out, and that nobody acknowledged it yet.
        ui.wait_text("dialog .delivery h3", "Delivery");
        ui.wait_text("dialog .delivery .acknowledged", "Nobody has acknowledged it yet.");
        ui.shot("snapshot");
        ui.click("dialog button.sign");
        ui.wait_text(".notice", "Marked read");
        ui.wait_for("!document.querySelector('dialog')", "the snapshot closed");
        ui.wait_text("#view .table-status", "No alerts match.");
        let event: String =
            server.sql().query_row("SELECT event_id FROM notice WHERE pic_name = ?1", [&pic], |r| r.get(0)).unwrap();
        assert_eq!(
            scalar(&server, &format!("SELECT count(*) FROM notice_read r JOIN notice n ON n.id = r.notice_id WHERE n.event_id = '{event}'")),
            json!(1)
        );

        // A second alert, from the family's camera; filters by state and device.
        wait_on(care_support::upload(&server, &hall_token, "门厅有人摔倒"));
        ui.wait_text("#alert-banner", "New fall alert: 门厅");
        ui.wait_text("tr.fresh", "门厅有人摔倒");
        ui.select("#mode", "2");
        ui.wait_text(".pager-info", "2 in all");
        ui.wait_text(&format!("tr[data-key='{event}']"), "Read");
        ui.select("#device-filter", "客厅摄像头");
        ui.wait_text(".pager-info", "1 in all");
        ui.wait_text("table.list", "老人在客厅跌倒");
        ui.select("#device-filter", "");
        ui.select("#mode", "1");
        ui.wait_text(".pager-info", "1 in all");
        ui.select("#mode", "0");
        ui.wait_text(".pager-info", "1 in all");
        ui.click("tr button.sign");
        ui.wait_text("#view .table-status", "No alerts match.");
        ui.shot("alerts");

        // The dashboard counts them.
        wait_on(care_support::upload(&server, &hall_token, "又一次"));
        ui.go("#/dashboard");
        ui.wait_text(".stat[data-card=alerts] .stat-value", "1");
        // Both cameras called in (a heartbeat, uploads): online.
        ui.wait_text(".stat[data-card=devices] .stat-value", "2 / 0");
        ui.shot("dashboard");

        // Unbind, after confirming; the device and its alerts leave the lists.
        ui.go("#/devices");
        ui.click("tr[data-key=门厅] button.unbind");
        ui.wait_text("dialog", "Unbind device 门厅?");
        ui.click("dialog button.danger");
        ui.wait_text(".notice", "Unbound 门厅");
        ui.wait_for("!document.querySelector('tr[data-key=门厅]')", "门厅 gone");
        ui.go("#/alerts");
        ui.select("#mode", "2");
        ui.wait_text(".pager-info", "1 in all");

        // On a phone.
        ui.phone();
        ui.reload();
        for page in ["alerts", "devices", "dashboard"] {
            ui.go(&format!("#/{page}"));
            ui.wait("#view .pager-info:not(:empty), #view .stat-value");
            ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", &format!("{page} to fit 375 px"));
            ui.shot(&format!("phone-{page}"));
        }
    });
    let bound: i64 = server
        .sql()
        .query_row(
            "SELECT count(*) FROM device_binding b JOIN account a ON a.id = b.account_id WHERE a.username = 'root'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bound, 1);
    ui.assert_no_errors();
}
