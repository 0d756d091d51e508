//! Paging and sorting shared by the four lists (CONTRACT §7): `page` from 1 (default 1),
//! `limit` up to 1000 (default 40), `sort` a field name with `-` for descending.

use rusqlite::types::Value;

use crate::surfaces::paging::{window, OutOfRange};
use crate::surfaces::Failure;

pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

pub fn paging(page: Option<i64>, limit: Option<i64>) -> Result<Paging, Failure> {
    let (limit, offset) = window(page, limit, 40, 1000).map_err(|bad| {
        Failure::Invalid(match bad {
            OutOfRange::Number => "page must be 1 or more".into(),
            OutOfRange::Size => "limit must be between 1 and 1000".into(),
        })
    })?;
    Ok(Paging { limit, offset })
}

/// `ORDER BY …` for `sort`, from (field name, SQL expression) pairs; `tiebreak` keeps pages
/// stable. An unknown field is refused, naming the fields that exist.
pub fn order_by(sort: Option<&str>, fields: &[(&str, &str)], default: &str, tiebreak: &str) -> Result<String, Failure> {
    let sort = sort.map(str::trim).filter(|s| !s.is_empty());
    let Some(sort) = sort else {
        return Ok(format!("ORDER BY {default}"));
    };
    let (field, dir) = match sort.strip_prefix('-') {
        Some(f) => (f, "DESC"),
        None => (sort.strip_prefix('+').unwrap_or(sort), "ASC"),
    };
    let Some((_, expr)) = fields.iter().find(|(name, _)| *name == field) else {
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        return Err(Failure::Invalid(format!("cannot sort by `{field}`; sort by one of {}", names.join(", "))));
    };
    Ok(format!("ORDER BY {expr} {dir}, {tiebreak} {dir}"))
}

/// WHERE conditions with their parameters, built up filter by filter.
#[derive(Default)]
pub struct Filters {
    pub conditions: Vec<String>,
    pub params: Vec<Value>,
}

impl Filters {
    pub fn push(&mut self, condition: &str, values: impl IntoIterator<Item = Value>) {
        // Each `?` becomes the numbered placeholder of the next value.
        let mut values = values.into_iter();
        let mut numbered = String::with_capacity(condition.len() + 8);
        for ch in condition.chars() {
            if ch == '?' {
                self.params.push(values.next().expect("one value per placeholder"));
                numbered.push_str(&format!("?{}", self.params.len()));
            } else {
                numbered.push(ch);
            }
        }
        self.conditions.push(numbered);
    }

    pub fn raw(&mut self, condition: String) {
        if !condition.trim().is_empty() {
            self.conditions.push(condition.trim().trim_start_matches("AND ").to_owned());
        }
    }

    pub fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }
}
