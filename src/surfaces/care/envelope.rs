//! The care document's envelopes. A request is `{"id","type","subtype","data"}`; every
//! answer is `{"id","status","message","data"}` with the request's `id` echoed, failures
//! included, which is why handlers answer an `Answer` rather than failing with an error.

use std::marker::PhantomData;

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::{status, Care};
use crate::surfaces::{ApiError, Failure, Surface};

/// The documented request shape, for the OpenAPI document only; bodies are read by
/// `CareBody` so that each kind of mistake gets the document's status.
#[derive(Object)]
pub struct CareRequest<D: Type + ParseFromJSON + ToJSON> {
    /// Event id, echoed in the answer (a numeric string is accepted)
    id: i64,
    #[oai(rename = "type")]
    kind: String,
    subtype: String,
    data: D,
}

/// The documented answer shape.
#[derive(Object)]
pub struct CareAnswer<T: Type + ParseFromJSON + ToJSON> {
    /// The request's id; -1 for GET requests and when the id was not a number
    id: i64,
    /// 0: failures are answered in the `CareFailure` shape
    #[oai(validator(minimum(value = "0"), maximum(value = "0")))]
    status: i64,
    /// "successful", or what went wrong
    message: String,
    data: T,
}

/// `{}`: the data of answers that carry none.
#[derive(Object, Default)]
pub struct Empty {}

/// What a handler answers: data or a failure, with the id to echo.
pub struct Answer<T> {
    id: i64,
    outcome: Result<T, Failure>,
}

impl<T> Answer<T> {
    pub fn new(id: i64, outcome: Result<T, Failure>) -> Self {
        Answer { id, outcome }
    }

    /// Answers of GET endpoints, which have no request id.
    pub fn get(outcome: Result<T, Failure>) -> Self {
        Answer { id: -1, outcome }
    }
}

pub fn body_of(id: i64, outcome: Result<Value, Failure>) -> Value {
    match outcome {
        Ok(data) => json!({ "id": id, "status": 0, "message": "successful", "data": data }),
        Err(failure) => {
            let (_, mut body) = Care::render(&failure);
            body["id"] = id.into();
            body
        }
    }
}

impl<T: ToJSON + Send> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        let retry = match &self.outcome {
            Err(Failure::RateLimited(secs)) => Some(secs.to_string()),
            _ => None,
        };
        let outcome = self.outcome.map(|data| data.to_json().unwrap_or_else(|| json!({})));
        let mut response = Response::builder().content_type("application/json; charset=utf-8");
        if let Some(secs) = retry {
            response = response.header(poem::http::header::RETRY_AFTER, secs);
        }
        // Straight to bytes: a Value's Display goes through the formatting machinery.
        response.body(serde_json::to_vec(&body_of(self.id, outcome)).expect("a JSON value always serializes"))
    }
}

/// The success shape, then the failures `ApiError` declares for this surface.
impl<T: Type + ParseFromJSON + ToJSON + Send> ApiResponse for Answer<T> {
    fn meta() -> MetaResponses {
        let success = MetaResponse {
            description: "Success, status 0",
            status: Some(200),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: CareAnswer::<T>::schema_ref(),
            }],
            headers: vec![],
        };
        let mut responses = vec![success];
        responses.extend(ApiError::<Care>::meta().responses);
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        CareAnswer::<T>::register(registry);
        ApiError::<Care>::register(registry);
    }
}

struct Parts {
    kind: String,
    subtype: String,
    data: Value,
}

/// A care request body: the echoed `id` and, unless the envelope was broken, its parts.
/// `D` documents the `data` object.
pub struct CareBody<D> {
    pub id: i64,
    parts: Result<Parts, Failure>,
    doc: PhantomData<fn() -> D>,
}

