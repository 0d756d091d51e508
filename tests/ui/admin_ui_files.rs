//! The console's static files agree with the server: its page list is the catalogue's
//! (src/web/admin.rs PAGES), each built page has its module, both languages have the same
//! texts, and the vendored chart library is there with its licence.

use std::collections::BTreeSet;
use std::path::Path;

fn file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `{ page: '…', …, built: true }` entries of static/app.js, in order.
fn ui_pages() -> Vec<(String, bool)> {
    let app = file("static/app.js");
    let start = app.find("export const PAGES = [").expect("PAGES in app.js");
    let end = start + app[start..].find("];").unwrap();
    app[start..end]
        .lines()
        .filter_map(|line| {
            let name = line.split("page: '").nth(1)?.split('\'').next()?.to_owned();
            Some((name, line.contains("built: true")))
        })
        .collect()
}

#[test]
fn the_console_lists_the_catalogues_pages_in_order_and_each_built_page_has_a_module() {
    let server: Vec<&str> = hearth::web::admin::PAGES.iter().map(|p| p.path).collect();
    let ui = ui_pages();
    assert_eq!(
        ui.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        server,
        "static/app.js PAGES must follow src/web/admin.rs PAGES"
    );
    for (page, built) in &ui {
        let module = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("static/pages/{page}.js"));
        assert_eq!(module.exists(), *built, "static/pages/{page}.js exists exactly when the page is marked built");
    }
}

/// The keys of one dictionary object (`const <name> = { 'key': '…', … };`).
fn keys(source: &str, name: &str) -> BTreeSet<String> {
    let start = source.find(&format!("const {name} = {{")).unwrap_or_else(|| panic!("dictionary {name}"));
    let end = start + source[start..].find("\n};").unwrap();
    let mut found = BTreeSet::new();
    let mut rest = &source[start..end];
    while let Some(at) = rest.find("'") {
        let after = &rest[at + 1..];
        let close = after.find('\'').unwrap();
        let (key, tail) = (&after[..close], &after[close + 1..]);
        if tail.starts_with(':') {
            found.insert(key.to_owned());
        }
        rest = tail;
    }
    found
}

#[test]
fn both_languages_have_every_text_and_every_page_title() {
    let source = file("static/lib/i18n.js");
    let (zh, en) = (keys(&source, "zh"), keys(&source, "en"));
    assert!(zh.len() > 100, "{} keys read", zh.len());
    assert_eq!(zh.symmetric_difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "keys in one language only");
    for page in hearth::web::admin::PAGES {
        assert!(zh.contains(&format!("page.{}", page.path)), "no title for page {}", page.path);
    }
}

#[test]
fn echarts_is_vendored_with_its_licence_and_nothing_is_loaded_from_elsewhere() {
    let min = file("static/vendor/echarts/echarts.min.js");
    assert!(min.len() > 500_000 && min.contains("echarts"), "dist/echarts.min.js");
    assert!(file("static/vendor/echarts/LICENSE").contains("Apache License"));
    assert!(file("static/vendor/echarts/README.md").contains("5.6.0"));
    let index = file("static/index.html");
    assert!(!index.contains("http://") && !index.contains("https://"), "index.html loads nothing from other hosts");
    for dir in ["static/lib", "static/pages"] {
        for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains("import('http") && !text.contains("from 'http"), "modules import only local files");
        }
    }
}
