//! What a failed request means for the caller: try again later (the API server is restarting, busy, or
//! out of reach) or not (the request itself is wrong), and a message short enough to show in a status.

use std::time::Duration;

/// Longest server text copied into a status field, condition or event: an HTML error page from a proxy
/// in front of an API server must never make the status write that reports it fail.
pub const MAX_MESSAGE: usize = 512;

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Connection refused or reset, a timeout, 429, 5xx: the same request may succeed later.
    Transient,
    /// The request is refused for a reason that will not change by itself (4xx).
    Permanent,
}

/// A request to one cluster that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cluster}: {what}: {message}")]
pub struct RequestError {
    /// `source` or `destination`.
    pub cluster: &'static str,
    /// What was asked, e.g. `listing configmaps`.
    pub what: String,
    /// The HTTP status code, when the server answered.
    pub code: Option<u16>,
    pub retry: Retry,
    /// Bounded (see [`MAX_MESSAGE`]).
    pub message: String,
}

impl RequestError {
    pub fn from_kube(cluster: &'static str, what: impl Into<String>, err: &kube::Error) -> Self {
        let code = match err {
            kube::Error::Api(status) => Some(status.code),
            _ => None,
        };
        Self { cluster, what: what.into(), code, retry: classify(err), message: message(err) }
    }

    pub fn timeout(cluster: &'static str, what: impl Into<String>, after: Duration) -> Self {
        Self {
            cluster,
            what: what.into(),
            code: None,
            retry: Retry::Transient,
            message: format!("no complete answer within {} (request timeout)", crate::duration::format(after)),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.retry == Retry::Transient
    }

    pub fn is_not_found(&self) -> bool {
        self.code == Some(404)
    }
}

/// Transient for everything a healthy API server can recover from without anyone changing the request.
pub fn classify(err: &kube::Error) -> Retry {
    match err {
        // 408 request timeout, 429 too many requests (APF), and 5xx: an etcd leader change, an API
        // server shutting down, a webhook that is down, a proxy without an upstream.
        kube::Error::Api(status) if status.code == 408 || status.code == 429 || status.code >= 500 => Retry::Transient,
        kube::Error::Api(_) => Retry::Permanent,
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => Retry::Transient,
        // A response cut off in the middle does not parse.
        kube::Error::SerdeError(e) if e.is_eof() || e.is_io() => Retry::Transient,
        _ => Retry::Permanent,
    }
}

/// The server's own message for API errors (not kube's debug dump of the whole Status), else the error
/// with its causes; bounded.
pub fn message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => bounded(&status.message, MAX_MESSAGE),
        kube::Error::Api(status) => bounded(&format!("{} {}", status.code, status.reason), MAX_MESSAGE),
        other => bounded(&crate::error_chain(other), MAX_MESSAGE),
    }
}

/// `text` made fit for a status field: whitespace runs and control characters collapsed to one space,
/// markup-heavy error pages reduced to their text, at most `max` bytes (cut at a character boundary,
/// ending in `…`).
pub fn bounded(text: &str, max: usize) -> String {
    let text = if looks_like_html(text) { strip_tags(text) } else { text.to_string() };
    let mut out = String::with_capacity(text.len().min(max));
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
        if out.len() > max {
            break;
        }
    }
    if out.len() <= max {
        return out;
    }
    const ELLIPSIS: &str = "…";
    let mut cut = max.saturating_sub(ELLIPSIS.len());
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push_str(ELLIPSIS);
    out
}

fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start().get(..15).unwrap_or("").to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The text between tags, scripts and styles left out.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tag = &rest[open..];
        let lower = tag.get(..7).unwrap_or("").to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            tag.to_ascii_lowercase().find("</script>").map(|i| i + "</script>".len())
        } else if lower.starts_with("<style") {
            tag.to_ascii_lowercase().find("</style>").map(|i| i + "</style>".len())
        } else {
            tag.find('>').map(|i| i + 1)
        };
        match skip_to {
            Some(end) => rest = &tag[end..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, "").with_code(code).boxed())
    }

    #[test]
    fn busy_or_restarting_servers_are_transient_refusals_are_not() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(&api(code, "x")), Retry::Transient, "{code}");
        }
        for code in [400, 401, 403, 404, 409, 422] {
            assert_eq!(classify(&api(code, "x")), Retry::Permanent, "{code}");
        }
        let cut = serde_json::from_str::<serde_json::Value>("{\"a\":").unwrap_err();
        assert_eq!(classify(&kube::Error::SerdeError(cut)), Retry::Transient);
        let garbage = serde_json::from_str::<serde_json::Value>("nope").unwrap_err();
        assert_eq!(classify(&kube::Error::SerdeError(garbage)), Retry::Permanent);
    }

    #[test]
    fn messages_are_the_servers_and_bounded() {
        assert_eq!(message(&api(422, "spec.x: Invalid value")), "spec.x: Invalid value");
        let page = format!(
            "<!DOCTYPE html><html><head><style>body {{ color: red }}</style><script>var x = 1;</script></head>\
             <body><h1>502 Bad Gateway</h1>\n\n<p>{}</p></body></html>",
            "upstream went away ".repeat(100)
        );
        let text = message(&api(502, &page));
        assert!(text.starts_with("502 Bad Gateway upstream went away"), "{text}");
        assert!(!text.contains('<') && !text.contains("color"), "{text}");
        assert!(text.len() <= MAX_MESSAGE && text.ends_with('…'), "{} bytes", text.len());
        let multibyte = "é".repeat(400);
        let cut = bounded(&multibyte, 511);
        assert!(cut.len() <= 511 && cut.ends_with('…'));
        assert_eq!(bounded("  a \n\t b  ", 10), "a b");
    }

    #[test]
    fn request_errors_say_where_and_what() {
        let err = RequestError::from_kube("destination", "listing configmaps", &api(503, "etcdserver: leader changed"));
        assert!(err.is_transient());
        assert_eq!(err.to_string(), "destination: listing configmaps: etcdserver: leader changed");
        let timeout = RequestError::timeout("source", "reading deployments", Duration::from_secs(30));
        assert!(timeout.is_transient());
        assert!(timeout.to_string().contains("within 30s"), "{timeout}");
    }
}
