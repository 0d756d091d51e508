//! `/transit` (seed 000): metro ridership. Success `{"code":2000,"data"}`, failure
//! `{"code":1000,"message"}`, HTTP 200 (413 for an oversized body).

mod auth;
pub mod echarts;
mod export;
pub mod import;
mod listing;
pub mod moment;
pub mod partner;
mod passengers;
pub mod rollup;
mod seek;
mod stations;
pub mod synth;
mod trips;
mod workdays;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{Object, OpenApiService};
use rusqlite::Connection;

use super::body::{Dialect, TrailingCommas};
use super::documents::{Declared, ErrorCode};
use super::{ApiError, Failure, Refusal, Surface};
use crate::identity::authz::{DataScope, Operation};
use crate::identity::Caller;
use crate::AppState;

pub struct Transit;

/// Transit JSON bodies: the document's own examples end objects with a trailing comma.
pub type JsonBody<T> = super::body::JsonBody<T, TrailingCommas>;

pub const OK: i64 = 2000;

#[derive(Object)]
#[oai(rename = "TransitFailure")]
pub struct FailureBody {
    /// 1000
    code: ErrorCode<OK>,
    message: String,
}

impl Surface for Transit {
    const NAME: &'static str = "transit";
    const TITLE: &'static str = "地铁客流 Transit";

    fn spec(app: &Arc<AppState>) -> String {
        service(app.clone()).spec()
    }

    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response> {
        use poem::EndpointExt;
        super::documents::mount(apis(app)).before(get_body_token_into_query).map_to_response().boxed()
    }
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        let message = match failure {
            Failure::WrongCredentials => "用户名或者密码错误".to_owned(),
            other => other.message(),
        };
        (http, serde_json::json!({ "code": 1000, "message": message }))
    }

    /// `token` in the JSON body, the query or `Authorization`, in that order (CONTRACT §3).
    fn credential(req: &Request, body: Option<&[u8]>) -> Result<Option<String>, Failure> {
        let sent = match body.filter(|bytes| !bytes.iter().all(u8::is_ascii_whitespace)) {
            None => None,
            Some(bytes) => {
                let json: serde_json::Value = serde_json::from_slice(&TrailingCommas::prepare(bytes))
                    .map_err(|e| Failure::Malformed(format!("the request body is not valid JSON: {e}")))?;
                json.get("token").and_then(|t| t.as_str()).map(str::to_owned)
            }
        };
        Ok(token_of(req, sent.as_deref()))
    }

    /// The export's document answers refusals in its own shape.
    fn refusal(op: &Operation, failure: Failure) -> Refusal {
        match (op.path.as_str(), export::refusal_for(&failure)) {
            ("/api/exports", Some(answer)) => Refusal::Own(answer),
            _ => Refusal::Envelope(failure),
        }
    }

    const CREDENTIAL_IN_BODY: bool = true;
}

/// `{"code":2000}`: a change was made.
#[derive(Object)]
#[oai(rename = "TransitAck")]
pub struct Ack {
    /// 2000
    #[oai(validator(minimum(value = "2000"), maximum(value = "2000")))]
    code: i64,
}

/// `{"code":2000,"data":[…],"total":n}`: one page of a list.
#[derive(Object)]
pub struct Page<T: Type + ParseFromJSON + ToJSON> {
    /// 2000
    #[oai(validator(minimum(value = "2000"), maximum(value = "2000")))]
    code: i64,
    data: Vec<T>,
    /// Rows matching the filters, in all pages
    total: i64,
}

/// `{"code":2000,"data":…}`
#[derive(Object)]
pub struct Data<T: Type + ParseFromJSON + ToJSON> {
    /// 2000
    #[oai(validator(minimum(value = "2000"), maximum(value = "2000")))]
    code: i64,
    data: T,
}

pub type Reply<T> = Result<Json<T>, ApiError<Transit>>;

pub fn ack() -> Reply<Ack> {
    Ok(Json(Ack { code: OK }))
}

pub fn listed<T: Type + ParseFromJSON + ToJSON>(data: Vec<T>, total: i64) -> Reply<Page<T>> {
    Ok(Json(Page { code: OK, data, total }))
}

pub fn data<T: Type + ParseFromJSON + ToJSON>(data: T) -> Reply<Data<T>> {
    Ok(Json(Data { code: OK, data }))
}

#[derive(serde::Deserialize, Default)]
struct QueryAuth {
    token: Option<String>,
    action: Option<String>,
}

/// The token and `action` a request carries: in the query, in the JSON body (passed in by
/// the handler, which parsed it) or, for the token, as `Authorization: Bearer`.
pub struct Sent<'a> {
    pub token: Option<&'a str>,
    pub action: Option<&'a str>,
}

impl<'a> Sent<'a> {
    pub const NONE: Sent<'static> = Sent { token: None, action: None };

    pub fn body(token: &'a Option<String>, action: &'a Option<String>) -> Sent<'a> {
        Sent { token: token.as_deref(), action: action.as_deref() }
    }
}

fn query_auth(req: &Request) -> QueryAuth {
    req.params::<QueryAuth>().unwrap_or_default()
}

pub fn token_of(req: &Request, body_token: Option<&str>) -> Option<String> {
    let nonempty = |t: &str| (!t.trim().is_empty()).then(|| t.trim().to_owned());
    body_token.and_then(nonempty).or_else(|| query_auth(req).token.as_deref().and_then(nonempty)).or_else(|| {
        let header = req.headers().get(poem::http::header::AUTHORIZATION)?.to_str().ok()?;
        nonempty(header.strip_prefix("Bearer ").unwrap_or(header))
    })
}

