//! `jira-gate demo`: an in-process sandbox that approves (or rejects) after a few seconds, and the
//! real step against it; `--jsm` raises a Jira Service Management change request that two of its
//! three approvers approve. The stanzas are `steps/demo.yml` and `steps/demo-jsm.yml`: a new part
//! of the demo (a change window, say) goes into the stanza and the sandbox options here.

use crate::ci;
use crate::cli::DemoArgs;
use crate::commands::report_error;
use crate::commands::run::{Shutdown, step_and_outputs};
use crate::env::Env;
use crate::error::Error;
use crate::exit::Exit;
use crate::input::{self, Outputs};
use crate::logging::Logging;
use crate::logging::{self, Level};
use crate::sandbox;

/// The stanza `demo` runs (also shipped as `steps/demo.yml`).
pub const DEMO_STANZA: &str = include_str!("../../steps/demo.yml");

/// The stanza `demo --jsm` runs (also shipped as `steps/demo-jsm.yml`): a change request through
/// Jira Service Management, approved by two of three approvers.
pub const DEMO_JSM_STANZA: &str = include_str!("../../steps/demo-jsm.yml");

/// `jira-gate demo`: an in-process sandbox that approves (or rejects) after a few seconds, and the
/// real step against it.
pub async fn run(args: &DemoArgs, logging: &Logging, env: Env) -> Exit {
    let args = match input::demo(args, &env) {
        Ok(args) => args,
        Err(e) => return report_error(Err(e)),
    };
    let mut sandbox_args = sandbox::Args {
        listen: "127.0.0.1:0".parse().expect("a literal address"),
        flavor: args.flavor,
        ..sandbox::Args::default()
    };
    let delay = sandbox::DelayRange {
        min: args.approve_after,
        max: args.approve_after,
    };
    let (file, stanza_text, approvers) = if args.jsm {
        jsm_approvers(&mut sandbox_args, delay, args.reject)
    } else {
        if args.reject {
            sandbox_args.reject_after = Some(delay);
        } else {
            sandbox_args.approve_after = vec![sandbox::ApproverDelay::workflow(delay)];
        }
        (
            "steps/demo.yml",
            DEMO_STANZA,
            format!(
                "a simulated approver acts {} after the request",
                humantime::format_duration(args.approve_after)
            ),
        )
    };
    let login = sandbox_args.basic_login();
    let sandbox = match sandbox::Sandbox::start(sandbox_args).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            return report_error(Err(Error::Io {
                what: "cannot start the demo sandbox".into(),
                source: e,
            }));
        }
    };
    if !logging.quiet {
        banner(&[
            format!(
                "a sandbox Jira ({}) runs at {}",
                args.flavor,
                sandbox.base_url()
            ),
            format!("the stanza is {file}; {approvers}"),
        ]);
    }
    let options = Outputs {
        dry_run: false,
        result_file: input::result_file(&args.result_file, &env),
        ci: input::ci_options(logging),
    };
    let mut vars = demo_env(&sandbox, login);
    if args.jsm {
        // The change window opens a few seconds after the second approval (issue 9).
        let opens = jiff::Timestamp::now().as_second() + 2 * delay_secs(args.approve_after) + 3;
        let at = |s: i64| jiff::Timestamp::from_second(s).map(|t| t.to_string());
        if let (Ok(start), Ok(end)) = (at(opens), at(opens + 3600)) {
            vars.push(("DEMO_WINDOW_START".into(), start));
            vars.push(("DEMO_WINDOW_END".into(), end));
        }
    }
    let env = env.with_overrides(vars);
    let sink = ci::detect_with(&|n| env.get(n), &options.ci);
    let stanza = input::parse(
        file,
        stanza_text,
        &crate::stanza::Overrides::default(),
        &env,
    );
    step_and_outputs(stanza, &options, sink.as_ref(), &Shutdown::install()).await
}

/// `demo --jsm`: Alice approves after `delay` and Dave after twice that, so the second approval
/// of three decides; with `reject`, Bob declines after `delay`. Returns the stanza's file, its text
/// and the line that says what the approvers do.
fn jsm_approvers(
    args: &mut sandbox::Args,
    delay: sandbox::DelayRange,
    reject: bool,
) -> (&'static str, &'static str, String) {
    let later = sandbox::DelayRange {
        min: delay.min * 2,
        max: delay.max * 2,
    };
    args.approve_after = vec![sandbox::ApproverDelay::named("alice", delay)];
    let what = if reject {
        args.decline_after = vec![sandbox::ApproverDelay::named("bob", later)];
        format!(
            "Alice Approver approves after {}, Bob Builder declines after {}",
            humantime::format_duration(delay.min),
            humantime::format_duration(later.min)
        )
    } else {
        args.approve_after
            .push(sandbox::ApproverDelay::named("dave", later));
        format!(
            "two of three approvers must approve: Alice Approver after {}, Dave Deployer after {}",
            humantime::format_duration(delay.min),
            humantime::format_duration(later.min)
        )
    };
    ("steps/demo-jsm.yml", DEMO_JSM_STANZA, what)
}

/// What the demo is doing, a line each (left out under `-q`, which asks for warnings and the
/// summary only).
fn banner(lines: &[String]) {
    for line in lines {
        logging::line(Level::Info, &format!("jira-gate demo: {line}"), None);
    }
}

/// Whole seconds of `d`, rounded up.
fn delay_secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i64::MAX / 4)
}

/// The variables `steps/demo.yml` interpolates: the sandbox's address and the login it accepts.
fn demo_env(sandbox: &sandbox::Sandbox, (user, token): (String, String)) -> Vec<(String, String)> {
    vec![
        ("JIRA_URL".into(), sandbox.base_url()),
        ("JIRA_USER".into(), user),
        ("JIRA_API_TOKEN".into(), token),
    ]
}
