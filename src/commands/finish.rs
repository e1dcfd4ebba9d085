//! `jira-gate finish [FILE] --outcome success|failure` (issue 9): after the deploy, apply the
//! stanza's `finish.success` or `finish.failure` ([`crate::actions`]) to the gate's ticket, and
//! write a result record as `run` does, with decision `finished`.
//!
//! The ticket is `--issue-key` / `JIRA_GATE_ISSUE_KEY`, else `ticket.key`, else the one `run`
//! created: the oldest ticket of `ticket.project` carrying the label of `ticket.dedupe`. Unlike
//! the `on_*` actions, the action here is the whole job, so a failed write is the command's
//! failure: exit 5 when Jira refused or failed, 2 when the stanza can never fit. A stanza with a
//! `finish` section but no part for this outcome (say only `success`) does nothing and exits 0;
//! one without a `finish` section is a usage mistake (exit 2). No ticket to be found is exit 2.

use serde_json::Value as Json;
use tokio::time::Instant;

use super::run::{Shutdown, outputs};
use crate::actions::{self, On};
use crate::ci;
use crate::cli::{FinishArgs, FinishOutcome};
use crate::dry_run::Writer;
use crate::env::Env;
use crate::error::{Error, describe_jira, render};
use crate::exit::Exit;
use crate::input;
use crate::jira::JiraClient;
use crate::jira::models::Issue;
use crate::logging::Logging;
use crate::outcome::{Decision, Report};
use crate::stanza::{Action, Stanza, Target, WRITE_ONLY_BUDGET};
use crate::step;
use crate::workflow;

/// Runs `finish`: reads the stanza, finds the ticket, applies the action, writes the outputs.
pub async fn run(args: FinishArgs, logging: &Logging, env: &Env) -> Exit {
    let shutdown = Shutdown::install();
    let (options, outcome) = match input::finish(&args, logging, env) {
        Ok(both) => both,
        Err(e) => return super::report_error(Err(e)),
    };
    let sink = ci::detect_with(&|n| env.get(n), &options.ci);
    input::mask_early(env, sink.as_ref());
    if let Err(e) = super::preflight(sink.as_ref(), options.result_file.as_deref()) {
        return super::report_error(Err(e));
    }
    let stanza = outcome.and_then(|outcome| {
        let overrides = input::overrides(&args.issue_key, None, env)?;
        let pick = input::pick(&args.file, env)?;
        let (name, text) = input::source(&args.file, env)?;
        let stanza = input::load(&pick, &name, &text, &overrides, env, sink.as_ref())?;
        Ok((stanza, outcome))
    });
    let report = match stanza {
        Ok((stanza, outcome)) => {
            // The report fills in as the work goes, so a signal keeps what was learned: the
            // ticket, its status, the writes that were answered.
            let mut report = Report::new(Decision::Finished);
            let signal = {
                let work = finish(&stanza, outcome, options.dry_run, &mut report);
                tokio::pin!(work);
                tokio::select! {
                    () = &mut work => None,
                    signal = shutdown.recv() => Some(signal),
                }
            };
            if let Some(signal) = signal {
                cancelled(&mut report, signal, outcome);
            }
            report
        }
        Err(e) => failed(&e),
    };
    outputs(report, &options, sink.as_ref())
}

/// The report of a `finish` a signal stopped: exit 6, and what it had done by then.
fn cancelled(report: &mut Report, signal: &str, outcome: FinishOutcome) {
    let name = action_name(outcome);
    let done = match &report.issue_key {
        None => format!("before the ticket was found; {name} wrote nothing"),
        Some(key) => {
            let answered = report.actions.len();
            format!(
                "during {name} on {key}, after {answered} answered write{}; a write still in flight may or may not have reached Jira\n  hint: look at {key}, or run `jira-gate finish` again (a comment would then be posted twice)",
                if answered == 1 { "" } else { "s" }
            )
        }
    };
    let text = format!("cancelled by {signal} {done}");
    super::error_line(&text);
    report.decision = Decision::Cancelled;
    report.exit_code = Decision::Cancelled.exit();
    report.message = Some(text.lines().next().unwrap_or_default().to_owned());
}

/// The stanza's name of the action an outcome runs.
fn action_name(outcome: FinishOutcome) -> &'static str {
    match outcome {
        FinishOutcome::Success => "finish.success",
        FinishOutcome::Failure => "finish.failure",
    }
}

/// The report of an error, said once on stderr.
fn failed(error: &Error) -> Report {
    let text = render(error);
    super::error_line(&text);
    let mut report = Report::new(Decision::Error);
    report.exit_code = error.exit();
    report.message = Some(text.lines().next().unwrap_or_default().to_owned());
    report
}

