//! The transport under the Jira API calls: one logical request (`Transport::call`) made of
//! attempts (`Transport::attempt`), with transient failures (connect errors, timeouts, 429, 5xx,
//! a truncated body) retried on a jittered exponential backoff that honours `Retry-After`, never
//! past the step's deadline. Permanent answers (400, 401, 403, 404, 410) fail at once with Jira's
//! own message. Writes that may have been applied but not answered (a create that timed out) are
//! reported as [`Error::Ambiguous`] instead of being retried blindly, so the caller can look for
//! the ticket first (POST /issue is not idempotent).
//!
//! Until the run has its ticket, failures to connect get their own budget (`Reach`): a mistyped
//! host or a closed port fails after `jira.connect_budget`, a name that does not resolve after
//! [`DNS_TRIES`] tries. Answers that waiting does not heal fail at once: an HTML login page (SSO or
//! a proxy in front of the REST API), a CAPTCHA demand, a proxy asking for credentials (407).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::time::Instant;

use super::error::{self, Error};
use super::models::Deployment;
use crate::retry::Schedule;

/// The shortest wait before a retry the server asked for (`Retry-After: 0`).
pub const MIN_SERVER_WAIT: Duration = Duration::from_secs(1);

/// The longest wait before a retry the server may ask for: a garbled header cannot park the step.
const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

/// Responses larger than this are refused (a huge or endless body cannot exhaust memory).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How many times a host name that does not resolve is tried before the ticket exists.
pub const DNS_TRIES: u32 = 3;

/// How connection failures are bounded: before the run has its ticket, a streak of them may last
/// `budget` (a mistyped host fails in minutes, not at the step's timeout); afterwards a Jira
/// outage is waited out until the deadline.
#[derive(Debug)]
pub(super) struct Reach {
    /// `None` once the ticket exists.
    pub(super) budget: Option<Duration>,
    /// When the current streak of connection failures began.
    failing_since: Option<Instant>,
    /// Failed name lookups in the current streak.
    dns_failures: u32,
}

impl Reach {
    pub(super) fn new(budget: Duration) -> Self {
        Reach {
            budget: Some(budget),
            failing_since: None,
            dns_failures: 0,
        }
    }
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Reads and idempotent writes (PUT, transitions re-checked by the caller): retry any
    /// transient failure.
    Always,
    /// Non-idempotent writes (POST /issue, POST comment): retry only when Jira cannot have applied
    /// the request (connection refused, 429); otherwise report [`Error::Ambiguous`].
    UnlessSent,
}

/// A successful answer.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

/// What one attempt produced.
enum Attempt {
    /// The request never reached Jira (connect error): always safe to retry.
    NotSent {
        cause: String,
        /// The host name did not resolve.
        dns: bool,
    },
    /// It may have reached Jira, but no complete answer came back.
    Lost(String),
    /// TLS refused the server (untrusted or mismatched certificate): permanent.
    Untrusted(String),
    /// A login page answered instead of the REST API (SSO, a proxy): permanent.
    LoginPage {
        status: StatusCode,
        content_type: String,
        url: String,
    },
    /// The proxy refused the CONNECT tunnel without credentials: permanent.
    ProxyAuth(String),
    /// An answer jira-gate will not use (a redirect to another host, a redirect loop, a body over
    /// [`MAX_BODY_BYTES`]), with what happened: permanent. Not dressed as an HTTP status Jira
    /// never sent.
    Refused(String),
    /// Jira answered.
    Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: Value,
        raw: String,
    },
}

/// What one attempt means for the call.
enum Next {
    /// The call is over: Jira's answer, or a failure that waiting does not heal.
    Done(Result<Reply, Error>),
    /// A transient failure: try again, after the server's wait if it named one.
    Retry {
        cause: String,
        server_wait: Option<Duration>,
    },
    /// The request never reached Jira; bounded by [`Reach`] until the ticket exists.
    Unreached { cause: String, dns: bool },
}

