//! `jql` criteria (issue 9): Jira evaluates them, with `key = KEY AND (JQL)`. Pure, no I/O.
//!
//! One poll reads the issue first (status and fields, as always), and only then asks Jira about
//! JQL, and only what the read leaves open: the tree with every other criterion evaluated is a
//! [`Residual`], either known already or a [`Formula`] of JQL criteria joined by AND / OR that
//! goes to Jira as ONE search, however many `jql` criteria the tree has. So a poll costs the read
//! plus at most one search; [`answer`] decides what to ask. The one exception: when the read
//! leaves both trees open, one search asks whether either holds (nothing holds, the common
//! case while waiting: done), and on the poll where one does, a second search tells which.
//! The answers go into [`Snapshot::jql`], keyed by the formula's JQL, where
//! [`Criteria::holds`] finds them.

use super::{Criteria, Order, Snapshot};

/// A condition only Jira can evaluate: `jql` criteria joined by AND and OR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Formula {
    /// One criterion's JQL, as written.
    Atom(String),
    /// Every part holds.
    All(Vec<Formula>),
    /// At least one part holds.
    Any(Vec<Formula>),
}

impl Formula {
    /// The formula as JQL: an atom as written, each part of a group in parentheses, so that
    /// the user's own `OR` stays inside its part.
    pub fn jql(&self) -> String {
        let join = |parts: &[Formula], sep: &str| {
            parts
                .iter()
                .map(|p| format!("({})", p.jql()))
                .collect::<Vec<_>>()
                .join(sep)
        };
        match self {
            Formula::Atom(query) => query.clone(),
            Formula::All(parts) => join(parts, " AND "),
            Formula::Any(parts) => join(parts, " OR "),
        }
    }
}

/// What a tree comes to on a snapshot before Jira is asked about JQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Residual {
    /// The other criteria decide it whatever JQL says.
    Known(bool),
    /// It holds exactly when this does.
    Ask(Formula),
}

impl<Id> Criteria<Id> {
    /// Every `jql` criterion's query, in the order of the tree, each once.
    pub fn jql_queries(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |c| {
            if let Criteria::Jql(query) = c {
                if !out.contains(query) {
                    out.push(query.clone());
                }
            }
        });
        out
    }
}

impl Criteria {
    /// The tree on `issue` with every criterion but `jql` evaluated.
    pub fn residual(&self, issue: &Snapshot) -> Residual {
        let (children, all) = match self {
            Criteria::Jql(query) => return Residual::Ask(Formula::Atom(query.clone())),
            _ if self.jql_queries().is_empty() => return Residual::Known(self.holds(issue)),
            Criteria::All(children) => (children, true),
            Criteria::Any(children) => (children, false),
            // Leaves other than `jql` have no JQL in them.
            _ => return Residual::Known(self.holds(issue)),
        };
        let mut open = Vec::new();
        for child in children {
            match child.residual(issue) {
                // false decides an `all`, true an `any`.
                Residual::Known(value) if value != all => return Residual::Known(value),
                Residual::Known(_) => {}
                Residual::Ask(formula) => open.push(formula),
            }
        }
        match open.len() {
            0 => Residual::Known(all),
            1 => Residual::Ask(open.remove(0)),
            _ if all => Residual::Ask(Formula::All(open)),
            _ => Residual::Ask(Formula::Any(open)),
        }
    }

    /// For a tree with `jql` criteria, whether it holds given the snapshot's answers (a question
    /// not answered counts as not found); `None` for a tree without any.
    pub(super) fn jql_answer(&self, issue: &Snapshot) -> Option<bool> {
        if self.jql_queries().is_empty() {
            return None;
        }
        Some(match self.residual(issue) {
            Residual::Known(value) => value,
            Residual::Ask(formula) => issue.jql.get(&formula.jql()).copied().unwrap_or(false),
        })
    }
}

