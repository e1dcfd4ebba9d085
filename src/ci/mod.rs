//! CI systems: where outputs go and how logs are decorated (SPEC section 3).
//!
//! `detect()` looks at the environment once and returns the sink for GitHub Actions, GitLab CI or
//! a generic runner. One private-trait implementation per system, one file each (the pattern of
//! hyperfine's `export/`).
