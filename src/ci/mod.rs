//! CI systems: where outputs go and how logs are decorated (SPEC sections 3 and 9).
//!
//! [`detect_with`] looks at the environment once and returns the sink for the CI system the step runs
//! in. One implementation per system, one file each (the pattern of hyperfine's `export/`), so the
//! run loop never asks which CI it is in: it checks the sink's files with [`preflight`] before
//! Jira is touched, masks the secrets, opens and closes log sections and hands the final
//! [`Report`] over, and each sink renders that in its own format.
//!
//! Detection order (the first that matches wins):
//! 1. `JIRA_GATE_CI` names the system (`github`, `gitlab`, `azure`, `bitbucket`, `buildkite`,
//!    `tekton`, `argo`, `jenkins`, `circleci`, `woodpecker` or `none`);
//! 2. `--tekton-results DIR` (`JIRA_GATE_TEKTON_RESULTS`) selects Tekton;
//! 3. `GITHUB_ACTIONS=true`, `GITLAB_CI=true`, `TF_BUILD=True` (Azure Pipelines),
//!    `BITBUCKET_BUILD_NUMBER`, `BUILDKITE=true`, `ARGO_TEMPLATE`, `JENKINS_URL`, `CIRCLECI=true`,
//!    `DRONE=true` or `CI=woodpecker`, in that order;
//! 4. a `/tekton/results` directory (Tekton sets no variable of its own);
//! 5. otherwise a generic runner, which reads the exit code and `--result-file`.

mod argo_tekton;
mod azure;
mod bitbucket;
mod buildkite;
mod circleci;
mod generic;
mod github;
mod gitlab;
mod jenkins;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::outcome::Report;

/// A CI system's view of one run: masking, log sections and the final outputs.
///
/// Object-safe and `Send + Sync`, so a `Box<dyn Sink>` can live across `.await` points.
pub trait Sink: Send + Sync {
    /// The system's name, as `JIRA_GATE_CI` spells it (`"github"`, `"gitlab"`, ...), `"generic"`,
    /// or `"unknown"` for a `JIRA_GATE_CI` value that names no system.
    fn name(&self) -> &'static str;

    /// Called once, before anything else is printed. GitHub prints `::add-mask::` for each
    /// non-empty secret, each line of a multi-line secret separately; others as their system
    /// masks, or nothing.
    fn mask(&self, secrets: &[&str]);

    /// Opens a collapsible log section around verbose output.
    fn section_start(&self, id: &str, title: &str);

    /// Closes the section opened with the same `id`.
    fn section_end(&self, id: &str);

    /// At the end: annotations and outputs for this report.
    fn finish(&self, report: &Report) -> Result<(), Error>;

    /// Before Jira is touched: checks that every file [`Sink::finish`] will write can be written,
    /// so a wrong path costs a failed start rather than an approved ticket whose outputs are lost
    /// (issue 8 #11). Writes nothing that stays.
    fn preflight(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Why the CI outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A CI file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, the dotenv file, ...) could not be
    /// read or written.
    #[error("cannot write the {what} file {}", path.display())]
    File {
        /// Which file, in words ("GitHub output", "GitLab dotenv", ...).
        what: &'static str,
        /// The path as the environment gave it.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A value that GitLab's dotenv parser would reject or change; nothing was written.
    #[error(
        "refusing to write {key} to the GitLab dotenv file {}: {reason}",
        path.display()
    )]
    Dotenv {
        /// The dotenv file.
        path: PathBuf,
        /// The variable (or the file, for limits on the whole file).
        key: String,
        /// What GitLab would do with it, and what to do instead.
        reason: String,
    },
    /// Found by [`preflight`]: an output file that cannot be written, before Jira was touched.
    /// The [`Error::File`] is kept whole; its OS error is part of this message (before the hint),
    /// so it is not exposed again as a source.
    #[error(
        "{} (found before Jira was touched: create the directory, fix the permissions or \
         point the output elsewhere)",
        crate::chain::render(file)
    )]
    NotWritable {
        /// The [`Error::File`] that [`preflight`] hit.
        file: Box<Error>,
    },
    /// `JIRA_GATE_CI` names no system this build knows.
    #[error(
        "JIRA_GATE_CI={value:?} is not a CI system jira-gate knows; use one of: {}",
        FORCED.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    )]
    UnknownSystem {
        /// The value as given.
        value: String,
    },
    /// An external command (`buildkite-agent`) failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command line, without values that could be long.
        command: String,
        /// Its exit status and stderr, or the OS error.
        detail: String,
    },
}

