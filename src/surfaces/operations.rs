//! Every API operation of every surface, read from the surfaces' OpenAPI documents, so the
//! permission catalogue follows the code: an operation added to a surface becomes a
//! permission at the next start. The guard resolves each request to its operation here.
//!
//! The operations are read at build time from the committed documents (`openapi/*.json`,
//! build.rs): building the five documents at every start cost time and memory. Tests keep
//! the committed documents equal to the code's and this catalogue equal to theirs.

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::Method;

use crate::identity::authz::{Audience, Operation};
use crate::identity::catalogue::{self, Entry};
use crate::AppState;

struct Pattern {
    method: Method,
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    /// Literal segments win over parameters, position by position from the left: one bit a
    /// segment, the first the highest, so patterns of one length compare as numbers.
    rank: u64,
    operation: Arc<Operation>,
}

impl Pattern {
    fn new(operation: Operation) -> Result<Pattern, poem::http::method::InvalidMethod> {
        let method = Method::from_bytes(operation.method.as_bytes())?;
        let segments: Vec<Option<String>> = operation
            .path
            .split('/')
            .map(|s| if s.starts_with('{') && s.ends_with('}') { None } else { Some(s.to_owned()) })
            .collect();
        let rank = segments
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .fold(0, |rank, (i, _)| rank | 1 << (63 - i));
        Ok(Pattern { method, segments, rank, operation: Arc::new(operation) })
    }

    /// Whether the request path (without a trailing slash) is this pattern's, read segment by
    /// segment without collecting them: the guard asks this of every operation of a surface.
    fn matches(&self, method: &Method, path: &str) -> bool {
        let mut got = path.split('/');
        self.method == method
            && self.segments.iter().all(|want| match (want, got.next()) {
                (_, None) => false,
                (Some(literal), Some(segment)) => literal == segment,
                (None, Some(segment)) => !segment.is_empty(),
            })
            && got.next().is_none()
    }
}

#[derive(Default)]
pub struct OperationIndex {
    by_surface: HashMap<&'static str, SurfaceOperations>,
}

#[derive(Default)]
struct SurfaceOperations {
    /// Every operation of the surface, in catalogue order.
    all: Vec<Pattern>,
    /// Operations whose path has no parameter, by path (indices into `all`). Such a path
    /// outranks every pattern with a parameter that also matches it, so most requests are
    /// resolved by one look-up instead of a pass over the surface's operations.
    literal: HashMap<String, Vec<usize>>,
    /// Operations with a parameter (indices into `all`), tried when no literal path matches.
    parametrized: Vec<usize>,
}

impl OperationIndex {
    fn add(&mut self, pattern: Pattern) {
        let ops = self.by_surface.entry(pattern.operation.surface).or_default();
        let at = ops.all.len();
        if pattern.segments.iter().all(Option::is_some) {
            ops.literal.entry(pattern.operation.path.clone()).or_default().push(at);
        } else {
            ops.parametrized.push(at);
        }
        ops.all.push(pattern);
    }

    pub fn resolve(&self, surface: &str, method: &Method, path: &str) -> Option<&Arc<Operation>> {
        let path = path.trim_end_matches('/');
        let ops = self.by_surface.get(surface)?;
        let literal = ops.literal.get(path).into_iter().flatten().map(|&at| &ops.all[at]).find(|p| p.method == method);
        literal
            .or_else(|| {
                let parametrized = ops.parametrized.iter().map(|&at| &ops.all[at]);
                parametrized.filter(|p| p.matches(method, path)).max_by_key(|p| p.rank)
            })
            .map(|p| &p.operation)
    }

    /// The methods documented for a path, for the `Allow` header of a 405.
    pub fn methods(&self, surface: &str, path: &str) -> Vec<&Method> {
        let path = path.trim_end_matches('/');
        let mut methods: Vec<&Method> = self
            .by_surface
            .get(surface)
            .into_iter()
            .flat_map(|ops| &ops.all)
            .filter(|p| p.matches(&p.method, path))
            .map(|p| &p.method)
            .collect();
        methods.sort_by_key(|m| m.as_str());
        methods.dedup();
        methods
    }