/// Asks Jira, through `ask` (the JQL condition → whether `key = KEY AND (it)` finds the issue),
/// what [`super::decide_in`] needs to decide on `issue`, and records the answers in
/// `issue.jql`. Asks nothing when the read decides alone, once in the common case, and twice
/// only on the poll where both trees wait on JQL and one of them holds.
pub async fn answer<E, F, Fut>(
    order: Order,
    approve: &Criteria,
    reject: Option<&Criteria>,
    issue: &mut Snapshot,
    mut ask: F,
) -> Result<(), E>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<bool, E>>,
{
    let (first, second) = match order {
        Order::RejectionFirst => (reject, Some(approve)),
        Order::ApprovalFirst => (Some(approve), reject),
    };
    let open = |tree: Option<&Criteria>| match tree.map(|t| t.residual(issue)) {
        Some(Residual::Ask(formula)) => Ok(Some(formula)),
        Some(Residual::Known(true)) => Err(()),
        _ => Ok(None),
    };
    // The tree checked first holds on its fields alone: it decides, JQL or not.
    let Ok(first) = open(first) else {
        return Ok(());
    };
    let second = open(second).unwrap_or(None);
    let mut record = |formula: &Formula, found: bool| {
        issue.jql.insert(formula.jql(), found);
    };
    match (first, second) {
        (None, None) => {}
        (Some(only), None) | (None, Some(only)) => {
            let found = ask(only.jql()).await?;
            record(&only, found);
        }
        (Some(first), Some(second)) if first == second => {
            let found = ask(first.jql()).await?;
            record(&first, found);
        }
        (Some(first), Some(second)) => {
            let either = Formula::Any(vec![first.clone(), second.clone()]);
            if ask(either.jql()).await? {
                let found = ask(first.jql()).await?;
                record(&first, found);
                // One of the two holds: when it is not the first, it is the second.
                if !found {
                    record(&second, true);
                }
            } else {
                record(&first, false);
                record(&second, false);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use super::super::{Verdict, decide_in};
    use super::*;

    fn jql(q: &str) -> Criteria {
        Criteria::Jql(q.into())
    }

    fn status(name: &str) -> Criteria {
        Criteria::Status(vec![name.into()])
    }

    fn snap(name: &str) -> Snapshot {
        Snapshot {
            status: name.into(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_read_settles_what_it_can_and_the_rest_is_one_formula() {
        let tree = Criteria::All(vec![
            status("Approved"),
            jql("labels = tested"),
            Criteria::Any(vec![jql("a = 1 OR b = 2"), status("Done"), jql("c = 3")]),
        ]);
        assert_eq!(tree.residual(&snap("Open")), Residual::Known(false));
        let open = tree.residual(&snap("Approved"));
        assert_eq!(
            open,
            Residual::Ask(Formula::All(vec![
                Formula::Atom("labels = tested".into()),
                Formula::Any(vec![
                    Formula::Atom("a = 1 OR b = 2".into()),
                    Formula::Atom("c = 3".into()),
                ]),
            ]))
        );
        let Residual::Ask(formula) = open else {
            unreachable!()
        };
        assert_eq!(
            formula.jql(),
            "(labels = tested) AND ((a = 1 OR b = 2) OR (c = 3))"
        );
        let any = Criteria::Any(vec![status("Done"), jql("x = 1")]);
        assert_eq!(any.residual(&snap("Done")), Residual::Known(true));
        assert_eq!(
            any.residual(&snap("Open")),
            Residual::Ask(Formula::Atom("x = 1".into()))
        );
        assert_eq!(
            tree.jql_queries(),
            ["labels = tested", "a = 1 OR b = 2", "c = 3"]
        );
        // A tree whose JQL the read made moot asks nothing (not `key = K AND ()`).
        let moot = Criteria::All(vec![
            Criteria::Any(vec![status("Approved"), jql("x = 1")]),
            status("Approved"),
        ]);
        assert_eq!(moot.residual(&snap("Approved")), Residual::Known(true));
        let moot = Criteria::Any(vec![
            Criteria::All(vec![status("Done"), jql("x = 1")]),
            status("Done"),
        ]);
        assert_eq!(moot.residual(&snap("Open")), Residual::Known(false));
    }

    /// Runs [`answer`] with Jira answering from `truths` (the atoms that hold); the questions
    /// asked and the verdict.
    fn poll(
        order: Order,
        approve: &Criteria,
        reject: Option<&Criteria>,
        status: &str,
        truths: &[&str],
    ) -> (Vec<String>, Verdict) {
        let truths: BTreeSet<String> = truths.iter().map(|t| (*t).to_owned()).collect();
        let asked = RefCell::new(Vec::new());
        let mut issue = snap(status);
        let ask = |q: String| {
            asked.borrow_mut().push(q.clone());
            let found = eval(&q, &truths);
            async move { Ok::<_, ()>(found) }
        };
        block_on(answer(order, approve, reject, &mut issue, ask)).unwrap();
        let verdict = decide_in(order, approve, reject, &issue);
        (asked.into_inner(), verdict)
    }

    /// Evaluates a formula's JQL made of atoms `tN` with AND, OR and parentheses.
    fn eval(q: &str, truths: &BTreeSet<String>) -> bool {
        let q = q.trim();
        if let Some(inner) = q.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            if balanced(inner) {
                return eval(inner, truths);
            }
        }
        for (sep, any) in [(" OR ", true), (" AND ", false)] {
            let parts = split_top(q, sep);
            if parts.len() > 1 {
                let mut values = parts.iter().map(|p| eval(p, truths));
                return if any {
                    values.any(|v| v)
                } else {
                    values.all(|v| v)
                };
            }
        }
        truths.contains(q)
    }

    fn balanced(s: &str) -> bool {
        let mut depth = 0i32;
        for c in s.chars() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth < 0 {
                return false;
            }
        }
        depth == 0
    }

    fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
        let mut parts = Vec::new();
        let (mut depth, mut start, bytes) = (0i32, 0, s.as_bytes());
        let mut i = 0;
        while i < s.len() {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0 && s[i..].starts_with(sep) => {
                    parts.push(&s[start..i]);
                    i += sep.len();
                    start = i;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        parts.push(&s[start..]);
        parts
    }

    /// Runs a future of this module to its end.
    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn asks_at_most_once_unless_both_trees_wait_on_jql_and_one_holds() {
        let approve = Criteria::All(vec![status("Approved"), jql("t1"), jql("t2")]);
        let reject = status("Rejected");
        let rf = Order::RejectionFirst;
        // The read decides: nothing asked.
        assert_eq!(
            poll(rf, &approve, Some(&reject), "Rejected", &[]),
            (vec![], Verdict::Rejected)
        );
        assert_eq!(
            poll(rf, &approve, Some(&reject), "Open", &["t1", "t2"]),
            (vec![], Verdict::Pending)
        );
        // Two jql criteria in one tree: one question.
        assert_eq!(
            poll(rf, &approve, Some(&reject), "Approved", &["t1", "t2"]),
            (vec!["(t1) AND (t2)".into()], Verdict::Approved)
        );
        assert_eq!(
            poll(rf, &approve, Some(&reject), "Approved", &["t1"]),
            (vec!["(t1) AND (t2)".into()], Verdict::Pending)
        );
        // Both trees open: one question while nothing holds, two when one does.
        let (a, r) = (jql("t1"), Criteria::Any(vec![jql("t2"), jql("t3")]));
        assert_eq!(
            poll(rf, &a, Some(&r), "Open", &[]),
            (vec!["((t2) OR (t3)) OR (t1)".into()], Verdict::Pending)
        );
        assert_eq!(
            poll(rf, &a, Some(&r), "Open", &["t1"]),
            (
                vec!["((t2) OR (t3)) OR (t1)".into(), "(t2) OR (t3)".into()],
                Verdict::Approved
            )
        );
        assert_eq!(
            poll(rf, &a, Some(&r), "Open", &["t1", "t3"]).1,
            Verdict::Rejected,
            "rejection wins when both hold"
        );
        assert_eq!(
            poll(Order::ApprovalFirst, &a, Some(&r), "Open", &["t1", "t3"]),
            (
                vec!["(t1) OR ((t2) OR (t3))".into(), "t1".into()],
                Verdict::Approved
            ),
            "Harness order: approval wins"
        );
        // The same JQL in both trees: one question.
        assert_eq!(
            poll(rf, &jql("t1"), Some(&jql("t1")), "Open", &["t1"]),
            (vec!["t1".into()], Verdict::Rejected)
        );
    }

    #[test]
    fn answers_match_evaluating_every_atom_on_its_own() {
        // Every tree shape of three atoms and a status, every truth assignment: the verdict
        // from the few questions equals the verdict from knowing each atom.
        let atoms = ["t1", "t2", "t3"];
        let trees = [
            Criteria::All(vec![jql("t1"), jql("t2")]),
            Criteria::Any(vec![
                jql("t1"),
                Criteria::All(vec![status("Open"), jql("t3")]),
            ]),
            Criteria::Any(vec![status("Done"), jql("t2")]),
            jql("t3"),
            status("Open"),
        ];
        for approve in &trees {
            for reject in &trees {
                for mask in 0..8u8 {
                    let truths: Vec<&str> = (0..3)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| atoms[i])
                        .collect();
                    let mut full = snap("Open");
                    for atom in &truths {
                        full.fields.insert(format!("jql:{atom}"), "yes".into());
                    }
                    for order in [Order::RejectionFirst, Order::ApprovalFirst] {
                        let want = decide_in(order, &naive(approve), Some(&naive(reject)), &full);
                        let (asked, got) = poll(order, approve, Some(reject), "Open", &truths);
                        assert_eq!(got, want, "{approve:?} / {reject:?} / {truths:?}");
                        assert!(asked.len() <= 2);
                    }
                }
            }
        }
    }

    /// The tree evaluated atom by atom: each `jql` criterion looked up on its own.
    fn naive(tree: &Criteria) -> Criteria {
        match tree {
            Criteria::All(c) => Criteria::All(c.iter().map(naive).collect()),
            Criteria::Any(c) => Criteria::Any(c.iter().map(naive).collect()),
            Criteria::Jql(q) => Criteria::Field {
                name: q.clone(),
                id: format!("jql:{q}"),
                test: super::super::FieldTest::Empty(false),
            },
            other => other.clone(),
        }
    }
}
