//! Approval and rejection criteria (SPEC section 1, "Criteria"): pure functions, no I/O.
//!
//! A criterion from the stanza becomes a [`Criteria`] tree. [`decide`] evaluates the rejection
//! tree first, then the approval tree, against a [`Snapshot`] of the issue taken by one read.
//! Field values are compared leniently, the way a person reads them in Jira: an option matches
//! its value or id, a user their display name, email, account id or username, numbers compare
//! numerically, dates by day, text case-insensitively.

pub mod approval;

use serde_json::Value as Json;

use crate::value::Value;

pub mod jql;

/// How a `field` criterion names its field before it is resolved: by the name written in the
/// stanza only. A resolved tree carries the field id (`String`) instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named;

/// A validated criterion. `Id` is [`Named`] while the field names are as written, and the field
/// id (`String`, the default) once [`Criteria::resolve`] has looked them up; only a resolved tree
/// can be evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Criteria<Id = String> {
    /// Every child holds.
    All(Vec<Criteria<Id>>),
    /// At least one child holds.
    Any(Vec<Criteria<Id>>),
    /// The status name is one of these (case-insensitive).
    Status(Vec<String>),
    /// The status category key is one of these (`new`, `indeterminate`, `done`).
    Category(Vec<String>),
    /// The resolution is one of these names; `None` means "unresolved".
    Resolution(Option<Vec<String>>),
    /// A test on any field.
    Field {
        /// As written: display name or id.
        name: String,
        /// The field id, once resolved against Jira's field list.
        id: Id,
        /// The test.
        test: FieldTest,
    },
    /// Holds when Jira finds the issue with `key = KEY AND (this JQL)` (issue 9); answered by
    /// the poll in [`Snapshot::jql`], see [`jql`].
    Jql(String),
    /// A Jira Service Management approval's final decision (SPEC section 7).
    Approval(approval::ApprovalTest),
}

/// What a `field` criterion checks.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTest {
    /// Equal to the value (a list compares as a set).
    Equals(Value),
    /// Not equal.
    NotEquals(Value),
    /// The value (every element, for lists) is one of these.
    In(Vec<Value>),
    /// No element of the value is one of these.
    NotIn(Vec<Value>),
    /// A list has an element equal to this; text contains this text.
    Contains(Value),
    /// Empty (`true`) or not (`false`).
    Empty(bool),
    /// Compared with the value: numerically when both are numbers, else as text (so ISO dates
    /// order by time). Only Harness criteria produce it (issue 10).
    Order(Ordering, Value),
    /// The whole value matches the regular expression (Harness Jexl `=~`, issue 10).
    Matches(Pattern),
    /// The value does not match the regular expression.
    NotMatches(Pattern),
}

/// An ordering comparison of a field with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

impl Ordering {
    fn symbol(self) -> &'static str {
        match self {
            Ordering::Less => "<",
            Ordering::LessOrEqual => "<=",
            Ordering::Greater => ">",
            Ordering::GreaterOrEqual => ">=",
        }
    }

    fn holds(self, order: std::cmp::Ordering) -> bool {
        match self {
            Ordering::Less => order.is_lt(),
            Ordering::LessOrEqual => order.is_le(),
            Ordering::Greater => order.is_gt(),
            Ordering::GreaterOrEqual => order.is_ge(),
        }
    }
}

/// A regular expression that must match a whole value.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As written.
    pub source: String,
    anchored: regex::Regex,
}

