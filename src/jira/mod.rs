//! The Jira REST client for Cloud (v3, or v2 on request) and Data Center / Server (v2).
//!
//! One [`JiraClient`] per run. Every call goes through `JiraClient::call`, which retries transient
//! failures (connect errors, timeouts, 429, 5xx, a truncated body) with a jittered exponential
//! backoff and honours `Retry-After`, never past the step's deadline. Permanent answers (400, 401,
//! 403, 404, 410) fail at once with Jira's own message. Writes that may have been applied but not
//! answered (a create that timed out) are reported as [`Error::Ambiguous`] instead of being
//! retried blindly, so the caller can look for the ticket first (POST /issue is not idempotent).
//!
//! The wait loop (`poll.rs`) is a separate loop above this one (STYLE.md section 6).

pub mod adf;
pub mod error;
pub mod fields;
pub mod jql;
pub mod models;

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;

pub use error::Error;
use models::{
    Created, FieldDef, FieldMeta, Issue, IssueType, Project, SearchPage, ServerInfo, Transition,
    Transitions, User,
};

use crate::retry::Schedule;
use crate::stanza::{ApiChoice, Auth, Connection};

/// The shortest wait before a retry the server asked for (`Retry-After: 0`).
pub const MIN_SERVER_WAIT: Duration = Duration::from_secs(1);

/// Responses larger than this are refused (a huge or endless body cannot exhaust memory).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Which kind of Jira answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud (`*.atlassian.net`): accountIds, `/search/jql`, ADF on v3.
    Cloud,
    /// Jira Data Center or Server: usernames, `/search`, v2 only.
    DataCenter,
}

/// Which REST version the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/rest/api/2`: plain-text rich text.
    V2,
    /// `/rest/api/3`: Atlassian Document Format.
    V3,
}

impl Api {
    fn segment(self) -> &'static str {
        match self {
            Api::V2 => "2",
            Api::V3 => "3",
        }
    }
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reads and idempotent writes (PUT, transitions re-checked by the caller): retry any
    /// transient failure.
    Always,
    /// Non-idempotent writes (POST /issue, POST comment): retry only when Jira cannot have applied
    /// the request (connection refused, 429); otherwise report [`Error::Ambiguous`].
    UnlessSent,
}

