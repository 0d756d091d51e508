//! `GET /api/exports?model=…`: a whole table as CSV (UTF-8 with BOM, the import's own
//! headers, so an export can be imported again). Rows are read on a blocking thread and
//! handed over in 64 KiB chunks through a small bounded channel, so memory stays flat
//! whatever the table's size, and a client that goes away stops the read.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use poem::http::header;
use poem::{Body, IntoResponse, Request, Response};
use poem_openapi::param::Query;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rusqlite::Connection;
use tokio::sync::mpsc;

use super::moment::DAY;
use super::{signed_in, station_filter, Scope, Sent};
use crate::identity::authz::Operation;
use crate::surfaces::{ApiError, Failure};
use crate::AppState;

pub struct ExportApi(pub Arc<AppState>);

/// The document's refusal: `{"code":1000,"msg":…,"redirect":"/sign.html"}`.
#[derive(Object)]
#[oai(rename = "ExportRefusal")]
struct Refusal {
    code: i64,
    msg: String,
    /// The same text, under the key every other failure uses
    message: String,
    redirect: String,
}

/// The CSV download, or the documented refusal (both HTTP 200).
pub struct ExportReply(Response);

impl IntoResponse for ExportReply {
    fn into_response(self) -> Response {
        self.0
    }
}

impl ApiResponse for ExportReply {
    fn meta() -> MetaResponses {
        let binary = MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The table as CSV (attachment), or the refusal for a caller who may not export",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType { content_type: "application/octet-stream", schema: binary },
                    MetaMediaType { content_type: "application/json; charset=utf-8", schema: Refusal::schema_ref() },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        Refusal::register(registry);
    }
}

/// The document's answer to a refused export, for the guard.
pub fn refusal_for(failure: &Failure) -> Option<Response> {
    match failure {
        Failure::Forbidden(_) => Some(refusal(ADMINS_ONLY).0),
        Failure::NoToken | Failure::BadToken | Failure::TokenExpired => Some(refusal(SIGN_IN_FIRST).0),
        _ => None,
    }
}

const ADMINS_ONLY: &str = "需要高级管理员权限才可导出数据";
const SIGN_IN_FIRST: &str = "请先登录: 需要高级管理员权限才可导出数据";

fn refusal(msg: &str) -> ExportReply {
    let body = serde_json::json!({ "code": 1000, "msg": msg, "message": msg, "redirect": "/sign.html" });
    ExportReply(Response::builder().content_type("application/json; charset=utf-8").body(body.to_string()))
}

#[derive(Clone, Copy)]
enum Model {
    Trip,
    Station,
    Workday,
    Passenger,
}