impl Pattern {
    /// Compiles `source`, anchored at both ends (Jexl's `=~` matches the whole value).
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        Ok(Pattern {
            source: source.to_owned(),
            anchored: regex::Regex::new(&format!("^(?:{source})$"))?,
        })
    }

    fn is_match(&self, text: &str) -> bool {
        self.anchored.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

/// What one read of the issue shows; the input of [`decide`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Status name.
    pub status: String,
    /// Status category key.
    pub category: String,
    /// Resolution name, `None` while unresolved.
    pub resolution: Option<String>,
    /// The raw `fields` object, by field id.
    pub fields: serde_json::Map<String, Json>,
    /// What Jira answered this poll about `jql` criteria: a JQL condition (one criterion's, or
    /// several joined, [`jql::Formula::jql`]) and whether `key = KEY AND (it)` found the issue.
    pub jql: std::collections::BTreeMap<String, bool>,
    /// The request's JSM approvals, when the criteria test one (`None`: not read).
    pub approvals: Option<Vec<approval::JsmApproval>>,
}

/// The outcome of evaluating the criteria on a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The approval criteria hold (and the rejection criteria do not).
    Approved,
    /// The rejection criteria hold.
    Rejected,
    /// Neither.
    Pending,
}

/// Which tree is checked first when both hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Native stanzas: rejection wins (SPEC section 1).
    #[default]
    RejectionFirst,
    /// Harness steps: approval wins, as Harness checks it first (SPEC section 8).
    ApprovalFirst,
}

/// [`decide`] in the given order.
pub fn decide_in(
    order: Order,
    approve: &Criteria,
    reject: Option<&Criteria>,
    issue: &Snapshot,
) -> Verdict {
    match order {
        Order::RejectionFirst => decide(approve, reject, issue),
        Order::ApprovalFirst => {
            if approve.holds(issue) {
                Verdict::Approved
            } else if reject.is_some_and(|r| r.holds(issue)) {
                Verdict::Rejected
            } else {
                Verdict::Pending
            }
        }
    }
}

/// Rejection first: when both trees hold, the decision is rejected (SPEC section 1).
pub fn decide(approve: &Criteria, reject: Option<&Criteria>, issue: &Snapshot) -> Verdict {
    if reject.is_some_and(|r| r.holds(issue)) {
        Verdict::Rejected
    } else if approve.holds(issue) {
        Verdict::Approved
    } else {
        Verdict::Pending
    }
}

impl<Id> Criteria<Id> {
    /// The field names (as written) that `field` criteria use, for resolving to ids.
    pub fn field_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Criteria::Field { name, .. } = c {
                out.push(name.clone());
            }
        });
        out
    }

    /// The JSM approval tests in the tree: a poll reads the approvals only when there is one.
    pub fn approval_tests(&self) -> Vec<approval::ApprovalTest> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Criteria::Approval(test) = c {
                out.push(test.clone());
            }
        });
        out
    }

    /// The status names the criteria compare with (for `check`).
    pub fn status_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Criteria::Status(names) = c {
                out.extend(names.iter().cloned());
            }
        });
        out
    }

    /// The same tree with each field named by what `resolve` returns for its written name.
    pub fn resolve<E>(
        &self,
        resolve: &mut dyn FnMut(&str) -> Result<String, E>,
    ) -> Result<Criteria, E> {
        let children = |list: &[Criteria<Id>],
                        resolve: &mut dyn FnMut(&str) -> Result<String, E>| {
            list.iter()
                .map(|c| c.resolve(resolve))
                .collect::<Result<Vec<_>, E>>()
        };
        Ok(match self {
            Criteria::All(list) => Criteria::All(children(list, resolve)?),
            Criteria::Any(list) => Criteria::Any(children(list, resolve)?),
            Criteria::Status(names) => Criteria::Status(names.clone()),
            Criteria::Category(keys) => Criteria::Category(keys.clone()),
            Criteria::Resolution(names) => Criteria::Resolution(names.clone()),
            Criteria::Field { name, test, .. } => Criteria::Field {
                name: name.clone(),
                id: resolve(name)?,
                test: test.clone(),
            },
            Criteria::Jql(query) => Criteria::Jql(query.clone()),
            Criteria::Approval(test) => Criteria::Approval(test.clone()),
        })
    }

    fn walk(&self, f: &mut dyn FnMut(&Criteria<Id>)) {
        f(self);
        if let Criteria::All(children) | Criteria::Any(children) = self {
            for child in children {
                child.walk(f);
            }
        }
    }

    /// A short human description for logs, e.g. `status in [Approved, Done]`.
    pub fn describe(&self) -> String {
        match self {
            Criteria::All(children) => join(children, " and "),
            Criteria::Any(children) => join(children, " or "),
            Criteria::Status(names) => format!("status in [{}]", names.join(", ")),
            Criteria::Category(keys) => format!("status category in [{}]", keys.join(", ")),
            Criteria::Resolution(None) => "unresolved".into(),
            Criteria::Resolution(Some(names)) => format!("resolution in [{}]", names.join(", ")),
            Criteria::Field { name, test, .. } => match test {
                FieldTest::Equals(v) => format!("{name} = {}", show(v)),
                FieldTest::NotEquals(v) => format!("{name} != {}", show(v)),
                FieldTest::In(list) => format!(
                    "{name} in [{}]",
                    list.iter().map(show).collect::<Vec<_>>().join(", ")
                ),
                FieldTest::NotIn(list) => {
                    format!(
                        "{name} not in [{}]",
                        list.iter().map(show).collect::<Vec<_>>().join(", ")
                    )
                }
                FieldTest::Contains(v) => format!("{name} contains {}", show(v)),
                FieldTest::Empty(true) => format!("{name} is empty"),
                FieldTest::Empty(false) => format!("{name} is set"),
                FieldTest::Order(order, v) => format!("{name} {} {}", order.symbol(), show(v)),
                FieldTest::Matches(p) => format!("{name} matches /{}/", p.source),
                FieldTest::NotMatches(p) => format!("{name} does not match /{}/", p.source),
            },
            Criteria::Jql(query) => format!("jql `{query}`"),
            Criteria::Approval(test) => test.describe(),
        }
    }
}

