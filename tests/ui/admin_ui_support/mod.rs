//! Drives Debian's headless Chromium over the DevTools protocol for the admin UI tests:
//! page actions, waits on page conditions, screenshots under target/ui-screenshots/, and a
//! record of every console error, uncaught exception and failed resource load.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Log::LogEntryLevel;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::Runtime::ConsoleAPICalledEventTypeOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use crate::common::TestServer;

const WAIT: Duration = Duration::from_secs(15);

/// Chromium from `HEARTH_CHROMIUM`, else Debian's package. Never skips: a missing browser
/// fails the test with what to do.
pub fn chromium() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("HEARTH_CHROMIUM") {
        Some(path) => vec![PathBuf::from(path)],
        None => ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"]
            .iter()
            .map(PathBuf::from)
            .collect(),
    };
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "Chromium is not installed; the admin UI tests need Debian's `chromium` package. \
             Run `bash scripts/test.sh` (it installs it), or set HEARTH_CHROMIUM to a Chromium binary."
        )
    })
}

pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("ui-screenshots")
}

/// At most one browser per core at a time. The test run starts two tests per core, which the
/// API tests need to keep the cores busy (scripts/test.sh); a browser keeps a core busy on its
/// own, and with two per core a push delivered to the console's service worker once did not
/// show its notification within `WAIT`. A test waits here for a slot, and its `Ui` gives the
/// slot back when it is dropped, after its browser.
struct BrowserSlot;

static BROWSERS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

