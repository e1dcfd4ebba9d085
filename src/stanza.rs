//! The YAML step definition (SPEC section 1): strict parsing, interpolation and validation.
//!
//! Parsing has two stages, as ripgrep's Low/HiArgs do. [`RawStanza`] mirrors what the user writes,
//! with `deny_unknown_fields` everywhere so a misspelt key is an error with its line, column, key
//! path and a "did you mean" hint. Values are interpolated from the environment while they are
//! deserialized, so an unset variable is reported at its own line. [`RawStanza::validate`] then
//! builds the [`Stanza`] the rest of the program uses, in which every rule of the contract
//! (create needs project, type and summary; `interval <= max_interval <= timeout`; https unless
//! loopback) already holds.
//!
//! serde_yaml is deprecated upstream; it is called from [`from_str`] only, so it can be swapped in
//! one place.
//!
//! Precedence, lowest first: built-in defaults, the stanza, `JIRA_GATE_*` variables, command-line
//! options (clap merges the last two; [`Overrides`] carries them here).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::criteria::{self, Criteria};
use crate::interpolate::interpolate;
use crate::secret::Secret;

/// Stanzas larger than this are refused before parsing (a step definition is a few hundred bytes).
pub const MAX_STANZA_BYTES: usize = 256 * 1024;

/// Default first gap between polls.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Default backoff ceiling.
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default overall wait: an hour, GitLab's default job timeout, so the step ends with its own exit
/// code 4 rather than being killed by the runner.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Default per-request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a stanza was refused. Every variant names the file; parse errors also the line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not acceptable YAML for a stanza (syntax, unknown key, wrong type, unset variable).
    #[error("{file}:{line}:{column}: {message}{}", hint_suffix(.hint.as_deref()))]
    Parse {
        /// The file name as given (`-` shows as `<stdin>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, including the key path.
        message: String,
        /// A suggestion, such as the key that was probably meant.
        hint: Option<String>,
    },
    /// The stanza parsed but breaks a rule of the contract.
    #[error("{file}: `{key}`: {message}{}", hint_suffix(.hint.as_deref()))]
    Invalid {
        /// The file name.
        file: String,
        /// The key path, e.g. `approval.interval`.
        key: String,
        /// What is wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// No stanza was given anywhere.
    #[error(
        "no step definition: pass a FILE, set JIRA_GATE_STEP_FILE or JIRA_GATE_STEP, or create jira-gate.yml"
    )]
    Missing,
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!("\n  hint: {h}")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Interpolating scalar types. The environment lookup is installed for the duration of one
// `from_str` call, so `Deserialize` impls can interpolate and serde_yaml attaches the location of
// the value to any error they raise.

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;
type OwnedLookup = Box<dyn Fn(&str) -> Option<String>>;

thread_local! {
    static LOOKUP: RefCell<Option<OwnedLookup>> = const { RefCell::new(None) };
}

fn expand<E: de::Error>(raw: &str) -> Result<String, E> {
    LOOKUP.with(|cell| {
        let guard = cell.borrow();
        let lookup: Lookup<'_> = match guard.as_ref() {
            Some(f) => f.as_ref(),
            None => &|_| None,
        };
        interpolate(raw, lookup).map_err(E::custom)
    })
}

/// A string value after interpolation. Numbers and booleans written in YAML are accepted as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The interpolated value.
    pub value: String,
    /// True when the value was written literally (it had no `${...}`).
    pub literal: bool,
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text {
            value: expand(v)?,
            literal: !v.contains("${"),
        })
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text {
            value: v.to_string(),
            literal: true,
        })
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text {
            value: v.to_string(),
            literal: true,
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text {
            value: v.to_string(),
            literal: true,
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text {
            value: v.to_string(),
            literal: true,
        })
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

impl JsonSchema for Text {
    fn schema_name() -> String {
        "Text".into()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(
                vec![
                    schemars::schema::InstanceType::String,
                    schemars::schema::InstanceType::Number,
                    schemars::schema::InstanceType::Boolean,
                ]
                .into(),
            ),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some(
                    "Text; `${NAME}`, `${NAME:-default}` and `$$` are interpolated from the environment."
                        .into(),
                ),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// A humantime duration (`90s`, `5m`, `1h 30m`), interpolated first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(d)?;
        humantime::parse_duration(text.value.trim())
            .map(Span)
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid duration {:?}: {e} (hint: write durations like `90s`, `5m`, `1h 30m`)",
                    text.value
                ))
            })
    }
}

