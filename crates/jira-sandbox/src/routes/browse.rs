//! `/browse/KEY`: the issue's HTML page for a person (the page itself is `crate::browse`).

use axum::extract::Path;
use axum::routing::get;
use axum::{Extension, Router};

use super::Cx;
use crate::browse;
use crate::server::{Reply, lock};

pub(super) fn routes() -> Router {
    Router::new().route("/browse/{key}", get(page))
}

async fn page(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let st = lock(&cx.shared.state);
    match st.find(&key) {
        Some(idx) => {
            let issue = &st.issues[idx];
            let rows = st.browse_rows(idx);
            Reply::html(200, browse::issue_page(&issue.key, issue.summary(), &rows))
        }
        None => Reply::html(404, browse::not_found_page(&key)),
    }
}