impl Criteria {
    /// The field ids a poll must read for these criteria.
    pub fn field_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Criteria::Field { id, .. } = c {
                if !out.contains(id) {
                    out.push(id.clone());
                }
            }
        });
        out
    }
    /// Whether the criterion holds for the snapshot.
    pub fn holds(&self, issue: &Snapshot) -> bool {
        // A tree with `jql` criteria holds by its fields and by what Jira answered about them.
        if let Some(answer) = self.jql_answer(issue) {
            return answer;
        }
        match self {
            Criteria::All(children) => children.iter().all(|c| c.holds(issue)),
            Criteria::Any(children) => children.iter().any(|c| c.holds(issue)),
            Criteria::Status(names) => names.iter().any(|n| same_text(n, &issue.status)),
            Criteria::Category(keys) => keys.iter().any(|k| same_text(k, &issue.category)),
            Criteria::Resolution(None) => issue.resolution.is_none(),
            Criteria::Resolution(Some(names)) => issue
                .resolution
                .as_ref()
                .is_some_and(|r| names.iter().any(|n| same_text(n, r))),
            Criteria::Field { id, test, .. } => {
                let items = items_of(issue.fields.get(id).unwrap_or(&Json::Null));
                test_items(test, &items)
            }
            Criteria::Jql(query) => issue.jql.get(query).copied().unwrap_or(false),
            Criteria::Approval(test) => test.holds(issue.approvals.as_deref().unwrap_or_default()),
        }
    }
}

fn join<Id>(children: &[Criteria<Id>], sep: &str) -> String {
    let parts: Vec<String> = children
        .iter()
        .map(|c| match c {
            Criteria::All(_) | Criteria::Any(_) => format!("({})", c.describe()),
            _ => c.describe(),
        })
        .collect();
    parts.join(sep)
}

fn show(value: &Value) -> String {
    match value {
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => other.as_text().unwrap_or_else(|| "null".into()),
    }
}

/// One element of a field's value, with every name it answers to (an option's value and id; a
/// user's display name, email, account id, username and key; ...).
type Item = Vec<String>;