impl Model {
    fn parse(text: &str) -> Option<Model> {
        match text.trim().to_ascii_lowercase().trim_end_matches('s') {
            "trip" => Some(Model::Trip),
            "station" => Some(Model::Station),
            "workday" => Some(Model::Workday),
            "passenger" | "user" => Some(Model::Passenger),
            _ => None,
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Model::Trip => "trips.csv",
            Model::Station => "stations.csv",
            Model::Workday => "workdays.csv",
            Model::Passenger => "users.csv",
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// Collects CSV text and hands it to the response in chunks; false once the client left.
struct Sink {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
}

impl Sink {
    fn flush_if_full(&mut self) -> bool {
        if self.buf.len() < CHUNK {
            return true;
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 1024));
        self.tx.blocking_send(Ok(chunk)).is_ok()
    }
}

fn csv_field(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// `yyyy-MM-dd HH:mm:ss`, as the competition files write times.
fn write_time(out: &mut Vec<u8>, t: i64) {
    let (y, m, d) = super::moment::civil_from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY);
    let _ = write!(out, "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60);
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn write_table(c: &Connection, model: Model, scope: &Scope, sink: &mut Sink) -> Result<(), Failure> {
    sink.buf.extend_from_slice("\u{feff}".as_bytes());
    match model {
        Model::Trip => {
            sink.buf.extend_from_slice("编号,用户ID,进站名称,进站时间,出站名称,出站时间,渠道编号,价格\n".as_bytes());
            let names: HashMap<i64, String> = c
                .prepare("SELECT id, name FROM transit_station")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let sql = format!(
                "SELECT t.id, r.uid, t.in_station, t.in_time, t.out_station, t.out_time, t.channel, t.price
                 FROM transit_trip t JOIN transit_rider r ON r.id = t.rider_id WHERE 1 = 1{} ORDER BY t.id",
                station_filter("t.in_station", &scope.stations(c)?)
            );
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let out = &mut sink.buf;
                let _ = write!(out, "{},", r.get::<_, i64>(0)?);
                csv_field(out, r.get_ref(1)?.as_str().unwrap_or_default());
                out.push(b',');
                csv_field(out, names.get(&r.get(2)?).map_or("", String::as_str));
                out.push(b',');
                write_time(out, r.get(3)?);
                out.push(b',');
                csv_field(out, names.get(&r.get(4)?).map_or("", String::as_str));
                out.push(b',');
                write_time(out, r.get(5)?);
                let _ = writeln!(out, ",{},{}", r.get::<_, i64>(6)?, r.get::<_, i64>(7)?);
                if !sink.flush_if_full() {
                    return Ok(());
                }
            }
        }
        Model::Station => {
            sink.buf.extend_from_slice("编号,站点名称,线路,行政区域\n".as_bytes());
            let sql = format!(
                "SELECT id, name, route, area FROM transit_station WHERE 1 = 1{} ORDER BY id",
                scope.0.area_filter("area")
            );
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let out = &mut sink.buf;
                let _ = write!(out, "{},", r.get::<_, i64>(0)?);
                for i in 1..4 {
                    csv_field(out, &r.get::<_, String>(i)?);
                    out.push(if i == 3 { b'\n' } else { b',' });
                }
                sink.flush_if_full();
            }
        }
        Model::Workday => {
            sink.buf.extend_from_slice("日期,日期分类\n".as_bytes());
            let mut stmt = c.prepare("SELECT date, date_class FROM transit_workday ORDER BY date")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let _ = writeln!(sink.buf, "{},{}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?);
                sink.flush_if_full();
            }
        }
        Model::Passenger => {
            sink.buf.extend_from_slice("用户ID,区域代码,出生年份,性别\n".as_bytes());
            let mut stmt = c.prepare(
                "SELECT r.uid, p.dist, p.birth, p.gender FROM transit_passenger p JOIN transit_rider r ON r.id = p.rider_id ORDER BY p.rider_id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let out = &mut sink.buf;
                csv_field(out, &r.get::<_, String>(0)?);
                let _ = writeln!(out, ",{},{},{}", opt(r.get(1)?), opt(r.get(2)?), opt(r.get(3)?));
                if !sink.flush_if_full() {
                    return Ok(());
                }
            }
        }
    }
    let rest = std::mem::take(&mut sink.buf);
    let _ = sink.tx.blocking_send(Ok(rest));
    Ok(())
}

#[OpenApi]
impl ExportApi {
    /// Download a table as CSV: model = trip, station, workday or passenger (administrators)
    #[oai(path = "/api/exports", method = "get")]
    async fn export(
        &self,
        op: &Operation,
        req: &Request,
        /// trip, station, workday or passenger
        model: Query<Option<String>>,
        token: Query<Option<String>>,
    ) -> Result<ExportReply, ApiError<super::Transit>> {
        let scope = match signed_in(&self.0, op, req, Sent { token: token.0.as_deref(), action: None }, &[]).await {
            Ok((_, scope)) => scope,
            Err(e) => return refusal_for(&e.failure).map(ExportReply).ok_or(e),
        };
        let text = model.0.unwrap_or_default();
        let model = Model::parse(&text).ok_or_else(|| {
            Failure::Invalid(format!("model must be trip, station, workday or passenger (got `{text}`)"))
        })?;
        let (tx, rx) = mpsc::channel(4);
        let failed = tx.clone();
        let app = self.0.clone();
        tokio::spawn(async move {
            let outcome = app
                .db
                .read(move |c| {
                    let mut sink = Sink { buf: Vec::with_capacity(CHUNK + 1024), tx };
                    write_table(c, model, &scope, &mut sink)
                })
                .await;
            if let Err(e) = outcome {
                tracing::error!(error = %e, "transit export failed part way");
                let _ = failed.send(Err(std::io::Error::other("export failed"))).await;
            }
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
        let response = Response::builder()
            .content_type("application/octet-stream")
            .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", model.file_name()))
            .body(Body::from_bytes_stream(stream));
        Ok(ExportReply(response))
    }
}
