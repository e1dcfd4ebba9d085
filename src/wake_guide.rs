//! What a Jira admin registers so that Jira wakes a gate with `approval.wake` (issue 12, SPEC
//! section 10): the URL, the JQL filter, and either an admin webhook with the secret or a Jira
//! Automation rule with the token. `jira-gate check` prints it; pure text, no request.
//!
//! Secrets are never printed: the lines name the variable the value came from.

use crate::jira::jql;
use crate::stanza::{Ticket, Wake, WakeCheck};

/// The lines `check` prints for `wake`, about `ticket`.
pub fn lines(wake: &Wake, ticket: &Ticket) -> Vec<String> {
    let url = format!("http://{}{}", wake.listen, wake.path);
    let mut lines = vec![format!("webhook URL to register: {url}")];
    let ip = wake.listen.ip();
    if ip.is_unspecified() {
        lines.push(format!(
            "  {ip} means every address of this runner: replace it with the host name or address at which Jira reaches the runner (in Kubernetes, the Service in front of the Job's pod); jira-gate provides no relay"
        ));
    } else if ip.is_loopback() {
        lines.push(format!(
            "  {ip} is reachable only from this machine: Jira cannot post to it unless it runs here (hint: listen on 0.0.0.0 or on an address Jira can reach)"
        ));
    }
    lines.push(
        "  the listener speaks plain HTTP: when Jira must call an https:// URL, put a TLS proxy or an ingress of your own in front of it".to_owned(),
    );
    let filter = jql_filter(ticket);
    lines.push(format!("JQL filter to register: {filter}"));
    let value = match &wake.variable {
        Some(name) => format!("${{{name}}}"),
        None => "the value of approval.wake (keep it in a CI secret)".to_owned(),
    };
    match &wake.check {
        WakeCheck::Signature(_) => {
            lines.push(format!(
                "Jira admin webhook (Cloud: Settings > System > WebHooks; Data Center: Administration > System > WebHooks): URL {url}, Secret: {value}, JQL: {filter}, events: Issue updated"
            ));
            lines.push(
                "  Jira signs each body with the secret (X-Hub-Signature: sha256=...); a Jira Automation rule cannot sign, so for one set approval.wake.token instead".to_owned(),
            );
        }
        WakeCheck::Token(_) => {
            lines.push(
                "Jira Automation rule (Project settings > Automation > Create rule):".to_owned(),
            );
            lines.push(
                "  When: Issue transitioned (a rule has one trigger: for criteria on other fields, add a second rule, When: Field value changed, on those fields)".to_owned(),
            );
            lines.push(format!("  If: Issue matches JQL: {filter}"));
            lines.push(format!(
                "  Then: Send web request: URL {url}, HTTP method POST, header {HEADER}: {value} (mark it hidden), web request body: Issue data"
            ));
        }
    }
    lines
}

/// The token header as Jira's forms show it (the listener compares names case-insensitively).
const HEADER: &str = "X-Jira-Gate-Token";

/// `key = KEY` for a given ticket, `project = P` (and its issue type) for one still to be
/// created: its key is known only after the create.
fn jql_filter(ticket: &Ticket) -> String {
    if let Some(key) = ticket.key() {
        return format!("key = {}", term(key));
    }
    let project = term(ticket.project().unwrap_or_default());
    // A JSM request's issue type comes from its request type, unknown here.
    match ticket.issue_type().filter(|t| !t.is_empty()) {
        Some(issue_type) => format!("project = {project} AND issuetype = {}", term(issue_type)),
        None => format!("project = {project}"),
    }
}

/// A JQL value: bare when it is a plain word, quoted otherwise.
fn term(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if plain {
        value.to_owned()
    } else {
        jql::quote(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_listeners() {
        assert!(HEADER.eq_ignore_ascii_case(crate::wake::TOKEN_HEADER));
        assert_eq!(term("OPS-1"), "OPS-1");
        assert_eq!(term("Service Request"), "\"Service Request\"");
    }
}
