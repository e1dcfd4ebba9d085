//! The shared Jira fixtures (`shared/jira/fixtures` beside the clone, on developers' machines and
//! in CI), found from any crate of the workspace. A user's clone has none: the tests that need them say so in one line and pass, except
//! under `CI=true`, where a missing folder fails the test instead of passing silently.

use std::path::PathBuf;

/// The fixtures folder, or `None` (after one line on stdout naming `test`) when it is absent
/// outside CI. Panics when it is absent and the variable `CI` is `true`.
pub fn shared_fixtures(test: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Beside the clone: the parent of the workspace root, whichever crate runs the test.
    let found = manifest
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/jira/fixtures"))
        .find(|dir| dir.is_dir());
    if found.is_some() {
        return found;
    }
    let dir = manifest.join("../shared/jira/fixtures");
    assert!(
        !in_ci(),
        "{test}: {} is absent and CI=true, so nothing would be checked\nhint: lay the shared references beside the clone (CI does), or unset CI to skip",
        dir.display()
    );
    println!("{test}: {} is absent; nothing checked", dir.display());
    None
}

/// `true` when the variable `CI` says so (GitHub, GitLab and this project's CI set `CI=true`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
