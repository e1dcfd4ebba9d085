//! What the user writes: the serde mirror of SPEC section 1, with `deny_unknown_fields` on every
//! map so a misspelt key is an error with its location and a "did you mean" hint.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::scalars::{Names, Span, Text};
use crate::jira::ApiChoice;
use crate::value::Value;

/// A jira-gate step definition (native format, version 1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "jira-gate step")]
pub struct RawStanza {
    /// The connection to Jira.
    pub jira: RawJira,
    /// The ticket to create or update.
    pub ticket: RawTicket,
    /// When to approve or reject. Omit it to only create/update the ticket and exit 0.
    #[serde(default)]
    pub approval: Option<RawApproval>,
    /// What `jira-gate finish --outcome success|failure` does to the ticket after the deploy.
    #[serde(default)]
    pub finish: Option<RawFinish>,
    /// Found while parsing: variables referenced without a default that are set but empty.
    #[serde(skip)]
    #[schemars(skip)]
    pub warnings: Vec<String>,
}

/// The connection (Harness calls it the Jira connector).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJira {
    /// Base URL of the site, e.g. `https://your-domain.atlassian.net`; https, or http only to a
    /// loopback address.
    pub url: Text,
    /// Credentials.
    pub auth: RawAuth,
    /// `auto` (ask serverInfo: Cloud uses v3, everything else v2), `v2` or `v3`.
    #[serde(default)]
    pub api: Option<ApiChoice>,
    /// A PEM file with an extra trust anchor (on-premises Jira with a private CA).
    #[serde(default)]
    pub ca_file: Option<Text>,
    /// Timeout of one HTTP request (default 30s).
    #[serde(default)]
    pub request_timeout: Option<Span>,
    /// How long failures to connect (refused, unresolvable host) are retried before the ticket
    /// exists (default 2m, at most the timeout); afterwards outages are waited out until the
    /// timeout.
    #[serde(default)]
    pub connect_budget: Option<Span>,
    /// Where links to the ticket point (https), when `url` is not a page a person can open: with
    /// a scoped API token, `url` is `https://api.atlassian.com/ex/jira/{cloudId}` and the links
    /// go to `https://your-domain.atlassian.net`. Default: Jira's `serverInfo.baseUrl` behind
    /// that gateway, else `url`.
    #[serde(default)]
    pub site_url: Option<Text>,
}

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    /// Basic: Cloud email + API token, or Data Center username + password.
    Basic,
    /// Data Center personal access token, sent as `Authorization: Bearer`.
    Pat,
}

/// Credentials. The token is never printed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// `basic` or `pat`.
    #[serde(rename = "type")]
    pub kind: AuthType,
    /// Basic only: the Cloud account's email, or the Data Center username.
    #[serde(default)]
    pub username: Option<Text>,
    /// The API token (Cloud), password (Data Center basic) or personal access token (pat).
    /// Interpolate it from a secret variable: `${JIRA_API_TOKEN}`.
    #[serde(default)]
    pub token: Option<Text>,
    /// Read the token from this file instead (a Kubernetes or Docker secret mount); surrounding
    /// whitespace is trimmed.
    #[serde(default)]
    pub token_file: Option<Text>,
}

/// The ticket.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTicket {
    /// An existing issue to update. Empty or absent: create one.
    #[serde(default)]
    pub key: Option<Text>,
    /// Project key; required to create.
    #[serde(default)]
    pub project: Option<Text>,
    /// Issue type name (e.g. `Change`, `Task`); required to create, unless `request_type` is set.
    #[serde(default, rename = "type")]
    pub issue_type: Option<Text>,
    /// Jira Service Management: create the ticket as a customer request of this request type (by
    /// name), in the service desk of `project`; `fields` become its `requestFieldValues`.
    #[serde(default)]
    pub request_type: Option<Text>,
    /// Summary; required to create.
    #[serde(default)]
    pub summary: Option<Text>,
    /// Markdown (or plain text with `markup: plain`); sent as Atlassian Document Format on REST v3.
    #[serde(default)]
    pub description: Option<Text>,
    /// Labels (no spaces). On update they are added to the existing ones.
    #[serde(default)]
    pub labels: Option<Vec<Text>>,
    /// Any other field, by display name (`Priority`, `Change risk`) or id (`customfield_10050`).
    #[serde(default)]
    pub fields: Option<BTreeMap<String, Value>>,
    /// Idempotency key: the ticket carries a label derived from it, and a retried job reuses the
    /// ticket instead of creating another.
    #[serde(default)]
    pub dedupe: Option<Text>,
    /// A transition to apply after create/update, by transition name or target status name.
    #[serde(default)]
    pub transition: Option<Text>,
    /// A comment to add (Markdown, or plain text with `markup: plain`).
    #[serde(default)]
    pub comment: Option<Text>,
    /// How the description and comments are read: `markdown` (the default: Atlassian Document
    /// Format on REST v3, wiki markup on v2) or `plain` (sent as written).
    #[serde(default)]
    pub markup: Option<crate::markup::Markup>,
}

