//! What can go wrong talking to Jira. Jira's own words (`errorMessages`, `errors`) are kept
//! verbatim, with the HTTP status, because they are what the user can act on.

use std::fmt::Write as _;

/// A failure of a Jira call, after any retries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Jira refused the credentials: 401, or a 200 that Jira marked as a failed login
    /// (`X-Seraph-LoginReason`, `X-AUSERNAME: anonymous`).
    #[error("Jira refused the credentials for {user} ({detail}) (hint: check the {hint})")]
    Unauthorized {
        /// Who we tried to be (never the token).
        user: String,
        /// Jira's message and status.
        detail: String,
        /// What to check.
        hint: &'static str,
    },
    /// A permanent HTTP error (400, 403, 404, 410, ...) with Jira's message.
    #[error("{method} {path} answered HTTP {status}: {detail}")]
    Status {
        /// HTTP method.
        method: String,
        /// Path (no query, no host).
        path: String,
        /// HTTP status.
        status: u16,
        /// Jira's `errorMessages` and `errors`, verbatim.
        detail: String,
    },
    /// Jira could not be reached (or kept failing) until the step's time ran out.
    #[error("Jira unreachable: {method} {path} kept failing until the step's timeout ({last})")]
    Unreachable {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// The last cause.
        last: String,
    },
    /// TLS refused the server's certificate.
    #[error(
        "TLS to {url} failed: {detail} (hint: TLS is always verified; if Jira uses a private CA, set jira.ca_file to its PEM certificate)"
    )]
    Tls {
        /// The base URL.
        url: String,
        /// rustls's reason.
        detail: String,
    },
    /// A create or other write was sent, and its outcome is unknown (timeout, reset, 5xx).
    #[error("{method} {path} may or may not have been applied: {cause}")]
    Ambiguous {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// Why we cannot tell.
        cause: String,
    },
    /// Jira answered something this client cannot read.
    #[error("{method} {path}: unexpected answer from Jira: {detail}")]
    Protocol {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The stanza names something this Jira does not have (field, transition, issue type, user,
    /// option), with the candidates.
    #[error("{0}")]
    Mismatch(String),
    /// The HTTP client could not be set up (e.g. an unreadable `ca_file`).
    #[error("{0}")]
    Setup(String),
}

impl Error {
    /// True for "not found or not visible" answers.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Status { status: 404, .. })
    }
}

/// Renders Jira's error body: `errorMessages` joined, then `errors` as `field: message`. Falls back
/// to `message` (some gateways), then to the raw text, shortened.
pub fn describe_body(body: &serde_json::Value, raw: &str) -> String {
    let mut out = String::new();
    if let Some(messages) = body.get("errorMessages").and_then(|m| m.as_array()) {
        for message in messages.iter().filter_map(|m| m.as_str()) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(message);
        }
    }
    if let Some(errors) = body.get("errors").and_then(|e| e.as_object()) {
        for (field, message) in errors {
            if !out.is_empty() {
                out.push_str("; ");
            }
            let text = message
                .as_str()
                .map_or_else(|| message.to_string(), str::to_owned);
            let _ = write!(out, "{field}: {text}");
        }
    }
    if out.is_empty() {
        if let Some(message) = body.get("message").and_then(|m| m.as_str()) {
            out.push_str(message);
        }
    }
    if out.is_empty() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            out.push_str("(empty body)");
        } else {
            let flat = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
            out.extend(flat.chars().take(300));
        }
    }
    out
}

/// An error with its source chain, each cause once (some messages already include their source).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::describe_body;
    use serde_json::json;

    #[test]
    fn renders_jira_error_bodies() {
        let body = json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue.", "issuetype": "Specify an issue type"}});
        assert_eq!(
            describe_body(&body, ""),
            "issuetype: Specify an issue type; summary: You must specify a summary of the issue."
        );
        let body = json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}});
        assert_eq!(
            describe_body(&body, ""),
            "Issue does not exist or you do not have permission to see it."
        );
        assert_eq!(
            describe_body(
                &json!({"message": "Basic Authentication has been disabled on this instance."}),
                ""
            ),
            "Basic Authentication has been disabled on this instance."
        );
        assert_eq!(
            describe_body(&serde_json::Value::Null, "<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(describe_body(&serde_json::Value::Null, ""), "(empty body)");
    }
}
