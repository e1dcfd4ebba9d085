//! [`JiraClient`]: one connection to one Jira site, set up from its own [`ClientConfig`]. It finds
//! out which Jira answers ([`JiraClient::connect`]) and which REST version to speak; the API calls
//! themselves are grouped by resource in `meta.rs`, `issues.rs` and `users.rs`, and every request
//! goes through the transport (`transport.rs`).

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::Method;
use reqwest::header::HeaderValue;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use super::error::Error;
use super::models::{Deployment, ServerInfo, User};
use super::transport::{Reach, Retry, Transport, parse};
use crate::adf;
use crate::markup::{self, Markup};
use crate::secret::Secret;

/// What the client needs to reach one Jira site. Built from the stanza's `jira` section when the
/// stanza is validated (`stanza/validate.rs`), so the client knows nothing of the stanza; `markup`
/// comes from `ticket.markup`, since the client encodes every description and comment.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Which REST API.
    pub api: ApiChoice,
    /// Extra trust anchor (a PEM file).
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// How long connection failures are retried before the run has its ticket.
    pub connect_budget: Duration,
    /// Where links to issues point, when not `url` (a scoped token's gateway URL is no page a
    /// person can open).
    pub site_url: Option<String>,
    /// How rich text written in the stanza is sent (`ticket.markup`, issue 9).
    pub markup: Markup,
}

/// Which REST API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiChoice {
    /// Ask `/rest/api/2/serverInfo`: Cloud gets v3, Data Center and Server v2.
    #[default]
    Auto,
    /// REST v2 (plain-text descriptions). Data Center, or Cloud if wanted.
    V2,
    /// REST v3 (Atlassian Document Format). Cloud only.
    V3,
}

/// Credentials.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Basic auth.
    Basic {
        /// Email (Cloud) or username (Data Center).
        username: String,
        /// API token or password.
        token: Secret,
    },
    /// Bearer personal access token.
    Pat {
        /// The token.
        token: Secret,
    },
}

