//! The admin UI driven in headless Chromium, as one test binary apart from the API tests.

mod admin_ui_support;
#[path = "../it/care_support/mod.rs"]
mod care_support;
#[path = "../it/common/mod.rs"]
mod common;
#[path = "../it/music_support/mod.rs"]
mod music_support;
#[path = "../it/open_support/mod.rs"]
mod open_support;
#[path = "../it/transit_support/mod.rs"]
mod transit_support;

mod admin_ui;
mod admin_ui_api;
mod admin_ui_app_passwords;
mod admin_ui_care;
mod admin_ui_files;
mod admin_ui_music;
mod admin_ui_music_tasks;
mod admin_ui_ops;
mod admin_ui_pwa;
mod admin_ui_transit;
mod security_headers;
