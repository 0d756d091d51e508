//! `hearth transit import`: the competition CSV files (stations, users, workdays, trips)
//! into the database in ONE transaction, so a bad line keeps nothing of the import. Trips
//! are read by `trips`; `bulk` holds what makes a large import fast.

mod bulk;
mod trips;

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::moment::{format_date, parse_date};

#[derive(Default, Debug, Clone)]
pub struct Files {
    pub stations: Option<PathBuf>,
    pub users: Option<PathBuf>,
    pub workdays: Option<PathBuf>,
    pub trips: Option<PathBuf>,
}

impl Files {
    /// The files of a folder, by their usual names.
    pub fn in_folder(dir: &Path) -> Files {
        let find = |names: &[&str]| names.iter().map(|n| dir.join(n)).find(|p| p.is_file());
        Files {
            stations: find(&["stations.csv", "station.csv"]),
            users: find(&["users.csv", "user.csv", "passengers.csv"]),
            workdays: find(&["workdays.csv", "workday.csv"]),
            trips: find(&["trips.csv", "trip.csv"]),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_none() && self.users.is_none() && self.workdays.is_none() && self.trips.is_none()
    }
}

#[derive(Default, Debug)]
pub struct Summary {
    pub stations: u64,
    pub passengers: u64,
    pub workdays: u64,
    pub trips: u64,
    pub trip_secs: f64,
    pub total_secs: f64,
    /// Whether no server held the data folder, so that the import wrote through a
    /// rollback journal (`bulk::Alone`) instead of the WAL.
    pub alone: bool,
}

/// A CSV file read line by line, with its line number for error messages.
struct Reader {
    name: String,
    lines: Box<dyn BufRead + Send>,
    number: u64,
    read: u64,
    size: u64,
    started: Instant,
    shown: Instant,
    progress: bool,
}

impl Reader {
    fn open(path: &Path, progress: bool) -> anyhow::Result<Reader> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Reader::new(name, Box::new(BufReader::with_capacity(1 << 20, file)), size, progress))
    }

    fn new(name: String, lines: Box<dyn BufRead + Send>, size: u64, progress: bool) -> Reader {
        Reader { name, lines, number: 0, read: 0, size, started: Instant::now(), shown: Instant::now(), progress }
    }

    /// Reads the next non-empty line, without its line ending, into `buf`; false at the end.
    fn next(&mut self, buf: &mut String) -> anyhow::Result<bool> {
        loop {
            buf.clear();
            let n = self
                .lines
                .read_line(buf)
                .with_context(|| format!("{} line {}: not UTF-8 text", self.name, self.number + 1))?;
            if n == 0 {
                return Ok(false);
            }
            self.number += 1;
            self.read += n as u64;
            if self.number == 1 && buf.starts_with('\u{feff}') {
                buf.drain(..3);
            }
            let end = buf.trim_end_matches(['\n', '\r']).len();
            buf.truncate(end);
            if !buf.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    fn error(&self, what: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("{} line {}: {what}; nothing was imported", self.name, self.number)
    }

    fn show(&mut self, rows: u64, done: bool) {
        if !self.progress || (!done && self.shown.elapsed().as_millis() < 200) {
            return;
        }
        self.shown = Instant::now();
        let pct = if self.size > 0 { self.read as f64 * 100.0 / self.size as f64 } else { 100.0 };
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-6);
        let filled = (pct / 5.0) as usize;
        eprint!(
            "\r{:<14} [{:<20}] {:5.1}% {:>11} rows {:>9.0}/s",
            self.name,
            "#".repeat(filled.min(20)),
            pct,
            rows,
            rate
        );
        if done {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

/// Splits a CSV line; quoted fields (with `""` for a quote) are understood.
fn split<'a>(line: &'a str, owned: &'a mut Vec<String>) -> Vec<&'a str> {
    if !line.contains('"') {
        return line.split(',').map(str::trim).collect();
    }
    owned.clear();
    let (mut field, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => owned.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    owned.push(field);
    let frozen: &'a Vec<String> = owned;
    frozen.iter().map(|s| s.trim()).collect()
}

/// Splits a line without quotes into `out` without allocating; 0 when it has more fields.
fn split_plain<'a>(line: &'a str, out: &mut [&'a str; 16]) -> usize {
    let mut n = 0;
    for field in line.split(',') {
        if n == out.len() {
            return 0;
        }
        out[n] = field.trim();
        n += 1;
    }
    n
}

/// Column positions of the named fields, from the header line.
fn columns(reader: &mut Reader, wanted: &[(&str, &[&str], bool)]) -> anyhow::Result<Vec<Option<usize>>> {
    let mut header = String::new();
    if !reader.next(&mut header)? {
        bail!("{} is empty", reader.name);
    }
    let mut owned = Vec::new();
    let fields = split(&header, &mut owned);
    let mut found = Vec::new();
    for (field, names, required) in wanted {
        let at = fields.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
        if at.is_none() && *required {
            let expected: Vec<&str> = wanted.iter().map(|(_, names, _)| names[0]).collect();
            return Err(reader.error(format!("the header has no {field} column (expected {})", expected.join(","))));
        }
        found.push(at);
    }
    Ok(found)
}

fn int(reader: &Reader, fields: &[&str], at: Option<usize>, name: &str) -> anyhow::Result<Option<i64>> {
    match at.and_then(|i| fields.get(i)).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .or_else(|_| text.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64).ok_or(()))
            .map(Some)
            .map_err(|_| reader.error(format!("{name} `{text}` is not a whole number"))),
    }
}

fn text<'a>(reader: &Reader, fields: &[&'a str], at: Option<usize>, name: &str) -> anyhow::Result<&'a str> {
    match at.and_then(|i| fields.get(i)) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(reader.error(format!("{name} is missing"))),
    }
}

