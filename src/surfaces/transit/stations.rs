//! Stations (站点信息): small, referenced by id from every trip. A station's admin area
//! is what `transit.area` data scopes restrict.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::listing::{order_by, paging, Filters};
use super::JsonBody;
use super::{ack, incomplete, listed, not_found, rollup, signed_in, Ack, Page, Reply, Sent};
use crate::identity::authz::Operation;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct StationApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename = "Station")]
pub struct StationRow {
    station_id: i64,
    station_name: String,
    /// e.g. 1号线
    station_route: String,
    /// e.g. Dist1
    admin_area: String,
}

#[derive(Object, serde::Deserialize)]
#[oai(rename = "StationInput")]
struct StationInput {
    token: Option<String>,
    action: Option<String>,
    /// Given on create (else the next free id); names the station on update and delete
    station_id: Option<LenientId>,
    station_name: Option<String>,
    station_route: Option<String>,
    admin_area: Option<String>,
}

/// A station by name, or by id when the text is a number no station is named: (id, area).
pub fn station_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<(i64, String)>> {
    let name = name.trim();
    let found = conn
        .prepare_cached("SELECT id, area FROM transit_station WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match (found, name.parse::<i64>()) {
        (Some(s), _) => Ok(Some(s)),
        (None, Ok(id)) => conn
            .query_row("SELECT id, area FROM transit_station WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional(),
        (None, Err(_)) => Ok(None),
    }
}

const SORTS: &[(&str, &str)] =
    &[("station_id", "id"), ("station_name", "name"), ("station_route", "route"), ("admin_area", "area")];

fn area_of(conn: &Connection, id: i64) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row("SELECT name, area FROM transit_station WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

fn name_taken(conn: &Connection, name: &str, except: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM transit_station WHERE name = ?1 AND id <> ?2)",
        params![name, except],
        |r| r.get(0),
    )
}

fn required_text(value: &Option<String>, field: &str) -> Result<Option<String>, Failure> {
    match value.as_deref().map(str::trim) {
        Some("") => Err(Failure::Invalid(format!("{field} must not be empty"))),
        other => Ok(other.map(str::to_owned)),
    }
}