/// What the command line adds to the environment for detection.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-q`: no log section markers either (issue 8 #16).
    pub quiet: bool,
    /// `--tekton-results DIR`: write Tekton results there (selects Tekton).
    pub tekton_results: Option<PathBuf>,
}

/// The values `JIRA_GATE_CI` takes, and the system each selects.
const FORCED: &[(&str, System)] = &[
    ("github", System::GitHub),
    ("gitlab", System::GitLab),
    ("azure", System::Azure),
    ("bitbucket", System::Bitbucket),
    ("buildkite", System::Buildkite),
    ("tekton", System::Tekton),
    ("argo", System::Argo),
    ("jenkins", System::Jenkins),
    ("circleci", System::CircleCi),
    ("woodpecker", System::Woodpecker),
    ("none", System::Generic),
];

/// Where Tekton mounts the results directory in a step container.
const TEKTON_RESULTS: &str = "/tekton/results";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    GitHub,
    GitLab,
    Azure,
    Bitbucket,
    Buildkite,
    Tekton,
    Argo,
    Jenkins,
    CircleCi,
    Woodpecker,
    Generic,
}

/// Looks at the environment once (through `env`, so tests need no process environment) and the
/// command line's options, and returns the sink for the CI system the step runs in. See the
/// module documentation for the order. An unknown `JIRA_GATE_CI` yields a sink whose
/// [`Sink::preflight`] and [`Sink::finish`] fail with the error that lists the valid values.
pub fn detect_with(env: &dyn Fn(&str) -> Option<String>, options: &Options) -> Box<dyn Sink> {
    let sink = match system(env, options, Path::new(TEKTON_RESULTS)) {
        Ok(system) => build(system, env, options),
        Err(value) => Box::new(generic::Unknown { value }),
    };
    if options.quiet {
        Box::new(Quiet(sink))
    } else {
        sink
    }
}

/// Checks, before Jira is touched, that the sink's files and the `--result-file` can be written.
pub fn preflight(sink: &dyn Sink, result_file: Option<&Path>) -> Result<(), Error> {
    let hint = |e: Error| match e {
        Error::File { .. } => Error::NotWritable { file: Box::new(e) },
        other => other,
    };
    sink.preflight().map_err(hint)?;
    if let Some(path) = result_file {
        check_writable("result", path).map_err(hint)?;
    }
    Ok(())
}

/// Which system, or the unknown `JIRA_GATE_CI` value. `tekton_default` is `/tekton/results`
/// outside tests.
fn system(
    env: &dyn Fn(&str) -> Option<String>,
    options: &Options,
    tekton_default: &Path,
) -> Result<System, String> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let is_true = |name: &str| set(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if let Some(forced) = set("JIRA_GATE_CI") {
        let wanted = forced.trim().to_ascii_lowercase();
        return FORCED
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, system)| *system)
            .ok_or(forced);
    }
    let detected = if options.tekton_results.is_some() {
        System::Tekton
    } else if is_true("GITHUB_ACTIONS") {
        System::GitHub
    } else if is_true("GITLAB_CI") {
        System::GitLab
    } else if is_true("TF_BUILD") {
        System::Azure
    } else if set("BITBUCKET_BUILD_NUMBER").is_some() {
        System::Bitbucket
    } else if is_true("BUILDKITE") {
        System::Buildkite
    } else if set("ARGO_TEMPLATE").is_some() {
        System::Argo
    } else if set("JENKINS_URL").is_some() {
        System::Jenkins
    } else if is_true("CIRCLECI") {
        System::CircleCi
    } else if is_true("DRONE") || set("CI").is_some_and(|v| v.trim() == "woodpecker") {
        System::Woodpecker
    } else if tekton_default.is_dir() {
        System::Tekton
    } else {
        System::Generic
    };
    Ok(detected)
}

