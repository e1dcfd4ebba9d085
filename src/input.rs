//! Where a command's input comes from, and which source wins.
//!
//! The stanza is found in this order: the FILE argument (or `JIRA_GATE_STEP_FILE`; `-` is stdin),
//! the inline stanza in `JIRA_GATE_STEP`, then `./jira-gate.yml`.
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
use crate::stanza::{self, Overrides, Stanza};

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
    name: &str,
    text: &str,
    global: &Global,
    env: &Env,
    sink: &dyn ci::Sink,
) -> Result<Stanza, Error> {
    let stanza = parse(name, text, global, env)?;
    let token = stanza.jira.auth.secret().expose();
    if !env.secret_values().iter().any(|s| s == token) {
        sink.mask(&[token]);
    }
    for warning in &stanza.warnings {
        tracing::warn!("{warning}");
    }
    Ok(stanza)
}
