//! `GET /metrics`: off without `metrics_token`, behind the Bearer token with it, in the
//! Prometheus text format, labelled by operation templates. The recorder is process-wide and
//! the other tests of this binary run alongside, so counts are compared before and after.

use std::collections::HashMap;

use crate::common::TestServer;

const TOKEN: &str = "metrics-token-for-the-tests-0123";

async fn with_metrics() -> TestServer {
    TestServer::start_with(|c| c.metrics_token = Some(TOKEN.into())).await
}

async fn scrape(server: &TestServer) -> String {
    let res = server.client.get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    res.text().await.unwrap()
}

/// One sample: name, labels, value.
type Sample = (String, HashMap<String, String>, f64);

/// Parses the text format strictly: every line is blank, a `#` comment or
/// `name{label="value",...} value`; anything else fails the test.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("no value: {line:?}"));
        let name = &line[..name_end];
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad metric name in {line:?}"
        );
        let mut rest = &line[name_end..];
        let mut labels = HashMap::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let (parsed, after) = parse_labels(inner).unwrap_or_else(|| panic!("bad labels in {line:?}"));
            labels = parsed;
            rest = after;
        }
        let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("one space before the value: {line:?}"));
        let value = value.split(' ').next().unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

/// `key="value",...}` and what follows the closing brace; `None` if malformed.
fn parse_labels(inner: &str) -> Option<(HashMap<String, String>, &str)> {
    let mut labels = HashMap::new();
    let mut i = 0;
    loop {
        if inner[i..].starts_with('}') {
            return Some((labels, &inner[i + 1..]));
        }
        let eq = inner[i..].find("=\"")? + i;
        let key = &inner[i..eq];
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        i = eq + 2;
        let mut value = String::new();
        loop {
            let c = inner[i..].chars().next()?;
            i += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let escaped = inner[i..].chars().next()?;
                    i += escaped.len_utf8();
                    value.push(match escaped {
                        'n' => '\n',
                        '\\' | '"' => escaped,
                        _ => return None,
                    });
                }
                c => value.push(c),
            }
        }
        labels.insert(key.to_owned(), value);
        if inner[i..].starts_with(',') {
            i += 1;
        } else if !inner[i..].starts_with('}') {
            return None;
        }
    }
}

/// The sum of `name` over the samples whose labels include all of `want`.
fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| n == name && want.iter().all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_are_not_found_without_a_token_setting() {
    let server = TestServer::start().await;
    let res = server.client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = server.client.get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 404, "no token setting: no token opens it");
}

#[tokio::test]
async fn metrics_refuse_a_missing_or_wrong_token() {
    let server = with_metrics().await;
    let res = server.client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    for wrong in ["metrics-token-for-the-tests-0124", "metrics-token-for-the-tests-012", ""] {
        let res = server.client.get(server.url("/metrics")).bearer_auth(wrong).send().await.unwrap();
        assert_eq!(res.status(), 401, "{wrong:?}");
        assert!(!res.text().await.unwrap().contains("hearth_"), "no series for {wrong:?}");
    }
    let res = server.client.get(server.url("/metrics")).header("authorization", TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 401, "the Bearer scheme is required");
}

#[tokio::test]
async fn request_counters_move_per_surface_under_the_operation_template() {
    let server = with_metrics().await;
    server.create_admin("metrics_admin", "Metrics-Pass-77").await;
    let token = server.system_login("metrics_admin", "Metrics-Pass-77").await;
    let system_op = [("surface", "system"), ("operation", "/system/api/auth/dataRole/getRoleById/{id}")];
    let music_op = [("surface", "music"), ("operation", "/music/api/files/{kind}/{name}")];
    let before = parse(&scrape(&server).await);
    for _ in 0..3 {
        server.get_auth("/system/api/auth/dataRole/getRoleById/987654", &token).await;
    }
    for _ in 0..2 {
        server.client.get(server.url("/music/api/files/covers/zq987655.jpg")).send().await.unwrap();
    }
    let text = scrape(&server).await;
    let after = parse(&text);
    let moved = |op: &[(&str, &str)]| {
        total(&after, "hearth_http_requests_total", op) - total(&before, "hearth_http_requests_total", op)
    };
    assert!(moved(&system_op) >= 3.0, "system requests counted: {}", moved(&system_op));
    assert!(moved(&music_op) >= 2.0, "music requests counted: {}", moved(&music_op));
    let histogram_count = |samples: &[Sample]| total(samples, "hearth_http_request_duration_seconds_count", &system_op);
    assert!(histogram_count(&after) - histogram_count(&before) >= 3.0, "latency recorded per operation");
    assert!(!text.contains("987654") && !text.contains("zq987655"), "raw paths never become labels");
    for (name, labels, _) in after.iter().filter(|(n, _, _)| n == "hearth_http_requests_total") {
        let status = &labels["status"];
        assert!(["1xx", "2xx", "3xx", "4xx", "5xx"].contains(&status.as_str()), "{name}: status class {status}");
    }
    // The admin's own request was answered with 200 and counted as such.
    let ok = [("surface", "system"), ("operation", "/system/api/auth/login"), ("status", "2xx")];
    assert!(total(&after, "hearth_http_requests_total", &ok) >= 1.0);
}

#[tokio::test]
async fn metrics_report_the_database_queues_and_memory() {
    let server = with_metrics().await;
    server.get_auth("/system/api/auth/role/roleList", "not-a-token").await;
    let samples = parse(&scrape(&server).await);
    let value = |name: &str| samples.iter().find(|(n, _, _)| n == name).map(|(_, _, v)| *v);
    assert!(value("hearth_process_resident_memory_bytes").is_some_and(|rss| rss > 1_000_000.0));
    assert!(value("hearth_db_pool_wait_seconds_count").is_some_and(|n| n >= 1.0), "pool waits are timed");
    assert!(value("hearth_db_calls_in_flight").is_some_and(|n| n >= 0.0));
    assert_eq!(value("hearth_webhooks_pending"), Some(0.0));
    // Alerts may be on their way at start (cameras are synced); the depth is there.
    assert!(value("hearth_alerts_queued").is_some_and(|n| (0.0..=1024.0).contains(&n)));
}

#[test]
fn the_label_parser_refuses_what_is_not_the_text_format() {
    assert!(parse_labels(r#"a="1",b="x\"y"} 3"#).is_some_and(|(l, rest)| l["b"] == "x\"y" && rest == " 3"));
    for bad in [r#"a=1} 3"#, r#"a="1" 3"#, r#"a="1\q"} 3"#, r#"="1"} 3"#, r#"a="1"b="2"} 3"#] {
        assert!(parse_labels(bad).is_none(), "{bad}");
    }
}