/// A successful answer.
#[derive(Debug)]
struct Reply {
    headers: HeaderMap,
    body: Value,
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

/// A connection to one Jira site.
#[derive(Debug)]
pub struct JiraClient {
    http: reqwest::Client,
    base: String,
    authorization: HeaderValue,
    user: String,
    api: Api,
    deployment: Deployment,
    request_timeout: Duration,
    deadline: Instant,
    dry_run: bool,
}

impl JiraClient {
    /// Builds the client for a connection. No request is made yet; call [`JiraClient::connect`].
    ///
    /// TLS is always verified (rustls with the OS trust store, plus `ca_file`); proxies come from
    /// `HTTPS_PROXY`/`NO_PROXY`; redirects are followed only on the same host, so the credentials
    /// never travel to another one.
    pub fn new(conn: &Connection, deadline: Instant, dry_run: bool) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("jira-gate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(conn.request_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_host = attempt.previous().first().is_some_and(|first| {
                    first.host_str() == attempt.url().host_str()
                        && first.port() == attempt.url().port()
                });
                if attempt.previous().len() >= 5 {
                    attempt.error("too many redirects")
                } else if same_host {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .https_only(false)
            .use_rustls_tls();
        if let Some(path) = &conn.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Setup(format!("cannot read jira.ca_file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Setup(format!(
                    "jira.ca_file {} holds no usable PEM certificate: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::Setup(format!(
                    "jira.ca_file {} holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| Error::Setup(format!("cannot set up HTTPS: {e}")))?;
        let (authorization, user) = match &conn.auth {
            Auth::Basic { username, token } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", token.expose()));
                (format!("Basic {encoded}"), username.clone())
            }
            Auth::Pat { token } => (
                format!("Bearer {}", token.expose()),
                "the personal access token's owner".into(),
            ),
        };
        let mut authorization = HeaderValue::from_str(&authorization).map_err(|_| {
            Error::Setup("the token contains characters that cannot go in an HTTP header".into())
        })?;
        authorization.set_sensitive(true);
        Ok(JiraClient {
            http,
            base: conn.url.clone(),
            authorization,
            user,
            api: if conn.api == ApiChoice::V3 {
                Api::V3
            } else {
                Api::V2
            },
            deployment: Deployment::DataCenter,
            request_timeout: conn.request_timeout,
            deadline,
            dry_run,
        })
    }

    /// Asks `serverInfo` which Jira this is, picks the API version for `api: auto`, and checks the
    /// credentials with `/myself` (wrong credentials often do not give 401 elsewhere:
    /// API-NOTES §0.4).
    pub async fn connect(&mut self, choice: ApiChoice) -> Result<User, Error> {
        let info: ServerInfo = match self.get("/rest/api/2/serverInfo", &[]).await {
            Err(Error::Status { status: 404, .. }) => {
                return Err(Error::Mismatch(format!(
                    "{} does not answer /rest/api/2/serverInfo, so it is not a Jira base URL (hint: Cloud: https://your-domain.atlassian.net; Data Center: include the context path, e.g. https://example.com/jira)",
                    self.base
                )));
            }
            other => other?,
        };
        let cloud = info
            .deployment_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("cloud"));
        self.deployment = if cloud {
            Deployment::Cloud
        } else {
            Deployment::DataCenter
        };
        self.api = match choice {
            ApiChoice::Auto if cloud => Api::V3,
            ApiChoice::Auto | ApiChoice::V2 => Api::V2,
            ApiChoice::V3 if !cloud => {
                return Err(Error::Mismatch(format!(
                    "jira.api is v3 but {} is Jira {} {}, which has only REST v2 (hint: use `api: auto` or `api: v2`)",
                    self.base,
                    info.deployment_type.as_deref().unwrap_or("Server"),
                    info.version.as_deref().unwrap_or_default()
                )));
            }
            ApiChoice::V3 => Api::V3,
        };
        tracing::info!(
            "Jira {} {} at {}, using REST v{}",
            if cloud { "Cloud" } else { "Data Center/Server" },
            info.version.as_deref().unwrap_or("?"),
            self.base,
            self.api.segment()
        );
        self.myself().await
    }

    /// `GET /myself`: who the credentials belong to. Fails on 401 and on the 200s that Jira marks
    /// as anonymous (`X-Seraph-LoginReason`, `X-AUSERNAME: anonymous`).
    pub async fn myself(&self) -> Result<User, Error> {
        let path = self.rest("myself");
        let reply = match self
            .call(Method::GET, &path, &[], None, Retry::Always)
            .await
        {
            Err(Error::Status {
                status: 403,
                detail,
                ..
            }) => return Err(self.unauthorized(format!("HTTP 403: {detail}"))),
            other => other?,
        };
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(reason) = header("x-seraph-loginreason") {
            if reason.contains("AUTHENTICATED_FAILED") || reason.contains("AUTHENTICATION_DENIED") {
                return Err(self.unauthorized(format!("X-Seraph-LoginReason: {reason}")));
            }
        }
        if header("x-ausername").is_some_and(|u| u.eq_ignore_ascii_case("anonymous")) {
            return Err(self.unauthorized("X-AUSERNAME: anonymous".into()));
        }
        let user: User = parse(&reply.body, "GET", &path)?;
        tracing::info!("authenticated as {}", user.label());
        Ok(user)
    }

    fn unauthorized(&self, detail: String) -> Error {
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

    /// True under `--dry-run`: writes are printed, not sent.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// The deployment found by [`JiraClient::connect`].
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// `<base>/browse/<key>`.
    pub fn browse_url(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.base)
    }

