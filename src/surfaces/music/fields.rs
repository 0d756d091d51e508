//! `Fields<T>`: the request shapes the music document mixes freely. Its tables say
//! multipart/form-data for endpoints whose examples are `mid=5&mlid=20`, and JSON or
//! x-www-form-urlencoded elsewhere, so every body endpoint reads all three (plus the query
//! string, for DELETEs sent without a body) and parses the fields into `T` with serde, so
//! that a failure names the field. Uploaded files are kept aside, in memory (the guard has
//! already bounded the body), and a file field appears in `T` as a `FilePart` marker so a
//! missing required file is reported like any missing field.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;

use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::surfaces::body::{is_json_content_type, parse_json};
use crate::surfaces::Failure;

/// An uploaded file.
pub struct Upload {
    pub bytes: Vec<u8>,
}

pub struct Fields<T> {
    pub value: T,
    files: HashMap<String, Upload>,
}

impl<T> Deref for Fields<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Fields<T> {
    /// Takes the uploaded file sent as `name`, if one was.
    pub fn file(&mut self, name: &str) -> Option<Upload> {
        self.files.remove(name)
    }

    /// Takes a file that must be present; a text value under that name is refused.
    pub fn required_file(&mut self, name: &str) -> Result<Upload, Failure> {
        self.file(name).ok_or_else(|| Failure::Missing(format!("{name}: a file is required (multipart/form-data)")))
    }
}

/// Marks a file field in a `Fields` type: its schema says binary, and it is present when
/// the client sent something under that name.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilePart;

impl Type for FilePart {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "FilePart".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for FilePart {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        value.map(|_| FilePart).ok_or_else(ParseError::expected_input)
    }
}

impl ToJSON for FilePart {
    fn to_json(&self) -> Option<Value> {
        None
    }
}

impl<'de> serde::Deserialize<'de> for FilePart {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| FilePart)
    }
}

const MEDIA_TYPES: [&str; 3] = ["multipart/form-data", "application/x-www-form-urlencoded", "application/json"];

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for Fields<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        let content =
            MEDIA_TYPES.iter().map(|ct| MetaMediaType { content_type: ct, schema: T::schema_ref() }).collect();
        Some(MetaRequest { description: None, content, required: false })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let (object, files) = read_fields(request, body).await?;
        let text = serde_json::to_vec(&Value::Object(object)).map_err(|e| Failure::Internal(e.to_string()))?;
        Ok(Fields { value: parse_json(&text)?, files })
    }
}

/// The query string's fields, overridden by the body's.
async fn read_fields(
    request: &Request,
    body: &mut RequestBody,
) -> Result<(Map<String, Value>, HashMap<String, Upload>), Failure> {
    let mut object = Map::new();
    let mut files = HashMap::new();
    if let Some(query) = request.uri().query() {
        add_pairs(&mut object, query.as_bytes())?;
    }
    body_fields(request, body, &mut object, &mut files).await?;
    Ok((object, files))
}

/// The body's fields (multipart, form or JSON) into `object`, over what is there.
async fn body_fields(
    request: &Request,
    body: &mut RequestBody,
    object: &mut Map<String, Value>,
    files: &mut HashMap<String, Upload>,
) -> Result<(), Failure> {
    let content_type = request.content_type().unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = <Multipart as FromRequest>::from_request(request, body)
            .await
            .map_err(|e| Failure::Malformed(format!("the multipart body could not be read: {e}")))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| Failure::Malformed(format!("the multipart body could not be read: {e}")))?
        {
            let Some(name) = field.name().map(str::to_owned) else { continue };
            let is_file =
                field.file_name().is_some() || field.content_type().is_some_and(|ct| !ct.starts_with("text/"));
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Failure::Malformed(format!("field `{name}` could not be read: {e}")))?;
            if is_file && bytes.is_empty() {
                // A browser sends an empty part for a file input left empty: not sent.
                object.remove(&name);
            } else if is_file {
                object.insert(name.clone(), Value::String("(file)".into()));
                files.insert(name, Upload { bytes });
            } else {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Failure::Malformed(format!("field `{name}` is not UTF-8 text")))?;
                insert_text(object, name, text);
            }
        }
        return Ok(());
    }
    let data = <Vec<u8> as FromRequest>::from_request(request, body)
        .await
        .map_err(|e| Failure::Malformed(format!("the request body could not be read: {e}")))?;
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if is_json_content_type(&content_type) || (content_type.is_empty() && data.trim_ascii_start().starts_with(b"{")) {
        match parse_json::<Value>(&data)? {
            Value::Object(fields) => object.extend(fields),
            _ => return Err(Failure::Malformed("the JSON body must be an object".into())),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.is_empty()
        || content_type.starts_with("text/plain")
    {
        add_pairs(object, &data)?;
    } else {
        return Err(Failure::Malformed(format!(
            "content type `{content_type}` is not accepted; send multipart/form-data, x-www-form-urlencoded or JSON"
        )));
    }
    Ok(())
}

/// The document sends the parameters of its GET endpoints (`/api/musiclist`,
/// `/api/univer/tasklist`) as a form body. Before the handlers run, the fields of a GET's
/// form body join its query string, so every GET reads them as query parameters; a
/// parameter in the query wins over the same one in the body.
pub async fn form_body_into_query(mut req: Request) -> poem::Result<Request> {
    let content_type = req.content_type().unwrap_or_default().to_ascii_lowercase();
    let is_form = content_type.starts_with("multipart/form-data")
        || content_type.starts_with("application/x-www-form-urlencoded");
    if req.method() != poem::http::Method::GET || !is_form {
        return Ok(req);
    }
    let mut body = RequestBody::new(req.take_body());
    let (mut fields, mut files) = (Map::new(), HashMap::new());
    body_fields(&req, &mut body, &mut fields, &mut files).await?;
    let mut pairs: Vec<(String, String)> = match req.uri().query() {
        Some(query) => serde_urlencoded::from_str(query)
            .map_err(|e| Failure::Malformed(format!("the query string could not be read: {e}")))?,
        None => Vec::new(),
    };
    for (name, value) in fields {
        if let (Value::String(text), false) = (value, pairs.iter().any(|(n, _)| *n == name)) {
            pairs.push((name, text));
        }
    }
    let query = serde_urlencoded::to_string(&pairs).map_err(|e| Failure::Internal(e.to_string()))?;
    let uri = format!("{}?{query}", req.uri().path())
        .parse()
        .map_err(|_| Failure::Malformed("the form fields do not make a valid query".into()))?;
    *req.uri_mut() = uri;
    Ok(req)
}

fn add_pairs(object: &mut Map<String, Value>, data: &[u8]) -> Result<(), Failure> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(data)
        .map_err(|e| Failure::Malformed(format!("the form fields could not be read: {e}")))?;
    for (name, text) in pairs {
        insert_text(object, name, text);
    }
    Ok(())
}

