//! Time as the database keeps it (Unix seconds) and as the documents print it.

use chrono::{Local, TimeZone};

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `yyyy-MM-dd HH:mm:ss` in the server's local time zone.
pub fn local_datetime(secs: i64) -> String {
    Local.timestamp_opt(secs, 0).single().map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Reads `yyyy-MM-dd HH:mm:ss` as the server's local time; Unix seconds.
pub fn parse_local_datetime(text: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    Local.from_local_datetime(&naive).earliest().map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_datetimes_round_trip() {
        let t = 1_700_000_000;
        assert_eq!(parse_local_datetime(&local_datetime(t)), Some(t));
        assert_eq!(parse_local_datetime("2023-13-01 00:00:00"), None);
        assert_eq!(parse_local_datetime("yesterday"), None);
    }
}
