//! `hearth transit synth`: a realistic dataset of any size, the same for the same seed,
//! written as the competition's four CSV files (so it loads through the import): 168
//! stations on 8 lines in 9 districts, passengers mostly of working age, and trips with
//! morning and evening rush-hour peaks, busier on workdays, between stations of uneven
//! popularity, with durations and fares growing with distance.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::moment::{civil_from_days, days_from_civil, format_date, DAY};

pub const LINES: [i64; 8] = [1, 2, 3, 4, 5, 10, 11, 12];
pub const DISTRICTS: [i64; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 10];
pub const STATIONS: usize = 168;

#[derive(Debug, Clone)]
pub struct Options {
    pub trips: u64,
    pub passengers: u64,
    pub days: i64,
    /// First day, as a day number.
    pub start: i64,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { trips: 1_000_000, passengers: 125_000, days: 30, start: days_from_civil(2020, 1, 1), seed: 1 }
    }
}

/// SplitMix64: tiny, fast and the same on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// An index drawn from cumulative weights.
    fn pick(&mut self, cumulative: &[f64]) -> usize {
        let x = self.unit() * cumulative[cumulative.len() - 1];
        cumulative.partition_point(|c| *c <= x).min(cumulative.len() - 1)
    }
}

pub struct Station {
    pub id: i64,
    pub name: String,
    pub line: usize,
    pub position: i64,
    pub district: i64,
}

pub fn stations() -> Vec<Station> {
    let per_line = STATIONS / LINES.len();
    (0..STATIONS)
        .map(|i| Station {
            id: 1004 + i as i64 + i as i64 / 8,
            name: format!("Sta{}", i + 1),
            line: i / per_line,
            position: (i % per_line) as i64,
            district: DISTRICTS[(i * DISTRICTS.len()) / STATIONS],
        })
        .collect()
}

/// 1 workday, 2 weekend, 3 public holiday.
fn date_class(day: i64) -> i64 {
    let (_, m, d) = civil_from_days(day);
    let weekday = (day + 3).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Monday
    if (m == 1 && d == 1) || (m == 5 && d <= 5) || (m == 10 && d <= 7) {
        3
    } else if weekday >= 5 {
        2
    } else {
        1
    }
}

fn day_weight(day: i64) -> f64 {
    match date_class(day) {
        1 => 1.0,
        2 => 0.72,
        _ => 0.6,
    }
}

fn hops(a: &Station, b: &Station) -> i64 {
    if a.line == b.line {
        (a.position - b.position).abs()
    } else {
        a.position.min(20 - a.position) / 2 + b.position.min(20 - b.position) / 2 + 4
    }
}

/// Seconds after midnight of an entry: rush-hour peaks at 8:00 and 18:00 over a base.
fn entry_second(rng: &mut Rng) -> i64 {
    let x = rng.unit();
    let hours = if x < 0.34 {
        8.0 + 0.8 * rng.normal()
    } else if x < 0.68 {
        18.0 + 1.0 * rng.normal()
    } else {
        6.0 + 17.0 * rng.unit()
    };
    // The metro runs 5:30–23:00; a draw outside it falls back to the base.
    let hours = if (5.5..23.0).contains(&hours) { hours } else { 6.0 + 17.0 * rng.unit() };
    (hours * 3600.0) as i64
}

fn uid(rng: &mut Rng) -> String {
    format!("{:016x}{:016x}", rng.next(), rng.next())
}

pub struct Written {
    pub dir: PathBuf,
    pub trips: u64,
    pub passengers: u64,
}

fn create(dir: &Path, name: &str) -> anyhow::Result<BufWriter<File>> {
    let path = dir.join(name);
    Ok(BufWriter::with_capacity(1 << 20, File::create(&path).with_context(|| format!("creating {}", path.display()))?))
}

