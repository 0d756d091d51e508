//! The trips file: parsed on a second thread and inserted many rows to a statement, with
//! the rollup deltas summed in memory and folded in at the end. When the import is large
//! next to what is stored, the trips' secondary indexes are dropped first and rebuilt once
//! at the end (inside the same transaction), which is much faster than updating them row
//! by row.

use rusqlite::{params, params_from_iter, Connection};

use super::{bulk, columns, int, split, split_plain, Reader};
use crate::surfaces::transit::moment::parse_time;
use crate::surfaces::transit::rollup::{Deltas, FastMap, TripCore};

pub(super) fn import_trips(tx: &Connection, mut r: Reader) -> anyhow::Result<u64> {
    let cols = columns(
        &mut r,
        &[
            ("用户ID", &["用户ID", "用户id", "user_id", "uesr_id", "uid"], true),
            ("进站名称", &["进站名称", "进站", "in_station"], true),
            ("进站时间", &["进站时间", "in_station_time"], true),
            ("出站名称", &["出站名称", "出站", "out_station"], true),
            ("出站时间", &["出站时间", "out_station_time"], true),
            ("渠道编号", &["渠道编号", "渠道", "channel"], true),
            ("价格", &["价格", "price"], true),
        ],
    )?;
    let cols: Vec<usize> = cols.into_iter().map(|c| c.expect("all required")).collect();
    let widest = *cols.iter().max().expect("seven columns");
    let stations: FastMap<String, i64> = tx
        .prepare("SELECT name, id FROM transit_station")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let riders: bulk::RiderIds = tx
        .prepare("SELECT uid, id FROM transit_rider")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let next_rider: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM transit_rider", [], |row| row.get(0))?;
    let existing: i64 = tx.query_row("SELECT coalesce(sum(n), 0) FROM transit_day_total", [], |row| row.get(0))?;
    let estimated = r.size / 70;
    let rebuild = estimated as i64 >= existing / 4;
    if rebuild {
        bulk::drop_trip_indexes(tx)?;
    }
    let mut new_rider = tx.prepare("INSERT INTO transit_rider (id, uid) VALUES (?1, ?2)")?;
    let mut insert_one = tx.prepare(&insert_trips_sql(1))?;
    let mut insert_many = tx.prepare(&insert_trips_sql(ROWS_PER_INSERT))?;
    // Parsing runs on a second thread so that the SQLite thread only inserts and sums the
    // rollup deltas (which balances the two); new riders get their ids on the parsing
    // side, which is safe because this transaction holds the write lock.
    let progress = r.progress;
    let (send, batches) = std::sync::mpsc::sync_channel::<Batch>(8);
    let parsing = Parsing { cols: &cols, widest, stations: &stations, riders, next_rider };
    let (parsed, mut r) = std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let outcome = parsing.run(&mut r, send);
            (outcome, r)
        });
        let mut deltas = Deltas::default();
        let inserted = (|| -> anyhow::Result<()> {
            for batch in batches.iter() {
                for (id, uid) in &batch.new_riders {
                    new_rider.execute(params![id, uid])?;
                }
                let mut chunks = batch.trips.chunks_exact(ROWS_PER_INSERT);
                for chunk in &mut chunks {
                    insert_many.execute(params_from_iter(trip_values(chunk)))?;
                }
                for trip in chunks.remainder() {
                    insert_one.execute(params_from_iter(trip_values(std::slice::from_ref(trip))))?;
                }
                for (_, core, _, _) in &batch.trips {
                    deltas.add(core, 1);
                }
            }
            Ok(())
        })();
        drop(batches);
        let (parsed, r) = parser.join().expect("the CSV parser does not panic");
        (inserted.and(parsed).map(|n| (n, deltas)), r)
    });
    let (n, deltas) = parsed?;
    r.show(n, true);
    if progress {
        eprint!("rollups and indexes…");
    }
    deltas.flush(tx)?;
    if rebuild {
        bulk::build_trip_indexes(tx)?;
    }
    if progress {
        eprintln!(" done");
    }
    Ok(n)
}

/// Trips parsed from the file, ready to insert: (rider, core, channel, price).
struct Batch {
    new_riders: Vec<(i64, String)>,
    trips: Vec<(i64, TripCore, i64, i64)>,
}