fn browsers() -> MutexGuard<'static, usize> {
    BROWSERS.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl BrowserSlot {
    fn take() -> BrowserSlot {
        let limit = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut running = browsers();
        while *running >= limit {
            running = BROWSERS.1.wait(running).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *running += 1;
        BrowserSlot
    }
}

impl Drop for BrowserSlot {
    fn drop(&mut self) {
        *browsers() -= 1;
        BROWSERS.1.notify_one();
    }
}

pub struct Ui {
    _browser: Browser,
    pub tab: Arc<Tab>,
    errors: Arc<Mutex<Vec<String>>>,
    /// Refused requests the test provokes on purpose (status, path).
    refusals: Mutex<Vec<(u16, String)>>,
    base: String,
    /// Prefix of this test's screenshots.
    name: &'static str,
    /// Last, so that it is given back after the browser has closed.
    _slot: BrowserSlot,
}

/// A JavaScript string literal.
pub fn js_str(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

impl Ui {
    pub fn launch(base: &str, name: &'static str) -> Ui {
        let slot = BrowserSlot::take();
        let options = LaunchOptions::default_builder()
            .path(Some(chromium()))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1280, 900)))
            .idle_browser_timeout(Duration::from_secs(180))
            .args(vec![std::ffi::OsStr::new("--disable-dev-shm-usage"), std::ffi::OsStr::new("--lang=en-US")])
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("Chromium starts");
        let tab = browser.new_tab().expect("a tab");
        tab.set_default_timeout(WAIT);
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let found = match event {
                Event::LogEntryAdded(e) if matches!(e.params.entry.level, LogEntryLevel::Error) => {
                    Some(format!("log: {} ({})", e.params.entry.text, e.params.entry.url.clone().unwrap_or_default()))
                }
                Event::RuntimeExceptionThrown(e) => {
                    let d = &e.params.exception_details;
                    let description = d.exception.as_ref().and_then(|x| x.description.clone()).unwrap_or_default();
                    Some(format!(
                        "exception: {} {description} ({}:{})",
                        d.text,
                        d.url.clone().unwrap_or_default(),
                        d.line_number
                    ))
                }
                Event::RuntimeConsoleAPICalled(e)
                    if matches!(e.params.Type, ConsoleAPICalledEventTypeOption::Error) =>
                {
                    let args: Vec<String> = e
                        .params
                        .args
                        .iter()
                        .map(|a| a.value.as_ref().map(Value::to_string).or(a.description.clone()).unwrap_or_default())
                        .collect();
                    Some(format!("console.error: {}", args.join(" ")))
                }
                _ => None,
            };
            if let Some(found) = found {
                sink.lock().unwrap().push(found);
            }
        }))
        .expect("listener");
        tab.enable_log().expect("Log domain");
        tab.enable_runtime().expect("Runtime domain");
        Ui {
            _browser: browser,
            tab,
            errors,
            refusals: Mutex::new(Vec::new()),
            base: base.to_owned(),
            name,
            _slot: slot,
        }
    }

    /// A 375 × 740 phone screen with touch-sized layout (mobile viewport).
    pub fn phone(&self) {
        self.tab
            .call_method(Emulation::SetDeviceMetricsOverride {
                width: 375,
                height: 740,
                device_scale_factor: 2.0,
                mobile: true,
                scale: None,
                screen_width: None,
                screen_height: None,
                position_x: None,
                position_y: None,
                dont_set_visible_size: None,
                screen_orientation: None,
                viewport: None,
                display_feature: None,
                device_posture: None,
            })
            .expect("phone metrics");
    }

    /// Loads `/admin/<hash>` afresh (by way of a blank page, since a change of the
    /// fragment alone would not load the document again).
    pub fn load(&self, hash: &str) {
        self.tab.navigate_to("about:blank").expect("navigate");
        self.tab.wait_until_navigated().expect("blank page");
        self.tab.navigate_to(&format!("{}/admin/{hash}", self.base)).expect("navigate");
        self.tab.wait_until_navigated().expect("page loads");
    }

    /// Moves inside the app (no reload).
    pub fn go(&self, hash: &str) {
        self.js(&format!("location.hash = {}", js_str(hash)));
    }

    pub fn reload(&self) {
        self.tab.reload(false, None).expect("reload");
        self.tab.wait_until_navigated().expect("page reloads");
    }

    /// Evaluates `expr` and answers its value as JSON.
    pub fn js(&self, expr: &str) -> Value {
        let wrapped = format!("(() => {{ const v = ({expr}); return JSON.stringify(v === undefined ? null : v); }})()");
        let result = self.tab.evaluate(&wrapped, false).unwrap_or_else(|e| panic!("evaluating {expr}: {e}"));
        match result.value {
            Some(Value::String(s)) => serde_json::from_str(&s).unwrap(),
            other => panic!("evaluating {expr} gave {other:?} ({:?})", result.description),
        }
    }

    /// Waits until the JavaScript condition holds; fails saying what was awaited.
    pub fn wait_for(&self, condition: &str, what: &str) {
        let start = Instant::now();
        loop {
            if self.js(&format!("!!({condition})")) == Value::Bool(true) {
                return;
            }
            if start.elapsed() > WAIT {
                self.shot(&format!("FAILED-{}", what.replace(|c: char| !c.is_alphanumeric(), "-")));
                panic!(
                    "waited {WAIT:?} for {what} ({condition}); page says: {}\nconsole errors: {:?}",
                    self.js("document.body.innerText.slice(0, 1500)"),
                    self.errors()
                );
            }
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Waits for a visible element matching `selector`.
    pub fn wait(&self, selector: &str) {
        self.wait_for(
            &format!(
                "(() => {{ const e = document.querySelector({}); return e && e.getClientRects().length > 0; }})()",
                js_str(selector)
            ),
            &format!("`{selector}` to be shown"),
        );
    }

    /// Waits for some visible element matching `selector` whose text contains `text`.
    pub fn wait_text(&self, selector: &str, text: &str) {
        self.wait_for(
            &format!(
                "[...document.querySelectorAll({})].some((e) => e.getClientRects().length > 0 && e.textContent.includes({}))",
                js_str(selector),
                js_str(text)
            ),
            &format!("`{selector}` showing {text:?}"),
        );
    }

    /// Waits until `action` (a JavaScript function body that sees `e`, the first visible and
    /// enabled element matching `selector`) can run, and runs it. One round trip when the
    /// page is ready: each DevTools call costs the driver up to 100 ms.
    fn act(&self, selector: &str, action: &str, what: &str) {
        self.wait_for(
            &format!(
                "(() => {{ const e = [...document.querySelectorAll({})].find((e) => e.getClientRects().length > 0 && !e.disabled); \
                   if (!e) return false; {action}; return true; }})()",
                js_str(selector)
            ),
            what,
        );
    }

    /// Clicks the element (a DOM click: it submits forms and follows links like a tap).
    pub fn click(&self, selector: &str) {
        self.act(selector, "e.click()", &format!("`{selector}` to click"));
    }

    /// A real mouse press in the middle of the element, through the browser's input pipeline.
    pub fn mouse_click(&self, selector: &str) {
        self.wait(selector);
        self.tab.find_element(selector).unwrap_or_else(|e| panic!("{selector}: {e}")).click().unwrap();
    }

    /// Clicks the visible button or link under `scope` whose text contains `text`.
    pub fn click_text(&self, scope: &str, text: &str) {
        self.wait_for(
            &format!(
                "(() => {{ const e = [...document.querySelectorAll({})].find((e) => e.getClientRects().length > 0 && !e.disabled && e.textContent.includes({})); \
                   if (!e) return false; e.click(); return true; }})()",
                js_str(&format!("{scope} button, {scope} a")),
                js_str(text)
            ),
            &format!("a button `{text}` in `{scope}` to click"),
        );
    }

    /// Ticks or clears the checkbox inside the visible label under `scope` that reads `text`.
    pub fn check_label(&self, scope: &str, text: &str, on: bool) {
        self.wait_for(
            &format!(
                "(() => {{ const l = [...document.querySelectorAll({})].find((l) => l.getClientRects().length > 0 && l.textContent.trim() === {}); \
                   const e = l && l.querySelector('input[type=checkbox]'); if (!e) return false; if (e.checked !== {on}) e.click(); return true; }})()",
                js_str(&format!("{scope} label")),
                js_str(text)
            ),
            &format!("a checkbox `{text}` in `{scope}`"),
        );
    }

    /// Puts text into an input as typing would (focus, value, `input` event).
    pub fn fill(&self, selector: &str, text: &str) {
        self.act(
            selector,
            &format!("e.focus(); e.value = {}; e.dispatchEvent(new Event('input', {{ bubbles: true }}))", js_str(text)),
            &format!("`{selector}` to type into"),
        );
    }

    /// Types into an input key by key (ASCII), through the browser's input pipeline.
    pub fn type_keys(&self, selector: &str, text: &str) {
        self.fill(selector, "");
        self.tab.find_element(selector).unwrap().type_into(text).unwrap();
    }

    /// Chooses an option of a <select> by value, as a person would (fires `change`).
    pub fn select(&self, selector: &str, value: &str) {
        self.act(
            selector,
            &format!("e.value = {}; e.dispatchEvent(new Event('change', {{ bubbles: true }}))", js_str(value)),
            &format!("`{selector}` to choose {value}"),
        );
    }

    /// Ticks or clears a checkbox (fires `change`).
    pub fn check(&self, selector: &str, on: bool) {
        self.act(selector, &format!("if (e.checked !== {on}) e.click()"), &format!("`{selector}` to tick"));
    }

    /// Chooses files on disk for a file input, as the browser's file picker would.
    pub fn choose_file(&self, selector: &str, path: &Path) {
        self.wait(selector);
        let element = self.tab.find_element(selector).unwrap_or_else(|e| panic!("{selector}: {e}"));
        element.set_input_files(&[path.to_str().unwrap()]).unwrap();
    }

    pub fn text(&self, selector: &str) -> String {
        self.wait(selector);
        self.js(&format!("document.querySelector({}).innerText", js_str(selector))).as_str().unwrap().to_owned()
    }

    pub fn hash(&self) -> String {
        self.js("location.hash").as_str().unwrap().to_owned()
    }

    /// Writes target/ui-screenshots/<test>-<page>.png.
    pub fn shot(&self, page: &str) {
        let png =
            self.tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}-{page}.png", self.name)), png).unwrap();
    }

    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }

    /// Declares a refusal the test provokes: surfaces that answer with real HTTP statuses
    /// (music's 400, 409, …) make the browser log a failed load even when the page shows the
    /// message as it should. `assert_no_errors` then expects exactly that entry, once.
    pub fn expect_refusal(&self, status: u16, path: &str) {
        self.refusals.lock().unwrap().push((status, path.to_owned()));
    }

    pub fn assert_no_errors(&self) {
        let mut errors = self.errors();
        for (status, path) in self.refusals.lock().unwrap().iter() {
            let (start, end) = (
                format!("log: Failed to load resource: the server responded with a status of {status} "),
                format!("({}{path})", self.base),
            );
            let Some(at) = errors.iter().position(|e| e.starts_with(&start) && e.ends_with(&end)) else {
                panic!(
                    "the refusal {status} of {path} was expected but the browser did not report it; it reported:\n{}",
                    errors.join("\n")
                );
            };
            errors.remove(at);
        }
        assert!(errors.is_empty(), "the browser reported errors:\n{}", errors.join("\n"));
    }
}