fn build(system: System, env: &dyn Fn(&str) -> Option<String>, options: &Options) -> Box<dyn Sink> {
    let path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match system {
        System::GitHub => Box::new(github::GitHub::new(
            path("GITHUB_OUTPUT"),
            path("GITHUB_STEP_SUMMARY"),
        )),
        System::GitLab => Box::new(gitlab::GitLab::new(
            path("JIRA_GATE_DOTENV").unwrap_or_else(|| PathBuf::from(gitlab::DEFAULT_DOTENV)),
        )),
        System::Azure => Box::new(azure::Azure::new()),
        System::Bitbucket => Box::new(bitbucket::Bitbucket::new(path(
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR",
        ))),
        System::Buildkite => Box::new(buildkite::Buildkite::new(buildkite::find_agent(
            env("PATH").as_deref(),
        ))),
        System::Tekton => Box::new(argo_tekton::ResultFiles::tekton(
            options
                .tekton_results
                .clone()
                .unwrap_or_else(|| PathBuf::from(TEKTON_RESULTS)),
        )),
        System::Argo => Box::new(argo_tekton::ResultFiles::argo(
            path("JIRA_GATE_ARGO_OUTPUTS")
                .unwrap_or_else(|| PathBuf::from(argo_tekton::ARGO_OUTPUTS)),
        )),
        System::Jenkins => Box::new(jenkins::Jenkins::new(
            path("JIRA_GATE_PROPERTIES").unwrap_or_else(|| {
                path("WORKSPACE")
                    .unwrap_or_default()
                    .join(jenkins::DEFAULT_FILE)
            }),
        )),
        System::CircleCi => Box::new(circleci::CircleCi::new(path("BASH_ENV"))),
        System::Woodpecker => Box::new(generic::Generic::named("woodpecker")),
        System::Generic => Box::new(generic::Generic::named("generic")),
    }
}

/// `-q`: the wrapped sink without log section markers; masks and outputs are unchanged.
struct Quiet(Box<dyn Sink>);

impl Sink for Quiet {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn mask(&self, secrets: &[&str]) {
        self.0.mask(secrets);
    }
    fn section_start(&self, _id: &str, _title: &str) {}
    fn section_end(&self, _id: &str) {}
    fn finish(&self, report: &Report) -> Result<(), Error> {
        self.0.finish(report)
    }
    fn preflight(&self) -> Result<(), Error> {
        self.0.preflight()
    }
}

/// The output fields of SPEC section 3 in their canonical order, `snake_case` names, missing
/// values as empty strings. Each sink renames them to its own convention.
///
/// `status`, `status_category`, `resolution`, `decided_by`, `decided_at` and `approvers` only inform (nothing
/// branches on who approved): they go through [`sanitize`], so every format can carry them. The
/// others are what a pipeline decides on and are never changed; a format that cannot carry one
/// refuses it (issue 8 #3).
fn fields(report: &Report) -> Vec<(&'static str, String)> {
    let info = |v: &Option<String>| sanitize(v.as_deref().unwrap_or_default());
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut fields = vec![
        ("decision", report.decision.as_str().to_owned()),
        ("issue_key", opt(&report.issue_key)),
        ("issue_url", opt(&report.issue_url)),
        ("created", report.created.to_string()),
        ("status", info(&report.status)),
        ("status_category", info(&report.status_category)),
        ("resolution", info(&report.resolution)),
        ("decided_by", info(&report.decided_by)),
        ("decided_at", info(&report.decided_at)),
        ("waited_seconds", report.waited_seconds.to_string()),
        ("polls", report.polls.to_string()),
        ("exit_code", report.exit_code.to_string()),
    ];
    // Jira Service Management (issue 9): the approvers as one line of JSON, only when the
    // criteria tested an approval (GitHub `approvers`, GitLab `JIRA_GATE_APPROVERS`, ...).
    if !report.approvers.is_empty() {
        let json = serde_json::to_string(&report.approvers).unwrap_or_default();
        fields.push(("approvers", sanitize(&json)));
    }
    fields
}

/// An informational value as every CI format can carry it: line breaks and other control
/// characters become spaces, surrounding whitespace goes. A display name with a trailing space
/// must not cost an approved gate its outputs (issue 8 #3).
fn sanitize(value: &str) -> String {
    value
        .replace("\r\n", " ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Appends `text` to the file at `path`, creating it if needed; never truncates. One write call,
/// so a reader never sees half of our block followed by someone else's.
fn append(what: &'static str, path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let file_error = |source| Error::File {
        what,
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(file_error)?;
    file.write_all(text.as_bytes()).map_err(file_error)?;
    file.flush().map_err(file_error)
}

/// Replaces the file at `path` with `text`, for files that are ours alone (a Tekton result, the
/// Jenkins properties): a retried step leaves the latest result, not two.
fn replace(what: &'static str, path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::File {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Checks that `path` can be written without changing it: an existing file is opened for
/// appending, a missing one is created and removed again. Public for the `--result-file` check.
pub fn check_writable(what: &'static str, path: &Path) -> Result<(), Error> {
    let file_error = |source| Error::File {
        what,
        path: path.to_owned(),
        source,
    };
    match std::fs::OpenOptions::new().append(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(file_error)?;
            let _ = std::fs::remove_file(path);
            Ok(())
        }
        Err(e) => Err(file_error(e)),
    }
}

/// Creates `dir` (and its parents) and checks that a file can be written in it.
fn check_dir(what: &'static str, dir: &Path, probe: &str) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::File {
        what,
        path: dir.to_owned(),
        source,
    })?;
    check_writable(what, &dir.join(probe))
}