/// How requests reach one Jira site: the HTTP client, the base URL, the credentials and the time
/// left.
#[derive(Debug)]
pub(super) struct Transport {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) authorization: HeaderValue,
    /// Who the credentials name (never the token), for messages.
    pub(super) user: String,
    /// Which Jira answers: the login hint of a 401 depends on it.
    pub(super) deployment: Deployment,
    pub(super) request_timeout: Duration,
    pub(super) deadline: Instant,
    pub(super) reach: std::sync::Mutex<Reach>,
    /// Set once Jira has answered JSON in this run: before that, an HTML page where JSON belongs
    /// means `jira.url` is no Jira at all, which waiting will not change.
    pub(super) json_seen: std::sync::atomic::AtomicBool,
}

impl Transport {
    /// A refused login, with what to check on this kind of Jira.
    pub(super) fn unauthorized(&self, detail: String) -> Error {
        let hint = match self.deployment {
            Deployment::Cloud => {
                "email and API token (Cloud needs `type: basic` with the account's email)"
            }
            Deployment::DataCenter => {
                "username and password, or the personal access token (`type: pat`)"
            }
        };
        Error::Unauthorized {
            user: self.user.clone(),
            detail,
            hint,
        }
    }

    /// A GET, parsed into `T`.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let reply = self
            .call(Method::GET, path, query, None, Retry::Always)
            .await?;
        parse(&reply.body, "GET", path)
    }

    /// One logical request with retries of transient failures until the deadline.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Reply, Error> {
        let mut schedule = Schedule::new(Duration::from_secs(1), Duration::from_secs(30));
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Unreachable {
                    method: method.to_string(),
                    path: path.to_owned(),
                    last: "no time left before the step's timeout".into(),
                });
            }
            // While connections are failing before the ticket exists, a try that hangs (a firewall
            // dropping packets) ends with the connect budget too.
            let cap = self
                .connect_window()
                .map_or(remaining, |w| w.max(Duration::from_secs(1)).min(remaining));
            let attempt = self
                .attempt(&method, path, query, body, self.request_timeout.min(cap))
                .await;
            let (cause, server_wait) = match self.judge(attempt, &method, path, retry) {
                Next::Done(result) => {
                    self.reached();
                    return result;
                }
                Next::Retry { cause, server_wait } => {
                    self.reached();
                    (cause, server_wait)
                }
                Next::Unreached { cause, dns } => match self.unreached(cause, dns)? {
                    (cause, Some(budget_end)) => {
                        let gap = schedule.next_gap();
                        let wait = gap.min(budget_end.saturating_duration_since(Instant::now()));
                        let note = format!(
                            "attempt {}; jira.connect_budget {} from the first failure",
                            attempts + 1,
                            humantime::format_duration(self.connect_budget())
                        );
                        self.sleep_before_retry(wait, (&method, path), &cause, &note, true)
                            .await?;
                        continue;
                    }
                    (cause, None) => (cause, None),
                },
            };
            // The server's wait counts, but never below a second: `Retry-After: 0` or a reset
            // time in the past would otherwise make a tight loop against a Jira that is refusing.
            let backoff = schedule.next_gap();
            let wait = server_wait.map_or(backoff, |w| w.max(MIN_SERVER_WAIT));
            let note = format!("attempt {}", attempts + 1);
            self.sleep_before_retry(wait, (&method, path), &cause, &note, false)
                .await?;
        }
    }

    /// Logs the retry and sleeps `wait` before it, or fails when that would pass the step's
    /// deadline (after sleeping up to it, so the step ends at its timeout). `loud` logs at warn, so
    /// the line shows under `-q`.
    async fn sleep_before_retry(
        &self,
        wait: Duration,
        (method, path): (&Method, &str),
        cause: &str,
        note: &str,
        loud: bool,
    ) -> Result<(), Error> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let line = if wait >= remaining {
            format!(
                "{method} {path}: {cause}; the next try ({:.1}s) would pass the step's timeout",
                wait.as_secs_f64()
            )
        } else {
            format!(
                "{method} {path}: {cause}; retrying in {:.1}s ({note})",
                wait.as_secs_f64()
            )
        };
        if loud {
            tracing::warn!("{line}");
        } else {
            tracing::info!("{line}");
        }
        if wait >= remaining {
            tokio::time::sleep(remaining).await;
            return Err(Error::Unreachable {
                method: method.to_string(),
                path: path.to_owned(),
                last: cause.to_owned(),
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    pub(super) fn ticket_exists(&self) {
        let mut reach = self
            .reach
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reach.budget = None;
    }

    /// Jira answered (or the failure was not a connection's): a streak of connection failures is
    /// over.
    fn reached(&self) {
        let mut reach = self
            .reach
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reach.failing_since = None;
        reach.dns_failures = 0;
    }

    /// What is left of the connect budget while a streak of connection failures is on.
    fn connect_window(&self) -> Option<Duration> {
        let reach = self
            .reach
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let end = reach.failing_since? + reach.budget?;
        Some(end.saturating_duration_since(Instant::now()))
    }

    fn connect_budget(&self) -> Duration {
        self.reach
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .budget
            .unwrap_or_default()
    }

    /// A connection failure: the cause and, before the ticket exists, the end of the connect
    /// budget; an error once the budget is spent or the name failed to resolve [`DNS_TRIES`] times.
    fn unreached(&self, cause: String, dns: bool) -> Result<(String, Option<Instant>), Error> {
        let mut reach = self
            .reach
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(budget) = reach.budget else {
            return Ok((cause, None));
        };
        let now = Instant::now();
        let since = *reach.failing_since.get_or_insert(now);
        let host = self.host();
        // The error names the host once, in front.
        let prefix = format!("cannot connect to {host}: ");
        let short = cause.strip_prefix(&prefix).unwrap_or(&cause).to_owned();
        if dns {
            reach.dns_failures += 1;
            if reach.dns_failures >= DNS_TRIES {
                return Err(Error::NoConnection {
                    host: host.clone(),
                    detail: format!("the name does not resolve ({DNS_TRIES} tries): {short}"),
                    hint: "check the host name in jira.url",
                });
            }
        }
        let end = since + budget;
        if now >= end {
            return Err(Error::NoConnection {
                host,
                detail: format!(
                    "{short} (tried for {})",
                    humantime::format_duration(Duration::from_secs(budget.as_secs()))
                ),
                hint: "check the host and port in jira.url and the network or proxy in between; jira.connect_budget sets how long connections are tried before the ticket exists",
            });
        }
        Ok((cause, Some(end)))
    }

    /// `host:port` of the base URL, for messages.
    fn host(&self) -> String {
        url::Url::parse(&self.base).map_or_else(
            |_| self.base.clone(),
            |url| {
                let host = url.host_str().unwrap_or_default();
                url.port_or_known_default()
                    .map_or_else(|| host.to_owned(), |port| format!("{host}:{port}"))
            },
        )
    }

    /// What one attempt means for the call: its end, or a transient failure worth another try.
    fn judge(&self, attempt: Attempt, method: &Method, path: &str, retry: Retry) -> Next {
        match attempt {
            Attempt::Answer {
                status,
                headers,
                body,
                ..
            } if status.is_success() => Next::Done(Ok(Reply { headers, body })),
            Attempt::Answer {
                status, headers, ..
            } if status == StatusCode::TOO_MANY_REQUESTS => Next::Retry {
                cause: format!("HTTP 429 ({})", rate_limit_reason(&headers)),
                server_wait: retry_after(&headers, true),
            },
            Attempt::Answer {
                status,
                headers,
                body,
                raw,
            } if status.is_server_error() => {
                let cause = format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    error::describe_body(&body, &raw)
                );
                if retry == Retry::UnlessSent {
                    return Next::Done(Err(Error::Ambiguous {
                        method: method.to_string(),
                        path: path.to_owned(),
                        cause,
                    }));
                }
                Next::Retry {
                    cause,
                    server_wait: retry_after(&headers, false),
                }
            }
            Attempt::Answer {
                status,
                headers,
                body,
                raw,
            } => Next::Done(Err(self.refusal(
                status,
                &headers,
                &body,
                &raw,
                (method, path),
            ))),
            Attempt::Untrusted(detail) => Next::Done(Err(Error::Tls {
                url: self.base.clone(),
                detail,
            })),
            Attempt::LoginPage {
                status,
                content_type,
                url,
            } => Next::Done(Err(Error::LoginPage {
                status: status.as_u16(),
                content_type,
                url,
            })),
            Attempt::ProxyAuth(detail) => Next::Done(Err(Error::ProxyAuth(detail))),
            Attempt::Refused(detail) => Next::Done(Err(Error::Refused {
                method: method.to_string(),
                path: path.to_owned(),
                detail,
            })),
            Attempt::Lost(cause) if retry == Retry::UnlessSent => {
                Next::Done(Err(Error::Ambiguous {
                    method: method.to_string(),
                    path: path.to_owned(),
                    cause,
                }))
            }
            Attempt::NotSent { cause, dns } => Next::Unreached { cause, dns },
            Attempt::Lost(cause) => Next::Retry {
                cause,
                server_wait: None,
            },
        }
    }

    /// The error of a permanent answer (any but 2xx, 429 and 5xx): a proxy wanting credentials, a
    /// CAPTCHA, a refused login, or Jira's own message with its status.
    fn refusal(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &Value,
        raw: &str,
        (method, path): (&Method, &str),
    ) -> Error {
        if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Error::ProxyAuth(format!(
                "HTTP 407{}",
                headers
                    .get("proxy-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| format!(", Proxy-Authenticate: {v}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(login_url) = captcha(headers) {
            return Error::Captcha {
                user: self.user.clone(),
                status: status.as_u16(),
                login_url: login_url.unwrap_or_else(|| format!("{}/login.jsp", self.base)),
            };
        }
        if status == StatusCode::UNAUTHORIZED {
            return self.unauthorized(format!("HTTP 401: {}", error::describe_body(body, raw)));
        }
        Error::Status {
            method: method.to_string(),
            path: path.to_owned(),
            status: status.as_u16(),
            detail: error::describe_body(body, raw),
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        timeout: Duration,
    ) -> Attempt {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout);
        if !query.is_empty() {
            request = request.query(query);
        }
        if path.starts_with("/rest/servicedeskapi/") {
            // Jira Service Management once refused its approval calls without this (API-NOTES
            // §4.1); it is harmless where it is not needed.
            request = request.header("X-ExperimentalApi", "opt-in");
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("JSON serializes"));
        }
        tracing::debug!("{method} {path}");
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() => {
                let cause = error::chain(&e);
                // A certificate problem does not heal by waiting; retrying it until the timeout
                // would only hide it.
                let lower = cause.to_lowercase();
                if lower.contains("certificate") || lower.contains("fatal alert") {
                    return Attempt::Untrusted(cause);
                }
                // HTTPS_PROXY refused the tunnel (407): its credentials are missing or wrong.
                if lower.contains("proxy authorization required") {
                    return Attempt::ProxyAuth(format!("HTTP 407 to CONNECT: {cause}"));
                }
                return Attempt::NotSent {
                    dns: lower.contains("dns error"),
                    cause: format!("cannot connect to {}: {cause}", self.host()),
                };
            }
            Err(e) if e.is_timeout() => {
                return Attempt::Lost(format!("no answer within {:.0}s", timeout.as_secs_f64()));
            }
            // A redirect loop is permanent: retrying it until the timeout helps nobody.
            Err(e) if e.is_redirect() => {
                return Attempt::Refused(format!(
                    "the redirects on {} do not end ({}) (hint: open jira.url in a browser to see where it leads, and set it to the final address)",
                    self.host(),
                    error::chain(&e)
                ));
            }
            Err(e) => return Attempt::Lost(format!("connection failed: {}", error::chain(&e))),
        };
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            if login_url(&to) {
                return Attempt::LoginPage {
                    status,
                    content_type: content_type(response.headers()),
                    url: shown_url(&to),
                };
            }
            return Attempt::Refused(format!(
                "Jira redirected to another host (HTTP {}, Location: {}); jira-gate does not send credentials there (hint: set jira.url to the final address)",
                status.as_u16(),
                shown_url(&to)
            ));
        }
        let headers = response.headers().clone();
        if let Some(id) = headers.get("x-arequestid").and_then(|v| v.to_str().ok()) {
            tracing::debug!("{method} {path} → {} (X-AREQUESTID {id})", status.as_u16());
        }
        let url = response.url().to_string();
        let redirected = !response.url().path().ends_with(path);
        read_answer(
            response,
            (status, headers),
            timeout,
            redirected.then_some(&url),
            (&self.json_seen, &self.base),
        )
        .await
    }
}

/// A login form where the REST API should be: SSO or a proxy in front of Jira. It will not change
/// by waiting, and each retry would send the credentials again. An HTML error page of a 5xx (a
/// load balancer during an outage) stays transient. `redirected_to` is the final URL when
/// redirects were followed.
fn login_page(
    status: StatusCode,
    headers: &HeaderMap,
    raw: &str,
    redirected_to: Option<&str>,
) -> bool {
    content_type(headers).to_ascii_lowercase().contains("html")
        && !status.is_server_error()
        && (redirected_to.is_some_and(login_url) || login_form(raw))
}

/// The `Content-Type` of an answer, for messages.
fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_owned()
}