/// When the wait ends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApproval {
    /// Criteria that approve (exit 0).
    pub approve_when: RawCriterion,
    /// Criteria that reject (exit 3); checked first.
    #[serde(default)]
    pub reject_when: Option<RawCriterion>,
    /// First gap between polls (default 30s, or the timeout when shorter).
    #[serde(default)]
    pub interval: Option<Span>,
    /// Ceiling of the jittered exponential backoff between polls (default 5m, or the timeout when
    /// shorter).
    #[serde(default)]
    pub max_interval: Option<Span>,
    /// Give up after this long, exit 4 (default 1h).
    #[serde(default)]
    pub timeout: Option<Span>,
    /// A comment added to the ticket when the step is cancelled (SIGTERM/SIGINT); shorthand for
    /// `on_cancel: { comment: ... }` (give one of the two).
    #[serde(default)]
    pub on_cancel_comment: Option<Text>,
    /// Done to the ticket once it is approved, before the outputs are written.
    #[serde(default)]
    pub on_approve: Option<RawAction>,
    /// Done to the ticket once it is rejected.
    #[serde(default)]
    pub on_reject: Option<RawAction>,
    /// Done to the ticket when the wait times out while it is still pending.
    #[serde(default)]
    pub on_timeout: Option<RawAction>,
    /// Done to the ticket when the step is cancelled (SIGTERM/SIGINT); abandoned when it takes
    /// longer than cancellation allows (1.5s).
    #[serde(default)]
    pub on_cancel: Option<RawAction>,
    /// Read the issue as soon as Jira sends a webhook about it; polling goes on as the safety net.
    #[serde(default)]
    pub wake: Option<RawWake>,
    /// A change window: once approved, the step exits 0 only inside it (it waits for it to open,
    /// or exits 7 when it has closed or opens after the timeout).
    #[serde(default)]
    pub window: Option<RawWindow>,
    /// Periods when nothing may deploy: an approved step waits for the freeze to end, or exits 7
    /// when it lasts past the timeout.
    #[serde(default)]
    pub freeze: Option<Vec<RawFreeze>>,
}

/// Writes to the ticket at an ending (`approval.on_*`, `finish.*`). A failed action is logged and
/// reported in the result's `actions`; it does not change the run's exit code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// A comment to add.
    #[serde(default)]
    pub comment: Option<Text>,
    /// A transition to apply, by transition name or target status name.
    #[serde(default)]
    pub transition: Option<Text>,
    /// Labels to add (no spaces); the ticket keeps its other labels.
    #[serde(default)]
    pub labels: Option<Vec<Text>>,
    /// Fields to set, by display name or id.
    #[serde(default)]
    pub fields: Option<BTreeMap<String, Value>>,
}

/// `jira-gate finish`: what to do to the gate's ticket once the deploy is over.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFinish {
    /// `finish --outcome success`: e.g. `{ transition: Done, comment: "Deployed." }`.
    #[serde(default)]
    pub success: Option<RawAction>,
    /// `finish --outcome failure`: e.g. `{ transition: Back to review }`.
    #[serde(default)]
    pub failure: Option<RawAction>,
}

/// A listener for Jira webhooks that wakes the wait (SPEC section 10).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWake {
    /// The socket address to listen on, where Jira can reach the runner, e.g. `0.0.0.0:8080`.
    pub listen: Text,
    /// The URL path Jira posts to (default `/jira-gate`).
    #[serde(default)]
    pub path: Option<Text>,
    /// The webhook's secret: each body is signed with HMAC-SHA256 in `X-Hub-Signature:
    /// sha256=<hex>` (Jira Cloud and Data Center webhooks). Never printed.
    #[serde(default)]
    pub secret: Option<Text>,
    /// Or a shared token the sender puts in `X-Jira-Gate-Token` (Jira Automation "Send web
    /// request"). Never printed.
    #[serde(default)]
    pub token: Option<Text>,
}

