//! The second parsing stage: [`RawStanza::validate`] applies the contract's rules and the
//! overrides, and builds the [`Stanza`] (with its criteria trees) the rest of the program uses.

use std::path::PathBuf;
use std::time::Duration;

use super::error::Error;
use super::model::{
    Approval, DEFAULT_CONNECT_BUDGET, DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_WAKE_PATH, Overrides, Stanza, Target, Ticket,
    WRITE_ONLY_BUDGET, Wake, WakeCheck,
};
use super::raw::{
    AuthType, RawApproval, RawAuth, RawCriterion, RawJira, RawStanza, RawTicket, RawWake,
};
use super::scalars::{Names, Text};
use crate::criteria::{Criteria, FieldTest, Named};
use crate::jira::{Auth, ClientConfig};
use crate::secret::Secret;

mod window;

/// A broken rule: the key path, what is wrong, what to do. The file is added by
/// [`RawStanza::validate`].
#[derive(Debug)]
struct Problem {
    key: String,
    message: String,
    hint: Option<String>,
}

fn problem(key: impl Into<String>, message: impl Into<String>, hint: Option<&str>) -> Problem {
    Problem {
        key: key.into(),
        message: message.into(),
        hint: hint.map(str::to_owned),
    }
}

impl RawStanza {
    /// Applies the contract's rules and the overrides; the result is ready to run.
    pub fn validate(self, file: &str, overrides: &Overrides) -> Result<Stanza, Error> {
        let invalid = |p: Problem| Error::Invalid {
            file: file.to_owned(),
            at: None,
            key: p.key,
            message: p.message,
            hint: p.hint,
        };
        let mut warnings = self.warnings;
        warnings.extend(
            self.approval
                .as_ref()
                .and_then(|a| literal_wake_secret(a, file)),
        );
        let connect_budget = self.jira.connect_budget.map(|s| s.0);
        let markup = self.ticket.markup.unwrap_or_default();
        let mut jira = validate_connection(self.jira, &mut warnings, file).map_err(invalid)?;
        jira.markup = markup;
        let ticket = validate_ticket(self.ticket, overrides).map_err(invalid)?;
        let approval = self
            .approval
            .map(|raw| validate_approval(raw, overrides))
            .transpose()
            .map_err(invalid)?;
        let finish = super::actions::of_finish(self.finish)
            .map_err(|b| invalid(problem(b.key, b.message, Some(b.hint))))?;
        let budget = approval
            .as_ref()
            .map(|a| a.timeout)
            .or(overrides.timeout)
            .unwrap_or(WRITE_ONLY_BUDGET);
        jira.connect_budget =
            validate_connect_budget(connect_budget, budget, overrides.timeout.is_some())
                .map_err(invalid)?;
        Ok(Stanza {
            file: file.to_owned(),
            jira,
            ticket,
            approval,
            finish,
            warnings,
            budget,
        })
    }
}

/// `jira.connect_budget`: at least a second and at most the timeout (a shorter `--timeout`
/// shrinks it rather than refusing the stanza); the default is 2 minutes or the timeout.
fn validate_connect_budget(
    given: Option<Duration>,
    timeout: Duration,
    timeout_overridden: bool,
) -> Result<Duration, Problem> {
    let Some(given) = given else {
        return Ok(DEFAULT_CONNECT_BUDGET.min(timeout));
    };
    let shown = humantime::format_duration;
    if given < Duration::from_secs(1) {
        return Err(problem(
            "jira.connect_budget",
            format!("{} is too short", shown(given)),
            Some("use at least 1s"),
        ));
    }
    if given > timeout && !timeout_overridden {
        return Err(problem(
            "jira.connect_budget",
            format!(
                "{} is longer than the timeout {}",
                shown(given),
                shown(timeout)
            ),
            Some("connect_budget <= approval.timeout (5m without an approval section)"),
        ));
    }
    Ok(given.min(timeout))
}

