//! Values the documents write loosely: ids sent as `5` or `"5"`, flags sent as `true`,
//! `"true"`, `1` or `"1"`. Accepted in JSON bodies (serde and poem-openapi), query
//! parameters and multipart fields; always written back in their strict form.

use std::borrow::Cow;

use poem::web::Field;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromMultipartField, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

/// How a loose value is read.
trait Loose: Sized + Copy {
    const SCHEMA_TYPE: &'static str;
    const FORMAT: Option<&'static str>;
    const EXPECTED: &'static str;
    fn from_text(text: &str) -> Option<Self>;
    fn from_value(value: &Value) -> Option<Self>;
    fn to_value(self) -> Value;
}

/// An integer id, as a JSON number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LenientId(pub i64);

/// A flag: `true`/`false`, `1`/`0`, or those as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LenientBool(pub bool);

impl Loose for LenientId {
    const SCHEMA_TYPE: &'static str = "integer";
    const FORMAT: Option<&'static str> = Some("int64");
    const EXPECTED: &'static str = "an integer (a number or a string of digits)";

    fn from_text(text: &str) -> Option<Self> {
        text.trim().parse().ok().map(LenientId)
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(LenientId),
            Value::String(s) => Self::from_text(s),
            _ => None,
        }
    }

    fn to_value(self) -> Value {
        Value::from(self.0)
    }
}

impl Loose for LenientBool {
    const SCHEMA_TYPE: &'static str = "boolean";
    const FORMAT: Option<&'static str> = None;
    const EXPECTED: &'static str = "true or false (also 1/0, as text or number)";

    fn from_text(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(LenientBool(true)),
            "false" | "0" => Some(LenientBool(false)),
            _ => None,
        }
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(LenientBool(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Some(LenientBool(true)),
                Some(0) => Some(LenientBool(false)),
                _ => None,
            },
            Value::String(s) => Self::from_text(s),
            _ => None,
        }
    }

    fn to_value(self) -> Value {
        Value::Bool(self.0)
    }
}

macro_rules! loose_type {
    ($ty:ty, $name:literal) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema =
                    MetaSchema::new_with_format(<$ty as Loose>::SCHEMA_TYPE, <$ty as Loose>::FORMAT.unwrap_or(""));
                schema.description = Some(<$ty as Loose>::EXPECTED);
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                let value = value.unwrap_or_default();
                <$ty as Loose>::from_value(&value)
                    .ok_or_else(|| ParseError::custom(format!("expected {}", <$ty as Loose>::EXPECTED)))
            }
        }

        impl ParseFromParameter for $ty {
            fn parse_from_parameter(text: &str) -> ParseResult<Self> {
                <$ty as Loose>::from_text(text)
                    .ok_or_else(|| ParseError::custom(format!("expected {}", <$ty as Loose>::EXPECTED)))
            }
        }

        impl ParseFromMultipartField for $ty {
            async fn parse_from_multipart(field: Option<Field>) -> ParseResult<Self> {
                match field {
                    Some(field) => <Self as ParseFromParameter>::parse_from_parameter(&field.text().await?),
                    None => Err(ParseError::expected_input()),
                }
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(<$ty as Loose>::to_value(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                <$ty as Loose>::from_value(&value)
                    .ok_or_else(|| serde::de::Error::invalid_type(unexpected(&value), &<$ty as Loose>::EXPECTED))
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$ty as Loose>::to_value(*self).serialize(serializer)
            }
        }
    };
}

loose_type!(LenientId, "LenientId");
loose_type!(LenientBool, "LenientBool");

fn unexpected(value: &Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => n.as_i64().map_or(Unexpected::Other("number"), Unexpected::Signed),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surfaces::body::parse_json;
    use crate::surfaces::Failure;

    #[derive(serde::Deserialize)]
    struct Form {
        ids: Vec<LenientId>,
        on: LenientBool,
    }

    #[test]
    fn ids_and_flags_accept_the_documented_loose_forms() {
        let form: Form = parse_json(br#"{"ids":["1", 2, " 3 "], "on":"true"}"#).unwrap();
        assert_eq!(form.ids, vec![LenientId(1), LenientId(2), LenientId(3)]);
        assert!(form.on.0);
        for (text, want) in [("true", true), ("1", true), ("\"0\"", false), ("false", false), ("\"FALSE\"", false)] {
            let form: Form = parse_json(format!(r#"{{"ids":[],"on":{text}}}"#).as_bytes()).unwrap();
            assert_eq!(form.on.0, want, "{text}");
        }
    }

    #[test]
    fn anything_else_is_a_wrong_type_naming_the_field() {
        let err = parse_json::<Form>(br#"{"ids":["x"],"on":true}"#).err().unwrap();
        assert!(
            matches!(&err, Failure::WrongType(m) if m.starts_with("ids[0]: invalid type: string \"x\"")),
            "{err:?}"
        );
        let err = parse_json::<Form>(br#"{"ids":[],"on":"yes"}"#).err().unwrap();
        assert!(matches!(&err, Failure::WrongType(m) if m.contains("true or false")), "{err:?}");
        assert_eq!(LenientBool::parse_from_parameter("0").unwrap(), LenientBool(false));
        assert!(LenientId::parse_from_parameter("1.5").is_err());
    }
}