/// A criterion: a map whose keys must all hold.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCriterion {
    /// Status name(s), compared case-insensitively.
    #[serde(default)]
    pub status: Option<Names>,
    /// `new`, `indeterminate`, `done` (or To Do / In Progress / Done).
    #[serde(default)]
    pub status_category: Option<Names>,
    /// Resolution name(s); `null` means unresolved.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<Names>")]
    pub resolution: Option<Option<Names>>,
    /// A field by display name or id; combine with one of equals, not_equals, in, not_in,
    /// contains, empty.
    #[serde(default)]
    pub field: Option<Text>,
    /// The field equals this value.
    #[serde(default)]
    pub equals: Option<Value>,
    /// The field does not equal this value.
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// The field's value is one of these.
    #[serde(default, rename = "in")]
    pub in_: Option<Vec<Value>>,
    /// The field's value is none of these.
    #[serde(default)]
    pub not_in: Option<Vec<Value>>,
    /// The field (a list, or text) contains this value.
    #[serde(default)]
    pub contains: Option<Value>,
    /// The field is empty (`true`) or set (`false`).
    #[serde(default)]
    pub empty: Option<bool>,
    /// Holds when Jira finds the issue with `key = KEY AND (jql)`: a JQL condition, without
    /// ORDER BY.
    #[serde(default)]
    pub jql: Option<Text>,
    /// Jira Service Management: the request's newest approval has this final decision
    /// (`approved`, `declined`, `pending`); or `{ decision, name }` for the approval of that name.
    #[serde(default)]
    pub approval: Option<RawApprovalCriterion>,
    /// All of these hold.
    #[serde(default)]
    pub all: Option<Vec<RawCriterion>>,
    /// At least one of these holds.
    #[serde(default)]
    pub any: Option<Vec<RawCriterion>>,
}

/// Distinguishes `resolution: null` (Some(None)) from an absent key (None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Names>>, D::Error> {
    Option::<Names>::deserialize(d).map(Some)
}

/// A change window (SPEC section 7): each bound from a date-time field of the ticket or a fixed
/// time; a bound left out is open on that side.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// The date-time field (name or id) holding the window's start, e.g. `Planned start`; read
    /// with every poll.
    #[serde(default)]
    pub start_field: Option<Text>,
    /// The date-time field (name or id) holding the window's end, e.g. `Planned end`.
    #[serde(default)]
    pub end_field: Option<Text>,
    /// A fixed start: RFC 3339 (`2026-12-05T02:00:00+01:00`) or `YYYY-MM-DD HH:MM` in `timezone`.
    #[serde(default)]
    pub start: Option<Text>,
    /// A fixed end, written as `start` is.
    #[serde(default)]
    pub end: Option<Text>,
    /// IANA time zone (`Europe/Berlin`) for times written without an offset and for the log
    /// lines (default UTC).
    #[serde(default)]
    pub timezone: Option<Text>,
}

/// A freeze: `from` and `to` (dates or date-times), or `cron_start` and `cron_end` (a freeze
/// begins at each `cron_start` occurrence and ends at the next `cron_end` occurrence).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFreeze {
    /// The first day (`2026-12-20`, from its start) or moment (`2026-12-20 18:00`, RFC 3339).
    #[serde(default)]
    pub from: Option<Text>,
    /// The last day (`2027-01-04`, included) or the moment the freeze ends.
    #[serde(default)]
    pub to: Option<Text>,
    /// A 5-field cron pattern for when a freeze begins, e.g. `0 18 * * FRI`.
    #[serde(default)]
    pub cron_start: Option<Text>,
    /// A 5-field cron pattern for when it ends, e.g. `0 8 * * MON`.
    #[serde(default)]
    pub cron_end: Option<Text>,
    /// IANA time zone the times and patterns are in (default UTC).
    #[serde(default)]
    pub timezone: Option<Text>,
}

/// `approval: approved`, or `approval: { decision: approved, name: "CAB" }`.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum RawApprovalCriterion {
    /// `approved`, `declined` or `pending`: the newest approval's final decision.
    Decision(Text),
    /// The decision of the approval with this name.
    Named(RawNamedApproval),
}

/// The map form of the `approval` criterion.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNamedApproval {
    /// `approved`, `declined` or `pending`.
    pub decision: Text,
    /// The approval's name as Jira Service Management shows it (case-insensitive); absent: the
    /// newest approval.
    #[serde(default)]
    pub name: Option<Text>,
}

impl<'de> Deserialize<'de> for RawApprovalCriterion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = RawApprovalCriterion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "`approved`, `declined`, `pending`, or a map with `decision` and `name`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Text::deserialize(serde::de::IntoDeserializer::<E>::into_deserializer(v))
                    .map(RawApprovalCriterion::Decision)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                RawNamedApproval::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawApprovalCriterion::Named)
            }
        }
        d.deserialize_any(Either)
    }
}
