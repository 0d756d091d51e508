//! Work done once here, at build time, instead of in the server at every start:
//!
//! - The admin UI (`static/`) and Swagger UI (`assets/swagger-ui/`) are stored compressed:
//!   each file is gzipped, and `src/web/admin.rs` serves the gzip bytes as they are to
//!   browsers that accept them (all do). The binary carries about a third of the files'
//!   size, and a phone on the box's Wi-Fi downloads a third.
//! - The committed OpenAPI documents (`openapi/*.json`) are stored the same way and served
//!   as they are, so the server never builds them.
//! - The operations of the permission catalogue are read from the committed OpenAPI
//!   documents (`openapi/*.json`), so a start does not build five documents to list them.
//!   A test keeps the committed documents equal to the code's, and another the catalogue
//!   built here equal to the one the code's documents give.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("a folder").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Writes `<prefix>_files.rs`: the table of every file under `root`, stored gzipped unless
/// gzip saves too little.
fn store(root: &Path, prefix: &str, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut found = Vec::new();
    files(root, &mut found);
    let mut table = String::from("&[\n");
    for (n, path) in found.iter().enumerate() {
        let name = path.strip_prefix(root).expect("under its root").to_string_lossy().replace('\\', "/");
        if name == "README.md" {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let raw = std::fs::read(path).expect("a file to store");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw).expect("gzip");
        let gz = gz.finish().expect("gzip");
        // Pictures and the like hardly shrink: unless gzip saves a tenth, a file stays as it is.
        let (stored, gzipped) = if gz.len() * 10 < raw.len() * 9 { (gz, true) } else { (raw.clone(), false) };
        let file = out_dir.join(format!("{prefix}-{n}"));
        std::fs::write(&file, &stored).expect("writing OUT_DIR");
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        raw.hash(&mut hasher);
        writeln!(
            table,
            "    StoredFile {{ path: {name:?}, stored: include_bytes!({file:?}), gzipped: {gzipped}, etag: \"\\\"{:016x}-{}\\\"\" }},",
            hasher.finish(),
            raw.len()
        )
        .expect("table");
    }
    table.push(']');
    std::fs::write(out_dir.join(format!("{prefix}_files.rs")), table).expect("writing OUT_DIR");
}

/// Writes `documented.rs`: `(surface, METHOD, path, summary)` of every operation the
/// committed documents declare, per document in the order `serde_json` reads them (paths,
/// then methods, sorted), as `surfaces::operations::documented` lists a document.
fn documented(dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found = Vec::new();
    files(dir, &mut found);
    let mut table = String::from("&[\n");
    for path in found.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        println!("cargo:rerun-if-changed={}", path.display());
        let surface = path.file_stem().expect("a name").to_string_lossy();
        let text = std::fs::read_to_string(path).expect("an OpenAPI document");
        let spec: serde_json::Value = serde_json::from_str(&text).expect("an OpenAPI document is JSON");
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let summary = op["summary"].as_str().unwrap_or_default();
                let method = method.to_ascii_uppercase();
                writeln!(table, "    ({surface:?}, {method:?}, {path:?}, {summary:?}),").expect("table");
            }
        }
    }
    table.push(']');
    std::fs::write(out_dir.join("documented.rs"), table).expect("writing OUT_DIR");
}

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    store(Path::new("static"), "admin", &out_dir);
    store(Path::new("assets/swagger-ui"), "swagger", &out_dir);
    store(Path::new("openapi"), "openapi", &out_dir);
    documented(Path::new("openapi"), &out_dir);
}