fn validate_connection(
    raw: RawJira,
    warnings: &mut Vec<String>,
    file: &str,
) -> Result<ClientConfig, Problem> {
    let url = validate_url(&raw.url.value).map_err(|(m, h)| problem("jira.url", m, Some(h)))?;
    let auth =
        validate_auth(raw.auth, warnings, file).map_err(|(k, m, h)| problem(k, m, Some(h)))?;
    let request_timeout = raw.request_timeout.map_or(DEFAULT_REQUEST_TIMEOUT, |s| s.0);
    if request_timeout.is_zero() || request_timeout > Duration::from_secs(600) {
        return Err(problem(
            "jira.request_timeout",
            format!(
                "{} is out of range",
                humantime::format_duration(request_timeout)
            ),
            Some("use a value between 1s and 10m"),
        ));
    }
    let site_url = nonempty(raw.site_url)
        .map(|site| validate_site_url(&site))
        .transpose()
        .map_err(|(m, h)| problem("jira.site_url", m, Some(h)))?;
    let ca_file = nonempty(raw.ca_file).map(PathBuf::from);
    if let Some(path) = &ca_file {
        let hint = Some("point it at the PEM file of the CA that signed Jira's certificate");
        let pem = std::fs::read(path).map_err(|e| {
            problem(
                "jira.ca_file",
                format!("cannot read {}: {e}", path.display()),
                hint,
            )
        })?;
        if !reqwest::Certificate::from_pem_bundle(&pem).is_ok_and(|certs| !certs.is_empty()) {
            return Err(problem(
                "jira.ca_file",
                format!("{} holds no PEM certificate", path.display()),
                hint,
            ));
        }
    }
    Ok(ClientConfig {
        url,
        auth,
        api: raw.api.unwrap_or_default(),
        ca_file,
        request_timeout,
        connect_budget: DEFAULT_CONNECT_BUDGET,
        site_url,
        markup: crate::markup::Markup::default(),
    })
}

/// `ticket.labels`, trimmed; Jira refuses an empty one or one with whitespace.
fn ticket_labels(raw: Vec<Text>) -> Result<Vec<String>, Problem> {
    let mut labels = Vec::new();
    for (i, label) in raw.into_iter().enumerate() {
        let label = label.value.trim().to_owned();
        if label.is_empty() || label.chars().any(char::is_whitespace) {
            return Err(problem(
                format!("ticket.labels[{i}]"),
                format!("label {label:?} is empty or contains whitespace, which Jira refuses"),
                Some("use dashes instead of spaces, e.g. `deploy-production`"),
            ));
        }
        labels.push(label);
    }
    Ok(labels)
}

fn validate_ticket(raw: RawTicket, overrides: &Overrides) -> Result<Ticket, Problem> {
    let key = overrides
        .issue_key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .or_else(|| nonempty(raw.key));
    if let Some(key) = &key {
        if !looks_like_issue_key(key) {
            return Err(problem(
                "ticket.key",
                format!("{key:?} is not an issue key"),
                Some("issue keys look like OPS-123 (project key, dash, number)"),
            ));
        }
    }
    let labels = ticket_labels(raw.labels.unwrap_or_default())?;
    let request_type = nonempty(raw.request_type).map(|t| t.trim().to_owned());
    if request_type.is_some()
        && raw
            .issue_type
            .as_ref()
            .is_some_and(|t| !t.value.trim().is_empty())
    {
        return Err(problem(
            "ticket.type",
            "`type` and `request_type` are both given; a JSM request gets its issue type from its request type",
            Some("remove `type` (or `request_type`, to create a plain issue)"),
        ));
    }
    // A customer request gets its issue type from the request type (SPEC section 7).
    let issue_type = nonempty(raw.issue_type).or_else(|| {
        request_type
            .as_ref()
            .filter(|_| key.is_none())
            .map(|_| String::new())
    });
    let target = target(
        key,
        nonempty(raw.project).map(|p| p.trim().to_owned()),
        issue_type,
        nonempty(raw.summary),
    )?;
    let ticket = Ticket {
        target,
        // A YAML `|` block ends with a newline the user did not mean to send.
        description: nonempty(raw.description).map(|d| d.trim_end().to_owned()),
        labels,
        fields: raw.fields.unwrap_or_default().into_iter().collect(),
        dedupe: nonempty(raw.dedupe),
        transition: nonempty(raw.transition),
        transition_by: super::TransitionBy::NameOrStatus,
        comment: nonempty(raw.comment).map(|c| c.trim_end().to_owned()),
        request_type,
    };
    if let Some(project) = ticket.project() {
        // It goes into a URL path and into the dedupe search's JQL: refuse anything that
        // cannot be a project key or id here, with the stanza's location, not as Jira's 404.
        if !looks_like_project(project) {
            return Err(problem(
                "ticket.project",
                format!("{project:?} is not a project key"),
                Some("project keys look like OPS (letters, digits, `_`), or give the numeric id"),
            ));
        }
    }
    if let Some(summary) = ticket.summary() {
        // Jira counts the 255 in UTF-16 units (a Java string's length): an emoji counts two.
        let units = summary.encode_utf16().count();
        if summary.contains('\n') || units > 255 {
            return Err(problem(
                "ticket.summary",
                format!(
                    "must be one line of at most 255 characters as Jira counts them; it has {units} UTF-16 units{}",
                    if summary.contains('\n') {
                        " and a line break"
                    } else {
                        ""
                    }
                ),
                Some(
                    "put the details in `ticket.description`; an emoji or other character outside the BMP counts as two",
                ),
            ));
        }
    }
    Ok(ticket)
}