/// A URL without its query, fragment and user info: enough to recognise the page.
fn shown_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => text.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// True when a URL looks like a login or single sign-on page.
fn login_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "login",
        "logon",
        "signin",
        "sign-in",
        "sso",
        "saml",
        "oauth",
        "openid",
        "adfs",
        "/idp/",
        "/cas/",
        "/auth/",
        "authorize",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

/// True when an HTML page holds a login form (a password field, a SAML hand-off) or is titled
/// as a login page.
fn login_form(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let title = lower
        .split_once("<title")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map_or("", |(title, _)| title);
    [
        "type=\"password\"",
        "type='password'",
        "type=password",
        "samlrequest",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
        || ["log in", "login", "sign in", "signin", "single sign-on"]
            .iter()
            .any(|marker| title.contains(marker))
}

/// `Some(login URL if named)` when Jira answered `X-Authentication-Denied-Reason:
/// CAPTCHA_CHALLENGE; login-url=...` (Data Center, after too many failed logins).
fn captcha(headers: &HeaderMap) -> Option<Option<String>> {
    let reason = headers
        .get("x-authentication-denied-reason")?
        .to_str()
        .ok()?;
    if !reason.to_ascii_uppercase().contains("CAPTCHA_CHALLENGE") {
        return None;
    }
    Some(reason.split(';').find_map(|part| {
        part.trim()
            .strip_prefix("login-url=")
            .map(|url| url.trim().to_owned())
    }))
}

/// Reads the body of an answer (at most [`MAX_BODY_BYTES`]) and parses it as JSON.
async fn read_answer(
    mut response: reqwest::Response,
    (status, headers): (StatusCode, HeaderMap),
    timeout: Duration,
    redirected_to: Option<&String>,
    (json_seen, base): (&std::sync::atomic::AtomicBool, &str),
) -> Attempt {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Attempt::Refused(format!(
                        "the answer (HTTP {}, {}) is larger than {} MiB; refused, so it cannot exhaust memory (hint: check that jira.url reaches Jira's REST API and not another server)",
                        status.as_u16(),
                        content_type(&headers),
                        MAX_BODY_BYTES >> 20
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Attempt::Lost(format!(
                    "the answer did not complete within {:.0}s",
                    timeout.as_secs_f64()
                ));
            }
            Err(e) => {
                return Attempt::Lost(format!("the answer was cut off: {}", error::chain(&e)));
            }
        }
    }
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    if login_page(status, &headers, &raw, redirected_to.map(String::as_str)) {
        return Attempt::LoginPage {
            status,
            content_type: content_type(&headers),
            url: shown_url(redirected_to.map_or_else(|| response.url().as_str(), String::as_str)),
        };
    }
    let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&bytes)
    };
    match parsed {
        Ok(body) if status.is_success() => {
            json_seen.store(true, std::sync::atomic::Ordering::Relaxed);
            Attempt::Answer {
                status,
                headers,
                body,
                raw,
            }
        }
        Ok(body) => Attempt::Answer {
            status,
            headers,
            body,
            raw,
        },
        // A 2xx whose body is not JSON (and not a login page) is a cut or garbled answer: worth
        // another try.
        Err(e) if status.is_success() => {
            let html = content_type(&headers).to_ascii_lowercase().contains("html")
                || raw.trim_start().starts_with('<');
            if html && !json_seen.load(std::sync::atomic::Ordering::Relaxed) {
                // A web page before Jira ever answered: a wrong `jira.url` (a web server, a
                // portal), not a hiccup. Retrying it for the whole timeout helps nobody.
                return Attempt::Refused(format!(
                    "{} answered a web page (HTTP {}, {}), not Jira's JSON: jira.url does not point at Jira's REST API, or another server answers in its place (hint: {}/rest/api/2/serverInfo must show JSON in a browser)",
                    shown_url(response.url().as_str()),
                    status.as_u16(),
                    content_type(&headers),
                    base
                ));
            }
            Attempt::Lost(format!("the answer is not valid JSON ({e})"))
        }
        Err(_) => Attempt::Answer {
            status,
            headers,
            body: Value::Null,
            raw,
        },
    }
}