impl<D> CareBody<D> {
    pub fn parse(bytes: &[u8]) -> CareBody<D> {
        let (id, parts) = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(mut fields)) => {
                let id = fields.get("id").map(echo_id);
                match id {
                    None => (-1, Err(Failure::Code(status::MISSING_JSON_KEY, "Error JSON key: missing `id`".into()))),
                    Some(id) => (id, split(&mut fields)),
                }
            }
            Ok(_) => (-1, Err(Failure::Malformed("Error JSON value: the body must be a JSON object".into()))),
            Err(e) => (-1, Err(Failure::Malformed(format!("Error JSON value: the body is not valid JSON: {e}")))),
        };
        CareBody { id, parts, doc: PhantomData }
    }

    /// The (type, subtype) pair, when it is one of `accepted`; anything else is -2.
    pub fn kind(&self, accepted: &[(&'static str, &'static str)]) -> Result<(&'static str, &'static str), Failure> {
        let parts = self.parts.as_ref().map_err(Clone::clone)?;
        accepted.iter().find(|(kind, subtype)| parts.kind == *kind && parts.subtype == *subtype).copied().ok_or_else(
            || {
                let list: Vec<String> = accepted.iter().map(|(k, s)| format!("{k}/{s}")).collect();
                Failure::Malformed(format!(
                    "Error JSON value: type/subtype {}/{} is not served here; expected one of {}",
                    parts.kind,
                    parts.subtype,
                    list.join(", ")
                ))
            },
        )
    }

    /// Reads `data` into `T`: a missing key is -3, a value of the wrong type -203.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        let parts = self.parts.as_ref().map_err(Clone::clone)?;
        data_as(&parts.data)
    }

    /// Reads `data` into `T` as `data` does, moving its strings instead of copying them: a
    /// snapshot's base64 is most of its request.
    pub fn into_data<T: DeserializeOwned>(self) -> Result<T, Failure> {
        data_as(self.parts?.data)
    }

    /// The raw `data` object, for fields whose absence and null mean different things.
    pub fn raw(&self) -> Result<&serde_json::Map<String, Value>, Failure> {
        let parts = self.parts.as_ref().map_err(Clone::clone)?;
        Ok(parts.data.as_object().expect("checked when parsed"))
    }
}

/// The document: a numeric string becomes its integer, anything else -1.
pub fn echo_id(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(-1),
        Value::String(s) => s.trim().parse().unwrap_or(-1),
        _ => -1,
    }
}

fn split(fields: &mut serde_json::Map<String, Value>) -> Result<Parts, Failure> {
    let mut text = |key: &str| match fields.remove(key) {
        None => Err(Failure::Code(status::MISSING_JSON_KEY, format!("Error JSON key: missing `{key}`"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Failure::Malformed(format!("Error JSON value: `{key}` must be a string"))),
    };
    let kind = text("type")?;
    let subtype = text("subtype")?;
    match fields.remove("data") {
        None => Err(Failure::Code(status::MISSING_JSON_KEY, "Error JSON key: missing `data`".into())),
        Some(data @ Value::Object(_)) => Ok(Parts { kind, subtype, data }),
        Some(_) => Err(Failure::Malformed("Error JSON value: `data` must be a JSON object".into())),
    }
}

/// From a `Value`, or a borrowed one.
fn data_as<'de, T: DeserializeOwned>(data: impl serde::Deserializer<'de>) -> Result<T, Failure> {
    serde_path_to_error::deserialize(data).map_err(|err| {
        let path = err.path().to_string();
        let detail = err.into_inner().to_string();
        let place = if path == "." || path.is_empty() { String::new() } else { format!("data.{path}: ") };
        if detail.starts_with("missing field") {
            Failure::Missing(format!("Error data key: {detail} in `data`"))
        } else {
            Failure::WrongType(format!("Arg's value type error: {place}{detail}"))
        }
    })
}

impl<'a, D: Type + ParseFromJSON + ToJSON> ApiExtractor<'a> for CareBody<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        CareRequest::<D>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: "application/json", schema: CareRequest::<D>::schema_ref() }],
            required: true,
        })
    }

    /// Any content type is read as JSON: camera firmware does not always send one.
    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        // Bytes, not a Vec: one copy of a large body fewer.
        let bytes = <bytes::Bytes as FromRequest>::from_request(request, body).await?;
        Ok(CareBody::parse(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Login {
        phone: String,
    }

    fn status_of(body: &[u8]) -> (i64, Option<i64>) {
        let parsed = CareBody::<Empty>::parse(body);
        let code = parsed
            .kind(&[("login", "pass")])
            .and_then(|_| parsed.data::<Login>())
            .err()
            .map(|f| Care::render(&f).1["status"].as_i64().unwrap());
        (parsed.id, code)
    }

    #[test]
    fn each_kind_of_mistake_gets_the_documented_status() {
        assert_eq!(status_of(b"{nope"), (-1, Some(-2)));
        assert_eq!(status_of(br#"{"type":"login","subtype":"pass","data":{}}"#), (-1, Some(-1)));
        assert_eq!(status_of(br#"{"id":"77","type":"login","data":{}}"#), (77, Some(-1)));
        assert_eq!(status_of(br#"{"id":"abc","type":"login","subtype":"pass","data":{}}"#), (-1, Some(-3)));
        assert_eq!(status_of(br#"{"id":5,"type":"login","subtype":"other","data":{}}"#), (5, Some(-2)));
        assert_eq!(status_of(br#"{"id":5,"type":"login","subtype":"pass","data":{"phone":1}}"#), (5, Some(-203)));
        assert_eq!(status_of(br#"{"id":5,"type":"login","subtype":"pass","data":{"phone":"1"}}"#), (5, None));
    }
}