/// A POSIX shell word that `sh` and `bash` read back as exactly `value`: single quotes, with
/// each `'` written as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// One `PREFIXJIRA_GATE_NAME='value'` line per output, for files a shell reads with `source`
/// (`prefix` is `export ` for CircleCI's `$BASH_ENV`, empty for Bitbucket's `result.env`).
fn shell_assignments(report: &Report, prefix: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (name, value) in fields(report) {
        let _ = writeln!(
            out,
            "{prefix}JIRA_GATE_{}={}",
            name.to_ascii_uppercase(),
            shell_quote(&value)
        );
    }
    out
}

/// Where a sink prints its workflow commands and log section lines: the process's stdout or
/// stderr, or a buffer in tests (so a fast test sees what a runner would). Each print is one
/// write, so a reader never sees half of a line followed by someone else's; a closed stream is
/// not worth failing the step for.
struct Console(Mutex<Box<dyn std::io::Write + Send>>);

impl Console {
    fn stdout() -> Self {
        Console(Mutex::new(Box::new(std::io::stdout())))
    }

    fn stderr() -> Self {
        Console(Mutex::new(Box::new(std::io::stderr())))
    }

    fn print(&self, text: &str) {
        use std::io::Write as _;
        let mut out = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// What a test [`Console`] was given to print.
#[cfg(test)]
#[derive(Clone, Default)]
struct Printed(std::sync::Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Printed {
    /// A console that keeps what it prints, and the handle that reads it back.
    fn console() -> (Console, Printed) {
        let printed = Printed::default();
        (Console(Mutex::new(Box::new(printed.clone()))), printed)
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
impl std::io::Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Decision;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn system_for(
        vars: &[(&str, &str)],
        options: &Options,
        tekton: &Path,
    ) -> Result<System, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        system(&|name: &str| map.get(name).cloned(), options, tekton)
    }

    #[test]
    fn detection_order() {
        let none = Path::new("/nonexistent/tekton/results");
        let cases: &[(&[(&str, &str)], System)] = &[
            (&[], System::Generic),
            (&[("CI", "true")], System::Generic),
            (&[("GITHUB_ACTIONS", "true")], System::GitHub),
            (&[("GITHUB_ACTIONS", "false")], System::Generic),
            (&[("GITHUB_ACTIONS", "")], System::Generic),
            (&[("GITLAB_CI", "true")], System::GitLab),
            (&[("GITLAB_CI", "TRUE")], System::GitLab),
            (
                &[("GITHUB_ACTIONS", "true"), ("GITLAB_CI", "true")],
                System::GitHub,
            ),
            (&[("TF_BUILD", "True")], System::Azure),
            (&[("BITBUCKET_BUILD_NUMBER", "12")], System::Bitbucket),
            (&[("BUILDKITE", "true")], System::Buildkite),
            (&[("ARGO_TEMPLATE", "{}")], System::Argo),
            (&[("JENKINS_URL", "http://jenkins/")], System::Jenkins),
            (&[("CIRCLECI", "true")], System::CircleCi),
            (&[("DRONE", "true")], System::Woodpecker),
            (&[("CI", "woodpecker")], System::Woodpecker),
            (&[("TF_BUILD", "True"), ("JENKINS_URL", "x")], System::Azure),
            (
                &[("JENKINS_URL", "x"), ("CIRCLECI", "true")],
                System::Jenkins,
            ),
            (
                &[("BUILDKITE", "true"), ("ARGO_TEMPLATE", "{}")],
                System::Buildkite,
            ),
            (
                &[("JIRA_GATE_CI", "none"), ("GITHUB_ACTIONS", "true")],
                System::Generic,
            ),
            (
                &[("JIRA_GATE_CI", " Jenkins "), ("GITHUB_ACTIONS", "true")],
                System::Jenkins,
            ),
            (
                &[("JIRA_GATE_CI", ""), ("GITLAB_CI", "true")],
                System::GitLab,
            ),
        ];
        for (vars, want) in cases {
            assert_eq!(
                system_for(vars, &Options::default(), none),
                Ok(*want),
                "{vars:?}"
            );
        }
        for (name, system) in FORCED {
            assert_eq!(
                system_for(&[("JIRA_GATE_CI", name)], &Options::default(), none),
                Ok(*system)
            );
        }
    }

    #[test]
    fn tekton_by_option_first_and_by_directory_last() {
        let dir = tempfile::tempdir().unwrap();
        let none = Path::new("/nonexistent/tekton/results");
        let option = Options {
            tekton_results: Some(dir.path().to_owned()),
            ..Options::default()
        };
        assert_eq!(
            system_for(&[("GITHUB_ACTIONS", "true")], &option, none),
            Ok(System::Tekton)
        );
        assert_eq!(
            system_for(&[], &Options::default(), dir.path()),
            Ok(System::Tekton)
        );
        assert_eq!(
            system_for(&[("JENKINS_URL", "x")], &Options::default(), dir.path()),
            Ok(System::Jenkins)
        );
        let sink = detect_with(&|_| None, &option);
        assert_eq!(sink.name(), "tekton");
    }

    #[test]
    fn an_unknown_forced_system_is_an_error_listing_the_valid_ones() {
        let sink = detect_with(
            &|name| (name == "JIRA_GATE_CI").then(|| "gihtub".to_owned()),
            &Options::default(),
        );
        assert_eq!(sink.name(), "unknown");
        let text = sink.preflight().unwrap_err().to_string();
        assert_eq!(
            text,
            "JIRA_GATE_CI=\"gihtub\" is not a CI system jira-gate knows; use one of: github, \
             gitlab, azure, bitbucket, buildkite, tekton, argo, jenkins, circleci, woodpecker, none"
        );
        assert!(sink.finish(&Report::new(Decision::Approved)).is_err());
    }

    #[test]
    fn every_system_has_a_sink_named_as_jira_gate_ci_spells_it() {
        for (name, system) in FORCED {
            let sink = build(*system, &|_| None, &Options::default());
            let want = if *name == "none" { "generic" } else { name };
            assert_eq!(sink.name(), want);
        }
    }

    #[test]
    fn an_empty_file_variable_counts_as_unset_and_a_set_one_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let unwritable = dir.path().join("no/such/dir/out").display().to_string();
        let github = |output: &str| {
            let output = output.to_owned();
            detect_with(
                &move |name| match name {
                    "GITHUB_ACTIONS" => Some("true".to_owned()),
                    "GITHUB_OUTPUT" => Some(output.clone()),
                    _ => None,
                },
                &Options::default(),
            )
        };
        // An empty `GITHUB_OUTPUT` (a local run) means no output file, not a file named "".
        github("").preflight().unwrap();
        let err = github(&unwritable).preflight().unwrap_err();
        assert!(err.to_string().contains("no/such/dir"), "{err}");
    }

    #[test]
    fn sanitize_cleans_only_informational_values() {
        assert_eq!(sanitize(" Jane Doe \n"), "Jane Doe");
        assert_eq!(sanitize("a\r\nb\tc\u{7}"), "a b c");
        assert_eq!(sanitize("plain"), "plain");
        let mut r = Report::new(Decision::Approved);
        r.decided_by = Some("Jane \n".into());
        r.status = Some(" Approved".into());
        r.status_category = Some("done\n".into());
        r.resolution = Some("Won't\nDo".into());
        r.decided_at = Some("2025-01-01T00:00:00Z\r\n".into());
        r.issue_key = Some("OPS-1 ".into());
        let f = fields(&r);
        assert_eq!(f[4], ("status", "Approved".to_owned()));
        assert_eq!(f[5], ("status_category", "done".to_owned()));
        assert_eq!(f[6], ("resolution", "Won't Do".to_owned()));
        assert_eq!(f[7], ("decided_by", "Jane".to_owned()));
        assert_eq!(f[8], ("decided_at", "2025-01-01T00:00:00Z".to_owned()));
        assert_eq!(f[1], ("issue_key", "OPS-1 ".to_owned()), "never changed");
    }

    #[test]
    fn approvers_are_one_line_of_json_only_when_there_are_some() {
        let mut r = Report::new(Decision::Approved);
        assert!(fields(&r).iter().all(|(name, _)| *name != "approvers"));
        r.approvers = vec![crate::outcome::ApproverReport {
            name: "Zoë \"Z\" O'Neil\n".into(),
            decision: "approved".into(),
            time: None,
        }];
        let f = fields(&r);
        let (name, value) = f.last().unwrap();
        assert_eq!(*name, "approvers");
        assert_eq!(
            value,
            r#"[{"name":"Zoë \"Z\" O'Neil\n","decision":"approved","time":null}]"#
        );
        assert!(!value.contains('\n'), "one line");
    }

    #[test]
    fn quiet_drops_only_the_section_markers() {
        use std::sync::{Arc, Mutex};
        struct Record(Arc<Mutex<Vec<String>>>);
        impl Sink for Record {
            fn name(&self) -> &'static str {
                "record"
            }
            fn mask(&self, s: &[&str]) {
                self.0.lock().unwrap().push(format!("mask {s:?}"));
            }
            fn section_start(&self, id: &str, _: &str) {
                self.0.lock().unwrap().push(format!("start {id}"));
            }
            fn section_end(&self, id: &str) {
                self.0.lock().unwrap().push(format!("end {id}"));
            }
            fn finish(&self, r: &Report) -> Result<(), Error> {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("finish {}", r.exit_code));
                Ok(())
            }
        }
        let calls = Arc::new(Mutex::new(Vec::new()));
        let quiet = Quiet(Box::new(Record(calls.clone())));
        quiet.mask(&["s"]);
        quiet.section_start("a", "A");
        quiet.section_end("a");
        quiet.finish(&Report::new(Decision::Rejected)).unwrap();
        quiet.preflight().unwrap();
        assert_eq!(quiet.name(), "record");
        assert_eq!(*calls.lock().unwrap(), ["mask [\"s\"]", "finish 3"]);
    }

