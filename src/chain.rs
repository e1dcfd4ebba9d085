//! An error with its source chain on one line, each cause once. A leaf: the top-level
//! [`crate::error`] renders with it, and so does the Jira transport, which must not import upward.

/// `error: cause: cause ...`, skipping a cause whose text the message already includes (some
/// messages name their source, e.g. a transport error that quotes the OS error).
pub fn render(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
