//! `JsonBody<T>`: a JSON request body parsed with serde, so that a failure names the field
//! ("password: missing field", "data.mode: invalid type …") and says which kind of failure
//! it is: not JSON at all, a missing field, or a value of the wrong type. Surfaces whose
//! documents give these different codes (care: -2, -3, -203) rely on the distinction.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::error::ContentTypeError;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use super::Failure;

/// `D` says how strict the JSON is: `Strict` everywhere, except where a surface's document
/// itself sends something else (`TrailingCommas`, transit).
pub struct JsonBody<T, D = Strict>(pub T, PhantomData<fn() -> D>);

pub trait Dialect: Send + 'static {
    fn prepare(data: &[u8]) -> Cow<'_, [u8]>;
}

/// Standard JSON.
pub struct Strict;

impl Dialect for Strict {
    fn prepare(data: &[u8]) -> Cow<'_, [u8]> {
        Cow::Borrowed(data)
    }
}

/// Standard JSON, plus a trailing comma before `}` or `]` (the transit document's own
/// passenger examples have one). Nothing else is relaxed.
pub struct TrailingCommas;

impl Dialect for TrailingCommas {
    fn prepare(data: &[u8]) -> Cow<'_, [u8]> {
        drop_trailing_commas(data)
    }
}

/// Removes each comma (outside strings) whose next non-blank byte closes an object or array.
fn drop_trailing_commas(data: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in data.iter().enumerate() {
        let mut keep = true;
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b',' {
            let next = data[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
            keep = !matches!(next, Some(b'}') | Some(b']'));
        }
        match (&mut out, keep) {
            (Some(o), true) => o.push(b),
            (None, false) => out = Some(data[..i].to_vec()),
            _ => {}
        }
    }
    out.map_or(Cow::Borrowed(data), Cow::Owned)
}

impl<T, D> Deref for JsonBody<T, D> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T, D> DerefMut for JsonBody<T, D> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

pub fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: Type + Send, D: Dialect> Payload for JsonBody<T, D> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        is_json_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send, D: Dialect> ParsePayload for JsonBody<T, D> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        Ok(JsonBody(parse_json(&D::prepare(&data))?, PhantomData))
    }
}

impl<'a, T: Type + DeserializeOwned + Send, D: Dialect> ApiExtractor<'a> for JsonBody<T, D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: Self::CONTENT_TYPE, schema: T::schema_ref() }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if is_json_content_type(ct) => <Self as ParsePayload>::from_request(request, body).await,
            Some(ct) => Err(ContentTypeError::NotSupported { content_type: ct.to_owned() }.into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// Parses JSON into `T`, classifying what went wrong.
pub fn parse_json<T: DeserializeOwned>(data: &[u8]) -> Result<T, Failure> {
    let mut reader = serde_json::Deserializer::from_slice(data);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut reader);
    let value = parsed.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = inner.to_string();
        let place = if path == "." || path.is_empty() { String::new() } else { format!("{path}: ") };
        match inner.classify() {
            serde_json::error::Category::Data if detail.starts_with("missing field") => {
                Failure::Missing(format!("{place}{}", strip_position(&detail)))
            }
            serde_json::error::Category::Data => Failure::WrongType(format!("{place}{}", strip_position(&detail))),
            _ => Failure::Malformed(format!("the request body is not valid JSON: {detail}")),
        }
    })?;
    reader.end().map_err(|e| Failure::Malformed(format!("the request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// serde's " at line 1 column 42" means little once the field is named.
fn strip_position(detail: &str) -> &str {
    detail.rsplit_once(" at line ").map_or(detail, |(text, _)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Login {
        loginname: String,
        password: String,
        data: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        mode: i64,
    }

    #[test]
    fn only_trailing_commas_outside_strings_are_dropped() {
        let fixed = drop_trailing_commas(br#"{"a": [1, 2, ], "b": ",}", "c": "\\", }"#);
        assert_eq!(&*fixed, br#"{"a": [1, 2 ], "b": ",}", "c": "\\" }"#);
        assert!(matches!(drop_trailing_commas(br#"{"a":1}"#), Cow::Borrowed(_)));
        assert_eq!(&*drop_trailing_commas(b"[1,,]"), b"[1,]", "only the last comma goes");
    }

    #[test]
    fn failures_name_the_field_and_their_kind() {
        let missing = parse_json::<Login>(br#"{"loginname":"a"}"#).unwrap_err();
        assert_eq!(missing, Failure::Missing("missing field `password`".into()));
        let wrong = parse_json::<Login>(br#"{"loginname":5,"password":"x"}"#).unwrap_err();
        assert!(
            matches!(&wrong, Failure::WrongType(m) if m.starts_with("loginname: invalid type: integer `5`")),
            "{wrong:?}"
        );
        let nested = parse_json::<Login>(br#"{"loginname":"a","password":"x","data":{"mode":"zero"}}"#).unwrap_err();
        assert!(matches!(&nested, Failure::WrongType(m) if m.starts_with("data.mode: ")), "{nested:?}");
        assert!(matches!(parse_json::<Login>(b"{not json"), Err(Failure::Malformed(_))));
        assert!(matches!(parse_json::<Login>(b""), Err(Failure::Malformed(_))));
        assert!(matches!(
            parse_json::<Login>(br#"{"loginname":"a","password":"x"} trailing"#),
            Err(Failure::Malformed(_))
        ));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json; charset=utf-8"));
        assert!(is_json_content_type("Application/JSON"));
        assert!(is_json_content_type("application/merge-patch+json"));
        assert!(!is_json_content_type("text/plain"));
    }
}
