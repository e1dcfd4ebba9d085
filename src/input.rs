//! Where a command's input comes from, and which source wins.
//!
//! The stanza is found in this order: the FILE argument (or `JIRA_GATE_STEP_FILE`; `-` is stdin),
//! the inline stanza in `JIRA_GATE_STEP`, then `./jira-gate.yml`. Inside that text, `--at
//! KEY.PATH` picks the stanza out of a larger YAML file, and `--harness-step ID` translates a
//! Harness Jira step (with `--connector` and `--var`) into the stanza it means (SPEC section 8).
//!
//! Every setting follows one precedence, highest first:
//!
//! 1. the command-line flag (`--issue-key`, `--timeout`, ...);
//! 2. its variable (`JIRA_GATE_ISSUE_KEY`, `JIRA_GATE_TIMEOUT`, ...; clap reads these through
//!    `env =`), and on GitHub Actions the matching action input (`INPUT_ISSUE-KEY`, `INPUT_TIMEOUT`;
//!    see [`crate::env`]);
//! 3. the stanza (`ticket.key`, `approval.timeout`, ...);
//! 4. the built-in default (`stanza::DEFAULT_TIMEOUT`, ...).
//!
//! [`overrides`] gathers levels 1 and 2; `stanza::RawStanza::validate` applies them over levels 3
//! and 4.

use std::path::{Path, PathBuf};

use crate::ci;
use crate::cli::{Global, StepFile};
use crate::env::Env;
use crate::error::Error;
use crate::harness::{self, locate::KeyPath};
use crate::stanza::{self, Overrides, Stanza, Target};

