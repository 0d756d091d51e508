//! The `subsonic-response` envelope in XML (the default) or JSON (`f=json`), and the spec's
//! error codes. Answers are built as JSON values and the XML is derived from them the way
//! the Subsonic schema lays it out: scalars are attributes, objects are child elements,
//! arrays are repeated child elements named after their key, and a `value` key is text.

use poem::http::header;
use poem::Response;
use serde_json::{Map, Value};

pub const VERSION: &str = "1.16.1";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Xml,
    Json,
}

/// A refusal in the spec's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub code: u16,
    pub message: String,
}

impl Fault {
    pub fn new(code: u16, message: impl Into<String>) -> Fault {
        Fault { code, message: message.into() }
    }
    /// 0: a generic error.
    pub fn generic(message: impl Into<String>) -> Fault {
        Fault::new(0, message)
    }
    /// 10: a required parameter is missing.
    pub fn missing(name: &str) -> Fault {
        Fault::new(10, format!("required parameter '{name}' is missing"))
    }
    /// 40: wrong username or password.
    pub fn wrong_credentials() -> Fault {
        Fault::new(40, "wrong username or password (use an app password, not the account password)")
    }
    /// 50: the user is not authorized for the operation.
    pub fn not_authorized(message: impl Into<String>) -> Fault {
        Fault::new(50, message)
    }
    /// 70: the requested data was not found.
    pub fn not_found(message: impl Into<String>) -> Fault {
        Fault::new(70, message)
    }
}

impl From<crate::surfaces::Failure> for Fault {
    fn from(failure: crate::surfaces::Failure) -> Fault {
        use crate::surfaces::Failure as F;
        match &failure {
            F::NotFound(m) => Fault::not_found(m.clone()),
            F::Forbidden(m) => Fault::not_authorized(m.clone()),
            F::Missing(m) => Fault::new(10, m.clone()),
            F::WrongCredentials | F::BadToken | F::NoToken | F::TokenExpired => Fault::wrong_credentials(),
            F::AccountDisabled | F::AccountBanned => Fault::not_authorized(failure.message()),
            _ => Fault::generic(failure.message()),
        }
    }
}

impl From<crate::db::DbError> for Fault {
    fn from(e: crate::db::DbError) -> Fault {
        crate::surfaces::Failure::from(e).into()
    }
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Fault {
        crate::surfaces::Failure::from(e).into()
    }
}

fn envelope(status: &str) -> Map<String, Value> {
    let mut root = Map::new();
    root.insert("status".into(), status.into());
    root.insert("version".into(), VERSION.into());
    root.insert("type".into(), "hearth".into());
    root.insert("serverVersion".into(), env!("CARGO_PKG_VERSION").into());
    root.insert("openSubsonic".into(), true.into());
    root
}

/// A successful answer carrying `body`'s keys (`{"song": {...}}`, or nothing for ping).
pub fn ok(format: Format, body: Value) -> Response {
    let mut root = envelope("ok");
    if let Value::Object(fields) = body {
        root.extend(fields);
    }
    render(format, root)
}

pub fn failed(format: Format, fault: &Fault) -> Response {
    let mut root = envelope("failed");
    root.insert("error".into(), serde_json::json!({ "code": fault.code, "message": fault.message }));
    render(format, root)
}

fn render(format: Format, root: Map<String, Value>) -> Response {
    match format {
        Format::Json => {
            let body = serde_json::json!({ "subsonic-response": root });
            Response::builder().content_type("application/json; charset=utf-8").body(body.to_string())
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            let mut attrs = root;
            attrs.insert("xmlns".into(), "http://subsonic.org/restapi".into());
            element(&mut out, "subsonic-response", &attrs);
            Response::builder().header(header::CONTENT_TYPE, "text/xml; charset=utf-8").body(out)
        }
    }
}

fn element(out: &mut String, name: &str, fields: &Map<String, Value>) {
    out.push('<');
    out.push_str(name);
    let mut children = Vec::new();
    let mut text = None;
    for (key, value) in fields {
        match value {
            Value::Object(_) | Value::Array(_) => children.push((key, value)),
            Value::Null => {}
            _ if key == "value" => text = Some(scalar(value)),
            _ => {
                out.push(' ');
                out.push_str(key);
                out.push_str("=\"");
                escape(out, &scalar(value));
                out.push('"');
            }
        }
    }
    if children.is_empty() && text.is_none() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(text) = text {
        escape(out, &text);
    }
    for (key, value) in children {
        match value {
            Value::Object(inner) => element(out, key, inner),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(inner) => element(out, key, inner),
                        other => {
                            out.push_str(&format!("<{key}>"));
                            escape(out, &scalar(other));
                            out.push_str(&format!("</{key}>"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_puts_scalars_in_attributes_and_lists_in_repeated_elements() {
        let mut out = String::new();
        let fields = serde_json::json!({"a": "x<\"y", "n": 3, "song": [{"id": "1"}, {"id": "2"}], "lyrics": {"value": "la & la"}});
        element(&mut out, "r", fields.as_object().unwrap());
        assert_eq!(out, r#"<r a="x&lt;&quot;y" n="3"><lyrics>la &amp; la</lyrics><song id="1"/><song id="2"/></r>"#);
    }
}
