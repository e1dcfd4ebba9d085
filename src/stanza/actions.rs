//! The write-back actions of the stanza (issue 9): `approval.on_approve`, `on_reject`,
//! `on_timeout`, `on_cancel` and `finish.success` / `finish.failure`, each a comment, a
//! transition, labels to add and fields to set. `on_cancel_comment` is the older shorthand for
//! `on_cancel: { comment: ... }`; a stanza that gives both is refused, naming both keys, since it
//! is unclear which comment was meant.

use super::model::{Action, Actions, Finish};
use super::raw::{RawAction, RawApproval, RawFinish};
use super::scalars::Text;

/// A broken rule of an action: the key path, what is wrong, what to do.
#[derive(Debug)]
pub(super) struct Bad {
    pub key: String,
    pub message: String,
    pub hint: &'static str,
}

/// The `on_*` actions of the approval section (taken out of `raw`), with `on_cancel_comment`
/// folded into `on_cancel`.
pub(super) fn of_approval(raw: &mut RawApproval) -> Result<Actions, Bad> {
    let shorthand = text(raw.on_cancel_comment.clone());
    let mut on_cancel = action(raw.on_cancel.take(), "approval.on_cancel")?;
    if let Some(comment) = shorthand {
        if on_cancel.is_some() {
            return Err(Bad {
                key: "approval.on_cancel".into(),
                message: "`on_cancel_comment` and `on_cancel` are both set".into(),
                hint: "`on_cancel_comment` is a shorthand for `on_cancel: { comment: ... }`; keep `on_cancel` and move the text into its `comment`",
            });
        }
        on_cancel = Some(Action {
            comment: Some(comment),
            ..Action::default()
        });
    }
    Ok(Actions {
        on_approve: action(raw.on_approve.take(), "approval.on_approve")?,
        on_reject: action(raw.on_reject.take(), "approval.on_reject")?,
        on_timeout: action(raw.on_timeout.take(), "approval.on_timeout")?,
        on_cancel,
    })
}

/// The `finish` section.
pub(super) fn of_finish(raw: Option<RawFinish>) -> Result<Finish, Bad> {
    let Some(raw) = raw else {
        return Ok(Finish::default());
    };
    Ok(Finish {
        given: true,
        success: action(raw.success, "finish.success")?,
        failure: action(raw.failure, "finish.failure")?,
    })
}

/// One action; `key` is its path in the stanza, for messages. An action that does nothing is
/// refused, so that a misplaced indentation is not silently ignored.
fn action(raw: Option<RawAction>, key: &str) -> Result<Option<Action>, Bad> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut labels = Vec::new();
    for (i, label) in raw.labels.unwrap_or_default().into_iter().enumerate() {
        let label = label.value.trim().to_owned();
        if label.is_empty() || label.contains(char::is_whitespace) {
            return Err(Bad {
                key: format!("{key}.labels[{i}]"),
                message: format!(
                    "label {label:?} is empty or has whitespace in it; Jira refuses such labels"
                ),
                hint: "write dashes instead of spaces, e.g. `deployed-production`",
            });
        }
        labels.push(label);
    }
    let action = Action {
        comment: text(raw.comment).map(|c| c.trim_end().to_owned()),
        transition: text(raw.transition).map(|t| t.trim().to_owned()),
        labels,
        fields: raw.fields.unwrap_or_default().into_iter().collect(),
    };
    if action == Action::default() {
        return Err(Bad {
            key: key.to_owned(),
            message: "does nothing".into(),
            hint: "give at least one of `comment`, `transition`, `labels` and `fields`, or remove it",
        });
    }
    Ok(Some(action))
}

/// The text of a value that is set and not blank.
fn text(value: Option<Text>) -> Option<String> {
    value.map(|t| t.value).filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use crate::stanza::{Overrides, Stanza, from_str};

    const HEAD: &str =
        "jira: {url: 'https://x.example', auth: {type: pat, token: t}}\nticket: {key: OPS-1}\n";

    fn stanza(rest: &str) -> Result<Stanza, String> {
        let text = format!("{HEAD}{rest}");
        from_str(&text, "t.yml", &|_| None)
            .and_then(|raw| raw.validate("t.yml", &Overrides::default()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn actions_are_read_with_the_shorthand_folded_in() {
        let s = stanza(
            "approval:\n  approve_when: {status: Approved}\n  on_approve: {comment: \"Deploying.\\n\", transition: ' Done ', labels: [deployed], fields: {Change risk: Low}}\n  on_cancel_comment: stopped\nfinish:\n  success: {transition: Done}\n",
        )
        .unwrap();
        let actions = &s.approval.as_ref().unwrap().actions;
        let approve = actions.on_approve.as_ref().unwrap();
        assert_eq!(approve.comment.as_deref(), Some("Deploying."));
        assert_eq!(approve.transition.as_deref(), Some("Done"));
        assert_eq!(approve.labels, ["deployed"]);
        assert_eq!(approve.fields.len(), 1);
        assert_eq!(
            actions.on_cancel.as_ref().unwrap().comment.as_deref(),
            Some("stopped")
        );
        assert!(actions.on_reject.is_none() && actions.on_timeout.is_none());
        assert!(s.finish.given);
        assert_eq!(
            s.finish.success.as_ref().unwrap().transition.as_deref(),
            Some("Done")
        );
        assert!(s.finish.failure.is_none());
        assert!(!stanza("").unwrap().finish.given);
    }

    #[test]
    fn bad_actions_are_refused_with_their_key() {
        for (rest, want) in [
            (
                "approval:\n  approve_when: {status: A}\n  on_cancel_comment: x\n  on_cancel: {comment: y}\n",
                "`approval.on_cancel`: `on_cancel_comment` and `on_cancel` are both set",
            ),
            (
                "approval:\n  approve_when: {status: A}\n  on_reject: {comment: ' '}\n",
                "`approval.on_reject`: does nothing",
            ),
            (
                "finish:\n  failure: {labels: [a b]}\n",
                "`finish.failure.labels[0]`: label \"a b\"",
            ),
            ("finish:\n  success: {transiton: Done}\n", "transiton"),
        ] {
            let err = stanza(rest).unwrap_err();
            assert!(err.contains(want), "{rest}: {err}");
        }
    }
}
