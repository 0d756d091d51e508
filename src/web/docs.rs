//! `/docs`: one Swagger UI page with a picker for the five surfaces, each loading
//! `/openapi/<surface>.json`. Swagger UI's script and styles are vendored
//! (`assets/swagger-ui/`), stored gzipped by build.rs and served from `/docs/` like the admin
//! UI's files, so nothing is fetched from outside the box. The documents are the committed
//! ones, stored and served the same way.

use poem::http::{header, StatusCode};
use poem::web::{Html, Path};
use poem::{handler, Endpoint, IntoResponse, Request, Response};

use super::admin::{serve, StoredFile};

static SWAGGER_UI: &[StoredFile] = include!(concat!(env!("OUT_DIR"), "/swagger_files.rs"));

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hearth API</title>
<link rel="icon" href="/admin/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<script src="/docs/swagger-ui-bundle.js"></script>
</head>
"#;

// The links change the hash and the script follows it, so the page needs no inline event
// handlers (its Content-Security-Policy allows only the box's own script files and its inline
// script, by hash). Swagger UI's
// deep links use the hash too: only a surface's name switches the document.
const PICKER: &str = r#"<body>
<nav style="font-family:sans-serif;padding:10px 20px;background:#1b1b1b;color:#fff;display:flex;gap:12px;align-items:center;flex-wrap:wrap">
  <strong>hearth API</strong>
  {:links}
</nav>
<div id="ui"></div>
<script>
  const surfaces = {:names};
  let shown = null;
  function show(name) {
    if (name === shown) return;
    shown = name;
    document.querySelectorAll('nav a').forEach(a => a.style.fontWeight = a.dataset.s === name ? 'bold' : 'normal');
    SwaggerUIBundle({ dom_id: '#ui', url: '/openapi/' + name + '.json', deepLinking: true });
  }
  const named = () => (location.hash.match(/^#\/?([a-z]+)$/) || [])[1];
  window.addEventListener('hashchange', () => { if (surfaces.includes(named())) show(named()); });
  show(surfaces.includes(named()) ? named() : surfaces[0]);
</script>
</body></html>"#;

pub fn endpoint(names: Vec<&'static str>) -> impl Endpoint<Output = Response> {
    let links: String =
        names.iter().map(|n| format!(r##"<a data-s="{n}" href="#{n}" style="color:#8cf">{n}</a>"##)).collect();
    let page = format!(
        "{HEAD}{}",
        PICKER.replace("{:links}", &links).replace("{:names}", &serde_json::to_string(&names).expect("names"))
    );
    let policy = super::headers::docs_csp(&page);
    poem::endpoint::make_sync(move |req| {
        let path = req.uri().path().trim_start_matches('/');
        match SWAGGER_UI.iter().find(|f| f.path == path) {
            Some(file) => serve(&req, file),
            None => Html(page.clone()).with_header(header::CONTENT_SECURITY_POLICY, policy.clone()).into_response(),
        }
    })
}

/// The surfaces' OpenAPI documents as committed under `openapi/`, stored by build.rs. A test
/// keeps them equal to the documents the code describes, so they are served as they are: the
/// server never builds a document, and the code poem-openapi generates to describe every
/// operation and type (about a megabyte) is left out of the binary.
static DOCUMENTS: &[StoredFile] = include!(concat!(env!("OUT_DIR"), "/openapi_files.rs"));

fn stored(surface: &str) -> Option<&'static StoredFile> {
    DOCUMENTS.iter().find(|f| f.path.strip_suffix(".json") == Some(surface))
}

/// A surface's document, unpacked: what `hearth openapi` writes.
pub fn document(surface: &str) -> Option<Vec<u8>> {
    Some(super::admin::unpacked(stored(surface)?).expect("build.rs stored it"))
}

#[handler]
pub fn spec_file(req: &Request, Path(file): Path<String>) -> Response {
    let wanted = file.strip_suffix(".json").unwrap_or(&file);
    match stored(wanted) {
        Some(found) => serve(req, found),
        None => serde_json::json!({ "error": format!("no such surface {wanted:?}; try care, music, transit, system or open") })
            .to_string()
            .with_content_type("application/json; charset=utf-8")
            .with_status(StatusCode::NOT_FOUND)
            .into_response(),
    }
}