/// An empty form field counts as not sent: HTML forms send every input, filled or not.
fn insert_text(object: &mut Map<String, Value>, name: String, text: String) {
    if text.is_empty() {
        object.remove(&name);
    } else {
        object.insert(name, Value::String(text));
    }
}

/// A list of integer ids (`creator`, `album`): a JSON array, or text holding a JSON array,
/// a single number or a comma-separated list. Always written back as an array.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList(pub Vec<i64>);

impl IdList {
    pub fn parse_text(text: &str) -> Option<IdList> {
        let text = text.trim();
        if text.starts_with('[') {
            let values: Vec<Value> = serde_json::from_str(text).ok()?;
            return Self::from_values(&values);
        }
        if text.is_empty() {
            return Some(IdList(Vec::new()));
        }
        text.split([',', '，']).map(|part| part.trim().parse().ok()).collect::<Option<Vec<i64>>>().map(IdList)
    }

    fn from_values(values: &[Value]) -> Option<IdList> {
        values
            .iter()
            .map(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect::<Option<Vec<i64>>>()
            .map(IdList)
    }

    fn from_value(value: &Value) -> Option<IdList> {
        match value {
            Value::Array(values) => Self::from_values(values),
            Value::Number(n) => n.as_i64().map(|n| IdList(vec![n])),
            Value::String(s) => Self::parse_text(s),
            _ => None,
        }
    }

    /// The ids without repeats, in first-seen order.
    pub fn distinct(&self) -> Vec<i64> {
        let mut seen = Vec::new();
        for id in &self.0 {
            if !seen.contains(id) {
                seen.push(*id);
            }
        }
        seen
    }
}

const ID_LIST_EXPECTED: &str =
    "ids: a JSON array such as [2,25] (also as text), a single number, or a comma list such as 2,25";

impl Type for IdList {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "IdList".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        schema.description = Some(ID_LIST_EXPECTED);
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for IdList {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        IdList::from_value(&value.unwrap_or_default()).ok_or_else(|| ParseError::custom(ID_LIST_EXPECTED))
    }
}

impl ToJSON for IdList {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.0.clone()))
    }
}

impl<'de> serde::Deserialize<'de> for IdList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        IdList::from_value(&value)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid value: expected {ID_LIST_EXPECTED}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_accept_every_documented_spelling() {
        for text in ["[43,543]", "43,543", " 43 , 543 ", "[\"43\", 543]"] {
            assert_eq!(IdList::parse_text(text), Some(IdList(vec![43, 543])), "{text}");
        }
        assert_eq!(IdList::from_value(&serde_json::json!(7)), Some(IdList(vec![7])));
        assert_eq!(IdList::from_value(&serde_json::json!([2, 25])), Some(IdList(vec![2, 25])));
        assert_eq!(IdList::parse_text("[]"), Some(IdList(vec![])));
        assert_eq!(IdList::parse_text("a,b"), None);
        assert_eq!(IdList::parse_text("[1.5]"), None);
        assert_eq!(IdList(vec![3, 1, 3]).distinct(), vec![3, 1]);
    }
}
