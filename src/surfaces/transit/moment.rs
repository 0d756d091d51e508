//! The metro's wall-clock times. The data carry no time zone, so a time is stored as the
//! seconds since 1970-01-01 00:00 of that same clock and printed back unchanged, whatever
//! zone the server runs in. Parsing is hand-written because the import reads tens of
//! millions of them.

pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(part: &str, max_len: usize) -> Option<i64> {
    if part.is_empty() || part.len() > max_len || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// `yyyy-MM-dd` (also `yyyy/M/d`) as a day number.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().split(['-', '/']);
    let (y, m, d) = (number(parts.next()?, 4)?, number(parts.next()?, 2)?, number(parts.next()?, 2)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `yyyy-MM` (or any date in the month) as (year, month).
pub fn parse_month(text: &str) -> Option<(i64, i64)> {
    if let Some(day) = parse_date(text).or_else(|| parse_time(text).map(|t| t.div_euclid(DAY))) {
        let (y, m, _) = civil_from_days(day);
        return Some((y, m));
    }
    let mut parts = text.trim().split(['-', '/']);
    let (y, m) = (number(parts.next()?, 4)?, number(parts.next()?, 2)?);
    (parts.next().is_none() && (1..=12).contains(&m)).then_some((y, m))
}

/// `yyyy-MM-dd HH:mm:ss[.ffffff]`, also with `T` or `/` and without seconds; a fraction is
/// accepted and dropped (the data only ever carries `.000000`).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once([' ', 'T'])?;
    let day = parse_date(date)?;
    let time = time.trim();
    let time =
        time.split_once('.').map_or(
            time,
            |(whole, frac)| {
                if frac.bytes().all(|b| b.is_ascii_digit()) {
                    whole
                } else {
                    "invalid"
                }
            },
        );
    let mut parts = time.split(':');
    let h = number(parts.next()?, 2)?;
    let mi = number(parts.next()?, 2)?;
    let s = match parts.next() {
        Some(p) => number(p, 2)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(day * DAY + h * 3600 + mi * 60 + s)
}

/// A time or a date (then midnight), for parameters whose documents send either.
pub fn parse_day_of(text: &str) -> Option<i64> {
    parse_date(text).or_else(|| parse_time(text).map(|t| t.div_euclid(DAY)))
}

pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// As the document writes it: `2020-07-15 14:21:58.000000`.
pub fn format_time(t: i64) -> String {
    let secs = t.rem_euclid(DAY);
    format!("{} {:02}:{:02}:{:02}.000000", format_date(t.div_euclid(DAY)), secs / 3600, secs % 3600 / 60, secs % 60)
}

pub fn year_of_day(day: i64) -> i64 {
    civil_from_days(day).0
}

/// First day and the day after the last of a month.
pub fn month_range(y: i64, m: i64) -> (i64, i64) {
    let first = days_from_civil(y, m, 1);
    (first, first + days_in_month(y, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_the_documented_format() {
        let t = parse_time("2020-07-15 14:21:58.000000").unwrap();
        assert_eq!(format_time(t), "2020-07-15 14:21:58.000000");
        assert_eq!(parse_time("2020-07-15T14:21:58"), Some(t));
        assert_eq!(parse_time("2020/7/15 14:21:58"), Some(t));
        assert_eq!(parse_time("2020-07-15 14:21"), Some(t - 58));
        assert_eq!(t.div_euclid(DAY), parse_date("2020-07-15").unwrap());
        for bad in ["2020-02-30 00:00:00", "2020-07-15 24:00:00", "2020-07-15", "x", "2020-07-15 10:00:00.x"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_and_months() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for day in [-1000, 0, 18_262, 18_459, 30_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(parse_month("2020-02"), Some((2020, 2)));
        assert_eq!(parse_month("2020-02-13"), Some((2020, 2)));
        let (a, b) = month_range(2020, 2);
        assert_eq!((format_date(a), b - a), ("2020-02-01".to_string(), 29));
    }
}
