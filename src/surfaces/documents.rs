//! What the OpenAPI documents declare, corrected where poem-openapi's own declaration
//! does not match what it sends. `Declared` wraps a surface's APIs and corrects:
//!
//! - An operation declares its success and, through `ApiError<S>`, its failures. On every
//!   surface but music both answer HTTP 200, and poem-openapi writes them as two "200" keys
//!   of which a reader keeps only the last, so the success shape vanished. Responses of one
//!   status become one whose schema is `anyOf` their shapes. Success envelopes pin their
//!   success code and failures declare an `ErrorCode`, so a success never passes for a
//!   failure (two failure shapes, such as the export refusal, may both match).
//! - An `Option` field is written as `null` when empty and read from `null`, but declared
//!   as its inner type only. Every property an object does not require is such a field
//!   (none has a default), so each one is declared `nullable`.
//! - A union is declared `type: object` even when a variant is an array, and an object
//!   without fields accepts any object, so every union variant matched it. Unions leave
//!   the type to their variants, and a field-less object is declared empty.
//!
//! `Required` declares a parameter required whose absence the handler answers itself.

use std::borrow::Cow;
use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{Endpoint, EndpointExt, Request, Route, RouteMethod};
use poem_openapi::__private::UrlQuery;
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};
use poem_openapi::OpenApi;
use serde_json::Value;

pub struct Declared<A>(pub A);

/// A surface's operations as one endpoint: what poem-openapi's `into_endpoint` builds, less
/// its check that no two operations share an id. That check reads the description of every
/// operation (`OpenApi::meta`), code no request needs that would otherwise stay in the
/// binary (about 300 KB); it runs in debug builds, which every test starts, and a surface
/// with a duplicate id then fails to mount as it did.
pub fn mount<A: OpenApi>(apis: A) -> impl Endpoint {
    if cfg!(debug_assertions) {
        let mut ids = std::collections::HashSet::new();
        let operations = A::meta().into_iter().flat_map(|api| api.paths).flat_map(|path| path.operations);
        for id in operations.filter_map(|operation| operation.operation_id) {
            assert!(ids.insert(id), "duplicate operation id: {id}");
        }
    }
    let mut table = HashMap::new();
    apis.add_routes(&mut table);
    let route = table.into_iter().fold(Route::new(), |route, (path, methods)| {
        route.at(path, methods.into_iter().fold(RouteMethod::new(), |each, (method, ep)| each.method(method, ep)))
    });
    // Query parameters are read from this extension, which `into_endpoint` also adds.
    route.before(|mut req: Request| async move {
        let query: Vec<(String, String)> = req.params().unwrap_or_default();
        req.extensions_mut().insert(UrlQuery(query));
        Ok(req)
    })
}

impl<A: OpenApi> OpenApi for Declared<A> {
    fn meta() -> Vec<MetaApi> {
        let mut apis = A::meta();
        for operation in apis.iter_mut().flat_map(|a| a.paths.iter_mut()).flat_map(|p| p.operations.iter_mut()) {
            merge(&mut operation.responses);
        }
        apis
    }

    fn register(registry: &mut Registry) {
        A::register(registry);
        for schema in registry.schemas.values_mut() {
            let MetaSchema { properties, required, .. } = schema;
            for (_, property) in properties.iter_mut().filter(|(name, _)| !required.contains(name)) {
                make_nullable(property);
            }
            if !schema.one_of.is_empty() || !schema.any_of.is_empty() {
                schema.ty = "";
            } else if schema.ty == "object" && schema.properties.is_empty() && schema.additional_properties.is_none() {
                schema.max_properties = Some(0);
            }
        }
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.0.add_routes(route_table);
    }
}

fn merge(responses: &mut MetaResponses) {
    let mut merged: Vec<MetaResponse> = Vec::new();
    for response in responses.responses.drain(..) {
        let same = merged.iter_mut().find(|m| m.status == response.status && m.status_range == response.status_range);
        let Some(first) = same else {
            merged.push(response);
            continue;
        };
        first.description = "Success, or a failure in this surface's envelope";
        first.headers.extend(response.headers);
        for media in response.content {
            add_shape(&mut first.content, media);
        }
    }
    responses.responses = merged;
}

fn add_shape(content: &mut Vec<MetaMediaType>, media: MetaMediaType) {
    match content.iter().position(|m| m.content_type == media.content_type) {
        Some(i) => {
            let existing = content.remove(i);
            content.insert(
                i,
                MetaMediaType { content_type: media.content_type, schema: any_of(existing.schema, media.schema) },
            );
        }
        None => content.push(media),
    }
}

/// OpenAPI 3.0 ignores keywords beside a `$ref`, so a referenced schema is wrapped.
fn make_nullable(schema: &mut MetaSchemaRef) {
    if let MetaSchemaRef::Reference(name) = schema {
        let reference = MetaSchemaRef::Reference(std::mem::take(name));
        *schema = MetaSchemaRef::Inline(Box::new(MetaSchema { all_of: vec![reference], ..MetaSchema::ANY }));
    }
    if let MetaSchemaRef::Inline(inline) = schema {
        inline.nullable = true;
    }
}

fn any_of(first: MetaSchemaRef, second: MetaSchemaRef) -> MetaSchemaRef {
    if first == second {
        return first;
    }
    let mut shapes = match first {
        MetaSchemaRef::Inline(schema) if schema.ty.is_empty() && !schema.any_of.is_empty() => schema.any_of,
        other => vec![other],
    };
    shapes.push(second);
    MetaSchemaRef::Inline(Box::new(MetaSchema { any_of: shapes, ..MetaSchema::ANY }))
}

