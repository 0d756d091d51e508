//! Deep pages of the chronological trip list by seek instead of by skipping rows. A page
//! `OFFSET n` in `(in_time, id)` order starts at the n-th trip; the per-day totals say which
//! day holds it, a walk of that day alone in the time index (no table rows) finds the trip,
//! and the page is then read from there. The answer is the one `LIMIT … OFFSET …` gives.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::listing::Filters;
use super::moment::DAY;

/// Where the page starts: the first trip's `(in_time, id)`, or `None` past the last trip.
/// `day` is the list's day filter, if any; `desc` the newest-first order.
pub fn page_start(
    conn: &Connection,
    day: Option<i64>,
    desc: bool,
    offset: i64,
) -> rusqlite::Result<Option<(i64, i64)>> {
    let (lo, hi, skip) = match day {
        Some(day) => (day * DAY, (day + 1) * DAY, offset),
        None => match day_holding(conn, desc, offset)? {
            Some((day, skip)) if desc => (i64::MIN, (day + 1) * DAY, skip),
            Some((day, skip)) => (day * DAY, i64::MAX, skip),
            None => return Ok(None),
        },
    };
    let sql = if desc {
        "SELECT in_time, id FROM transit_trip WHERE in_time >= ?1 AND in_time < ?2
         ORDER BY in_time DESC, id DESC LIMIT 1 OFFSET ?3"
    } else {
        "SELECT in_time, id FROM transit_trip WHERE in_time >= ?1 AND in_time < ?2
         ORDER BY in_time ASC, id ASC LIMIT 1 OFFSET ?3"
    };
    conn.prepare_cached(sql)?.query_row(params![lo, hi, skip], |r| Ok((r.get(0)?, r.get(1)?))).optional()
}

/// The day holding the `offset`-th trip in list order and how many of that day's trips
/// come before it, from the per-day totals.
fn day_holding(conn: &Connection, desc: bool, offset: i64) -> rusqlite::Result<Option<(i64, i64)>> {
    let sql = if desc {
        "SELECT day, n FROM transit_day_total ORDER BY day DESC"
    } else {
        "SELECT day, n FROM transit_day_total ORDER BY day ASC"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    let mut before = 0;
    while let Some(row) = rows.next()? {
        let (day, n): (i64, i64) = (row.get(0)?, row.get(1)?);
        if offset < before + n {
            return Ok(Some((day, offset - before)));
        }
        before += n;
    }
    Ok(None)
}

/// Narrows `filters` to the trips from `start` on in list order; none when there is no start.
pub fn from_start(filters: &mut Filters, desc: bool, start: Option<(i64, i64)>) {
    let Some((at, id)) = start else {
        return filters.push("0", []);
    };
    let condition = if desc {
        "t.in_time <= ? AND (t.in_time < ? OR t.id <= ?)"
    } else {
        "t.in_time >= ? AND (t.in_time > ? OR t.id >= ?)"
    };
    filters.push(condition, [Value::Integer(at), Value::Integer(at), Value::Integer(id)]);
}
