//! Passengers (乘客信息): the people behind trips. Every passenger id seen anywhere has a
//! `transit_rider` number that trips refer to; a passenger row adds dist, birth and gender.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::listing::{order_by, paging, Filters};
use super::JsonBody;
use super::{ack, incomplete, listed, not_found, signed_in, Ack, Page, Reply, Sent};
use crate::identity::authz::Operation;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct PassengerApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename = "Passenger")]
struct PassengerRow {
    passenger_id: String,
    /// The same id, as the document spells it
    uesr_id: String,
    dist: Option<i64>,
    /// Birth year
    birth: Option<i64>,
    /// The same, as the document spells it
    brith: Option<i64>,
    gender: Option<i64>,
}

#[derive(Object, serde::Deserialize)]
#[oai(rename = "PassengerInput")]
struct PassengerInput {
    token: Option<String>,
    action: Option<String>,
    passenger_id: Option<String>,
    /// Accepted as a spelling of passenger_id
    uesr_id: Option<String>,
    /// Accepted as a spelling of passenger_id
    user_id: Option<String>,
    dist: Option<LenientId>,
    birth: Option<LenientId>,
    /// Accepted as a spelling of birth
    brith: Option<LenientId>,
    gender: Option<LenientId>,
}

impl PassengerInput {
    fn id(&self) -> Result<String, Failure> {
        let id = self.passenger_id.as_deref().or(self.uesr_id.as_deref()).or(self.user_id.as_deref()).map(str::trim);
        match id {
            None => Err(incomplete(&["passenger_id"])),
            Some("") => Err(Failure::Invalid("passenger_id must not be empty".into())),
            Some(id) => Ok(id.to_owned()),
        }
    }

    fn birth(&self) -> Option<i64> {
        self.birth.or(self.brith).map(|b| b.0)
    }
}

