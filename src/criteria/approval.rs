//! The `approval:` criterion (Jira Service Management, SPEC section 7): the approvals of a request
//! as one read shows them, and the test of the newest one (or the one named). Pure, like the rest
//! of `criteria`; `jira::servicedesk` reads and parses them.

/// A decision: an approval's `finalDecision` or one approver's `approverDecision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Not decided yet (also any value JSM may add later).
    Pending,
    /// Approved.
    Approved,
    /// Declined.
    Declined,
}

impl Answer {
    /// The word JSM uses: `pending`, `approved`, `declined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Pending => "pending",
            Answer::Approved => "approved",
            Answer::Declined => "declined",
        }
    }

    /// Reads JSM's word leniently: anything else is pending.
    pub fn parse(word: &str) -> Answer {
        match word.trim().to_ascii_lowercase().as_str() {
            "approved" | "approve" => Answer::Approved,
            "declined" | "decline" | "rejected" => Answer::Declined,
            _ => Answer::Pending,
        }
    }
}

/// One approver of an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    /// Display name (else email, account id or username).
    pub name: String,
    /// Their answer.
    pub answer: Answer,
    /// When jira-gate first saw the answer (JSM does not say when each approver answered).
    pub seen_at: Option<String>,
    /// The order in which jira-gate saw the answers (0: not answered, or not seen yet).
    pub seen_order: u32,
}

/// One approval of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsmApproval {
    /// Its id.
    pub id: String,
    /// Its name (often the status that carries the approval step).
    pub name: String,
    /// `finalDecision`.
    pub decision: Answer,
    /// `createdDate.epochMillis`, to find the newest.
    pub created_ms: i64,
    /// `completedDate` (ISO 8601), once decided.
    pub completed_at: Option<String>,
    /// The approvers.
    pub approvers: Vec<Approver>,
}

impl JsmApproval {
    /// The approver whose answer completed the decision: of those who answered as it was
    /// decided, the one jira-gate saw last (when several answers arrive between two reads, JSM
    /// does not tell their order, and the last listed is named).
    pub fn completed_by(&self) -> Option<&Approver> {
        if self.decision == Answer::Pending {
            return None;
        }
        self.approvers
            .iter()
            .filter(|a| a.answer == self.decision)
            .max_by_key(|a| a.seen_order)
    }
}

/// What an `approval:` criterion tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalTest {
    /// The decision wanted.
    pub decision: Answer,
    /// Only the approval of this name (case-insensitive); else the newest.
    pub name: Option<String>,
}

impl ApprovalTest {
    /// Whether the approval it looks at has the decision wanted. No approval (yet): false.
    pub fn holds(&self, approvals: &[JsmApproval]) -> bool {
        pick(approvals, self.name.as_deref()).is_some_and(|a| a.decision == self.decision)
    }

    /// `approval approved`, `approval "CAB" declined`.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("approval \"{name}\" {}", self.decision.as_str()),
            None => format!("approval {}", self.decision.as_str()),
        }
    }
}

