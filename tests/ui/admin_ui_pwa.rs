//! The console as an installable app in a real browser: its manifest is linked and parses,
//! its service worker registers with scope /admin/, and "notify me on this device" hands
//! the browser's push subscription to the server and takes it back. Headless Chromium has
//! no push service, so the test stands in for `pushManager.subscribe` and for the
//! notification permission prompt.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::admin_ui_support::{drive, js_str, scalar, signed_in_admin, wait_on};

const ENDPOINT: &str = "https://fcm.googleapis.com/fcm/send/console-ui-test";

/// P-256's generator: a valid uncompressed point, as a browser's `p256dh` is.
fn p256dh() -> String {
    let x = "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296";
    let y = "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5";
    let hex = format!("04{x}{y}");
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Grants the permission when asked, and subscribes with a fixed `PushSubscription` (at
/// `window.stubEndpoint` when set), remembering what the console asked for.
fn stub_push(p256dh: &str, auth: &str) -> String {
    format!(
        r#"(() => {{
  let permission = 'default';
  Object.defineProperty(Notification, 'permission', {{ configurable: true, get: () => permission }});
  Notification.requestPermission = async () => (permission = 'granted');
  let current = null;
  PushManager.prototype.getSubscription = async function () {{ return current; }};
  PushManager.prototype.subscribe = async function (options) {{
    window.subscribedWith = {{ userVisibleOnly: options.userVisibleOnly, keyBytes: options.applicationServerKey.byteLength }};
    const key = options.applicationServerKey;
    const endpoint = window.stubEndpoint ?? {endpoint};
    current = {{
      endpoint,
      options: {{ applicationServerKey: key.buffer ?? key }},
      toJSON: () => ({{ endpoint, expirationTime: null, keys: {{ p256dh: {p256dh}, auth: {auth} }} }}),
      unsubscribe: async () => {{ window.unsubscribed = true; current = null; return true; }},
    }};
    return current;
  }};
  return true;
}})()"#,
        endpoint = js_str(ENDPOINT),
        p256dh = js_str(p256dh),
        auth = js_str(auth),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_installable_registers_its_worker_and_hands_a_push_subscription_to_the_server() {
    let (server, ui) = signed_in_admin("pwa").await;
    let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
    let root = server.system_login("root", "root-password").await;
    drive(|| {
        // The worker registers on load, scoped to the console.
        ui.js("navigator.serviceWorker.ready.then((r) => { window.workerScope = r.scope; })");
        ui.wait_for("window.workerScope", "the service worker to be ready");
        assert_eq!(ui.js("window.workerScope"), json!(format!("{}/admin/", server.base)));

        // The manifest is linked, parses, and its icons load.
        ui.js(
            "fetch(document.querySelector('link[rel=manifest]').href).then(async (r) => { \
               const m = await r.json(); \
               const icon = await fetch(new URL(m.icons[0].src, r.url)); \
               window.manifest = { type: r.headers.get('content-type'), m, iconType: icon.headers.get('content-type') }; })",
        );
        ui.wait_for("window.manifest", "the manifest to load");
        let manifest = ui.js("window.manifest");
        assert_eq!(manifest["type"], "application/manifest+json", "{manifest}");
        assert_eq!(manifest["m"]["start_url"], "/admin/");
        assert_eq!(manifest["m"]["display"], "standalone");
        assert_eq!(manifest["m"]["name"], "hearth");
        assert_eq!(manifest["iconType"], "image/png", "{manifest}");

        // The alerts page offers notifications on this device.
        ui.js(&stub_push(&p256dh(), &auth));
        ui.go("#/alerts");
        ui.wait_for("document.querySelector('#push-state')?.dataset.state === 'off'", "the notification state");
        ui.wait_text("#push-state", "Notifications off");
        ui.wait_text("#notify-me", "Notify me on this device");
        ui.shot("alerts-notify-off");

        // Without the operator's contact an Apple subscription is refused: the console says
        // why, and lets go of the browser's new subscription rather than leave it unused.
        ui.js("window.stubEndpoint = 'https://web.push.apple.com/QGuTnVEPmY7sr'");
        ui.click("#notify-me");
        ui.wait_text(".notice.error", "push_contact");
        assert_eq!(ui.js("window.unsubscribed"), json!(true), "the refused subscription is let go");
        assert_eq!(scalar(&server, "SELECT count(*) FROM push_subscription"), json!(0));
        ui.wait_for("document.querySelector('#push-state').dataset.state === 'off'", "notifications still off");
        ui.js("(window.stubEndpoint = undefined, window.unsubscribed = undefined, document.querySelector('.notice.error button').click())");

        ui.click("#notify-me");
        ui.wait_for("document.querySelector('#push-state').dataset.state === 'on'", "notifications turned on");
        ui.wait_text("#notify-me", "Stop notifying this device");
        let asked = ui.js("window.subscribedWith");
        assert_eq!(asked, json!({"userVisibleOnly": true, "keyBytes": 65}), "subscribed with the server's key");
        assert_eq!(scalar(&server, "SELECT endpoint FROM push_subscription"), json!(ENDPOINT));
        assert_eq!(scalar(&server, "SELECT auth FROM push_subscription"), json!(auth));
        let (_, listed) = wait_on(server.get_auth("/system/api/push/subscriptions", &root));
        assert_eq!(listed["data"][0]["endpoint"], ENDPOINT, "{listed}");
        ui.shot("alerts-notify-on");

        // A later visit sees it on; turning it off removes it on both sides.
        ui.go("#/dashboard");
        ui.go("#/alerts");
        ui.wait_for("document.querySelector('#push-state')?.dataset.state === 'on'", "the state remembered");
        ui.click("#notify-me");
        ui.wait_for("document.querySelector('#push-state').dataset.state === 'off'", "notifications turned off");
        assert_eq!(ui.js("window.unsubscribed"), json!(true));
        assert_eq!(scalar(&server, "SELECT count(*) FROM push_subscription"), json!(0));
        ui.assert_no_errors();
    });
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_fall_shows_a_notification_with_the_camera_and_the_time() {
    use headless_chrome::protocol::cdp::types::Event;
    use headless_chrome::protocol::cdp::{Browser as Cdp, ServiceWorker};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let (server, ui) = signed_in_admin("pwa-push").await;
    drive(|| {
        let registrations = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let seen = registrations.clone();
        ui.tab
            .add_event_listener(Arc::new(move |event: &Event| {
                if let Event::ServiceWorkerWorkerRegistrationUpdated(e) = event {
                    let mut seen = seen.lock().unwrap();
                    seen.extend(
                        e.params.registrations.iter().map(|r| (r.registration_id.clone(), r.scope_url.clone())),
                    );
                }
            }))
            .unwrap();
        ui.tab
            .call_method(Cdp::GrantPermissions {
                permissions: vec![Cdp::PermissionType::Notifications],
                origin: Some(server.base.clone()),
                browser_context_id: None,
            })
            .expect("notifications granted");
        ui.tab.call_method(ServiceWorker::Enable(None)).expect("ServiceWorker domain");
        ui.js("navigator.serviceWorker.ready.then(() => { window.workerReady = true; })");
        ui.wait_for("window.workerReady", "the service worker to be ready");
        let scope = format!("{}/admin/", server.base);
        let deadline = Instant::now() + Duration::from_secs(15);
        let registration = loop {
            let found = registrations.lock().unwrap().iter().find(|(_, s)| *s == scope).map(|(id, _)| id.clone());
            if let Some(id) = found {
                break id;
            }
            assert!(Instant::now() < deadline, "no registration for {scope}: {:?}", registrations.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        };

        let message = json!({
            "type": "fall", "event_id": "0123456789abcdef0123456789abcdef", "device": "bedroom",
            "content": "fell by the bed", "createtime": "2026-12-06 03:12:45", "escalated": false,
            "url": "https://hearth.example/admin/#/alerts/0123456789abcdef0123456789abcdef",
        });
        ui.tab
            .call_method(ServiceWorker::DeliverPushMessage {
                origin: server.base.clone(),
                registration_id: registration,
                data: message.to_string(),
            })
            .expect("push delivered to the worker");
        ui.wait_for(
            "(window.polled ??= navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => { \
               window.shown = n.map((x) => ({ title: x.title, body: x.body, tag: x.tag, url: x.data.url })); \
               if (!n.length) window.polled = undefined; }), window.shown?.length)",
            "the notification",
        );
        let shown = ui.js("window.shown[0]");
        assert_eq!(shown["title"], "跌倒警报 Fall alert · bedroom", "{shown}");
        assert_eq!(shown["body"], "2026-12-06 03:12:45 fell by the bed");
        assert_eq!(shown["tag"], "0123456789abcdef0123456789abcdef");
        assert_eq!(shown["url"], message["url"]);
        ui.assert_no_errors();
    });
    server.stop().await;
}