/// Trips per batch; a multiple of `ROWS_PER_INSERT`, so only the last batch has a rest.
const BATCH: usize = 8192;

/// Trips per INSERT statement: with one row a statement, running the statement itself
/// (and AUTOINCREMENT's bookkeeping) takes as long as storing the row.
const ROWS_PER_INSERT: usize = 128;

fn insert_trips_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
    format!("INSERT INTO transit_trip (rider_id, in_station, in_time, out_station, out_time, channel, price) VALUES {values}")
}

/// The INSERT parameters of `trips`, row after row.
fn trip_values(trips: &[(i64, TripCore, i64, i64)]) -> impl Iterator<Item = i64> + '_ {
    trips.iter().flat_map(|(rider, c, channel, price)| {
        [*rider, c.in_station, c.in_time, c.out_station, c.out_time, *channel, *price]
    })
}

/// What the parser thread needs: the column positions and the station and rider ids.
struct Parsing<'a> {
    cols: &'a [usize],
    widest: usize,
    stations: &'a FastMap<String, i64>,
    riders: bulk::RiderIds,
    next_rider: i64,
}

impl Parsing<'_> {
    /// Parses every line into batches and counts them; stops at the first bad line, or
    /// when the inserting side has stopped.
    fn run(mut self, r: &mut Reader, send: std::sync::mpsc::SyncSender<Batch>) -> anyhow::Result<u64> {
        let cols = self.cols;
        let station = |r: &Reader, name: &str, what: &str| -> anyhow::Result<i64> {
            self.stations.get(name).copied().ok_or_else(|| {
                r.error(format!("{what} `{name}` is not a known station (import the stations file first)"))
            })
        };
        let time = |r: &Reader, text: &str, what: &str| -> anyhow::Result<i64> {
            parse_time(text).ok_or_else(|| r.error(format!("{what} `{text}` is not a time like 2020-07-15 14:21:58")))
        };
        let mut n = 0u64;
        let mut batch = Batch { new_riders: Vec::new(), trips: Vec::with_capacity(BATCH) };
        let mut line = String::new();
        let mut owned = Vec::new();
        while r.next(&mut line)? {
            let mut plain = [""; 16];
            let count = if line.contains('"') { 0 } else { split_plain(&line, &mut plain) };
            let quoted;
            let fields: &[&str] = if count > 0 {
                &plain[..count]
            } else {
                quoted = split(&line, &mut owned);
                &quoted
            };
            if fields.len() <= self.widest {
                return Err(r.error(format!("expected {} fields, found {}", self.widest + 1, fields.len())));
            }
            let uid = fields[cols[0]];
            if uid.is_empty() {
                return Err(r.error("用户ID is missing"));
            }
            let rider = match self.riders.get(uid) {
                Some(id) => id,
                None => {
                    let id = self.next_rider;
                    self.next_rider += 1;
                    self.riders.insert(uid, id);
                    batch.new_riders.push((id, uid.to_owned()));
                    id
                }
            };
            let core = TripCore {
                in_station: station(r, fields[cols[1]], "进站名称")?,
                in_time: time(r, fields[cols[2]], "进站时间")?,
                out_station: station(r, fields[cols[3]], "出站名称")?,
                out_time: time(r, fields[cols[4]], "出站时间")?,
            };
            if core.out_time < core.in_time {
                return Err(r.error("出站时间 is before 进站时间"));
            }
            let channel = int(r, fields, Some(cols[5]), "渠道编号")?.ok_or_else(|| r.error("渠道编号 is missing"))?;
            let price = int(r, fields, Some(cols[6]), "价格")?.ok_or_else(|| r.error("价格 is missing"))?;
            batch.trips.push((rider, core, channel, price));
            n += 1;
            if batch.trips.len() == BATCH {
                let full =
                    std::mem::replace(&mut batch, Batch { new_riders: Vec::new(), trips: Vec::with_capacity(BATCH) });
                if send.send(full).is_err() {
                    break;
                }
                r.show(n, false);
            }
        }
        let _ = send.send(batch);
        Ok(n)
    }
}