    pub fn len(&self) -> usize {
        self.by_surface.values().map(|ops| ops.all.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One documented operation of a surface.
pub struct Documented {
    pub surface: &'static str,
    pub method: String,
    pub path: String,
    pub summary: String,
}

pub fn documented(surface: &'static str, spec: &str) -> Vec<Documented> {
    let spec: serde_json::Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let summary = op["summary"].as_str().unwrap_or_default().to_owned();
            found.push(Documented { surface, method: method.to_ascii_uppercase(), path: path.clone(), summary });
        }
    }
    found
}

/// Every operation of the committed documents: `(surface, METHOD, path, summary)`.
static BUILT: &[(&str, &str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/documented.rs"));

/// A surface's operations as the committed document lists them (build.rs), in the order
/// `documented` gives for that document.
pub fn built(surface: &'static str) -> Vec<Documented> {
    BUILT
        .iter()
        .filter(|(s, ..)| *s == surface)
        .map(|(_, method, path, summary)| Documented {
            surface,
            method: (*method).to_owned(),
            path: (*path).to_owned(),
            summary: (*summary).to_owned(),
        })
        .collect()
}

/// The whole catalogue the code declares: per surface its MODULE then its operations, then
/// the admin UI's pages.
pub fn catalogue() -> Vec<(Entry, Option<Documented>)> {
    catalogue_of(built)
}

/// The catalogue with each surface's operations from `operations`.
fn catalogue_of(mut operations: impl FnMut(&'static str) -> Vec<Documented>) -> Vec<(Entry, Option<Documented>)> {
    let mut entries = Vec::new();
    for surface in super::registry::surfaces() {
        entries.push((Entry::module(surface.name, surface.title), None));
        for op in operations(surface.name) {
            let audience = super::access::audience(surface.name, &op.method, &op.path);
            entries.push((Entry::operation(surface.name, &op.method, &op.path, &op.summary, audience), Some(op)));
        }
    }
    for page in crate::web::admin::PAGES {
        entries.push((Entry::page(page.path, page.title, page.icon, page.audience), None));
    }
    entries
}

/// Writes the catalogue to the database and builds the index the guards resolve with.
pub async fn sync(app: &Arc<AppState>) -> anyhow::Result<OperationIndex> {
    sync_entries(app, catalogue()).await
}

/// `sync` for a given catalogue.
pub async fn sync_entries(
    app: &Arc<AppState>,
    declared: Vec<(Entry, Option<Documented>)>,
) -> anyhow::Result<OperationIndex> {
    let entries: Vec<Entry> = declared.iter().map(|(e, _)| e.clone()).collect();
    let ids = app.db.write(move |tx| Ok::<_, crate::db::DbError>(catalogue::sync(tx, &entries)?)).await?;
    let mut index = OperationIndex::default();
    for (entry, op) in declared {
        if entry.audience == Audience::Nobody {
            if let Some(op) = &op {
                tracing::warn!(surface = op.surface, method = %op.method, path = %op.path,
                    "operation not declared in surfaces/access.rs: refused to every caller");
            }
        }
        let Some(op) = op else { continue };
        let pattern = Pattern::new(Operation {
            permission_id: ids[&entry.value],
            surface: op.surface,
            method: op.method,
            path: op.path,
            audience: entry.audience,
        })?;
        index.add(pattern);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue the server syncs is read from the committed documents at build time; it
    /// must be the one the code's own documents give, operation by operation, in order.
    #[test]
    fn the_built_catalogue_is_the_one_the_code_documents() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::AppState::open(crate::config::Config::for_tests(dir.path())).unwrap();
        let from_code =
            catalogue_of(|name| documented(name, &crate::surfaces::registry::document(name, &app).unwrap()));
        let shown = |entries: Vec<(Entry, Option<Documented>)>| -> Vec<String> {
            entries
                .into_iter()
                .map(|(entry, op)| {
                    let op = op.map(|op| format!("{} {} {} {:?}", op.surface, op.method, op.path, op.summary));
                    format!("{entry:?} {op:?}")
                })
                .collect()
        };
        let (served, from_code) = (shown(catalogue()), shown(from_code));
        assert!(from_code.len() > 100, "{} entries", from_code.len());
        for (served, code) in served.iter().zip(&from_code) {
            assert_eq!(served, code, "rebuild after `cargo run -- openapi --out openapi`");
        }
        assert_eq!(served.len(), from_code.len());
    }

    fn pattern(method: Method, path: &str, id: i64) -> Pattern {
        let operation = Operation {
            permission_id: id,
            surface: "system",
            method: method.to_string(),
            path: path.into(),
            audience: Audience::Admin,
        };
        Pattern::new(operation).unwrap()
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let mut index = OperationIndex::default();
        for pattern in [
            pattern(Method::GET, "/api/auth/role/{id}", 1),
            pattern(Method::GET, "/api/auth/role/roleList", 2),
            pattern(Method::PUT, "/api/auth/user/{id}", 3),
            pattern(Method::PUT, "/api/auth/user/edit/{id}", 4),
            pattern(Method::PUT, "/api/auth/role/{id}", 5),
        ] {
            index.add(pattern);
        }
        let id = |m: Method, p: &str| index.resolve("system", &m, p).map(|o| o.permission_id);
        assert_eq!(id(Method::GET, "/api/auth/role/roleList"), Some(2));
        assert_eq!(id(Method::GET, "/api/auth/role/7"), Some(1));
        // A literal path documented for another method leaves the parameters to match.
        assert_eq!(id(Method::PUT, "/api/auth/role/roleList"), Some(5));
        assert_eq!(id(Method::GET, "/api/auth/role/roleList/"), Some(2));
        assert_eq!(id(Method::PUT, "/api/auth/user/7"), Some(3));
        assert_eq!(id(Method::PUT, "/api/auth/user/edit/7"), Some(4));
        assert_eq!(id(Method::DELETE, "/api/auth/user/7"), None);
        assert_eq!(id(Method::GET, "/api/auth/role/"), None);
        assert_eq!(index.methods("system", "/api/auth/user/7"), [&Method::PUT]);
        assert_eq!(index.methods("system", "/api/auth/role/roleList"), [&Method::GET, &Method::PUT]);
    }
}
