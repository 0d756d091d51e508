//! Security headers on every kind of answer (API, admin UI, docs, files, streams, errors),
//! policies that still let the admin UI and Swagger UI work in a real browser, and CORS:
//! off unless configured, then only for the configured origins.

use crate::admin_ui_support;
use crate::care_support;
use crate::common;
use crate::music_support;
use crate::open_support;

use std::collections::BTreeSet;

use base64::Engine;
use common::TestServer;
use reqwest::header::HeaderMap;
use serde_json::json;
use sha2::{Digest, Sha256};

fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Data,
    AdminUi,
    Docs,
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let server = TestServer::start_with(|c| c.json_limit = 1024).await;
    let admin = open_support::admin_token(&server).await;
    let (uid, creator) = music_support::creator(&server, "header_maker").await;
    let song = music_support::add_song(&server, &creator, "tune", &uid.to_string()).await;
    let care = care_support::user(&server, "13600000301").await;
    let (_, backup) = common::read(
        server.client.post(server.url("/system/api/backup/create")).bearer_auth(&admin).send().await.unwrap(),
    )
    .await;
    let archive = backup["data"]["name"].as_str().unwrap().to_owned();
    let admin_page = server.client.get(server.url("/admin/")).send().await.unwrap();
    let admin_etag = header(admin_page.headers(), "etag");
    assert!(!admin_etag.is_empty());
    let bearer = |req: reqwest::RequestBuilder| req.bearer_auth(&admin);
    let get = |path: &str| server.client.get(server.url(path));
    let answers: Vec<(&str, Kind, reqwest::RequestBuilder)> = vec![
        ("health", Kind::Data, get("/health")),
        ("a system failure", Kind::Data, get("/system/api/sms/outbox")),
        ("music's 401", Kind::Data, get("/music/api/user")),
        (
            "a care envelope",
            Kind::Data,
            server
                .client
                .post(server.url("/care/api/captcha"))
                .json(&json!({"id": 1, "type": "img", "subtype": "generate", "data": {}})),
        ),
        (
            "a 413",
            Kind::Data,
            server
                .client
                .post(server.url("/transit/api/userprofile/login"))
                .json(&json!({"username": "x".repeat(2000)})),
        ),
        ("an unknown path", Kind::Data, get("/no/such/page")),
        ("the root redirect", Kind::Data, get("/")),
        ("the spec", Kind::Data, get("/openapi/care.json")),
        ("song audio", Kind::Data, server.client.get(song["resUrl"].as_str().unwrap())),
        ("a cover", Kind::Data, server.client.get(song["musicAvatar"].as_str().unwrap())),
        ("a portrait", Kind::Data, get("/care/api/get/portrait/13600000301")),
        ("a backup download", Kind::Data, bearer(get(&format!("/system/api/backup/download/{archive}")))),
        ("a CSV export", Kind::Data, get(&format!("/transit/api/exports?model=station&token={admin}"))),
        ("the alert stream", Kind::Data, get(&format!("/care/api/notice/stream?token={care}"))),
        ("the admin UI", Kind::AdminUi, get("/admin/")),
        ("an admin UI module", Kind::AdminUi, get("/admin/app.js")),
        ("the service worker", Kind::AdminUi, get("/admin/sw.js")),
        ("the web app manifest", Kind::AdminUi, get("/admin/manifest.webmanifest")),
        ("a missing admin UI file", Kind::AdminUi, get("/admin/no-such.js")),
        ("the docs page", Kind::Docs, get("/docs")),
        ("a revalidated admin UI page", Kind::AdminUi, get("/admin/").header("if-none-match", admin_etag.clone())),
    ];
    for (what, kind, request) in answers {
        let res = request.send().await.unwrap();
        let h = res.headers();
        assert_eq!(header(h, "x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header(h, "referrer-policy"), "same-origin", "{what}");
        assert_eq!(header(h, "x-frame-options"), "DENY", "{what}");
        assert_eq!(header(h, "cross-origin-opener-policy"), "same-origin", "{what}");
        assert!(header(h, "permissions-policy").contains("camera=()"), "{what}");
        assert_eq!(header(h, "x-request-id").len(), 12, "{what}");
        let csp = header(h, "content-security-policy");
        assert_eq!(directive(&csp, "frame-ancestors"), "frame-ancestors 'none'", "{what}");
        match kind {
            Kind::Data => {
                assert_eq!(directive(&csp, "default-src"), "default-src 'none'", "{what}: {csp}");
                assert_eq!(directive(&csp, "sandbox"), "sandbox", "{what}: {csp}");
            }
            Kind::AdminUi => {
                assert_eq!(directive(&csp, "script-src"), "script-src 'self'", "{what}: {csp}");
                assert_eq!(directive(&csp, "connect-src"), "connect-src 'self'", "{what}: {csp}");
                assert_eq!(directive(&csp, "object-src"), "object-src 'none'", "{what}: {csp}");
                assert_eq!(directive(&csp, "worker-src"), "worker-src 'self'", "{what}: {csp}");
                assert_eq!(directive(&csp, "manifest-src"), "manifest-src 'self'", "{what}: {csp}");
            }
            Kind::Docs => assert!(
                directive(&csp, "script-src")
                    .split_whitespace()
                    .skip(1)
                    .all(|s| s == "'self'" || s.starts_with("'sha256-")),
                "{what}: {csp}"
            ),
        }
        // JSON answers hold tokens and personal data: never cached. Files keep their ETags.
        let json = header(h, "content-type").contains("json");
        assert_eq!(header(h, "cache-control") == "no-store", json, "{what}");
        if what == "song audio" {
            assert!(!header(h, "etag").is_empty());
        }
        if what == "a revalidated admin UI page" {
            assert_eq!(res.status(), 304, "the browser keeps the policy a 304 brings");
        }
    }
}

/// The text of every `<script>` without `src` in an HTML page (a script may mention
/// `<script` in its own text, so each search starts after the previous `</script>`).
fn inline_scripts(page: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        let (tag, body) = rest[start..].split_once('>').unwrap();
        let (script, after) = body.split_once("</script>").unwrap();
        if !tag.contains("src=") {
            found.push(script);
        }
        rest = after;
    }
    found
}