/// The rider number of a passenger id; with `create`, a new one for an id not seen before.
pub fn rider_id(conn: &Connection, uid: &str, create: bool) -> rusqlite::Result<Option<i64>> {
    let found = conn
        .prepare_cached("SELECT id FROM transit_rider WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .optional()?;
    if found.is_some() || !create {
        return Ok(found);
    }
    conn.prepare_cached("INSERT INTO transit_rider (uid) VALUES (?1)")?.execute([uid])?;
    Ok(Some(conn.last_insert_rowid()))
}

const SORTS: &[(&str, &str)] = &[
    ("passenger_id", "r.uid"),
    ("uesr_id", "r.uid"),
    ("dist", "p.dist"),
    ("birth", "p.birth"),
    ("brith", "p.birth"),
    ("gender", "p.gender"),
];

pub struct ListQuery {
    passenger_id: Option<String>,
    dist: Option<i64>,
    birth: Option<i64>,
    gender: Option<i64>,
    page: Option<i64>,
    limit: Option<i64>,
    sort: Option<String>,
}

impl PassengerApi {
    async fn list(&self, op: &Operation, req: &Request, sent: Sent<'_>, q: ListQuery) -> Reply<Page<PassengerRow>> {
        signed_in(&self.0, op, req, sent, &["list_passenger"]).await?;
        let paging = paging(q.page, q.limit)?;
        let order = order_by(q.sort.as_deref(), SORTS, "p.rider_id ASC", "p.rider_id")?;
        let mut f = Filters::default();
        if let Some(id) = q.passenger_id.filter(|i| !i.is_empty()) {
            f.push("r.uid = ?", [Value::Text(id)]);
        }
        for (column, value) in [("p.dist", q.dist), ("p.birth", q.birth), ("p.gender", q.gender)] {
            if let Some(v) = value {
                f.push(&format!("{column} = ?"), [Value::Integer(v)]);
            }
        }
        let (rows, total) = self
            .0
            .db
            .read(move |c| {
                let from = format!("FROM transit_passenger p JOIN transit_rider r ON r.id = p.rider_id {}", f.sql());
                let sql = format!(
                    "SELECT r.uid, p.dist, p.birth, p.gender {from} {order} LIMIT {} OFFSET {}",
                    paging.limit, paging.offset
                );
                let rows = c
                    .prepare(&sql)?
                    .query_map(rusqlite::params_from_iter(&f.params), |r| {
                        let uid: String = r.get(0)?;
                        let birth: Option<i64> = r.get(2)?;
                        Ok(PassengerRow {
                            passenger_id: uid.clone(),
                            uesr_id: uid,
                            dist: r.get(1)?,
                            birth,
                            brith: birth,
                            gender: r.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total =
                    c.query_row(&format!("SELECT count(*) {from}"), rusqlite::params_from_iter(&f.params), |r| {
                        r.get(0)
                    })?;
                Ok::<_, Failure>((rows, total))
            })
            .await?;
        listed(rows, total)
    }

    async fn create(&self, op: &Operation, req: &Request, body: JsonBody<PassengerInput>) -> Reply<Ack> {
        signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["add_passenger", "add_passager"]).await?;
        let input = body.0;
        let uid = input.id()?;
        let (dist, birth, gender) = (input.dist.map(|d| d.0), input.birth(), input.gender.map(|g| g.0));
        self.0
            .db
            .write(move |tx| {
                let rider = rider_id(tx, &uid, true)?.expect("created");
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM transit_passenger WHERE rider_id = ?1)",
                    [rider],
                    |r| r.get(0),
                )?;
                if exists {
                    return Err(Failure::Conflict(format!("该记录已经存在: passenger {uid} exists")));
                }
                tx.execute(
                    "INSERT INTO transit_passenger (rider_id, dist, birth, gender) VALUES (?1, ?2, ?3, ?4)",
                    params![rider, dist, birth, gender],
                )?;
                Ok(())
            })
            .await?;
        ack()
    }
}

#[OpenApi]
impl PassengerApi {
    /// List passengers (action=list_passenger), filtered by passenger_id, dist, birth, gender
    #[oai(path = "/api/manage/passenger", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list_documented(
        &self,
        op: &Operation,
        req: &Request,
        /// list_passenger
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        passenger_id: Query<Option<String>>,
        dist: Query<Option<i64>>,
        /// Birth year (also as brith)
        birth: Query<Option<i64>>,
        brith: Query<Option<i64>>,
        gender: Query<Option<i64>>,
        page: Query<Option<i64>>,
        limit: Query<Option<i64>>,
        sort: Query<Option<String>>,
    ) -> Reply<Page<PassengerRow>> {
        let q = ListQuery {
            passenger_id: passenger_id.0,
            dist: dist.0,
            birth: birth.0.or(brith.0),
            gender: gender.0,
            page: page.0,
            limit: limit.0,
            sort: sort.0,
        };
        self.list(op, req, Sent { token: token.0.as_deref(), action: action.0.as_deref() }, q).await
    }

    /// List passengers: the same as /api/manage/passenger
    #[oai(path = "/api/manage/passenger/list", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list_alias(
        &self,
        op: &Operation,
        req: &Request,
        /// list_passenger
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        passenger_id: Query<Option<String>>,
        dist: Query<Option<i64>>,
        birth: Query<Option<i64>>,
        brith: Query<Option<i64>>,
        gender: Query<Option<i64>>,
        page: Query<Option<i64>>,
        limit: Query<Option<i64>>,
        sort: Query<Option<String>>,
    ) -> Reply<Page<PassengerRow>> {
        let q = ListQuery {
            passenger_id: passenger_id.0,
            dist: dist.0,
            birth: birth.0.or(brith.0),
            gender: gender.0,
            page: page.0,
            limit: limit.0,
            sort: sort.0,
        };
        self.list(op, req, Sent { token: token.0.as_deref(), action: action.0.as_deref() }, q).await
    }

    /// Add a passenger (action=add_passenger or add_passager), at the documented path
    #[oai(path = "/api/manager/passenger/create", method = "post")]
    async fn create_documented(&self, op: &Operation, req: &Request, body: JsonBody<PassengerInput>) -> Reply<Ack> {
        self.create(op, req, body).await
    }

    /// Add a passenger: the same as /api/manager/passenger/create
    #[oai(path = "/api/manage/passenger/create", method = "post")]
    async fn create_alias(&self, op: &Operation, req: &Request, body: JsonBody<PassengerInput>) -> Reply<Ack> {
        self.create(op, req, body).await
    }

    /// Change a passenger (action=modify_passenger, modify_passager, or modify_trip as the document's example sends); fields left out keep their values
    #[oai(path = "/api/manage/passenger/update", method = "put")]
    async fn update(&self, op: &Operation, req: &Request, body: JsonBody<PassengerInput>) -> Reply<Ack> {
        signed_in(
            &self.0,
            op,
            req,
            Sent::body(&body.token, &body.action),
            &["modify_passenger", "modify_passager", "modify_trip"],
        )
        .await?;
        let input = body.0;
        let uid = input.id()?;
        let (dist, birth, gender) = (input.dist.map(|d| d.0), input.birth(), input.gender.map(|g| g.0));
        self.0
            .db
            .write(move |tx| {
                let changed = tx.execute(
                    "UPDATE transit_passenger SET dist = coalesce(?1, dist), birth = coalesce(?2, birth), gender = coalesce(?3, gender)
                     WHERE rider_id = (SELECT id FROM transit_rider WHERE uid = ?4)",
                    params![dist, birth, gender, uid],
                )?;
                if changed == 0 {
                    return Err(not_found(&uid));
                }
                Ok(())
            })
            .await?;
        ack()
    }

    /// Delete a passenger (action=del_passenger); their trips stay
    #[oai(path = "/api/manage/passenger/delete", method = "delete")]
    async fn delete(&self, op: &Operation, req: &Request, body: JsonBody<PassengerInput>) -> Reply<Ack> {
        signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["del_passenger", "del_passager"]).await?;
        let uid = body.id()?;
        self.0
            .db
            .write(move |tx| {
                let rider = rider_id(tx, &uid, false)?.ok_or_else(|| not_found(&uid))?;
                if tx.execute("DELETE FROM transit_passenger WHERE rider_id = ?1", [rider])? == 0 {
                    return Err(not_found(&uid));
                }
                let travelled: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM transit_trip WHERE rider_id = ?1)", [rider], |r| {
                        r.get(0)
                    })?;
                if !travelled {
                    tx.execute("DELETE FROM transit_rider WHERE id = ?1", [rider])?;
                }
                Ok(())
            })
            .await?;
        ack()
    }
}