/// A failure's code: any integer but the surface's success code `OK`. Only documented:
/// failures are rendered by `Surface::render`, never through this type.
#[derive(Debug)]
pub struct ErrorCode<const OK: i64>(pub i64);

impl<const OK: i64> Type for ErrorCode<OK> {
    const IS_REQUIRED: bool = true;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        format!("ErrorCode<{OK}>").into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let bound = |minimum: Option<i64>, maximum: Option<i64>| {
            let mut schema = MetaSchema::new_with_format("integer", "int64");
            schema.minimum = minimum.map(|m| m as f64);
            schema.maximum = maximum.map(|m| m as f64);
            MetaSchemaRef::Inline(Box::new(schema))
        };
        let mut schema = MetaSchema::new_with_format("integer", "int64");
        schema.any_of = vec![bound(None, Some(OK - 1)), bound(Some(OK + 1), None)];
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&i64> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<const OK: i64> ParseFromJSON for ErrorCode<OK> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.as_ref().and_then(Value::as_i64) {
            Some(code) if code != OK => Ok(ErrorCode(code)),
            _ => Err(ParseError::custom(format!("expected an integer other than {OK}"))),
        }
    }
}

impl<const OK: i64> ToJSON for ErrorCode<OK> {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.into())
    }
}

/// A parameter the document requires. Its absence is not a parse error: the handler sees
/// `None` and answers with its own message, which says what to send.
#[derive(Debug)]
pub struct Required<T>(pub Option<T>);

impl<T: Type> Type for Required<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    /// The same name as `Option<T>`, so parse errors read as they do for optional parameters.
    fn name() -> Cow<'static, str> {
        Option::<T>::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(T::as_raw_value)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        self.0.raw_element_iter()
    }
}

impl<T: ParseFromParameter> ParseFromParameter for Required<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value).map(|v| Required(Some(v))).map_err(ParseError::propagate)
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(iter: I) -> ParseResult<Self> {
        Option::<T>::parse_from_parameters(iter).map(Required).map_err(ParseError::propagate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, schema: &str, content_type: &'static str) -> MetaResponse {
        MetaResponse {
            description: "",
            status: Some(status),
            status_range: None,
            content: vec![MetaMediaType { content_type, schema: MetaSchemaRef::Reference(schema.into()) }],
            headers: vec![],
        }
    }

    #[test]
    fn responses_of_one_status_become_any_of_their_shapes() {
        let json = "application/json; charset=utf-8";
        let mut responses = MetaResponses {
            responses: vec![
                response(200, "Ok", json),
                response(200, "Failure", json),
                response(413, "Failure", json),
                response(200, "Failure", "text/csv"),
            ],
        };
        merge(&mut responses);
        let statuses: Vec<_> = responses.responses.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Some(200), Some(413)]);
        let ok = &responses.responses[0];
        let MetaSchemaRef::Inline(schema) = &ok.content[0].schema else { panic!("expected anyOf") };
        assert_eq!(schema.any_of, [MetaSchemaRef::Reference("Ok".into()), MetaSchemaRef::Reference("Failure".into())]);
        assert_eq!(ok.content[1].content_type, "text/csv");
        assert_eq!(responses.responses[1].content[0].schema, MetaSchemaRef::Reference("Failure".into()));
    }

    #[test]
    fn a_required_parameter_may_be_absent_for_the_handler_to_answer() {
        assert_eq!(Required::<i64>::parse_from_parameters(Vec::<&str>::new()).unwrap().0, None);
        assert_eq!(Required::<i64>::parse_from_parameters(["7"]).unwrap().0, Some(7));
        let err = Required::<i64>::parse_from_parameters(["x"]).err().unwrap();
        assert_eq!(err.into_message(), Option::<i64>::parse_from_parameters(["x"]).err().unwrap().into_message());
    }

    #[test]
    fn an_error_code_is_any_integer_but_the_success_code() {
        assert_eq!(ErrorCode::<0>::parse_from_json(Some((-1).into())).unwrap().0, -1);
        assert!(ErrorCode::<0>::parse_from_json(Some(0.into())).is_err());
        let MetaSchemaRef::Inline(schema) = ErrorCode::<2000>::schema_ref() else { panic!("inline") };
        let bounds: Vec<_> = schema
            .any_of
            .iter()
            .map(|s| match s {
                MetaSchemaRef::Inline(s) => (s.minimum, s.maximum),
                _ => panic!("inline"),
            })
            .collect();
        assert_eq!(bounds, [(None, Some(1999.0)), (Some(2001.0), None)]);
    }

    struct Counted;

    #[poem_openapi::OpenApi]
    impl Counted {
        #[oai(path = "/counted", method = "get", operation_id = "same")]
        async fn counted(&self, n: poem_openapi::param::Query<i64>) -> poem_openapi::payload::PlainText<String> {
            poem_openapi::payload::PlainText(format!("n={}", n.0))
        }
    }

    struct Other;

    #[poem_openapi::OpenApi]
    impl Other {
        #[oai(path = "/other", method = "get", operation_id = "same")]
        async fn other(&self) -> poem_openapi::payload::PlainText<&'static str> {
            poem_openapi::payload::PlainText("other")
        }
    }

    #[tokio::test]
    async fn mounted_operations_read_their_query_parameters() {
        let answer = mount(Counted).get_response(Request::builder().uri_str("/counted?n=7").finish()).await;
        assert_eq!(answer.status(), poem::http::StatusCode::OK);
        assert_eq!(answer.into_body().into_string().await.unwrap(), "n=7");
        let missing = mount(Counted).get_response(Request::builder().uri_str("/counted").finish()).await;
        assert_eq!(missing.status(), poem::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    #[should_panic(expected = "duplicate operation id: same")]
    fn operations_sharing_an_id_do_not_mount() {
        let _ = mount((Counted, Other));
    }
}
