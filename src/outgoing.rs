//! Outgoing HTTP (Web Push, webhooks, the SMS gateway): why a request failed, in words an
//! operator can act on. reqwest's own message is "error sending request"; the reason (a
//! refused certificate, a refused connection, a timeout) sits in the errors beneath it.

/// The failure and every cause beneath it, without the URL: a push endpoint is a capability
/// and a webhook's URL may carry its receiver's secret, and both are kept out of records and
/// logs.
pub fn failure(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut words = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        let said = inner.to_string();
        // Some layers repeat their inner error's words in their own.
        if !words.contains(&said) {
            words.push_str(": ");
            words.push_str(&said);
        }
        cause = inner.source();
    }
    words
}

/// The most of a refusal's body a record keeps.
const SAID_CHARS: usize = 200;

/// `": <what the answer's body says>"`, on one line and cut short, or nothing for an empty
/// body. Stops reading once 800 bytes have come (a chunk may bring more): a refusal is
/// words, not a download.
pub async fn said(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < 4 * SAID_CHARS {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(SAID_CHARS).collect();
    if words.is_empty() {
        String::new()
    } else {
        format!(": {words}")
    }
}