/// Finds the stanza text: FILE (or $JIRA_GATE_STEP_FILE), then inline $JIRA_GATE_STEP, then
/// ./jira-gate.yml.
pub fn source(file: &StepFile, env: &Env) -> Result<(String, String), Error> {
    let path: Option<PathBuf> = file.file.clone().or_else(|| {
        env.get("JIRA_GATE_STEP_FILE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = path {
        return read_file(&path);
    }
    if let Some(inline) = env.get("JIRA_GATE_STEP").filter(|s| !s.trim().is_empty()) {
        let name = "$JIRA_GATE_STEP".to_owned();
        return Ok((name.clone(), stanza::decode(&name, inline.as_bytes())?));
    }
    let default = Path::new("jira-gate.yml");
    if default.exists() {
        return read_file(default);
    }
    Err(stanza::Error::Missing.into())
}

fn read_file(path: &Path) -> Result<(String, String), Error> {
    // Read at most one byte over the limit, whatever the source says its size is: stdin, a FIFO
    // or /dev/zero are endless, and `decode` refuses anything over the limit with a message.
    let limit = u64::try_from(stanza::MAX_STANZA_BYTES + 1).unwrap_or(u64::MAX);
    let (name, source): (String, Box<dyn std::io::Read>) = if path.as_os_str() == "-" {
        ("<stdin>".into(), Box::new(std::io::stdin().lock()))
    } else {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| stanza::Error::Read {
            path: name.clone(),
            source,
        })?;
        (name, Box::new(file))
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(source, limit), &mut bytes).map_err(
        |source| stanza::Error::Read {
            path: name.clone(),
            source,
        },
    )?;
    Ok((name.clone(), stanza::decode(&name, &bytes)?))
}

/// Parses the stanza the way `file` says: the whole text, the node at `--at`, or the Harness step
/// of `--harness-step`.
pub fn parse_from(
    file: &StepFile,
    name: &str,
    text: &str,
    global: &Global,
    env: &Env,
) -> Result<Stanza, Error> {
    if let Some(step) = file.harness_step.as_deref() {
        let translated = harness_step(file, step, name, text, global, env, false)?;
        return from_harness(name, step, &translated, global, env);
    }
    if let Some(at) = file.at.as_deref() {
        let node = at_path(name, text, at)?;
        return parse(name, &node, global, env);
    }
    parse(name, text, global, env)
}

/// The stanza text at `--at`, blanked around so positions are the outer file's.
fn at_path(name: &str, text: &str, at: &str) -> Result<String, Error> {
    let path = KeyPath::parse(at).map_err(|e| Error::Usage(format!("--at: {e}")))?;
    let node = harness::locate::extract(text, &path).map_err(|e| harness::Error {
        file: name.to_owned(),
        line: e.position.line,
        column: e.position.column,
        message: format!("--at {at}: {}", e.message),
        hint: e.hint,
    })?;
    Ok(node.text)
}

/// Translates the Harness step `step` of the file (`convert` keeps secrets as references).
pub fn harness_step(
    file: &StepFile,
    step: &str,
    name: &str,
    text: &str,
    global: &Global,
    env: &Env,
    convert: bool,
) -> Result<harness::Translated, Error> {
    let connector = file.connector.as_deref().map(read_file).transpose()?;
    let lookup = |n: &str| env.get(n);
    let translated = harness::load(&harness::Request {
        file: name,
        text,
        step,
        connector: connector.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        vars: file.vars.iter().cloned().collect(),
        env: &lookup,
        issue_key: overrides(global, env)?.issue_key,
        convert,
    })?;
    for ignored in &translated.ignored {
        tracing::debug!("ignored (Harness-only, no use to jira-gate): {ignored}");
    }
    for note in &translated.notes {
        tracing::warn!("{note}");
    }
    Ok(translated)
}

/// The stanza of a translated Harness step, with its criteria evaluated as Harness does:
/// approval first, and `<`, `=~` kept.
fn from_harness(
    name: &str,
    step: &str,
    translated: &harness::Translated,
    global: &Global,
    env: &Env,
) -> Result<Stanza, Error> {
    let label = format!("{name} (Harness step {step})");
    let yaml = serde_yaml::to_string(&translated.stanza)
        .map_err(|e| Error::Usage(format!("{label}: cannot write the stanza: {e}")))?;
    let mut stanza = parse(&label, &yaml, global, env)?;
    let criteria = |tree: &Option<harness::criteria::Tree>| {
        tree.as_ref()
            .map(harness::criteria::Tree::to_criteria)
            .transpose()
            .map_err(|e| Error::Usage(format!("{label}: {e}")))
    };
    if let Some(approval) = stanza.approval.as_mut() {
        if let Some(approve) = criteria(&translated.approve)? {
            approval.approve = approve;
        }
        approval.reject = criteria(&translated.reject)?;
        if translated.approval_first {
            approval.order = crate::criteria::Order::ApprovalFirst;
        }
    }
    stanza.ticket.transition_by = translated.transition_by;
    if let Target::Update {
        project,
        issue_type,
        verify,
        ..
    } = &mut stanza.ticket.target
    {
        if translated.expect_project.is_some() || translated.expect_type.is_some() {
            project.clone_from(&translated.expect_project);
            issue_type.clone_from(&translated.expect_type);
            *verify = true;
        }
    }
    Ok(stanza)
}

/// Parses and validates the stanza text, with the flags and variables over it.
pub fn parse(name: &str, text: &str, global: &Global, env: &Env) -> Result<Stanza, Error> {
    // Flags and variables first: a bad one is reported as such, not behind a stanza error.
    let overrides = overrides(global, env)?;
    let lookup = |n: &str| env.get(n);
    Ok(stanza::from_str(text, name, &lookup)?.validate(name, &overrides)?)
}

/// Levels 1 and 2 of the precedence: a flag, else its variable or GitHub input.
pub fn overrides(global: &Global, env: &Env) -> Result<Overrides, Error> {
    Ok(Overrides {
        issue_key: global
            .issue_key
            .clone()
            .or_else(|| env.get("JIRA_GATE_ISSUE_KEY"))
            .filter(|k| !k.trim().is_empty()),
        timeout: match global.timeout {
            Some(t) => Some(t),
            None => env
                .github_input("timeout")
                .or_else(|| env.plugin_setting("timeout"))
                .map(|t| {
                    humantime::parse_duration(t.trim()).map_err(|e| {
                        Error::Usage(format!("input `timeout` {t:?} is not a duration: {e}"))
                    })
                })
                .transpose()?,
        },
    })
}

/// What the command line adds to CI detection.
pub fn ci_options(global: &Global) -> ci::Options {
    ci::Options {
        quiet: global.quiet,
        tekton_results: global.tekton_results.clone(),
    }
}

/// Masks the values of the variables known to hold secrets; called before anything else is
/// printed (GitHub needs the masks first).
pub fn mask_early(env: &Env, sink: &dyn ci::Sink) {
    let early = env.secret_values();
    sink.mask(&early.iter().map(String::as_str).collect::<Vec<_>>());
}

/// Parses the stanza for `run`/`check` and masks its token (the variables known to hold secrets
/// were masked by [`mask_early`] before anything else was printed), then prints its warnings.
pub fn load(
    file: &StepFile,
    name: &str,
    text: &str,
    global: &Global,
    env: &Env,
    sink: &dyn ci::Sink,
) -> Result<Stanza, Error> {
    let stanza = parse_from(file, name, text, global, env)?;
    let token = stanza.jira.auth.secret().expose();
    if !env.secret_values().iter().any(|s| s == token) {
        sink.mask(&[token]);
    }
    for warning in &stanza.warnings {
        tracing::warn!("{warning}");
    }
    Ok(stanza)
}