/// Flattens a Jira field value into its elements. `null`, `""` and `[]` give no elements.
fn items_of(value: &Json) -> Vec<Item> {
    match value {
        Json::Null => Vec::new(),
        Json::Array(elements) => elements.iter().filter_map(aliases).collect(),
        other => aliases(other).into_iter().collect(),
    }
}

fn aliases(value: &Json) -> Option<Item> {
    match value {
        Json::Null => None,
        Json::String(s) if s.trim().is_empty() => None,
        Json::String(s) => Some(vec![s.clone()]),
        Json::Number(n) => Some(vec![n.to_string()]),
        Json::Bool(b) => Some(vec![b.to_string()]),
        Json::Array(_) => Some(vec![value.to_string()]),
        Json::Object(map) => {
            if map.get("type").and_then(Json::as_str) == Some("doc") {
                let text = crate::adf::to_text(value);
                return if text.trim().is_empty() {
                    None
                } else {
                    Some(vec![text])
                };
            }
            let names: Item = [
                "value",
                "name",
                "displayName",
                "emailAddress",
                "accountId",
                "key",
                "id",
            ]
            .iter()
            .filter_map(|k| match map.get(*k) {
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Json::Number(n)) => Some(n.to_string()),
                _ => None,
            })
            .collect();
            if names.is_empty() {
                Some(vec![value.to_string()])
            } else {
                Some(names)
            }
        }
    }
}

fn test_items(test: &FieldTest, items: &[Item]) -> bool {
    match test {
        FieldTest::Empty(want) => items.is_empty() == *want,
        FieldTest::Equals(expected) => equals(items, expected),
        FieldTest::NotEquals(expected) => !equals(items, expected),
        FieldTest::In(list) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| list.iter().any(|v| item_matches(item, v)))
        }
        FieldTest::NotIn(list) => !items
            .iter()
            .any(|item| list.iter().any(|v| item_matches(item, v))),
        FieldTest::Contains(expected) => match expected {
            Value::List(wanted) => wanted.iter().all(|w| contains(items, w)),
            other => contains(items, other),
        },
        FieldTest::Order(order, wanted) => {
            let Some(wanted) = wanted.as_text() else {
                return false;
            };
            items.len() == 1
                && items[0]
                    .first()
                    .is_some_and(|actual| order.holds(compare(actual, &wanted)))
        }
        FieldTest::Matches(pattern) => matches_any(items, pattern),
        FieldTest::NotMatches(pattern) => !matches_any(items, pattern),
    }
}

/// Numbers numerically, anything else as text.
fn compare(actual: &str, wanted: &str) -> std::cmp::Ordering {
    let (a, w) = (actual.trim(), wanted.trim());
    match (a.parse::<f64>(), w.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(w),
    }
}

/// Whether any name of any element matches (an option by its value or id, a user by any name).
fn matches_any(items: &[Item], pattern: &Pattern) -> bool {
    items
        .iter()
        .any(|item| item.iter().any(|alias| pattern.is_match(alias)))
}

fn equals(items: &[Item], expected: &Value) -> bool {
    match expected {
        Value::Null => items.is_empty(),
        Value::List(wanted) => {
            items.len() == wanted.len()
                && wanted
                    .iter()
                    .all(|w| items.iter().any(|item| item_matches(item, w)))
                && items
                    .iter()
                    .all(|item| wanted.iter().any(|w| item_matches(item, w)))
        }
        scalar => items.len() == 1 && item_matches(&items[0], scalar),
    }
}

fn contains(items: &[Item], wanted: &Value) -> bool {
    if items.iter().any(|item| item_matches(item, wanted)) {
        return true;
    }
    // Text fields: substring, case-insensitive.
    let Some(needle) = wanted.as_text() else {
        return false;
    };
    let needle = needle.to_lowercase();
    items.len() == 1
        && items[0]
            .first()
            .is_some_and(|text| text.to_lowercase().contains(&needle))
}