fn import_stations(tx: &Connection, mut r: Reader) -> anyhow::Result<u64> {
    let cols = columns(
        &mut r,
        &[
            ("id", &["编号", "站点编号", "station_id", "id"], false),
            ("name", &["站点名称", "站点", "名称", "station_name", "name"], true),
            ("route", &["线路", "路线", "station_route", "route"], false),
            ("area", &["行政区域", "行政区", "区域", "admin_area", "area"], false),
        ],
    )?;
    let mut upsert = tx.prepare(
        "INSERT INTO transit_station (id, name, route, area) VALUES (coalesce(?1, (SELECT coalesce(max(id), 1000) + 1 FROM transit_station)), ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, route = excluded.route, area = excluded.area",
    )?;
    let mut n = 0u64;
    let mut line = String::new();
    while r.next(&mut line)? {
        let mut owned = Vec::new();
        let fields = split(&line, &mut owned);
        let id = int(&r, &fields, cols[0], "编号")?;
        let name = text(&r, &fields, cols[1], "站点名称")?;
        let get = |at: Option<usize>| at.and_then(|i| fields.get(i)).copied().unwrap_or_default();
        upsert.execute(params![id, name, get(cols[2]), get(cols[3])]).map_err(|e| r.error(e))?;
        n += 1;
    }
    r.show(n, true);
    Ok(n)
}

fn gender(r: &Reader, fields: &[&str], at: Option<usize>) -> anyhow::Result<Option<i64>> {
    match at.and_then(|i| fields.get(i)).copied() {
        Some("男") => Ok(Some(1)),
        Some("女") => Ok(Some(0)),
        _ => int(r, fields, at, "性别"),
    }
}

fn import_users(tx: &Connection, mut r: Reader) -> anyhow::Result<u64> {
    let cols = columns(
        &mut r,
        &[
            ("user id", &["用户ID", "用户id", "passenger_id", "user_id", "uesr_id", "uid"], true),
            ("dist", &["区域代码", "区域", "dist"], false),
            ("birth", &["出生年份", "出生年", "birth", "brith"], false),
            ("gender", &["性别", "gender"], false),
        ],
    )?;
    let mut rider = tx.prepare(
        "INSERT INTO transit_rider (uid) VALUES (?1) ON CONFLICT (uid) DO UPDATE SET uid = uid RETURNING id",
    )?;
    let mut upsert = tx.prepare(
        "INSERT INTO transit_passenger (rider_id, dist, birth, gender) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (rider_id) DO UPDATE SET dist = excluded.dist, birth = excluded.birth, gender = excluded.gender",
    )?;
    let mut n = 0u64;
    let mut line = String::new();
    while r.next(&mut line)? {
        let mut owned = Vec::new();
        let fields = split(&line, &mut owned);
        let uid = text(&r, &fields, cols[0], "用户ID")?;
        let id: i64 = rider.query_row([uid], |row| row.get(0)).map_err(|e| r.error(e))?;
        let (dist, birth, g) = (
            int(&r, &fields, cols[1], "区域代码")?,
            int(&r, &fields, cols[2], "出生年份")?,
            gender(&r, &fields, cols[3])?,
        );
        upsert.execute(params![id, dist, birth, g]).map_err(|e| r.error(e))?;
        n += 1;
        if n.is_multiple_of(65_536) {
            r.show(n, false);
        }
    }
    r.show(n, true);
    Ok(n)
}

