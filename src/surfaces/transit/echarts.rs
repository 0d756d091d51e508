//! The ECharts answers. They read only the rollups (and the passenger table for ages),
//! never the trips. Under a `transit.area` data scope a trip counts where it entered: the
//! caller sees the trips whose entry station lies in its areas.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use rusqlite::Connection;

use super::moment::{format_date, month_range, parse_day_of, parse_month, year_of_day};
use super::rollup::latest_day;
use super::stations::station_by_name;
use super::{data, signed_in, station_filter, Data, LooseBody, Reply, Scope, Sent, OK};
use crate::identity::authz::Operation;
use crate::surfaces::Failure;
use crate::AppState;

pub struct EchartsApi(pub Arc<AppState>);

pub const AGE_GROUPS: [(&str, i64, i64); 5] =
    [("0-6", 0, 6), ("7-17", 7, 17), ("18-40", 18, 40), ("41-65", 41, 65), ("66+", 66, i64::MAX)];

#[derive(Object)]
pub struct NameValue {
    pub name: String,
    pub value: i64,
}

#[derive(Object)]
pub struct AgeStruct {
    /// 2000
    code: i64,
    data: Vec<NameValue>,
    /// The groups, in order, for the chart's axis
    name: Vec<String>,
}

#[derive(Object)]
pub struct DayCount {
    /// yyyy-MM-dd (yyyy-MM for monthly totals)
    pub date: String,
    pub count: i64,
}

#[derive(Object)]
pub struct PairCount {
    pub in_station: String,
    pub out_station: String,
    pub count: i64,
}

#[derive(Object)]
pub struct HourCount {
    pub hour: i64,
    pub count: i64,
}

#[derive(Object)]
pub struct Realtime {
    /// 2000
    code: i64,
    /// Trips entering the station, per hour with any
    in_list: Vec<HourCount>,
    /// Trips leaving the station, per hour with any
    out_list: Vec<HourCount>,
}

pub fn day_param(text: Option<String>) -> Result<Option<i64>, Failure> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse_day_of(t)
            .map(Some)
            .ok_or_else(|| Failure::Invalid(format!("date: `{t}` is not a date like 2020-01-01"))),
    }
}

pub fn month_param(text: Option<String>) -> Result<Option<(i64, i64)>, Failure> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            parse_month(t).map(Some).ok_or_else(|| Failure::Invalid(format!("date: `{t}` is not a month like 2020-04")))
        }
    }
}

/// Trips per day in `[from, to)`, newest first, from the per-day totals or, under a scope,
/// from the entry stations' hourly rollups.
fn per_day(c: &Connection, scoped: &Option<Vec<i64>>, from: i64, to: i64) -> rusqlite::Result<Vec<(i64, i64)>> {
    let sql = match scoped {
        None => "SELECT day, n FROM transit_day_total WHERE day >= ?1 AND day < ?2 ORDER BY day DESC".to_owned(),
        Some(_) => format!(
            "SELECT day, sum(n_in) FROM transit_station_hour WHERE day >= ?1 AND day < ?2{} GROUP BY day HAVING sum(n_in) > 0 ORDER BY day DESC",
            station_filter("station", scoped)
        ),
    };
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?)))?.collect();
    rows
}

fn counts(rows: Vec<(i64, i64)>) -> Vec<DayCount> {
    rows.into_iter().map(|(day, count)| DayCount { date: format_date(day), count }).collect()
}

/// Passengers per age group; age = `year` (default: the latest trip's year) − birth year,
/// from the birth-year rollup (a hundred rows, not every passenger).
pub fn age_groups(c: &Connection, year: Option<i64>) -> Result<[i64; 5], Failure> {
    if year.is_some_and(|y| !(1..=9999).contains(&y)) {
        return Err(Failure::Invalid("year must be a year from 1 to 9999".into()));
    }
    let reference = reference_year(c, year)?;
    let mut stmt = c.prepare_cached("SELECT birth, n FROM transit_birth_year")?;
    let mut groups = [0i64; 5];
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (birth, n) = row?;
        // A stored birth year far outside the calendar belongs to no group.
        let Some(age) = reference.checked_sub(birth) else { continue };
        if let Some(i) = AGE_GROUPS.iter().position(|(_, lo, hi)| (*lo..=*hi).contains(&age)) {
            groups[i] += n;
        }
    }
    Ok(groups)
}

fn reference_year(c: &Connection, year: Option<i64>) -> Result<i64, Failure> {
    Ok(match year {
        Some(y) => y,
        None => latest_day(c)?.map_or_else(|| year_of_day(crate::clock::now() / 86_400), year_of_day),
    })
}

