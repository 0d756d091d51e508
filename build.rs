//! Stores the admin UI (`static/`) compressed: each file is gzipped once here, at build time,
//! and `src/web/admin.rs` serves the gzip bytes as they are to browsers that accept them (all
//! do). The binary carries about a third of the files' size, and a phone on the box's Wi-Fi
//! downloads a third.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("static/").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=static");
    let root = Path::new("static");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut found = Vec::new();
    files(root, &mut found);
    let mut table = String::from("&[\n");
    for (n, path) in found.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let raw = std::fs::read(path).expect("a static file");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw).expect("gzip");
        let gz = gz.finish().expect("gzip");
        // Pictures and the like hardly shrink: unless gzip saves a tenth, a file stays as it is.
        let (stored, gzipped) = if gz.len() * 10 < raw.len() * 9 { (gz, true) } else { (raw.clone(), false) };
        let file = out_dir.join(format!("admin-{n}"));
        std::fs::write(&file, &stored).expect("writing OUT_DIR");
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        raw.hash(&mut hasher);
        let name = path.strip_prefix(root).expect("under static/").to_string_lossy().replace('\\', "/");
        writeln!(
            table,
            "    AdminFile {{ path: {name:?}, stored: include_bytes!({file:?}), gzipped: {gzipped}, etag: \"\\\"{:016x}-{}\\\"\" }},",
            hasher.finish(),
            raw.len()
        )
        .expect("table");
    }
    table.push(']');
    std::fs::write(out_dir.join("admin_files.rs"), table).expect("writing OUT_DIR");
}