impl JsonSchema for Span {
    fn schema_name() -> String {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some("A duration: `90s`, `5m`, `1h 30m`, `1d`.".into()),
                examples: vec!["30s".into(), "5m".into(), "24h".into()],
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// One name or a list of names (`status: Approved` or `status: [Approved, Done]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names(pub Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Names, E> {
                Ok(Names(vec![expand(v)?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(text) = seq.next_element::<Text>()? {
                    names.push(text.value);
                }
                Ok(Names(names))
            }
        }
        d.deserialize_any(NamesVisitor)
    }
}

impl JsonSchema for Names {
    fn schema_name() -> String {
        "Names".into()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        let one = generator.subschema_for::<String>();
        let many = generator.subschema_for::<Vec<String>>();
        schemars::schema::SchemaObject {
            subschemas: Some(Box::new(schemars::schema::SubschemaValidation {
                any_of: Some(vec![one, many]),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// Any YAML value for a Jira field or a criterion operand; strings in it are interpolated.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` or `~`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// Text.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map (for fields that take objects, e.g. `{id: "10001"}`).
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// The value as JSON, for sending to Jira.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => s.clone().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(map) => map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
        }
    }

    /// Scalars as text (`5`, `true`, `Low`); `None` for null, lists and maps.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            Value::Null | Value::List(_) | Value::Map(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                serde_json::Number::from_f64(v)
                    .map(Value::Number)
                    .ok_or_else(|| E::custom(format!("{v} is not a finite number")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(expand(v)?))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<Text, Value>()? {
                    out.insert(key.value, value);
                }
                Ok(Value::Map(out))
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

impl JsonSchema for Value {
    fn schema_name() -> String {
        "AnyValue".into()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::Schema::Bool(true)
    }
}

// ---------------------------------------------------------------------------------------------
// What the user writes.

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
    /// Issue type name (e.g. `Change`, `Task`); required to create.
    #[serde(default, rename = "type")]
    pub issue_type: Option<Text>,
    /// Summary; required to create.
    #[serde(default)]
    pub summary: Option<Text>,
    /// Plain text; sent as Atlassian Document Format on REST v3.
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
    /// A comment to add (plain text).
    #[serde(default)]
    pub comment: Option<Text>,
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
    /// First gap between polls (default 30s).
    #[serde(default)]
    pub interval: Option<Span>,
    /// Ceiling of the jittered exponential backoff between polls (default 5m).
    #[serde(default)]
    pub max_interval: Option<Span>,
    /// Give up after this long, exit 4 (default 1h).
    #[serde(default)]
    pub timeout: Option<Span>,
    /// A comment added to the ticket when the step is cancelled (SIGTERM/SIGINT).
    #[serde(default)]
    pub on_cancel_comment: Option<Text>,
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
    /// Holds when `key = KEY AND (jql)` finds the issue (not supported yet).
    #[serde(default)]
    pub jql: Option<Text>,
    /// Jira Service Management approval decision (not supported yet).
    #[serde(default)]
    pub approval: Option<Text>,
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

// ---------------------------------------------------------------------------------------------
// What the program uses.

/// A validated step definition.
#[derive(Debug, Clone)]
pub struct Stanza {
    /// The file it came from (for messages).
    pub file: String,
    /// The connection.
    pub jira: Connection,
    /// The ticket.
    pub ticket: Ticket,
    /// The wait; `None` means create/update only.
    pub approval: Option<Approval>,
    /// Warnings found while validating (e.g. a literal token).
    pub warnings: Vec<String>,
    /// How long the whole step may take: `approval.timeout`, else `--timeout`, else
    /// [`WRITE_ONLY_BUDGET`] for a step without an approval section.
    pub budget: Duration,
}

/// Without an `approval` section (and without `--timeout`) the step still gets this long to reach
/// Jira through retries.
pub const WRITE_ONLY_BUDGET: Duration = Duration::from_secs(5 * 60);

/// A validated connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Base URL without a trailing slash.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Which REST API.
    pub api: ApiChoice,
    /// Extra trust anchor.
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

/// Validated credentials.
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

/// What to do with the ticket.
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    /// Update this issue; `None` creates one.
    pub key: Option<String>,
    /// Project key (create).
    pub project: Option<String>,
    /// Issue type name (create).
    pub issue_type: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Plain-text description.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Other fields by name or id, in the order written.
    pub fields: Vec<(String, Value)>,
    /// Idempotency key.
    pub dedupe: Option<String>,
    /// Transition or target status name.
    pub transition: Option<String>,
    /// Comment text.
    pub comment: Option<String>,
}

/// The validated wait.
#[derive(Debug, Clone)]
pub struct Approval {
    /// Approve when these hold.
    pub approve: Criteria,
    /// Reject when these hold (checked first).
    pub reject: Option<Criteria>,
    /// First gap between polls.
    pub interval: Duration,
    /// Backoff ceiling.
    pub max_interval: Duration,
    /// Overall wait.
    pub timeout: Duration,
    /// Comment added on cancellation.
    pub on_cancel_comment: Option<String>,
}

/// Command-line / `JIRA_GATE_*` values that take precedence over the stanza.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--issue-key`.
    pub issue_key: Option<String>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
}

/// Checks size, NUL bytes and UTF-8 before any YAML parsing.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String, Error> {
    let located = |offset: usize, message: String, hint: &str| {
        let line = bytes[..offset].split(|&b| b == b'\n').count();
        let column = offset
            - bytes[..offset]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        Error::Parse {
            file: file.to_owned(),
            line,
            column,
            message,
            hint: Some(hint.to_owned()),
        }
    };
    if bytes.len() > MAX_STANZA_BYTES {
        return Err(located(
            0,
            format!(
                "the file is {} bytes; a step definition may be at most {MAX_STANZA_BYTES}",
                bytes.len()
            ),
            "is this the right file?",
        ));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(located(
            offset,
            "the file contains a NUL byte".into(),
            "is this a binary file?",
        ));
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        located(
            offset,
            "the file is not valid UTF-8".into(),
            "save the file as UTF-8",
        )
    })
}

/// Parses YAML text into a [`RawStanza`], interpolating values through `lookup`.
///
/// The only place serde_yaml is called.
pub fn from_str(text: &str, file: &str, lookup: Lookup<'_>) -> Result<RawStanza, Error> {
    // The thread-local needs a 'static closure; snapshot the few names the text mentions.
    let mut names = BTreeMap::new();
    for name in referenced_names(text) {
        if let Some(value) = lookup(&name) {
            names.insert(name, value);
        }
    }
    LOOKUP.with(|cell| *cell.borrow_mut() = Some(Box::new(move |n: &str| names.get(n).cloned())));
    let result =
        serde_path_to_error::deserialize::<_, RawStanza>(serde_yaml::Deserializer::from_str(text));
    LOOKUP.with(|cell| *cell.borrow_mut() = None);
    // `${NAME}` of a set but empty variable is allowed (as in the shell) but rarely meant: a CI
    // variable defined from a missing secret or setting is empty, not unset.
    let empty: Vec<String> = references(text)
        .into_iter()
        .filter(|(name, has_default)| !has_default && lookup(name).is_some_and(|v| v.is_empty()))
        .map(|(name, _)| name)
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    let result = result.map(|mut raw| {
        raw.warnings = empty
            .iter()
            .map(|name| format!("{file}: `{name}` is set but empty, so `${{{name}}}` is an empty string (hint: check the variable, or write `${{{name}:-}}` if empty is meant)"))
            .collect();
        raw
    });
    result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let (line, column) = inner.location().map_or((1, 1), |l| (l.line(), l.column()));
        let mut message = inner.to_string();
        // serde_yaml appends " at line L column C" and may prefix the path; we print both ourselves.
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        // serde_yaml prefixes the path of the enclosing map ("ticket: unknown field ...").
        if let Some((head, _)) = message.split_once(": ") {
            if !head.contains(' ') && path.starts_with(head) {
                let cut = head.len() + 2;
                message.drain(..cut);
            }
        }
        // Our Rust type names mean nothing to the user.
        for raw in [
            "struct RawStanza",
            "struct RawJira",
            "struct RawAuth",
            "struct RawTicket",
            "struct RawApproval",
            "struct RawCriterion",
        ] {
            message = message.replace(raw, "a map of keys");
        }
        let mut hint = did_you_mean(&message);
        if text.trim().is_empty() {
            hint = Some("the stanza is empty; start from one of the files in steps/".into());
        }
        // The hint names the keys; the long "expected one of" list would only repeat them.
        if let Some(cut) = message.find(", expected ") {
            if hint.is_some() {
                message.truncate(cut);
            }
        }
        let message = if path == "." || path.is_empty() {
            message
        } else {
            format!("`{path}`: {message}")
        };
        Error::Parse {
            file: file.to_owned(),
            line,
            column,
            message,
            hint,
        }
    })
}

