//! Time as the database keeps it (Unix seconds) and as the documents print it.

use chrono::{Local, TimeZone};

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `yyyy-MM-dd HH:mm:ss` in the server's local time zone.
pub fn local_datetime(secs: i64) -> String {
    Local
        .timestamp_opt(secs, 0)
        .single()
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}