/// Writes stations.csv, users.csv, workdays.csv and trips.csv into `dir`.
pub fn write(dir: &Path, opts: &Options, progress: bool) -> anyhow::Result<Written> {
    anyhow::ensure!(opts.days >= 1, "days must be at least 1");
    anyhow::ensure!(opts.passengers >= 1, "passengers must be at least 1");
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(opts.seed);
    let stations = stations();

    let mut out = create(dir, "stations.csv")?;
    writeln!(out, "编号,站点名称,线路,行政区域")?;
    for s in &stations {
        writeln!(out, "{},{},{}号线,Dist{}", s.id, s.name, LINES[s.line], s.district)?;
    }
    out.flush()?;

    let (ref_year, _, _) = civil_from_days(opts.start);
    let mut out = create(dir, "users.csv")?;
    writeln!(out, "用户ID,区域代码,出生年份,性别")?;
    let mut uids = Vec::with_capacity(opts.passengers as usize);
    for _ in 0..opts.passengers {
        let id = uid(&mut rng);
        let x = rng.unit();
        let age = if x < 0.005 {
            rng.below(7) as i64
        } else if x < 0.01 {
            7 + rng.below(11) as i64
        } else if x < 0.80 {
            18 + rng.below(23) as i64
        } else if x < 0.995 {
            41 + rng.below(25) as i64
        } else {
            66 + rng.below(20) as i64
        };
        writeln!(out, "{id},{},{},{}", 5101 + rng.below(20), ref_year - age, rng.below(2))?;
        uids.push(id);
    }
    out.flush()?;

    let mut out = create(dir, "workdays.csv")?;
    writeln!(out, "日期,日期分类")?;
    for day in opts.start..opts.start + opts.days {
        writeln!(out, "{},{}", format_date(day), date_class(day))?;
    }
    out.flush()?;

    // Station popularity: a few hubs, a long tail.
    let mut popularity: Vec<f64> = (0..STATIONS).map(|i| 1.0 / (((i * 37) % STATIONS) as f64 + 4.0)).collect();
    let mut acc = 0.0;
    for w in popularity.iter_mut() {
        acc += *w;
        *w = acc;
    }
    let weights: Vec<f64> = (0..opts.days).map(|d| day_weight(opts.start + d)).collect();
    let total_weight: f64 = weights.iter().sum();
    let mut per_day: Vec<u64> = weights.iter().map(|w| (opts.trips as f64 * w / total_weight) as u64).collect();
    let short = opts.trips - per_day.iter().sum::<u64>();
    let days = per_day.len();
    for i in 0..short as usize {
        per_day[i % days] += 1;
    }

    let mut out = create(dir, "trips.csv")?;
    writeln!(out, "用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格")?;
    let mut written = 0u64;
    let started = std::time::Instant::now();
    for (d, count) in per_day.iter().enumerate() {
        let day = opts.start + d as i64;
        let mut entries: Vec<i64> = (0..*count).map(|_| entry_second(&mut rng)).collect();
        entries.sort_unstable();
        let date = format_date(day);
        for second in entries {
            let a = rng.pick(&popularity);
            let mut b = rng.pick(&popularity);
            if b == a {
                b = (a + 1 + rng.below(STATIONS as u64 - 1) as usize) % STATIONS;
            }
            let (sa, sb) = (&stations[a], &stations[b]);
            let h = hops(sa, sb).max(1);
            let duration = 240 + h * 150 + rng.below(420) as i64;
            let out_second = (second + duration).min(DAY - 1);
            let fare = (200 + 100 * ((h - 1) / 4)).min(900);
            let channel = match rng.below(100) {
                0..=39 => 1,
                40..=64 => 2,
                65..=84 => 3,
                85..=94 => 4,
                _ => 5,
            };
            // Frequent riders are many times likelier than occasional ones.
            let rider = &uids[((rng.unit().powi(2)) * uids.len() as f64) as usize % uids.len()];
            writeln!(
                out,
                "{rider},{},{date} {:02}:{:02}:{:02},{},{date} {:02}:{:02}:{:02},{channel},{fare}",
                sa.name,
                second / 3600,
                second % 3600 / 60,
                second % 60,
                sb.name,
                out_second / 3600,
                out_second % 3600 / 60,
                out_second % 60,
            )?;
            written += 1;
        }
        if progress {
            let rate = written as f64 / started.elapsed().as_secs_f64().max(1e-6);
            eprint!(
                "\rtrips.csv      {:5.1}% {:>11} rows {:>9.0}/s",
                written as f64 * 100.0 / opts.trips.max(1) as f64,
                written,
                rate
            );
        }
    }
    out.flush()?;
    if progress {
        eprintln!();
    }
    Ok(Written { dir: dir.to_owned(), trips: written, passengers: opts.passengers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_files() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let opts = Options { trips: 2_000, passengers: 300, days: 3, seed: 7, ..Options::default() };
        write(a.path(), &opts, false).unwrap();
        write(b.path(), &opts, false).unwrap();
        for f in ["stations.csv", "users.csv", "workdays.csv", "trips.csv"] {
            assert_eq!(std::fs::read(a.path().join(f)).unwrap(), std::fs::read(b.path().join(f)).unwrap(), "{f}");
        }
        let trips = std::fs::read_to_string(a.path().join("trips.csv")).unwrap();
        assert_eq!(trips.lines().count(), 2_001);
        let other = Options { seed: 8, ..opts };
        write(b.path(), &other, false).unwrap();
        assert_ne!(
            std::fs::read(a.path().join("trips.csv")).unwrap(),
            std::fs::read(b.path().join("trips.csv")).unwrap()
        );
    }
}