/// The newest approval (by creation, the later listed on a tie), of the name when one is given.
pub fn pick<'a>(approvals: &'a [JsmApproval], name: Option<&str>) -> Option<&'a JsmApproval> {
    approvals
        .iter()
        .enumerate()
        .filter(|(_, a)| name.is_none_or(|n| a.name.trim().eq_ignore_ascii_case(n.trim())))
        .max_by_key(|(i, a)| (a.created_ms, *i))
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn approval(name: &str, created_ms: i64, decision: Answer) -> JsmApproval {
        JsmApproval {
            id: created_ms.to_string(),
            name: name.into(),
            decision,
            created_ms,
            completed_at: None,
            approvers: Vec::new(),
        }
    }

    #[test]
    fn the_log_names_the_decision_and_the_approval() {
        let newest = ApprovalTest {
            decision: Answer::Approved,
            name: None,
        };
        assert_eq!(newest.describe(), "approval approved");
        let named = ApprovalTest {
            decision: Answer::Declined,
            name: Some("CAB".into()),
        };
        assert_eq!(named.describe(), "approval \"CAB\" declined");
    }

    #[test]
    fn the_newest_or_the_named_approval_decides() {
        let list = [
            approval("CAB", 2, Answer::Declined),
            approval("Awaiting approval", 5, Answer::Approved),
            approval("Security", 1, Answer::Pending),
        ];
        let test = |decision, name: Option<&str>| {
            ApprovalTest {
                decision,
                name: name.map(str::to_owned),
            }
            .holds(&list)
        };
        assert!(test(Answer::Approved, None));
        assert!(!test(Answer::Declined, None));
        assert!(test(Answer::Declined, Some("cab")));
        assert!(test(Answer::Pending, Some(" Security ")));
        assert!(!test(Answer::Pending, Some("Nobody")));
        assert!(!test(Answer::Pending, None));
        assert!(
            !ApprovalTest {
                decision: Answer::Pending,
                name: None
            }
            .holds(&[])
        );
    }

    #[test]
    fn answers_are_read_leniently() {
        assert_eq!(Answer::parse("APPROVED"), Answer::Approved);
        assert_eq!(Answer::parse("declined"), Answer::Declined);
        assert_eq!(Answer::parse("pending"), Answer::Pending);
        assert_eq!(Answer::parse("something-new"), Answer::Pending);
    }

    #[test]
    fn the_last_seen_matching_answer_completed_it() {
        let who = |name: &str, answer, seen_order| Approver {
            name: name.into(),
            answer,
            seen_at: None,
            seen_order,
        };
        let mut a = approval("x", 1, Answer::Approved);
        a.approvers = vec![
            who("Alice", Answer::Approved, 1),
            who("Bob", Answer::Pending, 0),
            who("Dave", Answer::Approved, 2),
        ];
        assert_eq!(a.completed_by().unwrap().name, "Dave");
        a.decision = Answer::Declined;
        a.approvers[1] = who("Bob", Answer::Declined, 3);
        assert_eq!(a.completed_by().unwrap().name, "Bob");
        a.decision = Answer::Pending;
        assert!(a.completed_by().is_none());
    }

    fn answer() -> impl Strategy<Value = Answer> {
        prop_oneof![
            Just(Answer::Pending),
            Just(Answer::Approved),
            Just(Answer::Declined)
        ]
    }

    proptest! {
        /// Exactly one decision holds for the approval the criterion looks at, and it is the
        /// newest one's.
        #[test]
        fn exactly_one_decision_holds(list in proptest::collection::vec((0i64..5, answer()), 1..6)) {
            let approvals: Vec<JsmApproval> = list
                .iter()
                .map(|(t, d)| approval("a", *t, *d))
                .collect();
            let holding: Vec<Answer> = [Answer::Pending, Answer::Approved, Answer::Declined]
                .into_iter()
                .filter(|d| ApprovalTest { decision: *d, name: None }.holds(&approvals))
                .collect();
            prop_assert_eq!(holding.len(), 1);
            let newest = list.iter().map(|(t, _)| *t).max().unwrap();
            let last_newest = list.iter().rev().find(|(t, _)| *t == newest).unwrap().1;
            prop_assert_eq!(holding[0], last_newest);
        }

        /// A completed approval names someone who answered as it was decided.
        #[test]
        fn the_completer_answered_as_decided(
            answers in proptest::collection::vec((answer(), 0u32..4), 0..5),
            decision in answer(),
        ) {
            let mut a = approval("a", 0, decision);
            a.approvers = answers
                .iter()
                .enumerate()
                .map(|(i, (x, o))| Approver { name: i.to_string(), answer: *x, seen_at: None, seen_order: *o })
                .collect();
            match a.completed_by() {
                Some(who) => prop_assert_eq!(who.answer, decision),
                None => prop_assert!(decision == Answer::Pending || answers.iter().all(|(x, _)| *x != decision)),
            }
        }
    }
}