    /// Moves the deadline (the wait's timeout is known after setup).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Rich text in the form this API version takes: ADF on v3, a string on v2.
    pub fn rich_text(&self, text: &str) -> Value {
        match self.api {
            Api::V3 => adf::from_text(text),
            Api::V2 => Value::String(text.to_owned()),
        }
    }

    fn rest(&self, tail: &str) -> String {
        format!("/rest/api/{}/{tail}", self.api.segment())
    }

    /// `GET /field`.
    pub async fn fields(&self) -> Result<Vec<FieldDef>, Error> {
        self.get(&self.rest("field"), &[]).await
    }

    /// `GET /project/{key}` with its issue types.
    pub async fn project(&self, key: &str) -> Result<Project, Error> {
        self.get(&self.rest(&format!("project/{}", segment(key))), &[])
            .await
    }

    /// `GET /project/{key}/statuses`: statuses per issue type (for `check`).
    pub async fn project_statuses(&self, key: &str) -> Result<Value, Error> {
        self.get(
            &self.rest(&format!("project/{}/statuses", segment(key))),
            &[],
        )
        .await
    }

    /// Create metadata for one issue type: the new per-project endpoint (Cloud `fields`, Data
    /// Center `values`), falling back to the old `expand=projects.issuetypes.fields` form when the
    /// new one answers 404 (Data Center before 8.4).
    pub async fn create_fields(
        &self,
        project: &str,
        issue_type: &IssueType,
    ) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest(&format!(
            "issue/createmeta/{}/issuetypes/{}",
            segment(project),
            segment(&issue_type.id)
        ));
        let mut out = Vec::new();
        let mut start = 0usize;
        loop {
            let query = [
                ("startAt", start.to_string()),
                ("maxResults", "100".to_owned()),
            ];
            let page: Value = match self.get(&path, &query).await {
                Ok(page) => page,
                Err(e) if e.is_not_found() && start == 0 => {
                    return self.create_fields_old(project, issue_type).await;
                }
                Err(e) => return Err(e),
            };
            let list = page
                .get("fields")
                .or_else(|| page.get("values"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            let items: Vec<FieldMeta> = parse(&list, "GET", &path)?;
            let count = items.len();
            out.extend(items);
            let total = page
                .get("total")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
            let last = page.get("isLast").and_then(Value::as_bool).unwrap_or(false);
            start += count;
            if count == 0 || last || start >= total {
                return Ok(out);
            }
        }
    }

    /// `GET /issue/{key}/editmeta`: the edit screen's fields (`{"fields": {id: meta}}`).
    pub async fn edit_fields(&self, key: &str) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest(&format!("issue/{}/editmeta", segment(key)));
        let body: Value = self.get(&path, &[]).await?;
        metas_by_id(body.get("fields"), &path)
    }

    async fn create_fields_old(
        &self,
        project: &str,
        issue_type: &IssueType,
    ) -> Result<Vec<FieldMeta>, Error> {
        let path = self.rest("issue/createmeta");
        let query = [
            ("projectKeys", project.to_owned()),
            ("issuetypeIds", issue_type.id.clone()),
            ("expand", "projects.issuetypes.fields".to_owned()),
        ];
        let body: Value = self.get(&path, &query).await?;
        metas_by_id(body.pointer("/projects/0/issuetypes/0/fields"), &path)
    }

    /// `POST /issue`. Not retried once it may have reached Jira: see [`Error::Ambiguous`].
    pub async fn create_issue(&self, fields: Value) -> Result<Option<Created>, Error> {
        let path = self.rest("issue");
        let body = json!({ "fields": fields });
        if self.print_dry_run("POST", &path, &body) {
            return Ok(None);
        }
        let reply = self
            .call(Method::POST, &path, &[], Some(&body), Retry::UnlessSent)
            .await?;
        parse(&reply.body, "POST", &path).map(Some)
    }

