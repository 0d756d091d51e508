//! `/docs`: one Swagger UI page with a picker for the five surfaces, each loading
//! `/openapi/<surface>.json`. It reuses the Swagger UI bundle that poem-openapi embeds
//! (the head of its generated page) so nothing is fetched from outside the box.

use std::sync::{Arc, OnceLock};

use poem::http::{header, StatusCode};
use poem::web::{Data, Html, Path};
use poem::{handler, Endpoint, IntoResponse, Response};

// The links change the hash and the script follows it, so the page needs no inline event
// handlers (its Content-Security-Policy allows only its own scripts, by hash). Swagger UI's
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

pub fn endpoint(specs: &[(&'static str, String)]) -> impl Endpoint {
    let names: Vec<&'static str> = specs.iter().map(|(name, _)| *name).collect();
    // Built on the first visit: the page carries Swagger UI's whole bundle, megabytes an
    // appliance nobody reads the docs of need not hold.
    let page: Arc<OnceLock<(String, String)>> = Arc::default();
    poem::endpoint::make_sync(move |_| {
        let (page, policy) = page.get_or_init(|| build_page(&names));
        Html(page.clone()).with_header(header::CONTENT_SECURITY_POLICY, policy.clone())
    })
}

/// The page and its Content-Security-Policy.
fn build_page(names: &[&str]) -> (String, String) {
    // Any surface's page carries the same bundle in its <head>; the body is ours.
    let generated = poem_openapi::OpenApiService::new((), "hearth", env!("CARGO_PKG_VERSION")).swagger_ui_html();
    let head = generated.split("<div id=\"ui\"></div>").next().unwrap_or_default();
    let head = head.rsplit_once("<body>").map_or(head, |(before, _)| before);
    // The console's icon, so the browser does not ask for a /favicon.ico that is not there.
    let head =
        head.replacen("<title>", r#"<link rel="icon" href="/admin/favicon.svg" type="image/svg+xml"><title>"#, 1);
    let links: String =
        names.iter().map(|n| format!(r##"<a data-s="{n}" href="#{n}" style="color:#8cf">{n}</a>"##)).collect();
    let page = format!(
        "{head}{}",
        PICKER.replace("{:links}", &links).replace("{:names}", &serde_json::to_string(&names).expect("names"))
    );
    let policy = super::headers::docs_csp(&page);
    (page, policy)
}

#[handler]
pub async fn spec_file(Path(file): Path<String>, specs: Data<&Arc<Vec<(&'static str, String)>>>) -> Response {
    let wanted = file.strip_suffix(".json").unwrap_or(&file);
    match specs.iter().find(|(name, _)| *name == wanted) {
        Some((_, json)) => json.clone().with_content_type("application/json; charset=utf-8").into_response(),
        None => serde_json::json!({ "error": format!("no such surface {wanted:?}; try care, music, transit, system or open") })
            .to_string()
            .with_content_type("application/json; charset=utf-8")
            .with_status(StatusCode::NOT_FOUND)
            .into_response(),
    }
}