/// `action` is optional; when sent (query or body) it must name this endpoint's business.
pub fn check_action(req: &Request, body_action: Option<&str>, accepted: &[&str]) -> Result<(), Failure> {
    let query = query_auth(req).action;
    for sent in [body_action, query.as_deref()].into_iter().flatten() {
        if !sent.is_empty() && !accepted.contains(&sent) {
            return Err(Failure::Invalid(format!(
                "action `{sent}` does not belong to this endpoint; send `{}`",
                accepted[0]
            )));
        }
    }
    Ok(())
}

/// The one check of every protected transit operation: the action matches, the token is
/// valid, and the caller's roles grant the operation. Answers the caller and its data scope.
pub async fn signed_in(
    app: &AppState,
    op: &Operation,
    req: &Request,
    sent: Sent<'_>,
    actions: &[&str],
) -> Result<(Caller, Scope), ApiError<Transit>> {
    if !actions.is_empty() {
        check_action(req, sent.action, actions)?;
    }
    let token = token_of(req, sent.token);
    let caller = app.identity.authenticate_jwt(token.as_deref()).await?;
    app.identity.authorize(&caller, op).await?;
    let scope = app.identity.data_scope(&caller).await?;
    Ok((caller, Scope(scope)))
}

/// The caller's data scope for transit: the admin areas whose stations it may see.
#[derive(Clone, Debug, Default)]
pub struct Scope(pub DataScope);

impl Scope {
    pub fn is_open(&self) -> bool {
        self.0.transit_areas.is_none()
    }

    /// The station ids inside the scope, or `None` when unrestricted.
    pub fn stations(&self, conn: &Connection) -> rusqlite::Result<Option<Vec<i64>>> {
        if self.is_open() {
            return Ok(None);
        }
        let sql = format!("SELECT id FROM transit_station WHERE 1 = 1{}", self.0.area_filter("area"));
        let mut stmt = conn.prepare(&sql)?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(Some(ids))
    }

    pub fn check_area(&self, area: &str) -> Result<(), Failure> {
        if self.0.allows_area(area) {
            Ok(())
        } else {
            Err(Failure::Forbidden(format!("admin area {area} is outside your data scope")))
        }
    }
}

/// `AND <column> IN (…)` for a list of station ids (`None`: no restriction).
pub fn station_filter(column: &str, ids: &Option<Vec<i64>>) -> String {
    match ids {
        None => String::new(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!(" AND {column} IN ({})", if list.is_empty() { "NULL".to_owned() } else { list.join(",") })
        }
    }
}

/// An optional JSON object body on a request whose parameters normally come in the query
/// (GET with a body, as some of the document's examples send).
/// CONTRACT §3: the transit token may travel in a JSON body on every endpoint, GETs
/// included. Before the handlers run, the `token` of a GET's JSON body joins the query
/// string (a `token` already in the query wins), where every endpoint looks for it; the body
/// stays as it was for handlers that read it.
pub async fn get_body_token_into_query(mut req: Request) -> poem::Result<Request> {
    let is_json = req.content_type().is_some_and(super::body::is_json_content_type);
    if req.method() != poem::http::Method::GET || !is_json || query_auth(&req).token.is_some() {
        return Ok(req);
    }
    let bytes = req.take_body().into_vec().await?;
    let token = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(fields)) => fields.get("token").and_then(|t| t.as_str()).map(str::to_owned),
        _ => None,
    };
    req.set_body(bytes);
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        let pair =
            serde_urlencoded::to_string([("token", token.trim())]).map_err(|e| Failure::Internal(e.to_string()))?;
        let query = match req.uri().query() {
            Some(q) if !q.is_empty() => format!("{q}&{pair}"),
            _ => pair,
        };
        *req.uri_mut() = format!("{}?{query}", req.uri().path())
            .parse()
            .map_err(|_| Failure::Malformed("the token does not fit in a query string".into()))?;
    }
    Ok(req)
}

pub struct LooseBody(pub Option<serde_json::Map<String, serde_json::Value>>);

impl<'a> poem::FromRequest<'a> for LooseBody {
    async fn from_request(req: &'a Request, body: &mut poem::RequestBody) -> poem::Result<Self> {
        let bytes = <Vec<u8> as poem::FromRequest>::from_request(req, body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(LooseBody(None));
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => Ok(LooseBody(Some(map))),
            _ => Err(Failure::Malformed("the request body must be a JSON object".into()).into()),
        }
    }
}

impl LooseBody {
    /// A field as text: strings as they are, numbers written out.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.0.as_ref()?.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

pub fn not_found(what: impl std::fmt::Display) -> Failure {
    Failure::NotFound(format!("id为{what}的记录不存在"))
}

pub fn incomplete(missing: &[&str]) -> Failure {
    Failure::Missing(format!("数据不全: missing {}", missing.join(", ")))
}

/// The surface's operations: mounted by `routes`, described by `service`.
fn apis(app: Arc<AppState>) -> impl poem_openapi::OpenApi {
    Declared((
        auth::AuthApi(app.clone()),
        trips::TripApi(app.clone()),
        stations::StationApi(app.clone()),
        workdays::WorkdayApi(app.clone()),
        passengers::PassengerApi(app.clone()),
        echarts::EchartsApi(app.clone()),
        export::ExportApi(app),
    ))
}

pub fn service(app: Arc<AppState>) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    OpenApiService::new(apis(app), "hearth transit", env!("CARGO_PKG_VERSION"))
        .description(
            "Metro trips, stations, workdays, passengers, ECharts analytics and CSV export (seed 000). \
             Success {code: 2000, data}; failure {code: 1000, message}, always HTTP 200. The token from login \
             is accepted as the `token` query parameter, the `token` JSON body field or `Authorization: Bearer`.",
        )
        .server("/transit")
}
