//! The admin UI's files: stored gzipped in the binary, sent so to clients that accept gzip
//! and unpacked for those that do not, byte for byte the files of `static/`.

use std::io::Read;

use crate::common::TestServer;

fn on_disk(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static").join(path)).unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a gzip body");
    out
}

async fn get(server: &TestServer, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = server.client.get(server.url(path));
    if let Some(accept) = accept {
        req = req.header("accept-encoding", accept);
    }
    req.send().await.unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn files_go_gzipped_to_who_accepts_it_and_plain_to_who_does_not() {
    let server = TestServer::start().await;
    let page = get(&server, "/admin/", Some("br, gzip;q=0.8")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-encoding"), "gzip");
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert_eq!(header(&page, "vary"), "Accept-Encoding");
    let etag = header(&page, "etag").to_owned();
    let sent = page.bytes().await.unwrap();
    assert_eq!(gunzip(&sent), on_disk("index.html"));

    let charts = "vendor/echarts/echarts.min.js";
    let zipped = get(&server, &format!("/admin/{charts}"), Some("gzip")).await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    let zipped = zipped.bytes().await.unwrap();
    assert!(zipped.len() * 2 < on_disk(charts).len(), "stored compressed: {} bytes", zipped.len());
    for refuses in [None, Some("identity"), Some("gzip;q=0")] {
        let plain = get(&server, &format!("/admin/{charts}"), refuses).await;
        assert_eq!(plain.status(), 200);
        assert_eq!(header(&plain, "content-encoding"), "", "{refuses:?}");
        assert!(header(&plain, "content-type").contains("javascript"));
        assert_eq!(plain.bytes().await.unwrap(), on_disk(charts), "{refuses:?}");
    }

    // A file gzip would shrink by less than a tenth is stored as it is.
    let icon = get(&server, "/admin/favicon.svg", Some("gzip")).await;
    assert_eq!(header(&icon, "content-encoding"), "");
    assert_eq!(header(&icon, "content-type"), "image/svg+xml");
    assert_eq!(icon.bytes().await.unwrap(), on_disk("favicon.svg"));

    let again = server.client.get(server.url("/admin/")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    server.stop().await;
}

#[tokio::test]
async fn folders_redirect_and_unknown_files_and_methods_are_refused() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let bare = client.get(server.url("/admin")).send().await.unwrap();
    assert_eq!((bare.status().as_u16(), header(&bare, "location")), (302, "/admin/"));
    assert_eq!(get(&server, "/admin/nothing-here.js", None).await.status(), 404);
    assert_eq!(get(&server, "/admin/../Cargo.toml", None).await.status(), 404);
    let posted = server.client.post(server.url("/admin/app.js")).send().await.unwrap();
    assert_eq!(posted.status(), 405);
    assert!(!header(&posted, "content-security-policy").is_empty(), "every answer carries the policy");
    server.stop().await;
}

/// `/docs` loads Swagger UI from the box: the vendored files of `assets/swagger-ui/`, stored
/// gzipped like the admin UI's and sent the same way.
#[tokio::test]
async fn swagger_ui_goes_gzipped_to_who_accepts_it_and_plain_to_who_does_not() {
    let server = TestServer::start().await;
    let page = get(&server, "/docs", Some("gzip")).await.text().await.unwrap();
    let vendored = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/swagger-ui");
    for (file, kind) in [("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")] {
        assert!(page.contains(&format!("\"/docs/{file}\"")), "the page loads {file}: {page}");
        let raw = std::fs::read(vendored.join(file)).unwrap();
        let zipped = get(&server, &format!("/docs/{file}"), Some("gzip, deflate")).await;
        assert_eq!(zipped.status(), 200);
        assert_eq!(header(&zipped, "content-encoding"), "gzip", "{file}");
        assert_eq!(header(&zipped, "vary"), "Accept-Encoding");
        assert!(header(&zipped, "content-type").contains(kind), "{file}");
        let etag = header(&zipped, "etag").to_owned();
        let zipped = zipped.bytes().await.unwrap();
        assert!(zipped.len() * 3 < raw.len(), "{file} stored compressed: {} bytes", zipped.len());
        assert_eq!(gunzip(&zipped), raw, "{file}");
        for refuses in [None, Some("identity"), Some("gzip;q=0")] {
            let plain = get(&server, &format!("/docs/{file}"), refuses).await;
            assert_eq!(plain.status(), 200);
            assert_eq!(header(&plain, "content-encoding"), "", "{file} {refuses:?}");
            assert_eq!(plain.bytes().await.unwrap(), raw, "{file} {refuses:?}");
        }
        let again = server.client.get(server.url(&format!("/docs/{file}"))).header("if-none-match", &etag);
        assert_eq!(again.send().await.unwrap().status(), 304, "{file}");
    }
    server.stop().await;
}