/// Why no passenger fell into an age group: none has a birth year, or all were born after
/// the reference year (a `year` before the dataset's).
fn empty_ages_reason(c: &Connection, year: Option<i64>) -> Result<String, Failure> {
    let reference = reference_year(c, year)?;
    let (with_birth, born_later): (i64, i64) = c.query_row(
        "SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE birth > ?1), 0) FROM transit_birth_year",
        [reference],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(if with_birth > 0 && with_birth == born_later {
        format!("年龄组成结构查询结果为空: every passenger was born after the reference year {reference}")
    } else {
        "年龄组成结构查询结果为空: no passenger has a birth year".into()
    })
}

/// Trips per day, newest first; with `day`, that day only (0 when it had none).
pub fn daily(c: &Connection, scope: &Scope, day: Option<i64>) -> Result<Vec<DayCount>, Failure> {
    let scoped = scope.stations(c)?;
    let mut rows = match day {
        Some(d) => per_day(c, &scoped, d, d + 1)?,
        None => per_day(c, &scoped, i64::MIN, i64::MAX)?,
    };
    if let (Some(d), true) = (day, rows.is_empty()) {
        rows.push((d, 0));
    }
    Ok(counts(rows))
}

/// Trips per day of a month, newest first; without one, trips per month of the latest trip's year.
pub fn monthly(c: &Connection, scope: &Scope, month: Option<(i64, i64)>) -> Result<Vec<DayCount>, Failure> {
    let scoped = scope.stations(c)?;
    if let Some((y, m)) = month {
        let (from, to) = month_range(y, m);
        return Ok(counts(per_day(c, &scoped, from, to)?));
    }
    let Some(latest) = latest_day(c)? else { return Ok(Vec::new()) };
    let year = year_of_day(latest);
    let mut months: Vec<DayCount> = Vec::new();
    for m in (1..=12).rev() {
        let (from, to) = month_range(year, m);
        let n: i64 = per_day(c, &scoped, from, to)?.iter().map(|(_, n)| n).sum();
        if n > 0 {
            months.push(DayCount { date: format!("{year:04}-{m:02}"), count: n });
        }
    }
    Ok(months)
}

/// Origin–destination pairs of `day` (default the latest), most trips first.
pub fn od_pairs(
    c: &Connection,
    scope: &Scope,
    station: Option<&str>,
    day: Option<i64>,
    limit: i64,
) -> Result<Vec<PairCount>, Failure> {
    let Some(day) = day.map_or_else(|| latest_day(c), |d| Ok(Some(d)))? else { return Ok(Vec::new()) };
    let mut sql = "SELECT so.name, sd.name, o.n FROM transit_od_day o JOIN transit_station so ON so.id = o.origin
                   JOIN transit_station sd ON sd.id = o.dest WHERE o.day = ?1"
        .to_owned();
    let mut station_id = -1;
    if let Some(name) = station {
        station_id = station_by_name(c, name)?
            .ok_or_else(|| Failure::Invalid(format!("station: there is no station {name}")))?
            .0;
        sql.push_str(" AND (o.origin = ?2 OR o.dest = ?2)");
    } else {
        sql.push_str(" AND ?2 = -1");
    }
    sql.push_str(&station_filter("o.origin", &scope.stations(c)?));
    sql.push_str(" ORDER BY o.n DESC, o.origin, o.dest LIMIT ?3");
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt
        .query_map([day, station_id, limit], |r| {
            Ok(PairCount { in_station: r.get(0)?, out_station: r.get(1)?, count: r.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Trips entering and leaving `station` per hour of `day` (default the latest).
pub fn hourly(
    c: &Connection,
    scope: &Scope,
    station: &str,
    day: Option<i64>,
) -> Result<(Vec<HourCount>, Vec<HourCount>), Failure> {
    let (id, area) = station_by_name(c, station)?
        .ok_or_else(|| Failure::Invalid(format!("station: there is no station {station}")))?;
    scope.check_area(&area)?;
    let Some(day) = day.map_or_else(|| latest_day(c), |d| Ok(Some(d)))? else { return Ok((Vec::new(), Vec::new())) };
    let mut stmt = c.prepare_cached(
        "SELECT hour, n_in, n_out FROM transit_station_hour WHERE station = ?1 AND day = ?2 ORDER BY hour",
    )?;
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    for row in stmt.query_map([id, day], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))? {
        let (hour, n_in, n_out) = row?;
        if n_in > 0 {
            ins.push(HourCount { hour, count: n_in });
        }
        if n_out > 0 {
            outs.push(HourCount { hour, count: n_out });
        }
    }
    Ok((ins, outs))
}

impl EchartsApi {
    async fn scope(
        &self,
        op: &Operation,
        req: &Request,
        token: &Option<String>,
        action: &Option<String>,
        actions: &[&str],
    ) -> Result<Scope, crate::surfaces::ApiError<super::Transit>> {
        Ok(signed_in(&self.0, op, req, Sent { token: token.as_deref(), action: action.as_deref() }, actions).await?.1)
    }
}

#[OpenApi]
impl EchartsApi {
    /// Passengers per age group (action=age_struct); age = year − birth year
    #[oai(path = "/api/echarts/agestruct", method = "get")]
    async fn agestruct(
        &self,
        op: &Operation,
        req: &Request,
        /// age_struct
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        /// Reference year for ages (default: the year of the latest trip)
        year: Query<Option<i64>>,
    ) -> Result<Json<AgeStruct>, crate::surfaces::ApiError<super::Transit>> {
        self.scope(op, req, &token.0, &action.0, &["age_struct"]).await?;
        let year = year.0;
        let groups = self
            .0
            .db
            .read(move |c| {
                let groups = age_groups(c, year)?;
                if groups.iter().sum::<i64>() == 0 {
                    return Err(Failure::NotFound(empty_ages_reason(c, year)?));
                }
                Ok(groups)
            })
            .await?;
        let data = AGE_GROUPS
            .iter()
            .zip(groups)
            .map(|((name, _, _), value)| NameValue { name: (*name).into(), value })
            .collect();
        Ok(Json(AgeStruct { code: OK, data, name: AGE_GROUPS.iter().map(|(n, _, _)| (*n).to_owned()).collect() }))
    }

    /// Trips per day (action=list_daily): every day newest first, or the one `date`
    #[oai(path = "/api/echarts/daily", method = "get")]
    async fn daily(
        &self,
        op: &Operation,
        req: &Request,
        /// list_daily
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        /// yyyy-MM-dd: only that day
        date: Query<Option<String>>,
    ) -> Reply<Data<Vec<DayCount>>> {
        let scope = self.scope(op, req, &token.0, &action.0, &["list_daily"]).await?;
        let day = day_param(date.0)?;
        let rows = self.0.db.read(move |c| daily(c, &scope, day)).await?;
        data(rows)
    }

    /// Trips per day of a month (action=list_month, date=yyyy-MM), newest first; without a date, trips per month of the latest trip's year
    #[oai(path = "/api/echarts/month", method = "get")]
    async fn month(
        &self,
        op: &Operation,
        req: &Request,
        /// list_month
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        /// yyyy-MM, or any date in the month
        date: Query<Option<String>>,
    ) -> Reply<Data<Vec<DayCount>>> {
        let scope = self.scope(op, req, &token.0, &action.0, &["list_month"]).await?;
        let month = month_param(date.0)?;
        let rows = self.0.db.read(move |c| monthly(c, &scope, month)).await?;
        data(rows)
    }

    /// Origin–destination pairs of one day by trips, most first (action=list_od); `station` keeps pairs starting or ending there
    #[oai(path = "/api/echarts/od", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn od(
        &self,
        op: &Operation,
        req: &Request,
        /// list_od
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        /// Station name
        station: Query<Option<String>>,
        /// The day (a time part is ignored); default the latest day with trips
        date: Query<Option<String>>,
        /// Pairs to answer, default 100, at most 10000
        limit: Query<Option<i64>>,
        body: LooseBody,
    ) -> Reply<Data<Vec<PairCount>>> {
        let token = token.0.or_else(|| body.text("token"));
        let action = action.0.or_else(|| body.text("action"));
        let scope = self.scope(op, req, &token, &action, &["list_od"]).await?;
        let station = station.0.or_else(|| body.text("station")).filter(|s| !s.is_empty());
        let day = day_param(date.0.or_else(|| body.text("date")))?;
        let limit = limit.0.or_else(|| body.text("limit").and_then(|l| l.parse().ok())).unwrap_or(100);
        if !(1..=10_000).contains(&limit) {
            return Err(Failure::Invalid("limit must be between 1 and 10000".into()).into());
        }
        let pairs = self.0.db.read(move |c| od_pairs(c, &scope, station.as_deref(), day, limit)).await?;
        data(pairs)
    }

    /// Trips entering and leaving one station per hour of one day (action=station_of_point)
    #[oai(path = "/api/echarts/realtime", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn realtime(
        &self,
        op: &Operation,
        req: &Request,
        /// station_of_point
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        /// Station name
        station: Query<Option<String>>,
        /// The day; default the latest day with trips
        date: Query<Option<String>>,
        body: LooseBody,
    ) -> Result<Json<Realtime>, crate::surfaces::ApiError<super::Transit>> {
        let token = token.0.or_else(|| body.text("token"));
        let action = action.0.or_else(|| body.text("action"));
        let scope = self.scope(op, req, &token, &action, &["station_of_point"]).await?;
        let station = station.0.or_else(|| body.text("station")).filter(|s| !s.trim().is_empty());
        let station = station.ok_or_else(|| Failure::Missing("请求消息不全: send `station` (and `date`)".into()))?;
        let day = day_param(date.0.or_else(|| body.text("date")))?;
        let (in_list, out_list) = self.0.db.read(move |c| hourly(c, &scope, &station, day)).await?;
        Ok(Json(Realtime { code: OK, in_list, out_list }))
    }
}