/// Runs blocking browser work without stalling the server's runtime.
pub fn drive<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

/// Runs async work (an HTTP call as a camera would make) from inside `drive`.
pub fn wait_on<F: std::future::Future>(work: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(work)
}

/// The first column of the first row of a query, as JSON.
pub fn scalar(server: &TestServer, sql: &str) -> Value {
    let conn = server.sql();
    conn.query_row(sql, [], |r| {
        Ok(match r.get_ref(0)? {
            rusqlite::types::ValueRef::Null => Value::Null,
            rusqlite::types::ValueRef::Integer(i) => serde_json::json!(i),
            rusqlite::types::ValueRef::Text(t) => serde_json::json!(String::from_utf8_lossy(t)),
            other => panic!("unexpected {other:?}"),
        })
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Signs in through the form.
pub fn sign_in(ui: &Ui, loginname: &str, password: &str) {
    ui.wait("#signin form");
    ui.fill("#signin [name=loginname]", loginname);
    ui.fill("#signin [name=password]", password);
    ui.click("#signin button[type=submit]");
}

/// Signs out and in again as someone else; waits for their dashboard.
pub fn switch_to(ui: &Ui, loginname: &str, password: &str) {
    ui.click("#signout");
    sign_in(ui, loginname, password);
    ui.wait_for("location.hash === '#/dashboard'", &format!("{loginname}'s dashboard"));
}

/// The selector of a list row by its key: `tr[data-key="…"]`.
pub fn row(key: &str) -> String {
    format!("tr[data-key=\"{key}\"]")
}

/// The id of the account with this login name.
pub fn account_id(server: &TestServer, loginname: &str) -> i64 {
    server.sql().query_row("SELECT id FROM account WHERE username = ?1", [loginname], |r| r.get(0)).unwrap()
}

/// Starts the app with an administrator `root` and a browser signed in as root.
pub async fn signed_in_admin(name: &'static str) -> (TestServer, Ui) {
    let server = TestServer::start().await;
    server.create_admin("root", "root-password").await;
    let ui = drive(|| {
        let ui = Ui::launch(&server.base, name);
        ui.load("#/signin");
        ui.select("#lang", "en");
        sign_in(&ui, "root", "root-password");
        ui.wait_for("location.hash === '#/dashboard'", "the dashboard");
        ui
    });
    (server, ui)
}