/// The names referenced as `${NAME}` or `${NAME:-default}`, each with whether it has a default.
/// `$${` is a literal and references nothing.
fn references(text: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find(['}', ':']).unwrap_or(body.len());
            names.push((body[..end].to_owned(), body[end..].starts_with(":-")));
            rest = &body[end..];
        } else {
            rest = after;
        }
    }
    names
}

fn referenced_names(text: &str) -> Vec<String> {
    references(text).into_iter().map(|(name, _)| name).collect()
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and unknown variants), the closest
/// expected name.
fn did_you_mean(message: &str) -> Option<String> {
    let (got, expected, what) = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (got, expected) = rest.split_once("`, expected ")?;
        (got, expected, "keys")
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (got, expected) = rest.split_once("`, expected ")?;
        (got, expected, "values")
    } else {
        return None;
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&got.to_lowercase(), c), *c))
        .min_by_key(|(d, _)| *d)?;
    let limit = (got.len() / 3).max(2);
    if best.0 <= limit {
        Some(format!("did you mean `{}`?", best.1))
    } else {
        Some(format!("valid {what} here: {}", candidates.join(", ")))
    }
}

impl RawStanza {
    /// Applies the contract's rules and the overrides; the result is ready to run.
    #[allow(clippy::too_many_lines)]
    pub fn validate(self, file: &str, overrides: &Overrides) -> Result<Stanza, Error> {
        let invalid = |key: &str, message: String, hint: Option<&str>| Error::Invalid {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
            hint: hint.map(str::to_owned),
        };
        let mut warnings = self.warnings;

        let url =
            validate_url(&self.jira.url.value).map_err(|(m, h)| invalid("jira.url", m, Some(h)))?;
        let auth = validate_auth(self.jira.auth, &mut warnings, file)
            .map_err(|(k, m, h)| invalid(k, m, Some(h)))?;
        let request_timeout = self
            .jira
            .request_timeout
            .map_or(DEFAULT_REQUEST_TIMEOUT, |s| s.0);
        if request_timeout.is_zero() || request_timeout > Duration::from_secs(600) {
            return Err(invalid(
                "jira.request_timeout",
                format!(
                    "{} is out of range",
                    humantime::format_duration(request_timeout)
                ),
                Some("use a value between 1s and 10m"),
            ));
        }
        let ca_file = nonempty(self.jira.ca_file).map(PathBuf::from);
        if let Some(path) = &ca_file {
            let hint = Some("point it at the PEM file of the CA that signed Jira's certificate");
            let pem = std::fs::read(path).map_err(|e| {
                invalid(
                    "jira.ca_file",
                    format!("cannot read {}: {e}", path.display()),
                    hint,
                )
            })?;
            if !reqwest::Certificate::from_pem_bundle(&pem).is_ok_and(|certs| !certs.is_empty()) {
                return Err(invalid(
                    "jira.ca_file",
                    format!("{} holds no PEM certificate", path.display()),
                    hint,
                ));
            }
        }
        let jira = Connection {
            url,
            auth,
            api: self.jira.api.unwrap_or_default(),
            ca_file,
            request_timeout,
        };

        let raw = self.ticket;
        let key = overrides
            .issue_key
            .clone()
            .filter(|k| !k.trim().is_empty())
            .or_else(|| nonempty(raw.key));
        if let Some(key) = &key {
            if !looks_like_issue_key(key) {
                return Err(invalid(
                    "ticket.key",
                    format!("{key:?} is not an issue key"),
                    Some("issue keys look like OPS-123 (project key, dash, number)"),
                ));
            }
        }
        let mut labels = Vec::new();
        for (i, label) in raw.labels.unwrap_or_default().into_iter().enumerate() {
            let label = label.value.trim().to_owned();
            if label.is_empty() || label.chars().any(char::is_whitespace) {
                return Err(invalid(
                    &format!("ticket.labels[{i}]"),
                    format!("label {label:?} is empty or contains whitespace, which Jira refuses"),
                    Some("use dashes instead of spaces, e.g. `deploy-production`"),
                ));
            }
            labels.push(label);
        }
        let ticket = Ticket {
            key: key.map(|k| k.trim().to_owned()),
            project: nonempty(raw.project).map(|p| p.trim().to_owned()),
            issue_type: nonempty(raw.issue_type),
            summary: nonempty(raw.summary),
            // A YAML `|` block ends with a newline the user did not mean to send.
            description: nonempty(raw.description).map(|d| d.trim_end().to_owned()),
            labels,
            fields: raw.fields.unwrap_or_default().into_iter().collect(),
            dedupe: nonempty(raw.dedupe),
            transition: nonempty(raw.transition),
            comment: nonempty(raw.comment).map(|c| c.trim_end().to_owned()),
        };
        if ticket.key.is_none() {
            for (name, value) in [
                ("project", &ticket.project),
                ("type", &ticket.issue_type),
                ("summary", &ticket.summary),
            ] {
                if value.is_none() {
                    return Err(invalid(
                        &format!("ticket.{name}"),
                        "is required to create a ticket (no `ticket.key` was given)".to_owned(),
                        Some(
                            "set it, or give `ticket.key` (or --issue-key) to update an existing issue",
                        ),
                    ));
                }
            }
        }
        if let Some(project) = &ticket.project {
            // It goes into a URL path and into the dedupe search's JQL: refuse anything that
            // cannot be a project key or id here, with the stanza's location, not as Jira's 404.
            if !looks_like_project(project) {
                return Err(invalid(
                    "ticket.project",
                    format!("{project:?} is not a project key"),
                    Some(
                        "project keys look like OPS (letters, digits, `_`), or give the numeric id",
                    ),
                ));
            }
        }
        if let Some(summary) = &ticket.summary {
            if summary.contains('\n') || summary.chars().count() > 255 {
                return Err(invalid(
                    "ticket.summary",
                    "must be one line of at most 255 characters".into(),
                    Some("put the details in `ticket.description`"),
                ));
            }
        }

        let approval = match self.approval {
            None => None,
            Some(raw) => Some(
                validate_approval(raw, overrides)
                    .map_err(|(k, m, h)| invalid(&k, m, h.as_deref()))?,
            ),
        };
        let budget = approval
            .as_ref()
            .map(|a| a.timeout)
            .or(overrides.timeout)
            .unwrap_or(WRITE_ONLY_BUDGET);
        Ok(Stanza {
            file: file.to_owned(),
            jira,
            ticket,
            approval,
            warnings,
            budget,
        })
    }
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

fn looks_like_issue_key(key: &str) -> bool {
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
fn validate_url(raw: &str) -> Result<String, (String, &'static str)> {
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

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

type Problem = (&'static str, String, &'static str);

fn validate_auth(raw: RawAuth, warnings: &mut Vec<String>, file: &str) -> Result<Auth, Problem> {
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

fn validate_approval(
    raw: RawApproval,
    overrides: &Overrides,
) -> Result<Approval, (String, String, Option<String>)> {
    let approve = criteria::build(raw.approve_when, "approval.approve_when")
        .map_err(|e| (e.key, e.message, e.hint))?;
    let reject = raw
        .reject_when
        .map(|c| criteria::build(c, "approval.reject_when"))
        .transpose()
        .map_err(|e| (e.key, e.message, e.hint))?;
    let timeout = overrides
        .timeout
        .or(raw.timeout.map(|s| s.0))
        .unwrap_or(DEFAULT_TIMEOUT);
    let mut interval = raw.interval.map_or(DEFAULT_INTERVAL, |s| s.0);
    let mut max_interval = raw
        .max_interval
        .map_or(DEFAULT_MAX_INTERVAL.max(interval), |s| s.0);
    let fmt = |d: Duration| humantime::format_duration(d).to_string();
    if interval < Duration::from_secs(1) {
        return Err((
            "approval.interval".into(),
            format!("{} is too short", fmt(interval)),
            Some("poll at most once a second; Jira Cloud rate-limits every site".into()),
        ));
    }
    if timeout.is_zero() {
        return Err((
            "approval.timeout".into(),
            "must be more than 0s".into(),
            None,
        ));
    }
    if overrides.timeout.is_some() {
        // A shorter --timeout shrinks the poll gaps with it rather than refusing the stanza.
        interval = interval.min(timeout);
        max_interval = max_interval.min(timeout);
    }
    if interval > max_interval {
        return Err((
            "approval.interval".into(),
            format!(
                "{} is longer than max_interval {}",
                fmt(interval),
                fmt(max_interval)
            ),
            Some("interval <= max_interval <= timeout".into()),
        ));
    }
    if max_interval > timeout {
        return Err((
            "approval.max_interval".into(),
            format!(
                "{} is longer than timeout {}",
                fmt(max_interval),
                fmt(timeout)
            ),
            Some("interval <= max_interval <= timeout".into()),
        ));
    }
    Ok(Approval {
        approve,
        reject,
        interval,
        max_interval,
        timeout,
        on_cancel_comment: nonempty(raw.on_cancel_comment),
    })
}

/// The JSON Schema of the stanza, as `jira-gate schema` prints it and `schemas/` stores it.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawStanza);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "JIRA_URL" => Some("https://example.atlassian.net/".into()),
            "JIRA_USER" => Some("ci@example.com".into()),
            "JIRA_API_TOKEN" => Some("tok-123".into()),
            _ => None,
        }
    }

    const GOOD: &str = "\
jira:
  url: ${JIRA_URL}
  auth: { type: basic, username: '${JIRA_USER}', token: '${JIRA_API_TOKEN}' }
ticket:
  project: OPS
  type: Change
  summary: Deploy
approval:
  approve_when: { status: [Approved, Done] }
  reject_when: { status: Rejected }
  interval: 10s
  max_interval: 1m
  timeout: 2h
";

    fn parse(text: &str) -> Result<Stanza, Error> {
        from_str(text, "step.yml", &env)?.validate("step.yml", &Overrides::default())
    }

    #[test]
    fn a_good_stanza_validates() {
        let stanza = parse(GOOD).unwrap();
        assert_eq!(stanza.jira.url, "https://example.atlassian.net");
        let approval = stanza.approval.unwrap();
        assert_eq!(approval.interval, Duration::from_secs(10));
        assert_eq!(approval.timeout, Duration::from_secs(7200));
        assert!(stanza.warnings.is_empty());
        assert!(format!("{:?}", stanza.jira.auth).contains("***"));
        assert!(!format!("{:?}", stanza.jira.auth).contains("tok-123"));
    }

    #[test]
    fn unknown_keys_are_located_with_a_hint() {
        let text = GOOD.replace("  summary: Deploy", "  sumary: Deploy");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.starts_with("step.yml:7:3: `ticket.sumary`: unknown field `sumary`\n"),
            "{err}"
        );
        assert!(err.contains("did you mean `summary`?"), "{err}");
    }