impl Auth {
    /// The secret, for CI masking.
    pub fn secret(&self) -> &Secret {
        match self {
            Auth::Basic { token, .. } | Auth::Pat { token } => token,
        }
    }
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

/// A connection to one Jira site.
#[derive(Debug)]
pub struct JiraClient {
    pub(super) transport: Transport,
    pub(super) api: Api,
    /// What the configuration asked for; [`JiraClient::connect`] settles it into `api`.
    choice: ApiChoice,
    /// The base of links to issues: `site_url`, else what [`JiraClient::connect`] finds.
    site: Option<String>,
    /// True when [`JiraClient::connect`] told the deployment from the URL, without `serverInfo`.
    skipped_server_info: bool,
    /// A project whose issue types a statuses read listed (see `meta.rs`).
    known_project: std::sync::Mutex<Option<super::models::Project>>,
    /// How [`JiraClient::rich_text`] reads the text.
    markup: Markup,
}

impl JiraClient {
    /// Builds the client for a connection. No request is made yet; call [`JiraClient::connect`].
    ///
    /// TLS is always verified (rustls with the OS trust store, plus `ca_file`); proxies come from
    /// `HTTPS_PROXY`/`NO_PROXY`; redirects are followed only on the same host, so the credentials
    /// never travel to another one.
    pub fn new(conn: &ClientConfig, deadline: Instant) -> Result<Self, Error> {
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
            transport: Transport {
                http,
                base: conn.url.clone(),
                authorization,
                user,
                deployment: Deployment::DataCenter,
                request_timeout: conn.request_timeout,
                deadline,
                reach: std::sync::Mutex::new(Reach::new(conn.connect_budget)),
                json_seen: std::sync::atomic::AtomicBool::new(false),
            },
            api: if conn.api == ApiChoice::V3 {
                Api::V3
            } else {
                Api::V2
            },
            choice: conn.api,
            site: conn.site_url.clone(),
            skipped_server_info: false,
            known_project: std::sync::Mutex::new(None),
            markup: conn.markup,
        })
    }

    /// Finds out which Jira this is and picks the API version for `api: auto`: from the URL when
    /// it tells (Atlassian's Cloud hosts, or `api: v3`, which only Cloud has), else by asking
    /// `serverInfo`. The credentials are not checked here (one request fewer per gate, issue
    /// 12): a step that fails asks [`JiraClient::explain_failure`], `check` asks
    /// [`JiraClient::myself`].
    pub async fn connect(&mut self) -> Result<(), Error> {
        if self.cloud_by_url() {
            self.transport.deployment = Deployment::Cloud;
            self.api = if self.choice == ApiChoice::V2 {
                Api::V2
            } else {
                Api::V3
            };
            self.skipped_server_info = true;
            tracing::info!(
                "Jira Cloud at {} (by its address), using REST v{}",
                self.transport.base,
                self.api.segment()
            );
            return Ok(());
        }
        self.server_info().await
    }

    /// Cloud without asking: an Atlassian Cloud host, or `api: v3` (Data Center has no REST v3;
    /// when it was wrong, [`JiraClient::explain_failure`] says so). Through the API gateway the
    /// site's own URL is needed for links, which only `serverInfo` tells, unless `site_url` is set.
    fn cloud_by_url(&self) -> bool {
        let host = reqwest::Url::parse(&self.transport.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        if host == "api.atlassian.com" {
            return self.site.is_some();
        }
        host.ends_with(".atlassian.net")
            || host.ends_with(".jira.com")
            || self.choice == ApiChoice::V3
    }

    /// After a step failed: the cause the up-front checks would have named, when there is one.
    /// `api: v3` against a Jira without REST v3 (asked of `serverInfo` when it was skipped), then
    /// credentials Jira did not take (`/myself`: wrong credentials often give 404 or an empty
    /// answer elsewhere, API-NOTES §0.4). `None` when both are fine.
    pub async fn explain_failure(&mut self) -> Option<Error> {
        if let Err(e) = self.confirm_v3().await {
            return Some(e);
        }
        self.myself().await.err()
    }

    /// Asks `serverInfo` after all when `api: v3` alone made [`JiraClient::connect`] skip it:
    /// fails when this Jira has no REST v3.
    pub async fn confirm_v3(&mut self) -> Result<(), Error> {
        if self.skipped_server_info && self.choice == ApiChoice::V3 {
            self.skipped_server_info = false;
            return self.server_info().await;
        }
        Ok(())
    }

    /// `GET serverInfo`: the deployment, the API version, the site URL behind the gateway.
    async fn server_info(&mut self) -> Result<(), Error> {
        let info: ServerInfo = match self.transport.get("/rest/api/2/serverInfo", &[]).await {
            Err(Error::Status { status: 404, .. }) => {
                return Err(Error::Connection(format!(
                    "{} does not answer /rest/api/2/serverInfo, so it is not a Jira base URL (hint: Cloud: https://your-domain.atlassian.net; Data Center: include the context path, e.g. https://example.com/jira)",
                    self.transport.base
                )));
            }
            other => other?,
        };
        let cloud = info
            .deployment_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("cloud"));
        self.transport.deployment = if cloud {
            Deployment::Cloud
        } else {
            Deployment::DataCenter
        };
        if self.site.is_none() && self.is_gateway() {
            // Issue 8 #17: through api.atlassian.com the links must go to the site itself.
            match info.base_url.as_deref().map(|u| u.trim_end_matches('/')) {
                Some(site) if site.starts_with("https://") => self.site = Some(site.to_owned()),
                _ => tracing::warn!(
                    "Jira's serverInfo names no https site URL; links point at {} (hint: set jira.site_url)",
                    self.transport.base
                ),
            }
        }
        self.api = match self.choice {
            ApiChoice::Auto if cloud => Api::V3,
            ApiChoice::Auto | ApiChoice::V2 => Api::V2,
            ApiChoice::V3 if !cloud => {
                return Err(Error::Connection(format!(
                    "jira.api is v3 but {} is Jira {} {}, which has only REST v2 (hint: use `api: auto` or `api: v2`)",
                    self.transport.base,
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
            self.transport.base,
            self.api.segment()
        );
        Ok(())
    }

    /// `GET /myself`: who the credentials belong to. Fails on 401 and on the 200s that Jira marks
    /// as anonymous (`X-Seraph-LoginReason`, `X-AUSERNAME: anonymous`).
    pub async fn myself(&self) -> Result<User, Error> {
        let path = self.rest("myself");
        let reply = match self
            .transport
            .call(Method::GET, &path, &[], None, Retry::Always)
            .await
        {
            Err(Error::Status {
                status: 403,
                detail,
                ..
            }) => return Err(self.transport.unauthorized(format!("HTTP 403: {detail}"))),
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
                return Err(self
                    .transport
                    .unauthorized(format!("X-Seraph-LoginReason: {reason}")));
            }
        }
        if header("x-ausername").is_some_and(|u| u.eq_ignore_ascii_case("anonymous")) {
            return Err(self.transport.unauthorized("X-AUSERNAME: anonymous".into()));
        }
        let user: User = parse(&reply.body, "GET", &path)?;
        tracing::info!("authenticated as {}", user.label());
        Ok(user)
    }

    /// The deployment found by [`JiraClient::connect`].
    pub fn deployment(&self) -> Deployment {
        self.transport.deployment
    }

    /// The full URL of a REST path on this site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.transport.base)
    }

    /// `<site>/browse/<key>`: the site URL when known, else the base URL.
    pub fn browse_url(&self, key: &str) -> String {
        let site = self.site.as_deref().unwrap_or(&self.transport.base);
        format!("{site}/browse/{key}")
    }

    /// True when the base URL is Atlassian's API gateway (`https://api.atlassian.com/ex/jira/…`),
    /// which scoped API tokens must use.
    fn is_gateway(&self) -> bool {
        reqwest::Url::parse(&self.transport.base)
            .is_ok_and(|u| u.host_str() == Some("api.atlassian.com"))
    }

    /// The run has its ticket: from now on connection failures are retried until the deadline
    /// (a Jira outage is waited out), no longer bounded by `connect_budget`.
    pub fn ticket_exists(&self) {
        self.transport.ticket_exists();
    }

    /// Moves the deadline (the wait's timeout is known after setup).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.transport.deadline = deadline;
    }

    /// The description or a comment in the form this API version takes, read as `ticket.markup`
    /// says: Markdown becomes ADF on v3 and wiki markup on v2; plain text becomes ADF paragraphs
    /// on v3 and stays as it is on v2. Every description and comment jira-gate writes goes
    /// through here.
    pub fn rich_text(&self, text: &str) -> Value {
        match (self.markup, self.api) {
            (Markup::Markdown, Api::V3) => markup::adf::from_markdown(text),
            (Markup::Markdown, Api::V2) => Value::String(markup::wiki::from_markdown(text)),
            (Markup::Plain, _) => self.plain_rich_text(text),
        }
    }

    /// Rich text sent as it is written (textarea fields of `ticket.fields`): ADF paragraphs on
    /// v3, the string on v2.
    pub fn plain_rich_text(&self, text: &str) -> Value {
        match self.api {
            Api::V3 => adf::from_text(text),
            Api::V2 => Value::String(text.to_owned()),
        }
    }

    /// Whether rich text goes as ADF (REST v3); a JSM request then says `isAdfRequest`.
    pub fn sends_adf(&self) -> bool {
        self.api == Api::V3
    }

    /// Keeps a project's issue types for [`JiraClient::project`].
    pub(super) fn learn_project(&self, project: super::models::Project) {
        if let Ok(mut known) = self.known_project.lock() {
            *known = Some(project);
        }
    }

    /// The project [`JiraClient::learn_project`] kept, when it is `key`.
    pub(super) fn known_project(&self, key: &str) -> Option<super::models::Project> {
        let known = self.known_project.lock().ok()?;
        known
            .as_ref()
            .filter(|p| p.key.eq_ignore_ascii_case(key))
            .cloned()
    }

    pub(super) fn rest(&self, tail: &str) -> String {
        format!("/rest/api/{}/{tail}", self.api.segment())
    }
}