/// Update by key, or create with everything creating needs.
fn target(
    key: Option<String>,
    project: Option<String>,
    issue_type: Option<String>,
    summary: Option<String>,
) -> Result<Target, Problem> {
    if let Some(key) = key {
        return Ok(Target::Update {
            key: key.trim().to_owned(),
            summary,
            project,
            issue_type,
        });
    }
    let required = |name: &str| {
        problem(
            format!("ticket.{name}"),
            "is required to create a ticket (no `ticket.key` was given)",
            Some("set it, or give `ticket.key` (or --issue-key) to update an existing issue"),
        )
    };
    Ok(Target::Create {
        project: project.ok_or_else(|| required("project"))?,
        issue_type: issue_type.ok_or_else(|| required("type"))?,
        summary: summary.ok_or_else(|| required("summary"))?,
    })
}

fn nonempty(text: Option<Text>) -> Option<String> {
    text.map(|t| t.value).filter(|v| !v.trim().is_empty())
}

fn looks_like_project(project: &str) -> bool {
    let project = project.trim();
    project.len() <= 255
        && project
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `key` looks like an issue key (`OPS-123`) or a numeric issue id.
pub fn looks_like_issue_key(key: &str) -> bool {
    let key = key.trim();
    match key.rsplit_once('-') {
        Some((project, number)) => {
            !project.is_empty()
                && project
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && project
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
        }
        None => !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()),
    }
}