    #[test]
    fn unset_variables_are_named_at_their_line() {
        let text = GOOD.replace("summary: Deploy", "summary: Deploy ${CI_COMMIT_SHA}");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("step.yml:7:"), "{err}");
        assert!(err.contains("`CI_COMMIT_SHA` is not set"), "{err}");
    }

    #[test]
    fn create_needs_project_type_and_summary() {
        let text = GOOD.replace("  type: Change\n", "");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("`ticket.type`: is required to create"),
            "{err}"
        );
    }

    #[test]
    fn project_must_look_like_a_key() {
        for bad in [
            "OPS\\\" OR project = \\\"X",
            "'OPS\\nX'",
            "'-OPS'",
            "'OPS/1'",
        ] {
            let text = GOOD.replace("project: OPS", &format!("project: {bad}"));
            assert!(text.contains(bad), "fixture changed");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("`ticket.project`"), "{bad}: {err}");
        }
        for good in ["OPS", "ops_2", "10000"] {
            let text = GOOD.replace("project: OPS", &format!("project: {good}"));
            assert!(parse(&text).is_ok(), "{good}");
        }
    }

    #[test]
    fn intervals_must_be_ordered() {
        let err = parse(&GOOD.replace("interval: 10s", "interval: 2m"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`approval.interval`: 2m is longer than max_interval 1m"),
            "{err}"
        );
        let err = parse(&GOOD.replace("timeout: 2h", "timeout: 30s"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`approval.max_interval`: 1m is longer than timeout 30s"),
            "{err}"
        );
        let err = parse(&GOOD.replace("timeout: 2h", "timeout: soon"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid duration \"soon\""), "{err}");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for (url, ok) in [
            ("https://jira.example.com", true),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:8080/jira", true),
            ("http://[::1]:8080", true),
            ("http://jira.example.com", false),
            ("ftp://jira.example.com", false),
            ("https://user:pw@jira.example.com", false),
        ] {
            assert_eq!(validate_url(url).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn set_but_empty_variables_warn() {
        let lookup = |name: &str| match name {
            "EMPTY" => Some(String::new()),
            other => env(other),
        };
        let text = GOOD.replace(
            "summary: Deploy",
            "summary: Deploy ${EMPTY} $${EMPTY} ${EMPTY:-x}",
        );
        let stanza = from_str(&text, "s.yml", &lookup)
            .unwrap()
            .validate("s.yml", &Overrides::default())
            .unwrap();
        assert_eq!(stanza.warnings.len(), 1, "{:?}", stanza.warnings);
        assert!(stanza.warnings[0].contains("`EMPTY` is set but empty"));
        assert_eq!(stanza.ticket.summary.as_deref(), Some("Deploy  ${EMPTY} x"));
    }

    #[test]
    fn literal_token_warns() {
        let text = GOOD.replace("token: '${JIRA_API_TOKEN}'", "token: abc");
        let stanza = parse(&text).unwrap();
        assert_eq!(stanza.warnings.len(), 1);
        assert!(!stanza.warnings[0].contains("abc"));
    }

    #[test]
    fn did_you_mean_picks_the_closest_key() {
        let m = "unknown field `aprove_when`, expected one of `approve_when`, `reject_when`, `interval`";
        assert_eq!(did_you_mean(m).unwrap(), "did you mean `approve_when`?");
        let m = "unknown field `zzzzzz`, expected `a` or `b`";
        assert!(did_you_mean(m).unwrap().starts_with("valid keys here"));
    }

    #[test]
    fn nul_and_bad_utf8_are_located() {
        let err = decode("f.yml", b"jira:\n  url: \0")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("f.yml:2:8: the file contains a NUL byte"),
            "{err}"
        );
        let err = decode("f.yml", b"a: \xff").unwrap_err().to_string();
        assert!(
            err.starts_with("f.yml:1:4: the file is not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("a{}", i - 1)
            };
            text.push_str(&format!("a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let started = std::time::Instant::now();
        assert!(from_str(&text, "bomb.yml", &env).is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn override_timeout_shrinks_intervals() {
        let overrides = Overrides {
            timeout: Some(Duration::from_secs(5)),
            issue_key: Some("OPS-7".into()),
        };
        let stanza = from_str(GOOD, "s", &env)
            .unwrap()
            .validate("s", &overrides)
            .unwrap();
        let approval = stanza.approval.unwrap();
        assert_eq!(approval.interval, Duration::from_secs(5));
        assert_eq!(stanza.ticket.key.as_deref(), Some("OPS-7"));
    }
}