/// Percent-encodes one path segment (issue keys and project keys are plain, but stanzas are input).
pub(super) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("OPS-1"), "OPS-1");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    fn config(url: &str, site_url: Option<&str>) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            auth: Auth::Pat {
                token: Secret::new("t"),
            },
            api: ApiChoice::Auto,
            ca_file: None,
            request_timeout: Duration::from_secs(5),
            connect_budget: Duration::from_secs(120),
            site_url: site_url.map(str::to_owned),
            markup: Markup::default(),
        }
    }

    #[tokio::test]
    async fn cloud_is_told_by_the_address_or_by_api_v3() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let by_url = |url: &str, site: Option<&str>, api: ApiChoice| {
            let mut conn = config(url, site);
            conn.api = api;
            JiraClient::new(&conn, deadline).unwrap().cloud_by_url()
        };
        assert!(by_url("https://acme.atlassian.net", None, ApiChoice::Auto));
        assert!(by_url("https://ACME.jira.com/", None, ApiChoice::V2));
        assert!(!by_url("https://jira.example.com", None, ApiChoice::Auto));
        assert!(!by_url("https://jira.example.com", None, ApiChoice::V2));
        assert!(by_url("https://jira.example.com", None, ApiChoice::V3));
        assert!(!by_url(
            "https://atlassian.net.example.com",
            None,
            ApiChoice::Auto
        ));
        let gateway = "https://api.atlassian.com/ex/jira/1234";
        assert!(
            !by_url(gateway, None, ApiChoice::Auto),
            "the site URL is needed"
        );
        assert!(by_url(
            gateway,
            Some("https://acme.atlassian.net"),
            ApiChoice::Auto
        ));
    }

    #[tokio::test]
    async fn links_point_at_the_site() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let gateway = "https://api.atlassian.com/ex/jira/1234";
        let client = JiraClient::new(&config(gateway, None), deadline).unwrap();
        assert!(client.is_gateway());
        assert_eq!(
            client.browse_url("OPS-1"),
            format!("{gateway}/browse/OPS-1")
        );
        let site = Some("https://example.atlassian.net");
        let client = JiraClient::new(&config(gateway, site), deadline).unwrap();
        assert_eq!(
            client.browse_url("OPS-1"),
            "https://example.atlassian.net/browse/OPS-1"
        );
        let direct = JiraClient::new(&config("https://example.atlassian.net", None), deadline);
        assert!(!direct.unwrap().is_gateway());
    }

    /// Every comment is encoded by `ticket.markup` (issue 9), on both API versions.
    #[tokio::test]
    async fn comments_and_descriptions_follow_the_markup() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let client = |api, markup| {
            let conn = ClientConfig {
                api,
                markup,
                ..config("https://example.atlassian.net", None)
            };
            JiraClient::new(&conn, deadline).unwrap()
        };
        let text = "**Cancelled** by the pipeline";
        let v3 = client(ApiChoice::V3, Markup::Markdown);
        let body = &v3.comment_request("OPS-1", text).body["body"];
        assert_eq!(
            body["content"][0]["content"][0]["marks"][0]["type"],
            "strong"
        );
        let v2 = client(ApiChoice::V2, Markup::Markdown);
        assert_eq!(
            v2.comment_request("OPS-1", text).body["body"],
            "*Cancelled* by the pipeline"
        );
        assert_eq!(v2.rich_text("# Plan"), "h1. Plan");
        let plain = client(ApiChoice::V2, Markup::Plain);
        assert_eq!(plain.comment_request("OPS-1", text).body["body"], text);
        let plain = client(ApiChoice::V3, Markup::Plain);
        assert_eq!(plain.rich_text(text), adf::from_text(text));
        assert_eq!(
            v3.plain_rich_text(text),
            adf::from_text(text),
            "textarea fields"
        );
    }
}
