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
    /// Before the ticket exists, the connection failed for the whole `jira.connect_budget`, or the
    /// host name did not resolve.
    #[error("cannot connect to Jira at {host}: {detail} (hint: {hint})")]
    NoConnection {
        /// `host:port` of `jira.url`.
        host: String,
        /// The cause and how long or how often it was tried.
        detail: String,
        /// What to check.
        hint: &'static str,
    },
    /// An HTML login page answered instead of the REST API (SSO or a proxy in front of Jira).
    #[error(
        "Jira answered an HTML login page (HTTP {status}, {content_type}, {url}): SSO or a proxy is in front of the REST API; use an API token (Cloud) or a personal access token (Data Center) that bypasses it, or a URL that reaches the REST API directly"
    )]
    LoginPage {
        /// HTTP status of the page (or of the redirect to it).
        status: u16,
        /// Its `Content-Type`.
        content_type: String,
        /// The page's URL, without its query.
        url: String,
    },
    /// Jira wants a CAPTCHA solved before it accepts the credentials again.
    #[error(
        "Jira wants a CAPTCHA solved for {user} after failed logins (HTTP {status}, X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE); every API call is refused until then (hint: log in once in a browser at {login_url} and solve it, then check the credentials)"
    )]
    Captcha {
        /// Who the credentials name.
        user: String,
        /// HTTP status (403).
        status: u16,
        /// Where to log in.
        login_url: String,
    },
    /// A proxy between jira-gate and Jira wants credentials (407).
    #[error(
        "the proxy between jira-gate and Jira wants authentication ({0}) (hint: put the proxy's user and password in HTTPS_PROXY, e.g. http://user:password@proxy.example.com:3128, or list Jira's host in NO_PROXY)"
    )]
    ProxyAuth(String),
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
    /// An answer jira-gate will not use: a redirect to another host, a redirect loop, a body over
    /// the size cap. `detail` says which, with a hint.
    #[error("{method} {path}: {detail}")]
    Refused {
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// What happened.
        detail: String,
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
    /// The connection does not fit the server: not a Jira base URL, an API version it lacks, or
    /// a Jira Service Management API it does not offer for this issue or user (a 404 on a
    /// request's approvals).
    /// (What the step names in a project, such as fields, transitions, issue types, users and
    /// options, is the step's error: `crate::step::Error`.)
    #[error("{0}")]
    Connection(String),
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
    // Jira Service Management's `ErrorResponse`.
    if out.is_empty() {
        if let Some(message) = body.get("errorMessage").and_then(|m| m.as_str()) {
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

// The transport renders causes with the crate's leaf renderer; the name it uses stays here.
pub(crate) use crate::chain::render as chain;

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
        assert_eq!(
            describe_body(
                &json!({"errorMessage": "Request type does not exist.", "i18nErrorMessage": {"i18nKey": "k", "parameters": []}}),
                ""
            ),
            "Request type does not exist."
        );
    }
}
