//! Workdays (工作日信息): each date's class (the competition data use 1, 2 and 3).

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension};

use super::listing::{order_by, paging, Filters};
use super::moment::{format_date, parse_date};
use super::JsonBody;
use super::{ack, incomplete, listed, not_found, signed_in, Ack, Page, Reply, Sent};
use crate::identity::authz::Operation;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct WorkdayApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename = "Workday")]
struct WorkdayRow {
    /// yyyy-MM-dd
    date: String,
    date_class: i64,
}

#[derive(Object, serde::Deserialize)]
#[oai(rename = "WorkdayInput")]
struct WorkdayInput {
    token: Option<String>,
    action: Option<String>,
    /// yyyy-MM-dd
    date: Option<String>,
    date_class: Option<LenientId>,
}

/// The date normalised to `yyyy-MM-dd`.
pub fn normal_date(text: &str) -> Result<String, Failure> {
    parse_date(text)
        .map(format_date)
        .ok_or_else(|| Failure::Invalid(format!("date: `{text}` is not a date like 2020-01-01")))
}

/// The document's classes: 1 workday, 2 weekend, 3 holiday.
fn checked_class(class: i64) -> Result<i64, Failure> {
    if (1..=3).contains(&class) {
        Ok(class)
    } else {
        Err(Failure::Invalid(format!("date_class must be 1 (workday), 2 (weekend) or 3 (holiday), not {class}")))
    }
}

fn class_of(conn: &rusqlite::Connection, date: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT date_class FROM transit_workday WHERE date = ?1", [date], |r| r.get(0)).optional()
}

#[OpenApi]
impl WorkdayApi {
    /// List workdays (action=list_workday), filtered by date and cls (date_class)
    #[oai(path = "/api/manage/workday/list", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        op: &Operation,
        req: &Request,
        /// list_workday
        action: Query<Option<String>>,
        token: Query<Option<String>>,
        date: Query<Option<String>>,
        /// date_class
        cls: Query<Option<i64>>,
        page: Query<Option<i64>>,
        limit: Query<Option<i64>>,
        sort: Query<Option<String>>,
    ) -> Reply<Page<WorkdayRow>> {
        signed_in(&self.0, op, req, Sent { token: token.0.as_deref(), action: action.0.as_deref() }, &["list_workday"])
            .await?;
        let paging = paging(page.0, limit.0)?;
        let order = order_by(
            sort.0.as_deref(),
            &[("date", "date"), ("date_class", "date_class"), ("cls", "date_class")],
            "date ASC",
            "date",
        )?;
        let mut f = Filters::default();
        if let Some(d) = date.0.filter(|d| !d.is_empty()) {
            f.push("date = ?", [Value::Text(normal_date(&d)?)]);
        }
        if let Some(c) = cls.0 {
            f.push("date_class = ?", [Value::Integer(c)]);
        }
        let (rows, total) = self
            .0
            .db
            .read(move |c| {
                let sql = format!(
                    "SELECT date, date_class FROM transit_workday {} {order} LIMIT {} OFFSET {}",
                    f.sql(),
                    paging.limit,
                    paging.offset
                );
                let rows = c
                    .prepare(&sql)?
                    .query_map(rusqlite::params_from_iter(&f.params), |r| {
                        Ok(WorkdayRow { date: r.get(0)?, date_class: r.get(1)? })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total = c.query_row(
                    &format!("SELECT count(*) FROM transit_workday {}", f.sql()),
                    rusqlite::params_from_iter(&f.params),
                    |r| r.get(0),
                )?;
                Ok::<_, Failure>((rows, total))
            })
            .await?;
        listed(rows, total)
    }

    /// Add a workday (action=add_workday)
    #[oai(path = "/api/manage/workday/create", method = "post")]
    async fn create(&self, op: &Operation, req: &Request, body: JsonBody<WorkdayInput>) -> Reply<Ack> {
        signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["add_workday"]).await?;
        let (date, class) = match (&body.date, body.date_class) {
            (Some(d), Some(c)) => (normal_date(d)?, checked_class(c.0)?),
            (d, _) => return Err(incomplete(if d.is_none() { &["date"] } else { &["date_class"] }).into()),
        };
        self.0
            .db
            .write(move |tx| {
                if class_of(tx, &date)?.is_some() {
                    return Err(Failure::Conflict(format!("该记录已经存在: {date} already has a class")));
                }
                tx.execute("INSERT INTO transit_workday (date, date_class) VALUES (?1, ?2)", params![date, class])?;
                Ok(())
            })
            .await?;
        ack()
    }

    /// Change a date's class (action=modify_workday)
    #[oai(path = "/api/manage/workday/update", method = "put")]
    async fn update(&self, op: &Operation, req: &Request, body: JsonBody<WorkdayInput>) -> Reply<Ack> {
        signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["modify_workday"]).await?;
        let (date, class) = match (&body.date, body.date_class) {
            (Some(d), Some(c)) => (normal_date(d)?, checked_class(c.0)?),
            (d, _) => return Err(incomplete(if d.is_none() { &["date"] } else { &["date_class"] }).into()),
        };
        self.0
            .db
            .write(move |tx| {
                if tx.execute("UPDATE transit_workday SET date_class = ?1 WHERE date = ?2", params![class, date])? == 0
                {
                    return Err(not_found(&date));
                }
                Ok(())
            })
            .await?;
        ack()
    }

    /// Delete a date (action=del_workday)
    #[oai(path = "/api/manage/workday/delete", method = "delete")]
    async fn delete(&self, op: &Operation, req: &Request, body: JsonBody<WorkdayInput>) -> Reply<Ack> {
        signed_in(&self.0, op, req, Sent::body(&body.token, &body.action), &["del_workday"]).await?;
        let date = normal_date(body.date.as_deref().ok_or_else(|| incomplete(&["date"]))?)?;
        self.0
            .db
            .write(move |tx| {
                if tx.execute("DELETE FROM transit_workday WHERE date = ?1", [&date])? == 0 {
                    return Err(not_found(&date));
                }
                Ok(())
            })
            .await?;
        ack()
    }
}