    /// `PUT /issue/{key}` with `fields` and `update` operations.
    pub async fn edit_issue(&self, key: &str, fields: Value, update: Value) -> Result<(), Error> {
        let path = self.rest(&format!("issue/{}", segment(key)));
        let mut body = json!({});
        if fields.as_object().is_some_and(|f| !f.is_empty()) {
            body["fields"] = fields;
        }
        if update.as_object().is_some_and(|u| !u.is_empty()) {
            body["update"] = update;
        }
        if body.as_object().is_some_and(serde_json::Map::is_empty)
            || self.print_dry_run("PUT", &path, &body)
        {
            return Ok(());
        }
        self.call(Method::PUT, &path, &[], Some(&body), Retry::Always)
            .await
            .map(drop)
    }

    /// `POST /issue/{key}/comment`.
    pub async fn add_comment(&self, key: &str, text: &str) -> Result<(), Error> {
        let path = self.rest(&format!("issue/{}/comment", segment(key)));
        let body = json!({ "body": self.rich_text(text) });
        if self.print_dry_run("POST", &path, &body) {
            return Ok(());
        }
        self.call(Method::POST, &path, &[], Some(&body), Retry::UnlessSent)
            .await
            .map(drop)
    }

    /// `GET /issue/{key}/transitions`: those available from the current status.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, Error> {
        let list: Transitions = self
            .get(
                &self.rest(&format!("issue/{}/transitions", segment(key))),
                &[],
            )
            .await?;
        Ok(list.transitions)
    }

    /// `POST /issue/{key}/transitions`.
    pub async fn do_transition(&self, key: &str, transition: &Transition) -> Result<(), Error> {
        let path = self.rest(&format!("issue/{}/transitions", segment(key)));
        let body = json!({ "transition": { "id": transition.id } });
        if self.print_dry_run("POST", &path, &body) {
            return Ok(());
        }
        // A transition applied twice fails the second time with 400, so retrying is safe: the
        // caller re-reads the status when that happens.
        self.call(Method::POST, &path, &[], Some(&body), Retry::Always)
            .await
            .map(drop)
    }

    /// `GET /issue/{key}` with only `fields` (and the changelog when asked).
    pub async fn issue(
        &self,
        key: &str,
        fields: &[String],
        changelog: bool,
    ) -> Result<Issue, Error> {
        let mut query = vec![("fields", fields.join(","))];
        if changelog {
            query.push(("expand", "changelog".to_owned()));
        }
        self.get(&self.rest(&format!("issue/{}", segment(key))), &query)
            .await
    }

    /// Runs a JQL search: Cloud's `/search/jql` (the old `/search` answers 410 there), Data
    /// Center's `/search`. Returns at most `max` issues with the given fields.
    pub async fn search(&self, jql: &str, fields: &[&str], max: u32) -> Result<Vec<Issue>, Error> {
        let path = match self.deployment {
            Deployment::Cloud => self.rest("search/jql"),
            Deployment::DataCenter => "/rest/api/2/search".to_owned(),
        };
        let query = [
            ("jql", jql.to_owned()),
            ("fields", fields.join(",")),
            ("maxResults", max.to_string()),
        ];
        let page: SearchPage = self.get(&path, &query).await?;
        Ok(page.issues)
    }

    /// Finds one user by display name, email, username or account id (for user fields).
    pub async fn find_user(&self, query: &str) -> Result<User, Error> {
        let (path, param) = match self.deployment {
            Deployment::Cloud => (self.rest("user/search"), "query"),
            Deployment::DataCenter => ("/rest/api/2/user/search".to_owned(), "username"),
        };
        let users: Vec<User> = self.get(&path, &[(param, query.to_owned())]).await?;
        let wanted = query.to_lowercase();
        let exact: Vec<&User> = users
            .iter()
            .filter(|u| {
                [
                    &u.account_id,
                    &u.name,
                    &u.key,
                    &u.display_name,
                    &u.email_address,
                ]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| v.to_lowercase() == wanted))
            })
            .collect();
        match (exact.as_slice(), users.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            ([], []) => Err(Error::Mismatch(format!(
                "no Jira user matches {query:?} (hint: use the email, username or account id)"
            ))),
            (many, all) => {
                let list = if many.is_empty() {
                    all.iter().collect::<Vec<_>>()
                } else {
                    many.to_vec()
                };
                Err(Error::Mismatch(format!(
                    "{query:?} matches several Jira users: {} (hint: use the email or account id)",
                    list.iter()
                        .map(|u| u.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }

    /// Prints a write instead of sending it under `--dry-run`; true when it did.
    fn print_dry_run(&self, method: &str, path: &str, body: &Value) -> bool {
        if self.dry_run {
            let line = json!({"dry_run": true, "method": method, "url": format!("{}{path}", self.base), "body": body});
            println!("{line}");
            tracing::info!("dry run: would {method} {path}");
        }
        self.dry_run
    }

    async fn get<T: DeserializeOwned>(
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
    async fn call(
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
            let (cause, server_wait) = match attempt {
                Attempt::Answer {
                    status,
                    headers,
                    body,
                    ..
                } if status.is_success() => {
                    return Ok(Reply { headers, body });
                }
                Attempt::Answer {
                    status, headers, ..
                } if status == StatusCode::TOO_MANY_REQUESTS => (
                    format!("HTTP 429 ({})", rate_limit_reason(&headers)),
                    retry_after(&headers, true),
                ),
                Attempt::Answer {
                    status,
                    headers,
                    body,
                    raw,
                } if status.is_server_error() => {
                    if retry == Retry::UnlessSent {
                        return Err(Error::Ambiguous {
                            method: method.to_string(),
                            path: path.to_owned(),
                            cause: format!(
                                "HTTP {}: {}",
                                status.as_u16(),
                                error::describe_body(&body, &raw)
                            ),
                        });
                    }
                    (
                        format!(
                            "HTTP {}: {}",
                            status.as_u16(),
                            error::describe_body(&body, &raw)
                        ),
                        retry_after(&headers, false),
                    )
                }
                Attempt::Answer {
                    status, body, raw, ..
                } if status == StatusCode::UNAUTHORIZED => {
                    return Err(self
                        .unauthorized(format!("HTTP 401: {}", error::describe_body(&body, &raw))));
                }
                Attempt::Answer {
                    status, body, raw, ..
                } => {
                    return Err(Error::Status {
                        method: method.to_string(),
                        path: path.to_owned(),
                        status: status.as_u16(),
                        detail: error::describe_body(&body, &raw),
                    });
                }
                Attempt::Untrusted(detail) => {
                    return Err(Error::Tls {
                        url: self.base.clone(),
                        detail,
                    });
                }
                Attempt::NotSent(cause) => (cause, None),
                Attempt::Lost(cause) => {
                    if retry == Retry::UnlessSent {
                        return Err(Error::Ambiguous {
                            method: method.to_string(),
                            path: path.to_owned(),
                            cause,
                        });
                    }
                    (cause, None)
                }
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
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() => {
                let cause = crate::render(&e);
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
                    raw: format!("redirect refused: {}", crate::render(&e)),
                };
            }
            Err(e) => return Attempt::Lost(format!("connection failed: {}", crate::render(&e))),
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
                    return Attempt::Lost(format!("the answer was cut off: {}", crate::render(&e)));
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
}

/// Field metadata given as a map by field id (old createmeta, editmeta), as a list.
fn metas_by_id(fields: Option<&Value>, path: &str) -> Result<Vec<FieldMeta>, Error> {
    let fields = fields
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    fields
        .into_iter()
        .map(|(id, mut meta)| {
            if let Some(obj) = meta.as_object_mut() {
                obj.entry("fieldId").or_insert(Value::String(id));
            }
            parse(&meta, "GET", path)
        })
        .collect()
}

/// Percent-encodes one path segment (issue keys and project keys are plain, but stanzas are input).
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn parse<T: DeserializeOwned>(body: &Value, method: &str, path: &str) -> Result<T, Error> {
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
    use super::{HeaderMap, HeaderValue, retry_after, segment};
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

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("OPS-1"), "OPS-1");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