pub(super) fn parse<T: DeserializeOwned>(
    body: &Value,
    method: &str,
    path: &str,
) -> Result<T, Error> {
    T::deserialize(body).map_err(|e| Error::Protocol {
        method: method.into(),
        path: path.into(),
        detail: e.to_string(),
    })
}

fn rate_limit_reason(headers: &HeaderMap) -> String {
    headers
        .get("ratelimit-reason")
        .or_else(|| headers.get("x-ratelimit-reason"))
        .and_then(|v| v.to_str().ok())
        .map_or_else(
            || "rate limited".to_owned(),
            |r| format!("rate limited: {r}"),
        )
}

/// How long the server asks us to wait: `Retry-After` (seconds or an HTTP date), else for 429s
/// `X-RateLimit-Reset` (an ISO-8601 instant on Cloud), else the informational
/// `Beta-Retry-After`. Capped at an hour so a garbled header cannot park the step.
fn retry_after(headers: &HeaderMap, rate_limited: bool) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let parse_wait = |value: &str| -> Option<Duration> {
        if let Ok(seconds) = value.parse::<f64>() {
            // Capped before the conversion: `Duration::from_secs_f64` panics past `u64::MAX`
            // seconds (`Retry-After: 1e20`), and NaN, infinities and negatives mean nothing.
            if !seconds.is_finite() || seconds < 0.0 {
                return None;
            }
            return Duration::try_from_secs_f64(seconds.min(MAX_SERVER_WAIT.as_secs_f64())).ok();
        }
        let when = httpdate::parse_http_date(value)
            .ok()
            .or_else(|| humantime::parse_rfc3339_weak(value).ok())
            .or_else(|| humantime::parse_rfc3339_weak(&value.replace('Z', ":00Z")).ok())?;
        Some(
            when.duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
        )
    };
    let wait = text("retry-after").and_then(parse_wait).or_else(|| {
        if rate_limited {
            text("x-ratelimit-reset")
                .and_then(parse_wait)
                .or_else(|| text("beta-retry-after").and_then(parse_wait))
        } else {
            None
        }
    })?;
    Some(wait.min(MAX_SERVER_WAIT))
}