fn import_workdays(tx: &Connection, mut r: Reader) -> anyhow::Result<u64> {
    let cols = columns(
        &mut r,
        &[("date", &["日期", "date"], true), ("class", &["日期分类", "分类", "类别", "date_class", "cls"], true)],
    )?;
    let mut upsert = tx.prepare(
        "INSERT INTO transit_workday (date, date_class) VALUES (?1, ?2) ON CONFLICT (date) DO UPDATE SET date_class = excluded.date_class",
    )?;
    let mut n = 0u64;
    let mut line = String::new();
    while r.next(&mut line)? {
        let mut owned = Vec::new();
        let fields = split(&line, &mut owned);
        let date = text(&r, &fields, cols[0], "日期")?;
        let day = parse_date(date).ok_or_else(|| r.error(format!("日期 `{date}` is not a date like 2020-01-01")))?;
        let class = int(&r, &fields, cols[1], "日期分类")?.ok_or_else(|| r.error("日期分类 is missing"))?;
        upsert.execute(params![format_date(day), class])?;
        n += 1;
    }
    r.show(n, true);
    Ok(n)
}

/// The four kinds of competition file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stations,
    Users,
    Workdays,
    Trips,
}

/// Imports one file's text into `tx` exactly as `import` reads that kind of file, without
/// progress output; on an error, rolling back is the caller's. The `transit_csv_line` fuzz
/// target's entry point.
pub fn import_text(tx: &Connection, kind: Kind, text: &[u8]) -> anyhow::Result<u64> {
    let r = Reader::new(
        format!("{kind:?}.csv").to_lowercase(),
        Box::new(Cursor::new(text.to_vec())),
        text.len() as u64,
        false,
    );
    match kind {
        Kind::Stations => import_stations(tx, r),
        Kind::Users => import_users(tx, r),
        Kind::Workdays => import_workdays(tx, r),
        Kind::Trips => trips::import_trips(tx, r),
    }
}

/// Imports `files` into the database at `db`, all or nothing.
pub fn import(db: &Path, files: &Files, progress: bool) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut conn = Connection::open(db)?;
    conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;")?;
    let alone = bulk::Alone::enter(&conn, db);
    let ran_alone = alone.is_some();
    let loaded = load(&mut conn, files, progress);
    let left = alone.map_or(Ok(()), |alone| alone.leave(&conn));
    let mut summary = loaded?;
    if let Err(e) = left {
        // The import is committed all the same, and a server's start puts the WAL back.
        tracing::warn!(error = %e, "the database stays in rollback-journal mode until a server opens it");
    }
    summary.alone = ran_alone;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).optional()?;
    summary.total_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The import's one transaction.
fn load(conn: &mut Connection, files: &Files, progress: bool) -> anyhow::Result<Summary> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut summary = Summary::default();
    if let Some(p) = &files.stations {
        summary.stations = import_stations(&tx, Reader::open(p, progress)?)?;
    }
    if let Some(p) = &files.users {
        summary.passengers = import_users(&tx, Reader::open(p, progress)?)?;
    }
    if let Some(p) = &files.workdays {
        summary.workdays = import_workdays(&tx, Reader::open(p, progress)?)?;
    }
    if let Some(p) = &files.trips {
        let t = Instant::now();
        summary.trips = trips::import_trips(&tx, Reader::open(p, progress)?)?;
        summary.trip_secs = t.elapsed().as_secs_f64();
    }
    tx.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE transit_trip; ANALYZE transit_od_day;")?;
    tx.commit()?;
    Ok(summary)
}
