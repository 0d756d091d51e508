//! Security headers on every answer. API answers and files are data, never pages, so their
//! Content-Security-Policy allows nothing; the admin UI and the docs page set their own
//! (`ADMIN_CSP`, `docs_csp`) before this runs, and those are kept.

use poem::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

/// The admin UI: same-origin ES modules only. Styles may be inline because the vendored
/// chart library writes style attributes into its tooltips; scripts never are. Snapshots
/// and captchas are `data:` images, hidden songs' files `blob:` URLs. The service worker
/// (`sw.js`) and the web app manifest come from the console itself, said outright rather
/// than left to `default-src`.
pub const ADMIN_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// JSON answers, media, downloads: nothing runs, nothing loads, nothing frames them. Inline
/// styles only so that a browser's own image or media page still lays itself out.
const DATA_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

pub fn secure(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(DATA_CSP));
    // API answers carry tokens, codes and personal data: no cache keeps them.
    let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"));
    if is_json {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
}

/// The docs page's policy: Swagger UI's bundle comes from the box itself, the surface picker
/// is an inline script allowed by its hash, and nothing else runs; Swagger UI styles itself
/// inline.
pub fn docs_csp(page: &str) -> String {
    let hashes: Vec<String> =
        inline_scripts(page).into_iter().map(|script| format!("'sha256-{}'", base64_sha256(script))).collect();
    format!(
        "default-src 'none'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
         connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        hashes.join(" ")
    )
}

/// The text of each `<script …>…</script>` without a `src`, in order. A script's own text
/// may mention `<script` (Swagger UI's does), so each search resumes after `</script>`.
fn inline_scripts(page: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start + "<script".len()..];
        let Some((tag, body)) = after.split_once('>') else { break };
        let Some(end) = body.find("</script>") else { break };
        if !tag.contains("src=") {
            found.push(&body[..end]);
        }
        rest = &body[end + "</script>".len()..];
    }
    found
}

fn base64_sha256(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_named_by_hash_and_external_ones_skipped() {
        let page = "<head><script charset=\"UTF-8\">a('<script>')</script><script src=\"x.js\"></script></head><script>b()</script>";
        assert_eq!(inline_scripts(page), ["a('<script>')", "b()"]);
        let csp = docs_csp(page);
        assert!(csp.contains(&format!("'sha256-{}'", base64_sha256("a('<script>')"))), "{csp}");
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert_eq!(scripts.split_whitespace().count(), 4, "'self', two hashes and nothing else: {scripts}");
        assert!(scripts.contains("'self'"), "{scripts}");
    }
}
