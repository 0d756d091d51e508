//! The analytics rollups: trips per day, per station and hour (in and out), and per day
//! and origin–destination pair. Every trip change adds its deltas here in the same
//! transaction, and the bulk import folds a whole file's deltas in at once, so the
//! echarts answers read only these small tables and always equal a GROUP BY over trips.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rusqlite::{params, Connection};

use super::moment::DAY;

/// What of a trip the rollups depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TripCore {
    pub in_station: i64,
    pub in_time: i64,
    pub out_station: i64,
    pub out_time: i64,
}

fn day_hour(t: i64) -> (i64, i64) {
    (t.div_euclid(DAY), t.rem_euclid(DAY) / 3600)
}

/// A fast non-cryptographic hash (the Fx hash) for the import's in-memory maps: the
/// keys are our own numbers and station names, so hash flooding is not a concern.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Pending rollup deltas.
#[derive(Default)]
pub struct Deltas {
    days: FastMap<i64, i64>,
    station_hours: FastMap<(i64, i64, i64), (i64, i64)>,
    pairs: FastMap<(i64, i64, i64), i64>,
    removes: bool,
}

/// Entries in key order, so a large flush appends to the B-trees instead of jumping about.
fn sorted<K: Ord + Copy, V: Copy>(map: &FastMap<K, V>) -> Vec<(K, V)> {
    let mut entries: Vec<(K, V)> = map.iter().map(|(k, v)| (*k, *v)).collect();
    entries.sort_unstable_by_key(|(k, _)| *k);
    entries
}

impl Deltas {
    /// Counts `trip` `sign` times (+1 added, -1 removed).
    pub fn add(&mut self, trip: &TripCore, sign: i64) {
        let (day, in_hour) = day_hour(trip.in_time);
        let (out_day, out_hour) = day_hour(trip.out_time);
        *self.days.entry(day).or_default() += sign;
        self.station_hours.entry((trip.in_station, day, in_hour)).or_default().0 += sign;
        self.station_hours.entry((trip.out_station, out_day, out_hour)).or_default().1 += sign;
        *self.pairs.entry((day, trip.in_station, trip.out_station)).or_default() += sign;
        self.removes |= sign < 0;
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Writes the deltas; rows brought to zero are deleted so the tables stay small.
    pub fn flush(self, conn: &Connection) -> rusqlite::Result<()> {
        let mut day = conn.prepare_cached(
            "INSERT INTO transit_day_total (day, n) VALUES (?1, ?2) ON CONFLICT (day) DO UPDATE SET n = n + excluded.n",
        )?;
        for (d, n) in sorted(&self.days) {
            if n != 0 {
                day.execute(params![d, n])?;
            }
        }
        let mut hour = conn.prepare_cached(
            "INSERT INTO transit_station_hour (station, day, hour, n_in, n_out) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (station, day, hour) DO UPDATE SET n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out",
        )?;
        for ((s, d, h), (i, o)) in sorted(&self.station_hours) {
            if (i, o) != (0, 0) {
                hour.execute(params![s, d, h, i, o])?;
            }
        }
        let mut pair = conn.prepare_cached(
            "INSERT INTO transit_od_day (day, origin, dest, n) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (day, origin, dest) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((d, o, t), n) in sorted(&self.pairs) {
            if n != 0 {
                pair.execute(params![d, o, t, n])?;
            }
        }
        if self.removes {
            for (d, n) in &self.days {
                if *n < 0 {
                    conn.prepare_cached("DELETE FROM transit_day_total WHERE day = ?1 AND n = 0")?.execute([d])?;
                }
            }
            for ((s, d, h), (i, o)) in &self.station_hours {
                if *i < 0 || *o < 0 {
                    conn.prepare_cached(
                        "DELETE FROM transit_station_hour WHERE station = ?1 AND day = ?2 AND hour = ?3 AND n_in = 0 AND n_out = 0",
                    )?
                    .execute(params![s, d, h])?;
                }
            }
            for ((d, o, t), n) in &self.pairs {
                if *n < 0 {
                    conn.prepare_cached(
                        "DELETE FROM transit_od_day WHERE day = ?1 AND origin = ?2 AND dest = ?3 AND n = 0",
                    )?
                    .execute(params![d, o, t])?;
                }
            }
        }
        Ok(())
    }
}

/// Applies one trip change (`before` removed, `after` added) to the rollups.
pub fn change(conn: &Connection, before: Option<&TripCore>, after: Option<&TripCore>) -> rusqlite::Result<()> {
    let mut deltas = Deltas::default();
    if let Some(t) = before {
        deltas.add(t, -1);
    }
    if let Some(t) = after {
        deltas.add(t, 1);
    }
    deltas.flush(conn)
}

/// Whether any trip starts or ends at `station` (its rollup rows exist exactly then).
pub fn station_used(conn: &Connection, station: i64) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM transit_station_hour WHERE station = ?1)", [station], |r| r.get(0))
}

/// The latest day with trips, if any.
pub fn latest_day(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT max(day) FROM transit_day_total", [], |r| r.get(0))
}