#[cfg(test)]
mod tests {
    use super::{HeaderMap, HeaderValue, captcha, login_form, login_url, retry_after, shown_url};
    use proptest::prelude::*;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), true),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0")]), true),
            Some(Duration::ZERO)
        );
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", past)]), true),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(
                &headers(&[("x-ratelimit-reset", "2015-10-21T07:28Z")]),
                true
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(
                &headers(&[("x-ratelimit-reset", "2015-10-21T07:28:00Z")]),
                false
            ),
            None
        );
        assert_eq!(
            retry_after(&headers(&[("beta-retry-after", "3")]), true),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "99999")]), true),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "soon")]), true),
            None
        );
        assert_eq!(retry_after(&headers(&[]), true), None);
    }

    /// Numbers past what a `Duration` holds are capped, not a panic; NaN, infinities and
    /// negatives are ignored (issue 8).
    #[test]
    fn retry_after_extremes() {
        for huge in ["1e20", "1e300", "18446744073709551616", "1.7e308"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", huge)]), true),
                Some(Duration::from_secs(3600)),
                "{huge}"
            );
        }
        for meaningless in [
            "NaN", "nan", "inf", "-inf", "infinity", "-1", "-1e20", "1e999",
        ] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", meaningless)]), true),
                None,
                "{meaningless}"
            );
        }
        assert_eq!(
            retry_after(&headers(&[("retry-after", "-0")]), true),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset", "1e20")]), true),
            Some(Duration::from_secs(3600))
        );
    }

    /// Any header value, of the three headers read, never panics the parser (issue 8).
    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,40}",
            "[-+0-9eE.]{1,30}",
            any::<f64>().prop_map(|f| f.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            "(Mon|Sun), [0-9]{1,2} [A-Z][a-z]{2} [0-9]{1,6} [0-9]{1,2}:[0-9]{2}:[0-9]{2} GMT",
            "[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?Z?",
        ]
    }

    proptest! {
        #[test]
        fn retry_after_never_panics(
            value in header_value(),
            name in prop_oneof![Just("retry-after"), Just("x-ratelimit-reset"), Just("beta-retry-after")],
            rate_limited in any::<bool>(),
        ) {
            if let Ok(header) = HeaderValue::from_str(&value) {
                let mut map = HeaderMap::new();
                map.insert(name, header);
                if let Some(wait) = retry_after(&map, rate_limited) {
                    prop_assert!(wait <= Duration::from_secs(3600));
                }
            }
        }
    }

    #[test]
    fn login_pages_are_recognised_and_error_pages_are_not() {
        assert!(login_form(
            "<html><body><form><input type=\"password\" name=\"p\"></form></body></html>"
        ));
        assert!(login_form(
            "<html><head><title>Sign in to your account</title></head></html>"
        ));
        assert!(login_form(
            "<form method=post><input type=hidden name=SAMLRequest value=x></form>"
        ));
        assert!(!login_form(
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        ));
        assert!(!login_form(
            "<html><head><title>200 OK</title></head></html>"
        ));
        assert!(login_url(
            "https://jira.example.com/login.jsp?os_destination=x"
        ));
        assert!(login_url("https://login.microsoftonline.com/tenant/saml2"));
        assert!(!login_url("http://localhost:8080/rest/api/2/serverInfo"));
        assert_eq!(
            shown_url("https://u:p@sso.example.com/adfs/ls/?SAMLRequest=abc#x"),
            "https://sso.example.com/adfs/ls/"
        );
    }

    #[test]
    fn captcha_reasons() {
        let url = "https://jira.example.com/login.jsp";
        assert_eq!(
            captcha(&headers(&[(
                "x-authentication-denied-reason",
                &format!("CAPTCHA_CHALLENGE; login-url={url}")
            )])),
            Some(Some(url.to_owned()))
        );
        assert_eq!(
            captcha(&headers(&[(
                "x-authentication-denied-reason",
                "CAPTCHA_CHALLENGE"
            )])),
            Some(None)
        );
        assert_eq!(
            captcha(&headers(&[("x-authentication-denied-reason", "OTHER")])),
            None
        );
        assert_eq!(captcha(&headers(&[])), None);
    }
}