fn item_matches(item: &Item, wanted: &Value) -> bool {
    let Some(wanted) = wanted.as_text() else {
        return false;
    };
    item.iter().any(|alias| scalar_eq(alias, &wanted))
}

/// Text case-insensitively; numbers numerically; a date matches a timestamp on that day.
fn scalar_eq(actual: &str, wanted: &str) -> bool {
    let (a, w) = (actual.trim(), wanted.trim());
    if same_text(a, w) {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), w.parse::<f64>()) {
        return (x - y).abs() < f64::EPSILON * x.abs().max(y.abs()).max(1.0);
    }
    is_date(w) && a.len() > 10 && a.starts_with(w) && a.as_bytes()[10] == b'T'
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn same_text(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(status: &str, category: &str, resolution: Option<&str>, fields: &Json) -> Snapshot {
        Snapshot {
            status: status.into(),
            category: category.into(),
            resolution: resolution.map(Into::into),
            fields: fields.as_object().cloned().unwrap_or_default(),
            ..Snapshot::default()
        }
    }

    fn field(id: &str, test: FieldTest) -> Criteria {
        Criteria::Field {
            name: id.into(),
            id: id.into(),
            test,
        }
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    #[test]
    fn status_category_and_resolution() {
        let approved = snapshot("Approved", "done", None, &json!({}));
        let wont = snapshot("Rejected", "done", Some("Won't Do"), &json!({}));
        let cases = [
            (
                Criteria::Status(vec!["approved".into(), "Done".into()]),
                &approved,
                true,
            ),
            (Criteria::Status(vec!["Done".into()]), &approved, false),
            (Criteria::Category(vec!["done".into()]), &approved, true),
            (Criteria::Resolution(None), &approved, true),
            (Criteria::Resolution(None), &wont, false),
            (
                Criteria::Resolution(Some(vec!["won't do".into()])),
                &wont,
                true,
            ),
            (
                Criteria::Resolution(Some(vec!["Done".into()])),
                &wont,
                false,
            ),
        ];
        for (criteria, issue, want) in cases {
            assert_eq!(
                criteria.holds(issue),
                want,
                "{} on {}",
                criteria.describe(),
                issue.status
            );
        }
    }

    #[test]
    fn rejection_is_checked_first() {
        let issue = snapshot("Rejected", "done", None, &json!({}));
        let approve = Criteria::Category(vec!["done".into()]);
        let reject = Criteria::Status(vec!["Rejected".into()]);
        assert_eq!(decide(&approve, Some(&reject), &issue), Verdict::Rejected);
        assert_eq!(decide(&approve, None, &issue), Verdict::Approved);
        let pending = snapshot("Awaiting approval", "indeterminate", None, &json!({}));
        assert_eq!(decide(&approve, Some(&reject), &pending), Verdict::Pending);
    }

    #[test]
    fn approval_first_order_and_harness_tests() {
        // Issue 10: Harness checks approval before rejection.
        let issue = snapshot(
            "Approved",
            "done",
            None,
            &json!({"score": 7, "due": "2026-12-01", "risk": {"value": "Low", "id": "10020"}}),
        );
        let both = Criteria::Status(vec!["Approved".into()]);
        assert_eq!(
            decide_in(Order::ApprovalFirst, &both, Some(&both), &issue),
            Verdict::Approved
        );
        assert_eq!(
            decide_in(Order::RejectionFirst, &both, Some(&both), &issue),
            Verdict::Rejected
        );
        let order = |o, v: Value| field("score", FieldTest::Order(o, v));
        let pattern = |p: &str| Pattern::new(p).unwrap();
        for (criterion, holds) in [
            (order(Ordering::Less, Value::Number(8.into())), true),
            (order(Ordering::LessOrEqual, Value::Number(7.into())), true),
            (order(Ordering::Greater, Value::Number(7.into())), false),
            (order(Ordering::GreaterOrEqual, s("10")), false),
            (
                field("due", FieldTest::Order(Ordering::Greater, s("2026-11-30"))),
                true,
            ),
            (
                field("missing", FieldTest::Order(Ordering::Less, s("9"))),
                false,
            ),
            (field("risk", FieldTest::Matches(pattern("L.w"))), true),
            (field("risk", FieldTest::Matches(pattern("100.*"))), true),
            (field("risk", FieldTest::Matches(pattern("o"))), false),
            (field("risk", FieldTest::NotMatches(pattern("o"))), true),
            (field("missing", FieldTest::NotMatches(pattern(".*"))), true),
        ] {
            assert_eq!(criterion.holds(&issue), holds, "{}", criterion.describe());
        }
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one table of cases, one per field shape, reads best whole
    fn field_tests_on_every_shape() {
        let issue = snapshot(
            "Open",
            "new",
            None,
            &json!({
                "summary": "Deploy api 1.2",
                "risk": {"self": "x", "value": "Low", "id": "10020"},
                "envs": [{"value": "staging", "id": "1"}, {"value": "production", "id": "2"}],
                "approvers": [{"accountId": "5b10", "displayName": "Alice Approver", "emailAddress": "alice@example.com"}],
                "assignee": {"name": "bob", "key": "JIRAUSER1", "displayName": "Bob Builder"},
                "score": 7.0,
                "due": "2026-12-01",
                "updated": "2026-11-25T10:00:00.000+0000",
                "labels": ["deploy", "prod"],
                "empty_list": [],
                "notes": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "All checks green"}]}]},
                "blank": "",
            }),
        );
        let cases = [
            (
                field("summary", FieldTest::Equals(s("deploy API 1.2"))),
                true,
            ),
            (field("summary", FieldTest::Contains(s("api"))), true),
            (field("risk", FieldTest::Equals(s("low"))), true),
            (field("risk", FieldTest::Equals(s("10020"))), true),
            (field("risk", FieldTest::NotEquals(s("High"))), true),
            (
                field("risk", FieldTest::In(vec![s("Low"), s("Medium")])),
                true,
            ),
            (field("risk", FieldTest::NotIn(vec![s("Low")])), false),
            (field("envs", FieldTest::Contains(s("production"))), true),
            (field("envs", FieldTest::Contains(s("dev"))), false),
            (
                field(
                    "envs",
                    FieldTest::Equals(Value::List(vec![s("production"), s("staging")])),
                ),
                true,
            ),
            (field("envs", FieldTest::Equals(s("production"))), false),
            (
                field(
                    "envs",
                    FieldTest::In(vec![s("staging"), s("production"), s("dev")]),
                ),
                true,
            ),
            (
                field("approvers", FieldTest::Contains(s("alice@example.com"))),
                true,
            ),
            (
                field("approvers", FieldTest::Contains(s("Alice Approver"))),
                true,
            ),
            (field("approvers", FieldTest::Contains(s("5b10"))), true),
            (field("assignee", FieldTest::Equals(s("bob"))), true),
            (
                field("score", FieldTest::Equals(Value::Number(7.into()))),
                true,
            ),
            (field("score", FieldTest::Equals(s("7"))), true),
            (
                field("score", FieldTest::In(vec![Value::Number(8.into())])),
                false,
            ),
            (field("due", FieldTest::Equals(s("2026-12-01"))), true),
            (field("updated", FieldTest::Equals(s("2026-11-25"))), true),
            (field("updated", FieldTest::Equals(s("2026-11-26"))), false),
            (
                field(
                    "labels",
                    FieldTest::Contains(Value::List(vec![s("deploy"), s("prod")])),
                ),
                true,
            ),
            (field("empty_list", FieldTest::Empty(true)), true),
            (field("blank", FieldTest::Empty(true)), true),
            (field("missing", FieldTest::Empty(true)), true),
            (field("missing", FieldTest::Equals(Value::Null)), true),
            (field("labels", FieldTest::Empty(false)), true),
            (field("notes", FieldTest::Contains(s("checks green"))), true),
            (field("missing", FieldTest::NotIn(vec![s("x")])), true),
            (field("missing", FieldTest::In(vec![s("x")])), false),
        ];
        for (criteria, want) in cases {
            assert_eq!(criteria.holds(&issue), want, "{}", criteria.describe());
        }
    }

    #[test]
    fn combinators() {
        let issue = snapshot("Approved", "done", None, &json!({"risk": {"value": "Low"}}));
        let all = Criteria::All(vec![
            Criteria::Status(vec!["Approved".into()]),
            field("risk", FieldTest::Equals(s("High"))),
        ]);
        let any = Criteria::Any(vec![
            Criteria::Status(vec!["Done".into()]),
            field("risk", FieldTest::Equals(s("Low"))),
        ]);
        assert!(!all.holds(&issue));
        assert!(any.holds(&issue));
        assert_eq!(any.describe(), "status in [Done] or risk = Low");
    }

    #[test]
    fn all_needs_every_child_and_any_needs_one() {
        let issue = snapshot("Approved", "done", None, &json!({}));
        let yes = || Criteria::Status(vec!["Approved".into()]);
        let no = || Criteria::Status(vec!["Rejected".into()]);
        for (children, every, one) in [
            (vec![yes(), yes()], true, true),
            (vec![yes(), no()], false, true),
            (vec![no(), yes()], false, true),
            (vec![no(), no()], false, false),
        ] {
            let all = Criteria::All(children.clone());
            let any = Criteria::Any(children);
            assert_eq!(all.holds(&issue), every, "{}", all.describe());
            assert_eq!(any.holds(&issue), one, "{}", any.describe());
        }
    }

    #[test]
    fn nested_combinators_are_described_in_parentheses() {
        let tree: Criteria = Criteria::All(vec![
            Criteria::Any(vec![
                Criteria::Status(vec!["Approved".into()]),
                Criteria::Category(vec!["done".into()]),
            ]),
            Criteria::Resolution(None),
        ]);
        assert_eq!(
            tree.describe(),
            "(status in [Approved] or status category in [done]) and unresolved"
        );
    }

    #[test]
    fn equals_on_a_list_needs_exactly_those_elements() {
        let wanted = FieldTest::Equals(Value::List(vec![s("staging"), s("production")]));
        for (value, want) in [
            (json!(["production", "staging"]), true),
            (json!([{"value": "Staging"}, {"value": "production"}]), true),
            (json!(["staging"]), false),
            (json!([]), false),
            (json!(null), false),
            (json!(["staging", "production", "dev"]), false),
            // Jira labels are case-sensitive: two labels, but production is not one of them.
            (json!(["staging", "STAGING"]), false),
        ] {
            let issue = snapshot("Open", "new", None, &json!({ "envs": value }));
            let criterion = field("envs", wanted.clone());
            assert_eq!(criterion.holds(&issue), want, "{value}");
        }
    }

    #[test]
    fn equals_a_single_value_needs_exactly_one_element() {
        for (value, want) in [
            (json!("production"), true),
            (json!(["production"]), true),
            (json!(["production", "staging"]), false),
            (json!([]), false),
            (json!(null), false),
            (json!(""), false),
        ] {
            let issue = snapshot("Open", "new", None, &json!({ "env": value }));
            let criterion = field("env", FieldTest::Equals(s("production")));
            assert_eq!(criterion.holds(&issue), want, "{value}");
        }
    }

    #[test]
    fn contains_is_false_on_an_empty_field() {
        for value in [json!(null), json!(""), json!([]), json!("  ")] {
            let issue = snapshot("Open", "new", None, &json!({ "f": value }));
            assert!(
                !field("f", FieldTest::Contains(s("x"))).holds(&issue),
                "{value}"
            );
            assert!(!field("missing", FieldTest::Contains(s("x"))).holds(&issue));
        }
    }

    #[test]
    fn contains_matches_text_inside_one_value_and_whole_elements_of_a_list() {
        let issue = snapshot(
            "Open",
            "new",
            None,
            &json!({
                "summary": "Deploy api 1.2",
                "envs": ["staging", "production"],
                "release": {"value": "", "name": "Release 2026.11"},
            }),
        );
        for (id, wanted, want) in [
            ("summary", "API", true),
            ("summary", "rollback", false),
            ("envs", "production", true),
            // In a list only whole elements count: "stag" is no environment.
            ("envs", "stag", false),
            // An empty name is skipped: the option's text is its next name.
            ("release", "2026.11", true),
        ] {
            let criterion = field(id, FieldTest::Contains(s(wanted)));
            assert_eq!(criterion.holds(&issue), want, "{}", criterion.describe());
        }
    }

    #[test]
    fn a_numeric_id_is_one_of_the_names() {
        let issue = snapshot(
            "Open",
            "new",
            None,
            &json!({"risk": {"value": "Low", "id": 10020}}),
        );
        assert!(field("risk", FieldTest::Equals(s("10020"))).holds(&issue));
        assert!(field("risk", FieldTest::Equals(Value::Number(10020.into()))).holds(&issue));
    }

    #[test]
    fn numbers_compare_up_to_rounding_only() {
        let thirds = 1.1_f64 * 3.0;
        assert_ne!(
            thirds.to_bits(),
            3.3_f64.to_bits(),
            "the rounding this test is about"
        );
        let rounded = snapshot("Open", "new", None, &json!({ "n": thirds }));
        assert!(field("n", FieldTest::Equals(s("3.3"))).holds(&rounded));
        // Four units of rounding apart at 4 is a different number.
        let near = 4.0 - 4.0 * f64::EPSILON;
        let issue = snapshot("Open", "new", None, &json!({ "n": near }));
        assert!(!field("n", FieldTest::Equals(s("4"))).holds(&issue));
        assert!(field("n", FieldTest::Equals(s(&near.to_string()))).holds(&issue));
    }

    #[test]
    fn only_a_whole_date_matches_a_timestamp_by_day() {
        let issue = snapshot(
            "Open",
            "new",
            None,
            &json!({"updated": "2026-11-25T10:00:00.000+0000"}),
        );
        for (wanted, want) in [
            ("2026-11-25", true),
            ("2026-11-26", false),
            ("2026", false),
            ("2026-11", false),
            ("2026-11-", false),
            ("2026-11-2", false),
            ("2026-11-25T", false),
        ] {
            let criterion = field("updated", FieldTest::Equals(s(wanted)));
            assert_eq!(criterion.holds(&issue), want, "{wanted}");
        }
    }

    #[test]
    fn names_and_ids_are_collected_from_the_whole_tree() {
        let named = |name: &str| Criteria::Field {
            name: name.into(),
            id: Named,
            test: FieldTest::Empty(false),
        };
        let tree = Criteria::Any(vec![
            Criteria::Status(vec!["Approved".into(), "Done".into()]),
            Criteria::All(vec![
                named("Change risk"),
                Criteria::Status(vec!["Accepted".into()]),
                Criteria::Any(vec![named("Environments"), named("Change risk")]),
            ]),
        ]);
        assert_eq!(
            tree.field_names(),
            ["Change risk", "Environments", "Change risk"]
        );
        assert_eq!(tree.status_names(), ["Approved", "Done", "Accepted"]);
        let mut ids = |name: &str| -> Result<String, ()> {
            Ok(match name {
                "Change risk" => "customfield_10050".into(),
                other => other.to_lowercase(),
            })
        };
        let resolved = tree.resolve(&mut ids).unwrap();
        // Each id once, in the order the tree names them.
        assert_eq!(resolved.field_ids(), ["customfield_10050", "environments"]);
        assert_eq!(named("Risk").field_names(), ["Risk"]);
        assert!(
            Criteria::<Named>::Status(vec!["A".into()])
                .field_names()
                .is_empty()
        );
    }
}
