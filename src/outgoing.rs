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