/// Finds the ticket and applies the outcome's action, filling in `report` as it goes.
async fn finish(stanza: &Stanza, outcome: FinishOutcome, dry_run: bool, report: &mut Report) {
    let name = action_name(outcome);
    let action = match outcome {
        FinishOutcome::Success => &stanza.finish.success,
        FinishOutcome::Failure => &stanza.finish.failure,
    };
    if !stanza.finish.given {
        *report = failed(&Error::Usage(format!(
            "{} has no `finish` section, so `finish` has nothing to do\n  hint: add `finish: {{ success: {{ transition: Done }}, failure: {{ comment: ... }} }}`",
            stanza.file
        )));
        return;
    }
    let mut client = match JiraClient::new(&stanza.jira, Instant::now() + WRITE_ONLY_BUDGET) {
        Ok(client) => client,
        Err(e) => {
            *report = failed(&e.into());
            return;
        }
    };
    let issue = match ticket(stanza, &mut client).await {
        Ok(issue) => issue,
        Err(e) => {
            *report = failed(&e);
            return;
        }
    };
    let key = issue.key.as_str();
    report.issue_key = Some(key.to_owned());
    report.issue_url = Some(client.browse_url(key));
    describe(report, &issue);
    let Some(action) = action else {
        tracing::info!("{} sets no `{name}`; nothing to do on {key}", stanza.file);
        report.message = Some(format!("no {name} in the stanza; nothing was done"));
        return;
    };
    if let Some(exit) = apply(stanza, &client, dry_run, (key, name, action), report).await {
        let failures: Vec<String> = report
            .actions
            .iter()
            .filter_map(|r| r.error.as_ref().map(|e| format!("the {}: {e}", r.write)))
            .collect();
        report.decision = Decision::Error;
        report.exit_code = exit;
        report.message = Some(format!("{name} on {key} failed: {}", failures.join("; ")));
        super::error_line(report.message.as_deref().unwrap_or_default());
    }
}

/// Runs the action on the ticket, then reads its status again: the exit of a failed write.
async fn apply(
    stanza: &Stanza,
    client: &JiraClient,
    dry_run: bool,
    (key, name, action): (&str, &str, &Action),
    report: &mut Report,
) -> Option<Exit> {
    let writer = Writer::new(client, dry_run, stanza.jira.auth.secret().expose());
    let on = On {
        key,
        status: report.status.as_deref(),
    };
    let failed = actions::run(&writer, on, name, action, &mut report.actions).await;
    match client.issue(key, &status_fields(), false).await {
        Ok(issue) => describe(report, &issue),
        Err(e) => tracing::warn!("could not read {key} again: {}", describe_jira(&e)),
    }
    failed
}

/// The issue to finish, read with its status: by key (checked against the project and type the
/// stanza writes, as `run` does), or by the dedupe label.
async fn ticket(stanza: &Stanza, client: &mut JiraClient) -> Result<Issue, Error> {
    let ticket = &stanza.ticket;
    let (project, dedupe) = match &ticket.target {
        Target::Update { .. } => (None, None),
        Target::Create { project, .. } => (Some(project.as_str()), ticket.dedupe.as_deref()),
    };
    if ticket.key().is_none() && dedupe.is_none() {
        return Err(Error::Usage(format!(
            "no ticket to finish: {} has neither `ticket.key` nor `ticket.dedupe`, and no --issue-key (JIRA_GATE_ISSUE_KEY) was given\n  hint: pass the gate's ticket, e.g. `--issue-key ${{{{ needs.approve.outputs.issue-key }}}}` on GitHub, or set `ticket.dedupe` as the gate's job does",
            stanza.file
        )));
    }
    client.connect().await?;
    let key = match (ticket.key(), project, dedupe) {
        (Some(key), _, _) => key.to_owned(),
        (None, Some(project), Some(dedupe)) => {
            let label = step::dedupe_label(dedupe);
            match step::find_by_label(client, project, &label).await? {
                Some(found) => {
                    tracing::info!("dedupe: finishing {} (label {label})", found.key);
                    found.key
                }
                None => {
                    return Err(Error::Usage(format!(
                        "no ticket to finish: no ticket of {project} carries the label {label} (ticket.dedupe {dedupe:?})\n  hint: `jira-gate run` creates it with the same dedupe value; check that both jobs see the same variables, or pass --issue-key"
                    )));
                }
            }
        }
        _ => unreachable!("checked above: a key or a dedupe value"),
    };
    let mut wanted = status_fields();
    wanted.extend(workflow::TARGET_FIELDS.map(str::to_owned));
    let issue = client
        .issue(&key, &wanted, false)
        .await
        .map_err(|e| workflow::not_found(e, &key))?;
    workflow::is_target(&issue, &key, ticket.project(), ticket.issue_type())?;
    let key = if issue.key.is_empty() {
        key
    } else {
        issue.key.clone()
    };
    Ok(Issue { key, ..issue })
}

fn status_fields() -> Vec<String> {
    vec!["status".to_owned(), "resolution".to_owned()]
}

/// The issue's status, its category and its resolution into the report.
fn describe(report: &mut Report, issue: &Issue) {
    let fields = &issue.fields;
    report.status = workflow::status_of(issue);
    report.status_category = fields
        .get("status")
        .and_then(|s| s.pointer("/statusCategory/key"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    report.resolution = fields
        .get("resolution")
        .and_then(|r| r.get("name"))
        .and_then(Json::as_str)
        .map(str::to_owned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_takes_status_category_and_resolution() {
        let issue: Issue = serde_json::from_value(serde_json::json!({"key": "OPS-1", "fields": {
            "status": {"name": "Done", "statusCategory": {"key": "done"}}, "resolution": {"name": "Done"}
        }}))
        .unwrap();
        let mut report = Report::new(Decision::Finished);
        describe(&mut report, &issue);
        assert_eq!(
            (
                report.status.as_deref(),
                report.status_category.as_deref(),
                report.resolution.as_deref()
            ),
            (Some("Done"), Some("done"), Some("Done"))
        );
        assert_eq!(report.exit_code, Exit::Success);
        assert_eq!(report.decision.as_str(), "finished");
    }
}