#[OpenApi]
impl StationApi {
    /// List stations (action=list_station), filtered by station_id, station_name, station_route, admin_area
    #[oai(path = "/api/manage/station/list", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        op: &Operation,
        req: &Request,
        /// list_station
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        station_id: Query<Option<i64>>,
        station_name: Query<Option<String>>,
        station_route: Query<Option<String>>,
        admin_area: Query<Option<String>>,
        page: Query<Option<i64>>,
        limit: Query<Option<i64>>,
        sort: Query<Option<String>>,
    ) -> Reply<Page<StationRow>> {
        let (_, scope) = signed_in(
            &self.0,
            op,
            req,
            Sent { token: token.0.as_deref(), action: action.0.as_deref() },
            &["list_station"],
        )
        .await?;
        let paging = paging(page.0, limit.0)?;
        let order = order_by(sort.0.as_deref(), SORTS, "id ASC", "id")?;
        let mut f = Filters::default();
        if let Some(id) = station_id.0 {
            f.push("id = ?", [Value::Integer(id)]);
        }
        for (column, value) in [("name", station_name.0), ("route", station_route.0), ("area", admin_area.0)] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                f.push(&format!("{column} = ?"), [Value::Text(v)]);
            }
        }
        f.raw(scope.0.area_filter("area"));
        let (rows, total) = self
            .0
            .db
            .read(move |c| {
                let sql = format!(
                    "SELECT id, name, route, area FROM transit_station {} {order} LIMIT ?{} OFFSET ?{}",
                    f.sql(),
                    f.params.len() + 1,
                    f.params.len() + 2
                );
                let mut values = f.params.clone();
                values.extend([Value::Integer(paging.limit), Value::Integer(paging.offset)]);
                let rows = c
                    .prepare(&sql)?
                    .query_map(rusqlite::params_from_iter(&values), |r| {
                        Ok(StationRow {
                            station_id: r.get(0)?,
                            station_name: r.get(1)?,
                            station_route: r.get(2)?,
                            admin_area: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total = c.query_row(
                    &format!("SELECT count(*) FROM transit_station {}", f.sql()),
                    rusqlite::params_from_iter(&f.params),
                    |r| r.get(0),
                )?;
                Ok::<_, Failure>((rows, total))
            })
            .await?;
        listed(rows, total)
    }

    /// Add a station (action=add_station)
    #[oai(path = "/api/manage/station/create", method = "post")]
    async fn create(&self, op: &Operation, req: &Request, body: JsonBody<StationInput>) -> Reply<Ack> {
        let (_, scope) = signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["add_station"]).await?;
        let name = required_text(&body.station_name, "station_name")?.ok_or_else(|| incomplete(&["station_name"]))?;
        let route = body.station_route.clone().unwrap_or_default().trim().to_owned();
        let area = body.admin_area.clone().unwrap_or_default().trim().to_owned();
        scope.check_area(&area)?;
        let id = body.station_id.map(|i| i.0);
        self.0
            .db
            .write(move |tx| {
                let id = match id {
                    Some(id) => id,
                    None => {
                        tx.query_row("SELECT coalesce(max(id), 1000) + 1 FROM transit_station", [], |r| r.get(0))?
                    }
                };
                if area_of(tx, id)?.is_some() || name_taken(tx, &name, id)? {
                    return Err(Failure::Conflict(format!(
                        "该记录已经存在: a station with id {id} or name {name} exists"
                    )));
                }
                tx.execute(
                    "INSERT INTO transit_station (id, name, route, area) VALUES (?1, ?2, ?3, ?4)",
                    params![id, name, route, area],
                )?;
                Ok(())
            })
            .await?;
        ack()
    }

    /// Change a station (action=modify_station); fields left out keep their values
    #[oai(path = "/api/manage/station/update", method = "put")]
    async fn update(&self, op: &Operation, req: &Request, body: JsonBody<StationInput>) -> Reply<Ack> {
        let (_, scope) =
            signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["modify_station"]).await?;
        let id = body.station_id.ok_or_else(|| incomplete(&["station_id"]))?.0;
        let name = required_text(&body.station_name, "station_name")?;
        let (route, area) = (body.station_route.clone(), body.admin_area.clone());
        self.0
            .db
            .write(move |tx| {
                let (old_name, old_area) = area_of(tx, id)?.ok_or_else(|| not_found(id))?;
                scope.check_area(&old_area)?;
                let area = area.map_or(old_area, |a| a.trim().to_owned());
                scope.check_area(&area)?;
                let name = name.unwrap_or(old_name);
                if name_taken(tx, &name, id)? {
                    return Err(Failure::Conflict(format!("another station is already named {name}")));
                }
                tx.execute(
                    "UPDATE transit_station SET name = ?1, route = coalesce(?2, route), area = ?3 WHERE id = ?4",
                    params![name, route.map(|r| r.trim().to_owned()), area, id],
                )?;
                Ok(())
            })
            .await?;
        ack()
    }

    /// Delete a station (action=del_station); refused while trips start or end there
    #[oai(path = "/api/manage/station/delete", method = "delete")]
    async fn delete(&self, op: &Operation, req: &Request, body: JsonBody<StationInput>) -> Reply<Ack> {
        let (_, scope) = signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["del_station"]).await?;
        let id = body.station_id.ok_or_else(|| incomplete(&["station_id"]))?.0;
        self.0
            .db
            .write(move |tx| {
                let (name, area) = area_of(tx, id)?.ok_or_else(|| not_found(id))?;
                scope.check_area(&area)?;
                if rollup::station_used(tx, id)? {
                    return Err(Failure::Conflict(format!("station {name} has trips; delete or move them first")));
                }
                tx.execute("DELETE FROM transit_station WHERE id = ?1", [id])?;
                Ok(())
            })
            .await?;
        ack()
    }
}