#[tokio::test]
async fn the_docs_page_allows_exactly_its_own_scripts() {
    let server = TestServer::start().await;
    let res = server.client.get(server.url("/docs")).send().await.unwrap();
    let csp = header(res.headers(), "content-security-policy");
    let page = res.text().await.unwrap();
    let hashes: BTreeSet<String> = inline_scripts(&page)
        .into_iter()
        .map(|s| format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))))
        .collect();
    assert_eq!(hashes.len(), 1, "the surface picker (Swagger UI's bundle is a file of the box's own)");
    assert!(page.contains(r#"<script src="/docs/swagger-ui-bundle.js">"#), "{page}");
    let allowed: BTreeSet<String> =
        directive(&csp, "script-src").split_whitespace().skip(1).map(str::to_owned).collect();
    let expected: BTreeSet<String> = hashes.into_iter().chain(["'self'".to_owned()]).collect();
    assert_eq!(allowed, expected);
    assert!(!page.contains(" onclick="), "inline handlers would need 'unsafe-inline'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_and_the_admin_ui_work_under_their_policies() {
    use admin_ui_support::{drive, Ui};
    let server = TestServer::start().await;
    drive(|| {
        let ui = Ui::launch(&server.base, "csp");
        ui.tab.navigate_to(&server.url("/docs")).unwrap();
        ui.tab.wait_until_navigated().unwrap();
        ui.wait(".swagger-ui .opblock");
        ui.wait_text(".swagger-ui .info .title", "hearth care");
        ui.click("nav a[data-s=music]");
        ui.wait_text(".swagger-ui .info .title", "hearth music");
        ui.shot("docs");
        ui.load("#/signin");
        ui.wait("#lang");
        ui.assert_no_errors();
    });
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers.keys().map(|k| k.as_str().to_owned()).filter(|k| k.starts_with("access-control-")).collect()
}

fn preflight(server: &TestServer, origin: &str) -> reqwest::RequestBuilder {
    server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/music/api/user/password"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization, content-type")
}

fn login_from(server: &TestServer, origin: &str) -> reqwest::RequestBuilder {
    server
        .client
        .post(server.url("/system/api/auth/login"))
        .header("origin", origin)
        .json(&json!({"loginname": "root", "password": "root-password"}))
}

#[tokio::test]
async fn without_cors_origins_no_answer_carries_cors_headers() {
    let server = TestServer::start().await;
    server.create_admin("root", "root-password").await;
    let res = login_from(&server, "http://partner.example").send().await.unwrap();
    assert!(cors_headers(res.headers()).is_empty());
    assert_eq!(common::read(res).await.1["code"], 0, "served, only without CORS headers");
    let res = preflight(&server, "http://partner.example").send().await.unwrap();
    assert!(cors_headers(res.headers()).is_empty(), "{:?}", res.headers());
    assert_eq!(res.status(), 405, "a preflight is just an OPTIONS request the surface does not serve");
}

#[tokio::test]
async fn configured_origins_get_cors_answers_and_everyone_else_is_served_without_them() {
    let server =
        TestServer::start_with(|c| c.cors_origins = "http://partner.example, http://other.example".into()).await;
    server.create_admin("root", "root-password").await;
    let res = preflight(&server, "http://partner.example").send().await.unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(header(h, "access-control-allow-origin"), "http://partner.example");
    assert!(header(h, "access-control-allow-methods").contains("PATCH"));
    let allowed = header(h, "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(!header(h, "access-control-max-age").is_empty());
    assert!(h.get("access-control-allow-credentials").is_none(), "tokens travel in headers, never cookies");

    let res = login_from(&server, "http://other.example").send().await.unwrap();
    assert_eq!(header(res.headers(), "access-control-allow-origin"), "http://other.example");
    assert!(header(res.headers(), "access-control-expose-headers").contains("Retry-After"));
    assert!(header(res.headers(), "vary").contains("Origin"));
    assert_eq!(common::read(res).await.1["code"], 0);

    // Another origin (the box's own admin UI, whose requests carry an Origin too) is served
    // as if CORS were off: the browser, not a refusal, keeps foreign pages out.
    for origin in [server.base.clone(), "http://stranger.example".to_owned()] {
        let res = login_from(&server, &origin).send().await.unwrap();
        assert!(cors_headers(res.headers()).is_empty(), "{origin}");
        assert_eq!(common::read(res).await.1["code"], 0, "{origin}");
    }
    let res = preflight(&server, "http://stranger.example").send().await.unwrap();
    assert!(cors_headers(res.headers()).is_empty());
}
