//! The transport under the Jira API calls: one logical request (`Transport::call`) made of
//! attempts (`Transport::attempt`), with transient failures (connect errors, timeouts, 429, 5xx,
//! a truncated body) retried on a jittered exponential backoff that honours `Retry-After`, never
//! past the step's deadline. Permanent answers (400, 401, 403, 404, 410) fail at once with Jira's
//! own message. Writes that may have been applied but not answered (a create that timed out) are
//! reported as [`Error::Ambiguous`] instead of being retried blindly, so the caller can look for
//! the ticket first (POST /issue is not idempotent).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::time::Instant;

use super::Deployment;
use super::error::{self, Error};
use crate::retry::Schedule;

/// The shortest wait before a retry the server asked for (`Retry-After: 0`).
pub const MIN_SERVER_WAIT: Duration = Duration::from_secs(1);

/// Responses larger than this are refused (a huge or endless body cannot exhaust memory).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

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
    NotSent(String),
    /// It may have reached Jira, but no complete answer came back.
    Lost(String),
    /// TLS refused the server (untrusted or mismatched certificate): permanent.
    Untrusted(String),
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
            let attempt = self
                .attempt(
                    &method,
                    path,
                    query,
                    body,
                    self.request_timeout.min(remaining),
                )
                .await;
            let (cause, server_wait) = match self.judge(attempt, &method, path, retry) {
                Next::Done(result) => return result,
                Next::Retry { cause, server_wait } => (cause, server_wait),
            };
            // The server's wait counts, but never below a second: `Retry-After: 0` or a reset
            // time in the past would otherwise make a tight loop against a Jira that is refusing.
            let backoff = schedule.next_gap();
            let wait = server_wait.map_or(backoff, |w| w.max(MIN_SERVER_WAIT));
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if wait >= remaining {
                tracing::info!(
                    "{method} {path}: {cause}; the next try ({:.1}s) would pass the step's timeout",
                    wait.as_secs_f64()
                );
                tokio::time::sleep(remaining).await;
                return Err(Error::Unreachable {
                    method: method.to_string(),
                    path: path.to_owned(),
                    last: cause,
                });
            }
            tracing::info!(
                "{method} {path}: {cause}; retrying in {:.1}s (attempt {})",
                wait.as_secs_f64(),
                attempts + 1
            );
            tokio::time::sleep(wait).await;
        }
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
                status, body, raw, ..
            } if status == StatusCode::UNAUTHORIZED => Next::Done(Err(
                self.unauthorized(format!("HTTP 401: {}", error::describe_body(&body, &raw)))
            )),
            Attempt::Answer {
                status, body, raw, ..
            } => Next::Done(Err(Error::Status {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                detail: error::describe_body(&body, &raw),
            })),
            Attempt::Untrusted(detail) => Next::Done(Err(Error::Tls {
                url: self.base.clone(),
                detail,
            })),
            Attempt::Lost(cause) if retry == Retry::UnlessSent => {
                Next::Done(Err(Error::Ambiguous {
                    method: method.to_string(),
                    path: path.to_owned(),
                    cause,
                }))
            }
            Attempt::NotSent(cause) | Attempt::Lost(cause) => Next::Retry {
                cause,
                server_wait: None,
            },
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
                return Attempt::NotSent(format!("cannot connect: {cause}"));
            }
            Err(e) if e.is_timeout() => {
                return Attempt::Lost(format!("no answer within {:.0}s", timeout.as_secs_f64()));
            }
            // A redirect loop is permanent: retrying it until the timeout helps nobody.
            Err(e) if e.is_redirect() => {
                return Attempt::Answer {
                    status: StatusCode::MISDIRECTED_REQUEST,
                    headers: HeaderMap::new(),
                    body: Value::Null,
                    raw: format!("redirect refused: {}", error::chain(&e)),
                };
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
            return Attempt::Answer {
                status: StatusCode::MISDIRECTED_REQUEST,
                headers: HeaderMap::new(),
                body: Value::Null,
                raw: format!(
                    "Jira redirected to another host ({to}); jira-gate does not send credentials there (hint: set jira.url to the final address)"
                ),
            };
        }
        let headers = response.headers().clone();
        if let Some(id) = headers.get("x-arequestid").and_then(|v| v.to_str().ok()) {
            tracing::debug!("{method} {path} → {} (X-AREQUESTID {id})", status.as_u16());
        }
        read_answer(response, status, headers, timeout).await
    }
}

/// Reads the body of an answer (at most [`MAX_BODY_BYTES`]) and parses it as JSON.
async fn read_answer(
    mut response: reqwest::Response,
    status: StatusCode,
    headers: HeaderMap,
    timeout: Duration,
) -> Attempt {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Attempt::Answer {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        headers,
                        body: Value::Null,
                        raw: format!(
                            "the answer is larger than {} MiB; refused",
                            MAX_BODY_BYTES >> 20
                        ),
                    };
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
    let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&bytes)
    };
    match parsed {
        Ok(body) => Attempt::Answer {
            status,
            headers,
            body,
            raw,
        },
        // A 2xx whose body is not JSON is a cut or garbled answer: worth another try.
        Err(e) if status.is_success() => {
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
            return (seconds.is_finite() && seconds >= 0.0)
                .then(|| Duration::from_secs_f64(seconds));
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
    Some(wait.min(Duration::from_secs(3600)))
}

#[cfg(test)]
mod tests {
    use super::{HeaderMap, HeaderValue, retry_after};
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
}
