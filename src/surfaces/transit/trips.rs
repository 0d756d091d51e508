//! Trips (出行记录): list with filters, paging and sort; create, update and delete, each
//! keeping the rollups exact in the same transaction.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::listing::{order_by, paging, Filters};
use super::moment::{format_time, parse_time, DAY};
use super::rollup::{self, TripCore};
use super::seek;
use super::JsonBody;
use super::{ack, incomplete, listed, not_found, signed_in, station_filter, Ack, Page, Reply, Scope, Sent};
use super::{passengers::rider_id, stations::station_by_name};
use crate::identity::authz::Operation;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct TripApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename = "Trip")]
pub struct TripRow {
    id: i64,
    /// The passenger's id
    user_id: String,
    /// The same, as the document spells it
    uesr_id: String,
    in_station: String,
    /// `yyyy-MM-dd HH:mm:ss.000000`
    in_station_time: String,
    out_station: String,
    out_station_time: String,
    channel: i64,
    price: i64,
}

#[derive(Object, serde::Deserialize)]
#[oai(rename = "TripInput")]
struct TripInput {
    token: Option<String>,
    action: Option<String>,
    /// The trip to change (update only)
    id: Option<LenientId>,
    user_id: Option<String>,
    /// Accepted as a spelling of `user_id`
    uesr_id: Option<String>,
    /// Station name, e.g. Sta18
    in_station: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss[.ffffff]`
    in_station_time: Option<String>,
    out_station: Option<String>,
    out_station_time: Option<String>,
    channel: Option<LenientId>,
    price: Option<LenientId>,
}

#[derive(Object, serde::Deserialize)]
#[oai(rename = "TripDelete")]
struct TripDelete {
    token: Option<String>,
    action: Option<String>,
    id: Option<LenientId>,
}

/// A trip as stored.
#[derive(Clone)]
struct Stored {
    rider: i64,
    core: TripCore,
    channel: i64,
    price: i64,
}

const SELECT: &str = "SELECT t.id, r.uid, si.name, t.in_time, so.name, t.out_time, t.channel, t.price
     FROM transit_trip t JOIN transit_rider r ON r.id = t.rider_id
     JOIN transit_station si ON si.id = t.in_station JOIN transit_station so ON so.id = t.out_station";

const SORTS: &[(&str, &str)] = &[
    ("id", "t.id"),
    ("user_id", "r.uid"),
    ("uesr_id", "r.uid"),
    ("uid", "r.uid"),
    ("in_station", "si.name"),
    ("in_station_time", "t.in_time"),
    ("out_station", "so.name"),
    ("out_station_time", "t.out_time"),
    ("channel", "t.channel"),
    ("price", "t.price"),
];

fn row(r: &rusqlite::Row) -> rusqlite::Result<TripRow> {
    let uid: String = r.get(1)?;
    Ok(TripRow {
        id: r.get(0)?,
        user_id: uid.clone(),
        uesr_id: uid,
        in_station: r.get(2)?,
        in_station_time: format_time(r.get(3)?),
        out_station: r.get(4)?,
        out_station_time: format_time(r.get(5)?),
        channel: r.get(6)?,
        price: r.get(7)?,
    })
}

/// The list's filters, resolved to stored ids (`None` inside: matches nothing).
#[derive(Default, Clone, Copy)]
struct Wanted {
    id: Option<i64>,
    rider: Option<Option<i64>>,
    station: Option<Option<i64>>,
    day: Option<i64>,
    channel: Option<i64>,
    price: Option<i64>,
}

fn where_clause(w: &Wanted, scoped: &Option<Vec<i64>>) -> Filters {
    let mut f = Filters::default();
    if let Some(id) = w.id {
        f.push("t.id = ?", [Value::Integer(id)]);
    }
    if let Some(rider) = w.rider {
        f.push("t.rider_id = ?", [Value::Integer(rider.unwrap_or(-1))]);
    }
    if let Some(station) = w.station {
        let s = station.unwrap_or(-1);
        f.push("(t.in_station = ? OR t.out_station = ?)", [Value::Integer(s), Value::Integer(s)]);
    }
    if let Some(day) = w.day {
        f.push("t.in_time >= ? AND t.in_time < ?", [Value::Integer(day * DAY), Value::Integer((day + 1) * DAY)]);
    }
    if let Some(channel) = w.channel {
        f.push("t.channel = ?", [Value::Integer(channel)]);
    }
    if let Some(price) = w.price {
        f.push("t.price = ?", [Value::Integer(price)]);
    }
    f.raw(station_filter("t.in_station", scoped));
    f
}

/// A page of trips at one station in time order, as the merge of two index walks (trips
/// entering there, trips leaving there), so a busy station's page costs no more than a
/// quiet one's: an OR over both columns would collect and sort all of them first.
fn station_page(
    w: &Wanted,
    station: i64,
    scoped: &Option<Vec<i64>>,
    desc: bool,
    limit: i64,
    offset: i64,
) -> (String, Vec<Value>) {
    let mut rest = where_clause(&Wanted { station: None, ..*w }, scoped);
    rest.params.push(Value::Integer(station));
    let k = rest.params.len();
    let extra: String = rest.conditions.iter().map(|c| format!(" AND {c}")).collect();
    let dir = if desc { "DESC" } else { "ASC" };
    let sql = format!(
        "WITH picked AS (
             SELECT t.id AS id, t.in_time AS at FROM transit_trip t WHERE t.in_station = ?{k}{extra}
             UNION ALL
             SELECT t.id, t.in_time FROM transit_trip t WHERE t.out_station = ?{k} AND t.in_station <> ?{k}{extra}
             ORDER BY 2 {dir}, 1 {dir} LIMIT {limit} OFFSET {offset})
         {SELECT} WHERE t.id IN (SELECT id FROM picked) ORDER BY t.in_time {dir}, t.id {dir}"
    );
    (sql, rest.params)
}

/// Whether the list is all trips or one day's, in the time index's order alone, so a deep
/// page can start by seek (`seek.rs`).
fn by_time_alone(w: &Wanted, scoped: &Option<Vec<i64>>) -> bool {
    let Wanted { id, rider, station, day: _, channel, price } = w;
    id.is_none() && rider.is_none() && station.is_none() && channel.is_none() && price.is_none() && scoped.is_none()
}

fn sum(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<i64> {
    conn.query_row(sql, params, |r| r.get::<_, Option<i64>>(0)).map(Option::unwrap_or_default)
}

/// Rows matching the filters: from the rollups when the filters are ones they answer,
/// else by counting.
fn total(conn: &Connection, w: &Wanted, scoped: &Option<Vec<i64>>, filters: &Filters) -> rusqlite::Result<i64> {
    let by_rollup = w.id.is_none() && w.rider.is_none() && w.channel.is_none() && w.price.is_none();
    match (by_rollup, w.station, w.day, scoped) {
        (true, None, None, None) => return sum(conn, "SELECT sum(n) FROM transit_day_total", []),
        (true, None, Some(d), None) => return sum(conn, "SELECT sum(n) FROM transit_day_total WHERE day = ?1", [d]),
        (true, None, day, Some(_)) => {
            let day_filter = day.map_or(String::new(), |d| format!(" AND day = {d}"));
            let sql = format!(
                "SELECT sum(n_in) FROM transit_station_hour WHERE 1 = 1{day_filter}{}",
                station_filter("station", scoped)
            );
            return sum(conn, &sql, []);
        }
        (true, Some(None), _, _) => return Ok(0),
        (true, Some(Some(s)), Some(d), None) => {
            return sum(
                conn,
                "SELECT sum(n) FROM transit_od_day WHERE day = ?1 AND (origin = ?2 OR dest = ?2)",
                [d, s],
            );
        }
        (true, Some(Some(s)), None, None) => {
            let gates = sum(conn, "SELECT sum(n_in) + sum(n_out) FROM transit_station_hour WHERE station = ?1", [s])?;
            let round = sum(
                conn,
                "SELECT sum(n) FROM transit_od_day WHERE day IN (SELECT day FROM transit_day_total) AND origin = ?1 AND dest = ?1",
                [s],
            )?;
            return Ok(gates - round);
        }
        _ => {}
    }
    let sql = format!("SELECT count(*) FROM transit_trip t {}", filters.sql());
    conn.query_row(&sql, rusqlite::params_from_iter(&filters.params), |r| r.get(0))
}

fn load(conn: &Connection, id: i64) -> rusqlite::Result<Option<Stored>> {
    conn.query_row(
        "SELECT rider_id, in_station, in_time, out_station, out_time, channel, price FROM transit_trip WHERE id = ?1",
        [id],
        |r| {
            Ok(Stored {
                rider: r.get(0)?,
                core: TripCore {
                    in_station: r.get(1)?,
                    in_time: r.get(2)?,
                    out_station: r.get(3)?,
                    out_time: r.get(4)?,
                },
                channel: r.get(5)?,
                price: r.get(6)?,
            })
        },
    )
    .optional()
}

fn station_id(conn: &Connection, name: &str, field: &str) -> Result<i64, Failure> {
    let station = station_by_name(conn, name)?
        .ok_or_else(|| Failure::Invalid(format!("{field}: there is no station {name}; add it first")))?;
    Ok(station.0)
}

fn check_scope(conn: &Connection, station: i64, scope: &Scope) -> Result<(), Failure> {
    if let Some(ids) = scope.stations(conn)? {
        if !ids.contains(&station) {
            return Err(Failure::Forbidden("this trip's entry station is outside your data scope".into()));
        }
    }
    Ok(())
}

/// The trip `input` describes, over `base` for the fields it leaves out.
fn merge(conn: &Connection, input: &TripInput, base: Option<&Stored>, scope: &Scope) -> Result<Stored, Failure> {
    let uid = input.user_id.as_deref().or(input.uesr_id.as_deref()).map(str::trim);
    let mut missing = Vec::new();
    if base.is_none() {
        for (name, absent) in [
            ("user_id", uid.is_none()),
            ("in_station", input.in_station.is_none()),
            ("in_station_time", input.in_station_time.is_none()),
            ("out_station", input.out_station.is_none()),
            ("out_station_time", input.out_station_time.is_none()),
            ("channel", input.channel.is_none()),
            ("price", input.price.is_none()),
        ] {
            if absent {
                missing.push(name);
            }
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(&missing));
    }
    let time = |text: &Option<String>, field: &str, old: Option<i64>| -> Result<i64, Failure> {
        match text {
            Some(t) => parse_time(t).ok_or_else(|| {
                Failure::Invalid(format!("{field}: `{t}` is not a time like 2020-07-15 14:21:58.000000"))
            }),
            None => Ok(old.expect("base present when a field is absent")),
        }
    };
    let rider = match uid {
        Some("") => return Err(Failure::Invalid("user_id must not be empty".into())),
        Some(uid) => rider_id(conn, uid, true)?.expect("created"),
        None => base.expect("base").rider,
    };
    let in_station = match &input.in_station {
        Some(name) => station_id(conn, name, "in_station")?,
        None => base.expect("base").core.in_station,
    };
    let out_station = match &input.out_station {
        Some(name) => station_id(conn, name, "out_station")?,
        None => base.expect("base").core.out_station,
    };
    let core = TripCore {
        in_station,
        in_time: time(&input.in_station_time, "in_station_time", base.map(|b| b.core.in_time))?,
        out_station,
        out_time: time(&input.out_station_time, "out_station_time", base.map(|b| b.core.out_time))?,
    };
    if core.out_time < core.in_time {
        return Err(Failure::Invalid("out_station_time must not be before in_station_time".into()));
    }
    let channel = input.channel.map(|c| c.0).or(base.map(|b| b.channel)).expect("checked");
    let price = input.price.map(|p| p.0).or(base.map(|b| b.price)).expect("checked");
    if price < 0 {
        return Err(Failure::Invalid("price must not be negative".into()));
    }
    check_scope(conn, in_station, scope)?;
    Ok(Stored { rider, core, channel, price })
}

fn duplicate(conn: &Connection, t: &Stored, except: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM transit_trip WHERE rider_id = ?1 AND in_time = ?2 AND in_station = ?3 AND id <> ?4)",
        params![t.rider, t.core.in_time, t.core.in_station, except],
        |r| r.get(0),
    )
}

fn write(conn: &Connection, id: Option<i64>, t: &Stored) -> rusqlite::Result<()> {
    let c = &t.core;
    match id {
        None => conn.execute(
            "INSERT INTO transit_trip (rider_id, in_station, in_time, out_station, out_time, channel, price) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![t.rider, c.in_station, c.in_time, c.out_station, c.out_time, t.channel, t.price],
        )?,
        Some(id) => conn.execute(
            "UPDATE transit_trip SET rider_id = ?1, in_station = ?2, in_time = ?3, out_station = ?4, out_time = ?5, channel = ?6, price = ?7 WHERE id = ?8",
            params![t.rider, c.in_station, c.in_time, c.out_station, c.out_time, t.channel, t.price, id],
        )?,
    };
    Ok(())
}

#[OpenApi]
impl TripApi {
    /// List trips (action=list_trip), filtered by id, uid (passenger), station (origin or destination), date (day of entry), channel and price
    #[oai(path = "/api/manage/trip/list", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        op: &Operation,
        req: &Request,
        /// list_trip
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        id: Query<Option<i64>>,
        /// Passenger id (also as user_id)
        uid: Query<Option<String>>,
        user_id: Query<Option<String>>,
        /// Station name: trips entering or leaving there
        station: Query<Option<String>>,
        /// yyyy-MM-dd: trips entering on that day
        date: Query<Option<String>>,
        channel: Query<Option<i64>>,
        price: Query<Option<i64>>,
        page: Query<Option<i64>>,
        limit: Query<Option<i64>>,
        /// A field name, `-` first for descending, e.g. -in_station_time
        sort: Query<Option<String>>,
    ) -> Reply<Page<TripRow>> {
        let (_, scope) = signed_in(
            &self.0,
            op,
            req,
            Sent { token: token.0.as_deref(), action: action.0.as_deref() },
            &["list_trip"],
        )
        .await?;
        let paging = paging(page.0, limit.0)?;
        // Chronological by default: the time and rider indexes then deliver pages in order.
        let order = order_by(sort.0.as_deref(), SORTS, "t.in_time ASC, t.id ASC", "t.id")?;
        let day = match date.0.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(
                super::moment::parse_day_of(d)
                    .ok_or_else(|| Failure::Invalid(format!("date: `{d}` is not a date like 2020-07-15")))?,
            ),
            None => None,
        };
        let chronological = match sort.0.as_deref().map(str::trim) {
            None | Some("") | Some("in_station_time") | Some("+in_station_time") => Some(false),
            Some("-in_station_time") => Some(true),
            _ => None,
        };
        let uid = uid.0.or(user_id.0).filter(|u| !u.is_empty());
        let station = station.0.filter(|s| !s.is_empty());
        let (id, channel, price) = (id.0, channel.0, price.0);
        let (rows, total) = self
            .0
            .db
            .read(move |c| {
                let wanted = Wanted {
                    id,
                    rider: uid.map(|u| rider_id(c, &u, false)).transpose()?,
                    station: station.map(|s| station_by_name(c, &s).map(|o| o.map(|s| s.0))).transpose()?,
                    day,
                    channel,
                    price,
                };
                let scoped = scope.stations(c)?;
                let filters = where_clause(&wanted, &scoped);
                let (sql, values) = match (wanted.station, chronological) {
                    (Some(Some(station)), Some(desc)) => {
                        station_page(&wanted, station, &scoped, desc, paging.limit, paging.offset)
                    }
                    (_, Some(desc)) if paging.offset > 0 && by_time_alone(&wanted, &scoped) => {
                        let mut from = where_clause(&wanted, &scoped);
                        seek::from_start(&mut from, desc, seek::page_start(c, wanted.day, desc, paging.offset)?);
                        (format!("{SELECT} {} {order} LIMIT {}", from.sql(), paging.limit), from.params)
                    }
                    _ => (
                        format!("{SELECT} {} {order} LIMIT {} OFFSET {}", filters.sql(), paging.limit, paging.offset),
                        filters.params.clone(),
                    ),
                };
                let mut stmt = c.prepare(&sql)?;
                let rows =
                    stmt.query_map(rusqlite::params_from_iter(&values), row)?.collect::<rusqlite::Result<Vec<_>>>()?;
                let total = total(c, &wanted, &scoped, &filters)?;
                Ok::<_, Failure>((rows, total))
            })
            .await?;
        listed(rows, total)
    }

    /// Add a trip (action=add_trip)
    #[oai(path = "/api/manage/trip/create", method = "post")]
    async fn create(&self, op: &Operation, req: &Request, body: JsonBody<TripInput>) -> Reply<Ack> {
        let (_, scope) = signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["add_trip"]).await?;
        let input = body.0;
        self.0
            .db
            .write(move |tx| {
                let trip = merge(tx, &input, None, &scope)?;
                if duplicate(tx, &trip, -1)? {
                    return Err(Failure::Conflict(
                        "该记录已经存在: this passenger already has a trip entering that station at that time".into(),
                    ));
                }
                write(tx, None, &trip)?;
                rollup::change(tx, None, Some(&trip.core))?;
                Ok(())
            })
            .await?;
        ack()
    }

    /// Change a trip (action=modify_trip); fields left out keep their values
    #[oai(path = "/api/manage/trip/update", method = "put")]
    async fn update(&self, op: &Operation, req: &Request, body: JsonBody<TripInput>) -> Reply<Ack> {
        let (_, scope) = signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["modify_trip"]).await?;
        let input = body.0;
        let id = input.id.ok_or_else(|| incomplete(&["id"]))?.0;
        self.0
            .db
            .write(move |tx| {
                let before = load(tx, id)?.ok_or_else(|| not_found(id))?;
                check_scope(tx, before.core.in_station, &scope)?;
                let after = merge(tx, &input, Some(&before), &scope)?;
                if duplicate(tx, &after, id)? {
                    return Err(Failure::Conflict(
                        "该记录已经存在: this passenger already has a trip entering that station at that time".into(),
                    ));
                }
                write(tx, Some(id), &after)?;
                rollup::change(tx, Some(&before.core), Some(&after.core))?;
                Ok(())
            })
            .await?;
        ack()
    }

    /// Delete a trip (action=del_trip); the JSON body names its id
    #[oai(path = "/api/manage/trip/delete", method = "delete")]
    async fn delete(&self, op: &Operation, req: &Request, body: JsonBody<TripDelete>) -> Reply<Ack> {
        let (_, scope) = signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["del_trip"]).await?;
        let id = body.id.ok_or_else(|| incomplete(&["id"]))?.0;
        self.0
            .db
            .write(move |tx| {
                let before = load(tx, id)?.ok_or_else(|| not_found(id))?;
                check_scope(tx, before.core.in_station, &scope)?;
                tx.execute("DELETE FROM transit_trip WHERE id = ?1", [id])?;
                rollup::change(tx, Some(&before.core), None)?;
                Ok::<_, Failure>(())
            })
            .await?;
        ack()
    }
}
