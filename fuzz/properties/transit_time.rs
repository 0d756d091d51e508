//! The transit surface's hand-written date and time parsing (`moment.rs`), which reads the
//! import's times and every date parameter. Properties: an accepted time or date prints
//! back, in the documented format, to the same value; the day it names is the day its
//! text spells (year, month and day read independently here); and the calendar arithmetic
//! agrees with chrono's.
//!
//! Shared by the libFuzzer target `fuzz_targets/transit_time.rs` and the replay in
//! `tests/it/fuzzing.rs`.

use chrono::{Datelike, NaiveDate};
use hearth::fuzzing::{civil_from_days, format_date, format_time, parse_date, parse_day_of, parse_month, parse_time};

const DAY: i64 = 86_400;

pub fn check(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    if let Some(day) = parse_date(&text) {
        assert_eq!(parse_date(&format_date(day)), Some(day), "{text:?}");
        assert_eq!(civil_from_days(day), spelled_date(&text), "{text:?} names the day it spells");
        check_calendar(day);
        assert_eq!(parse_day_of(&text), Some(day));
    }
    if let Some(t) = parse_time(&text) {
        let printed = format_time(t);
        assert_eq!(parse_time(&printed), Some(t), "{text:?} printed as {printed:?}");
        assert!(printed.ends_with(".000000") && printed.len() == 26, "{printed:?} is the documented format");
        let (date, _) = text.trim().split_once([' ', 'T']).expect("a time has a date part");
        assert_eq!(parse_date(date), Some(t.div_euclid(DAY)), "{text:?} falls on its date");
        check_calendar(t.div_euclid(DAY));
        assert_eq!(parse_day_of(&text), Some(t.div_euclid(DAY)));
    }
    if let Some((y, m)) = parse_month(&text) {
        assert!((0..=9999).contains(&y) && (1..=12).contains(&m), "{text:?} gave {y}-{m}");
    }
}

/// (year, month, day) as the text writes them: three runs of digits split by `-` or `/`.
fn spelled_date(text: &str) -> (i64, i64, i64) {
    let parts: Vec<i64> = text.trim().split(['-', '/']).map(|p| p.parse().expect("digits")).collect();
    (parts[0], parts[1], parts[2])
}

/// Day numbers count from 1970-01-01 as chrono counts them.
fn check_calendar(day: i64) {
    let (y, m, d) = civil_from_days(day);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch");
    let date =
        NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32).unwrap_or_else(|| panic!("{y}-{m}-{d} is a real date"));
    assert_eq!(date.signed_duration_since(epoch).num_days(), day);
    assert_eq!((i64::from(date.year()), i64::from(date.month()), i64::from(date.day())), (y, m, d));
}