    #[test]
    fn quiet_still_refuses_to_start_when_the_outputs_cannot_be_written() {
        let quiet = Options {
            quiet: true,
            ..Options::default()
        };
        let unknown = detect_with(
            &|name| (name == "JIRA_GATE_CI").then(|| "gihtub".to_owned()),
            &quiet,
        );
        assert!(unknown.preflight().is_err());
        let dir = tempfile::tempdir().unwrap();
        let tekton = Options {
            tekton_results: Some(dir.path().join("missing")),
            ..quiet
        };
        let err = detect_with(&|_| None, &tekton).preflight().unwrap_err();
        assert!(err.to_string().contains("Tekton result"), "{err}");
    }

    #[test]
    fn an_output_path_that_is_a_directory_is_reported_as_one() {
        // The OS error the user reads must be the real one ("is a directory"), not that of a
        // second attempt to create the file.
        let dir = tempfile::tempdir().unwrap();
        let err = check_writable("GitHub output", dir.path()).unwrap_err();
        let Error::File { source, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(source.kind(), std::io::ErrorKind::IsADirectory, "{err:?}");
    }

    #[test]
    fn check_writable_probes_without_leaving_a_trace() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new");
        check_writable("test", &new).unwrap();
        assert!(!new.exists());
        let existing = dir.path().join("existing");
        std::fs::write(&existing, "keep").unwrap();
        check_writable("test", &existing).unwrap();
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep");
        let err = check_writable("result", &dir.path().join("missing/r.json")).unwrap_err();
        assert!(err.to_string().contains("missing/r.json"), "{err}");
        let err = preflight(
            &generic::Generic::named("generic"),
            Some(&dir.path().join("missing/r.json")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("result file"), "{err}");
    }

    #[test]
    fn fields_fill_missing_values_with_empty_strings() {
        let report = Report::new(Decision::Timeout);
        let f = fields(&report);
        assert_eq!(f[0], ("decision", "timeout".to_owned()));
        assert_eq!(f[1], ("issue_key", String::new()));
        assert_eq!(f[3], ("created", "false".to_owned()));
        assert_eq!(f[11], ("exit_code", "4".to_owned()));
    }

    #[test]
    fn append_never_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "before=1\n").unwrap();
        append("test", &path, "after=2\n").unwrap();
        append("test", &path, "again=3\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before=1\nafter=2\nagain=3\n"
        );
    }

    #[test]
    fn append_error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out");
        let err = append("GitHub output", &path, "x=1\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("GitHub output"), "{text}");
        assert!(text.contains("missing-dir"), "{text}");
        assert!(std::error::Error::source(&err).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// bash reads a quoted word back as the original value (no NUL: shells cannot hold it).
        #[test]
        fn shell_quoting_round_trips(value in "[^\u{0}]{0,40}") {
            let output = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(&value)))
                .output()
                .unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&output.stdout), value);
        }
    }
}