/// https anywhere; plain http only to loopback (the sandbox, a port-forward).
pub(super) fn validate_url(raw: &str) -> Result<String, (String, &'static str)> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|e| {
        (
            format!("{raw:?} is not a URL: {e}"),
            "write the site's base URL, e.g. https://your-domain.atlassian.net",
        )
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            "credentials must not be part of the URL".into(),
            "put them under `jira.auth`",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err((
            format!("{raw:?} has a query or fragment"),
            "write only the base URL",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err((
                format!(
                    "plain http to {} would send the credentials unencrypted",
                    url.host_str().unwrap_or("?")
                ),
                "use https; plain http is allowed only to 127.0.0.1, ::1 or localhost",
            ));
        }
        other => return Err((format!("unsupported scheme `{other}`"), "use https://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err((format!("{raw:?} has no host"), "write the site's base URL"));
    }
    Ok(trimmed.to_owned())
}

/// `jira.site_url`: a URL a person opens, so https only (issue 8 #17).
fn validate_site_url(raw: &str) -> Result<String, (String, &'static str)> {
    let url = validate_url(raw)?;
    if url.starts_with("https://") {
        Ok(url)
    } else {
        Err((
            format!("{raw:?} is not an https URL"),
            "write the site's address, e.g. https://your-domain.atlassian.net",
        ))
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

type AuthProblem = (&'static str, String, &'static str);

fn validate_auth(
    raw: RawAuth,
    warnings: &mut Vec<String>,
    file: &str,
) -> Result<Auth, AuthProblem> {
    let token: Secret = match (raw.token, raw.token_file) {
        (Some(_), Some(_)) => {
            return Err((
                "jira.auth",
                "both `token` and `token_file` are set".into(),
                "keep one of them",
            ));
        }
        (Some(text), None) => {
            if text.value.trim().is_empty() {
                return Err((
                    "jira.auth.token",
                    "is empty".into(),
                    "check that the secret variable is set and exported to this job",
                ));
            }
            if text.literal {
                warnings.push(format!(
                    "{file}: `jira.auth.token` is written literally in the file; anyone who can read the file can use it (hint: write `${{JIRA_API_TOKEN}}` and keep the token in a CI secret)"
                ));
            }
            // A secret pasted with a trailing newline is still the secret.
            Secret::new(text.value.trim())
        }
        (None, Some(path)) => {
            let contents = std::fs::read_to_string(&path.value).map_err(|e| {
                (
                    "jira.auth.token_file",
                    format!("cannot read {:?}: {e}", path.value),
                    "check the secret mount's path",
                )
            })?;
            let token = contents.trim();
            if token.is_empty() {
                return Err((
                    "jira.auth.token_file",
                    format!("{:?} is empty", path.value),
                    "check the secret's contents",
                ));
            }
            Secret::new(token)
        }
        (None, None) => {
            return Err((
                "jira.auth.token",
                "is missing".into(),
                "set `token: ${JIRA_API_TOKEN}` (or `token_file:`) under `jira.auth`",
            ));
        }
    };
    // It goes into an HTTP header: only visible ASCII. Never echo it.
    if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err((
            "jira.auth.token",
            "contains spaces, line breaks or non-ASCII characters, which no Jira token has".into(),
            "check the secret's value; surrounding whitespace is already trimmed",
        ));
    }
    match raw.kind {
        AuthType::Basic => {
            let username = raw
                .username
                .map(|u| u.value)
                .filter(|u| !u.trim().is_empty())
                .ok_or((
                    "jira.auth.username",
                    "is required for basic auth".to_owned(),
                    "Cloud: the account's email; Data Center: the username (or use `type: pat`)",
                ))?;
            Ok(Auth::Basic { username, token })
        }
        AuthType::Pat => {
            if raw.username.is_some() {
                return Err((
                    "jira.auth.username",
                    "is not used with a personal access token".into(),
                    "remove it, or use `type: basic`",
                ));
            }
            Ok(Auth::Pat { token })
        }
    }
}

#[allow(clippy::too_many_lines)] // the approval section's keys in the order the README lists them
fn validate_approval(
    mut raw: RawApproval,
    overrides: &Overrides,
) -> Result<Approval<Named>, Problem> {
    let actions = super::actions::of_approval(&mut raw)
        .map_err(|b| problem(b.key, b.message, Some(b.hint)))?;
    let approve = build_criteria(raw.approve_when, "approval.approve_when")?;
    let reject = raw
        .reject_when
        .map(|c| build_criteria(c, "approval.reject_when"))
        .transpose()?;
    let written_timeout = raw.timeout.map(|s| s.0);
    let timeout = overrides
        .timeout
        .or(written_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let fmt = |d: Duration| humantime::format_duration(d).to_string();
    let written_interval = raw.interval.map(|s| s.0);
    let written_max = raw.max_interval.map(|s| s.0);
    for (key, written) in [
        ("approval.interval", written_interval),
        ("approval.max_interval", written_max),
    ] {
        if let Some(gap) = written.filter(|d| *d < Duration::from_secs(1)) {
            return Err(problem(
                key,
                format!("{} is too short", fmt(gap)),
                Some("poll at most once a second; Jira Cloud rate-limits every site"),
            ));
        }
    }
    if timeout.is_zero() {
        return Err(problem(
            "approval.timeout",
            "must be more than 0s",
            Some("give the longest the gate may wait, e.g. `timeout: 4h`"),
        ));
    }
    // Issue 8 #7: a default never causes an error. The gaps the stanza writes are shrunk to a
    // timeout it does not write next to them (`--timeout`, or the default); the gaps it does not
    // write default to at most the timeout and to what it does write.
    let shrink = |gap: Duration| {
        if overrides.timeout.is_some() || written_timeout.is_none() {
            gap.min(timeout)
        } else {
            gap
        }
    };
    let (written_interval, written_max) = (written_interval.map(shrink), written_max.map(shrink));
    let max_interval = written_max.unwrap_or_else(|| {
        DEFAULT_MAX_INTERVAL
            .max(written_interval.unwrap_or_default())
            .min(timeout)
    });
    let interval =
        written_interval.unwrap_or_else(|| DEFAULT_INTERVAL.min(max_interval).min(timeout));
    // Only values written side by side in the stanza can disagree now.
    let order = Some("interval <= max_interval <= timeout");
    if interval > timeout {
        return Err(problem(
            "approval.interval",
            format!("{} is longer than timeout {}", fmt(interval), fmt(timeout)),
            order,
        ));
    }
    if interval > max_interval {
        return Err(problem(
            "approval.interval",
            format!(
                "{} is longer than max_interval {}",
                fmt(interval),
                fmt(max_interval)
            ),
            order,
        ));
    }
    if max_interval > timeout {
        return Err(problem(
            "approval.max_interval",
            format!(
                "{} is longer than timeout {}",
                fmt(max_interval),
                fmt(timeout)
            ),
            order,
        ));
    }
    Ok(Approval {
        approve,
        reject,
        interval,
        max_interval,
        timeout,
        on_cancel_comment: nonempty(raw.on_cancel_comment),
        order: crate::criteria::Order::RejectionFirst,
        wake: raw.wake.map(validate_wake).transpose()?,
        actions,
        window: raw.window.map(window::validate_window).transpose()?,
        freeze: raw
            .freeze
            .map(window::validate_freezes)
            .transpose()?
            .unwrap_or_default(),
    })
}

/// A warning when `approval.wake.secret` or `.token` is written literally in the file.
fn literal_wake_secret(raw: &RawApproval, file: &str) -> Option<String> {
    let wake = raw.wake.as_ref()?;
    let (key, text) = match (&wake.secret, &wake.token) {
        (Some(secret), _) => ("secret", secret),
        (None, Some(token)) => ("token", token),
        (None, None) => return None,
    };
    (text.literal && !text.value.trim().is_empty()).then(|| {
        format!(
            "{file}: `approval.wake.{key}` is written literally in the file; anyone who can read the file can wake the step (hint: write `${{JIRA_WEBHOOK_SECRET}}` and keep the value in a CI secret)"
        )
    })
}

/// `approval.wake`: a socket address, a path, and exactly one of `secret` and `token`.
fn validate_wake(raw: RawWake) -> Result<Wake, Problem> {
    let listen = raw.listen.value.trim();
    let listen: std::net::SocketAddr = listen.parse().map_err(|_| {
        problem(
            "approval.wake.listen",
            format!("`{listen}` is not a socket address"),
            Some("write an IP address and a port, e.g. `0.0.0.0:8080`"),
        )
    })?;
    let path = nonempty(raw.path).unwrap_or_else(|| DEFAULT_WAKE_PATH.to_owned());
    if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
        return Err(problem(
            "approval.wake.path",
            format!("`{path}` is not a URL path"),
            Some("start it with `/`, e.g. `/jira-gate`"),
        ));
    }
    let secret = |text: Text, key: &str| {
        let value = text.value.trim();
        if value.is_empty() {
            Err(problem(
                format!("approval.wake.{key}"),
                "is empty",
                Some("interpolate it from a CI secret, e.g. `${JIRA_WEBHOOK_SECRET}`"),
            ))
        } else {
            Ok(Secret::new(value))
        }
    };
    let variable = raw
        .secret
        .as_ref()
        .or(raw.token.as_ref())
        .and_then(|text| variable_of(&text.written));
    let check = match (raw.secret, raw.token) {
        (Some(s), None) => WakeCheck::Signature(secret(s, "secret")?),
        (None, Some(t)) => WakeCheck::Token(secret(t, "token")?),
        (Some(_), Some(_)) => {
            return Err(problem(
                "approval.wake",
                "both `secret` and `token` are set",
                Some("keep `secret` for a Jira webhook, `token` for an Automation web request"),
            ));
        }
        (None, None) => {
            return Err(problem(
                "approval.wake",
                "neither `secret` nor `token` is set; anyone could wake the step",
                Some("set `secret: ${JIRA_WEBHOOK_SECRET}` (or `token:`)"),
            ));
        }
    };
    Ok(Wake {
        listen,
        path,
        check,
        variable,
    })
}

/// `NAME` when `written` is exactly one `${NAME}` (or `${NAME:-default}`).
fn variable_of(written: &str) -> Option<String> {
    let inner = written.trim().strip_prefix("${")?.strip_suffix('}')?;
    let name = inner.split(":-").next().unwrap_or(inner);
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| name.to_owned())
}

/// Builds a located [`Problem`] from a sub-key (empty: the criterion itself), a message and a hint.
type Err<'a> = dyn Fn(&str, String, Option<&str>) -> Problem + 'a;

/// Builds the tree for one criterion map; `key` is its path in the stanza, for messages.
fn build_criteria(mut raw: RawCriterion, key: &str) -> Result<Criteria<Named>, Problem> {
    let err = |sub: &str, message: String, hint: Option<&str>| {
        let key = if sub.is_empty() {
            key.to_owned()
        } else {
            format!("{key}.{sub}")
        };
        problem(key, message, hint)
    };
    let mut parts: Vec<Criteria<Named>> = raw
        .approval
        .take()
        .map(|a| approval_criterion(a, &err))
        .transpose()?
        .into_iter()
        .collect();
    parts.extend(name_criteria(&mut raw, &err)?);
    parts.extend(field_criterion(&mut raw, &err)?);
    parts.extend(jql_criterion(&mut raw, &err)?);
    for (combinator, list) in [("all", raw.all.take()), ("any", raw.any.take())] {
        if let Some(list) = list {
            if list.is_empty() {
                return Err(err(
                    combinator,
                    "the list is empty".into(),
                    Some("list the criteria it combines, or remove it"),
                ));
            }
            let children = list
                .into_iter()
                .enumerate()
                .map(|(i, c)| build_criteria(c, &format!("{key}.{combinator}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            parts.push(if combinator == "all" {
                Criteria::All(children)
            } else {
                Criteria::Any(children)
            });
        }
    }
    match parts.len() {
        0 => Err(err(
            "",
            "the criterion is empty".into(),
            Some("for example `{ status: Approved }`"),
        )),
        1 => Ok(parts.remove(0)),
        _ => Ok(Criteria::All(parts)),
    }
}

/// The `approval` part of a criterion map (Jira Service Management, SPEC section 7).
fn approval_criterion(
    raw: super::raw::RawApprovalCriterion,
    err: &Err<'_>,
) -> Result<Criteria<Named>, Problem> {
    use super::raw::RawApprovalCriterion;
    use crate::criteria::approval::{Answer, ApprovalTest};
    let (decision, name, key) = match raw {
        RawApprovalCriterion::Decision(d) => (d, None, "approval"),
        RawApprovalCriterion::Named(n) => (n.decision, n.name, "approval.decision"),
    };
    let word = decision.value.trim().to_ascii_lowercase();
    let decision = match word.as_str() {
        "approved" => Answer::Approved,
        "declined" => Answer::Declined,
        "pending" => Answer::Pending,
        _ => {
            let hint = if matches!(word.as_str(), "rejected" | "reject" | "decline") {
                "JSM's word is `declined`"
            } else {
                "use approved, declined or pending"
            };
            return Err(err(
                key,
                format!("{:?} is not an approval decision", decision.value.trim()),
                Some(hint),
            ));
        }
    };
    let name = match name.map(|n| n.value.trim().to_owned()) {
        Some(n) if n.is_empty() => {
            return Err(err(
                "approval.name",
                "is empty".into(),
                Some("name the approval as JSM shows it, or leave `name` out for the newest"),
            ));
        }
        other => other,
    };
    Ok(Criteria::Approval(ApprovalTest { decision, name }))
}

/// The `status`, `status_category` and `resolution` parts of a criterion map.
fn name_criteria(raw: &mut RawCriterion, err: &Err<'_>) -> Result<Vec<Criteria<Named>>, Problem> {
    let mut parts = Vec::new();
    if let Some(Names(names)) = raw.status.take() {
        parts.push(Criteria::Status(non_empty_list(names, || {
            err(
                "status",
                "lists no status".into(),
                Some("name a status, e.g. `status: Approved`"),
            )
        })?));
    }
    if let Some(Names(names)) = raw.status_category.take() {
        let mut keys = Vec::new();
        for name in non_empty_list(names, || {
            err(
                "status_category",
                "lists no category".into(),
                Some("one of new, indeterminate, done"),
            )
        })? {
            keys.push(category_key(&name).ok_or_else(|| {
                err(
                    "status_category",
                    format!("{name:?} is not a status category"),
                    Some("use new, indeterminate or done (or To Do, In Progress, Done)"),
                )
            })?);
        }
        parts.push(Criteria::Category(keys));
    }
    if let Some(resolution) = raw.resolution.take() {
        let names = match resolution {
            None => None,
            Some(Names(names)) => Some(non_empty_list(names, || {
                err(
                    "resolution",
                    "lists no resolution".into(),
                    Some("write `resolution: null` for unresolved"),
                )
            })?),
        };
        parts.push(Criteria::Resolution(names));
    }
    Ok(parts)
}

/// The `jql` part of a criterion map (issue 9): a JQL condition Jira evaluates as
/// `key = KEY AND (jql)`, so it cannot order, and is not empty.
fn jql_criterion(
    raw: &mut RawCriterion,
    err: &Err<'_>,
) -> Result<Option<Criteria<Named>>, Problem> {
    let Some(text) = raw.jql.take() else {
        return Ok(None);
    };
    let query = text.value.trim().to_owned();
    if query.is_empty() {
        return Err(err(
            "jql",
            "is empty".into(),
            Some("write a JQL condition, e.g. `jql: 'labels = tested'`"),
        ));
    }
    if crate::jira::jql::orders(&query) {
        return Err(err(
            "jql",
            format!("{query:?} has ORDER BY, which means nothing in a condition on one issue"),
            Some("remove the ORDER BY part"),
        ));
    }
    if !crate::jira::jql::balanced(&query) {
        return Err(err(
            "jql",
            format!("{query:?} has unbalanced parentheses"),
            Some(
                "jira-gate puts the condition in `key = KEY AND (...)`: close every `(` it opens, and open every `)` it closes",
            ),
        ));
    }
    Ok(Some(Criteria::Jql(query)))
}

/// The `field` part of a criterion map: a field and exactly one test.
fn field_criterion(
    raw: &mut RawCriterion,
    err: &Err<'_>,
) -> Result<Option<Criteria<Named>>, Problem> {
    let tests: Vec<FieldTest> = [
        raw.equals.take().map(FieldTest::Equals),
        raw.not_equals.take().map(FieldTest::NotEquals),
        raw.in_.take().map(FieldTest::In),
        raw.not_in.take().map(FieldTest::NotIn),
        raw.contains.take().map(FieldTest::Contains),
        raw.empty.take().map(FieldTest::Empty),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut tests = tests.into_iter();
    match (raw.field.take(), tests.next(), tests.next()) {
        (Some(field), Some(test), None) => {
            let name = field.value.trim().to_owned();
            if name.is_empty() {
                return Err(err(
                    "field",
                    "is empty".into(),
                    Some("name a field by display name or id"),
                ));
            }
            let empty = match &test {
                FieldTest::In(list) if list.is_empty() => Some("in"),
                FieldTest::NotIn(list) if list.is_empty() => Some("not_in"),
                _ => None,
            };
            if let Some(key) = empty {
                return Err(err(
                    key,
                    "the list is empty".into(),
                    Some("list the values, e.g. `in: [High, Critical]`"),
                ));
            }
            Ok(Some(Criteria::Field {
                name,
                id: Named,
                test,
            }))
        }
        (Some(_), None, _) => Err(err(
            "field",
            "needs a test".into(),
            Some("add one of equals, not_equals, in, not_in, contains, empty"),
        )),
        (Some(_), Some(_), Some(_)) => Err(err(
            "field",
            "has more than one test".into(),
            Some("one test per map; combine several with `all:`"),
        )),
        (None, None, _) => Ok(None),
        (None, Some(_), _) => Err(err(
            "",
            "equals/not_equals/in/not_in/contains/empty need a `field`".into(),
            Some("add `field: NAME_OR_ID` to the same map"),
        )),
    }
}

fn non_empty_list(
    names: Vec<String>,
    empty: impl FnOnce() -> Problem,
) -> Result<Vec<String>, Problem> {
    let names: Vec<String> = names
        .into_iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        Err(empty())
    } else {
        Ok(names)
    }
}

/// Maps the accepted spellings of a status category to Jira's key.
fn category_key(name: &str) -> Option<String> {
    let key = match name.trim().to_lowercase().as_str() {
        "new" | "to do" | "todo" => "new",
        "indeterminate" | "in progress" => "indeterminate",
        "done" | "complete" | "completed" => "done",
        _ => return None,
    };
    Some(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The criterion map `yaml` as the parser reads it inside a stanza.
    fn raw(yaml: &str) -> RawCriterion {
        let text = format!(
            "jira: {{url: 'https://x.example', auth: {{type: pat, token: t}}}}\nticket: {{key: OPS-1}}\napproval: {{approve_when: {yaml}}}\n"
        );
        super::super::from_str(&text, "t.yml", &|_| None)
            .unwrap()
            .approval
            .unwrap()
            .approve_when
    }

    #[test]
    fn build_checks_shape() {
        let ok = build_criteria(raw("{status: Approved, resolution: null}"), "k").unwrap();
        assert_eq!(
            ok,
            Criteria::All(vec![
                Criteria::Status(vec!["Approved".into()]),
                Criteria::Resolution(None)
            ])
        );
        let cat = build_criteria(raw("{status_category: In Progress}"), "k").unwrap();
        assert_eq!(cat, Criteria::Category(vec!["indeterminate".into()]));
        for (yaml, want) in [
            ("{}", "the criterion is empty"),
            ("{field: Risk}", "needs a test"),
            (
                "{field: Risk, equals: a, contains: b}",
                "more than one test",
            ),
            ("{equals: a}", "need a `field`"),
            ("{status_category: finished}", "not a status category"),
            ("{jql: ' '}", "is empty"),
            ("{jql: 'labels = x order  by created'}", "has ORDER BY"),
            (
                "{jql: 'labels = x) OR (project = CHG'}",
                "unbalanced parentheses",
            ),
            ("{any: []}", "the list is empty"),
            ("{status: []}", "lists no status"),
        ] {
            let err = build_criteria(raw(yaml), "approval.approve_when").unwrap_err();
            assert!(err.message.contains(want), "{yaml}: {err:?}");
        }
        let nested = build_criteria(raw("{any: [{status: A}, {field: x}]}"), "r").unwrap_err();
        assert_eq!(nested.key, "r.any[1].field");
    }

    #[test]
    fn approval_criteria_in_both_forms() {
        use crate::criteria::approval::{Answer, ApprovalTest};
        let test = |decision, name: Option<&str>| {
            Criteria::Approval(ApprovalTest {
                decision,
                name: name.map(str::to_owned),
            })
        };
        let k = "approval.approve_when";
        assert_eq!(
            build_criteria(raw("{approval: Approved}"), k).unwrap(),
            test(Answer::Approved, None)
        );
        assert_eq!(
            build_criteria(raw("{approval: {decision: declined, name: ' CAB '}}"), k).unwrap(),
            test(Answer::Declined, Some("CAB"))
        );
        assert_eq!(
            build_criteria(raw("{approval: pending, status: Waiting}"), k).unwrap(),
            Criteria::All(vec![
                test(Answer::Pending, None),
                Criteria::Status(vec!["Waiting".into()])
            ])
        );
        let bad = build_criteria(raw("{approval: rejected}"), k).unwrap_err();
        assert_eq!(bad.key, "approval.approve_when.approval");
        assert!(bad.message.contains("not an approval decision"), "{bad:?}");
        assert_eq!(bad.hint.as_deref(), Some("JSM's word is `declined`"));
        let bad = build_criteria(raw("{approval: {decision: nope}}"), k).unwrap_err();
        assert_eq!(bad.key, "approval.approve_when.approval.decision");
        let bad = build_criteria(raw("{approval: {decision: approved, name: ''}}"), k).unwrap_err();
        assert_eq!(bad.key, "approval.approve_when.approval.name");
    }

    /// The criterion map `yaml`, built and with each field id taken to be its written name.
    fn built(yaml: &str) -> Criteria {
        build_criteria(raw(yaml), "approval.approve_when")
            .unwrap()
            .resolve(&mut |name| Ok::<_, ()>(name.to_owned()))
            .unwrap()
    }

    #[test]
    fn all_holds_when_every_child_holds_and_any_when_one_does() {
        let status = |name: &str| crate::criteria::Snapshot {
            status: name.into(),
            ..Default::default()
        };
        let all = built("{all: [{status: [A, B]}, {status: [B, C]}]}");
        let any = built("{any: [{status: A}, {status: C}]}");
        for (name, in_all, in_any) in [
            ("A", false, true),
            ("B", true, false),
            ("C", false, true),
            ("D", false, false),
        ] {
            assert_eq!(all.holds(&status(name)), in_all, "all: on {name}");
            assert_eq!(any.holds(&status(name)), in_any, "any: on {name}");
        }
    }

    #[test]
    fn every_documented_status_category_spelling_is_accepted() {
        for (spellings, key) in [
            (&["new", "To Do", "todo", "NEW"][..], "new"),
            (
                &["indeterminate", "In Progress", "in progress"][..],
                "indeterminate",
            ),
            (&["done", "Done", "complete", "completed"][..], "done"),
        ] {
            for spelling in spellings {
                let criteria = built(&format!("{{status_category: '{spelling}'}}"));
                assert_eq!(criteria, Criteria::Category(vec![key.into()]), "{spelling}");
            }
        }
    }

    /// An update-by-key stanza without `ticket.fields`, waiting on `approval`.
    fn update_by_key(approval: &str) -> Approval<Named> {
        let text = format!(
            "jira: {{url: 'https://x.example', auth: {{type: pat, token: t}}}}\nticket: {{key: OPS-1}}\napproval: {approval}\n"
        );
        super::super::from_str(&text, "t.yml", &|_| None)
            .unwrap()
            .validate("t.yml", &Overrides::default())
            .unwrap()
            .approval
            .unwrap()
    }

    #[test]
    fn field_criteria_name_their_fields_without_ticket_fields() {
        // The run reads Jira's field list only when something names a field: with no
        // `ticket.fields`, the criteria alone must say so, or the field is never resolved.
        let approval = update_by_key(
            "{approve_when: {any: [{status: Approved}, {field: Change risk, equals: Low}]}, reject_when: {all: [{status: Rejected}, {field: Environments, contains: production}]}}",
        );
        assert_eq!(approval.field_names(), ["Change risk", "Environments"]);
        assert_eq!(approval.status_names(), ["Approved", "Rejected"]);
        let ids = [
            ("Change risk", "customfield_10050"),
            ("Environments", "customfield_10060"),
        ];
        let resolved = approval
            .resolve(&mut |name| {
                ids.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, id)| (*id).to_owned())
                    .ok_or(name.to_owned())
            })
            .unwrap();
        assert_eq!(resolved.approve.field_ids(), ["customfield_10050"]);
        assert_eq!(
            resolved.reject.as_ref().map(Criteria::field_ids),
            Some(vec!["customfield_10060".to_owned()])
        );
        let unknown = update_by_key("{approve_when: {field: Team, empty: false}}")
            .resolve(&mut |name| Err::<String, _>(name.to_owned()))
            .unwrap_err();
        assert_eq!(unknown, "Team");
        let statuses = update_by_key("{approve_when: {status: Approved}}");
        assert!(statuses.field_names().is_empty());
    }
}
