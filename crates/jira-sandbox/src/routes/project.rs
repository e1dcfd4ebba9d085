//! Projects: the project, its statuses and the create metadata of its issue types.

use axum::extract::Path;
use axum::routing::get;
use axum::{Extension, Router};

use super::{Cx, needs_auth};
use crate::Flavor;
use crate::server::{Reply, lock};

pub(super) fn routes() -> Router {
    Router::new()
        .route("/project/{key}", get(project))
        .route("/project/{key}/statuses", get(statuses))
        .route("/issue/createmeta", get(createmeta_old))
        .route("/issue/createmeta/{project}/issuetypes", get(issue_types))
        .route(
            "/issue/createmeta/{project}/issuetypes/{type_id}",
            get(type_fields),
        )
}

fn no_project(key: &str) -> Reply {
    Reply::message(404, &format!("No project could be found with key '{key}'."))
}

async fn project(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let project = cx
        .user
        .and_then(|_| lock(&cx.shared.state).project_json(&key, cx.base(), cx.api));
    project.map_or_else(|| no_project(&key), |p| Reply::json(200, p))
}

async fn statuses(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let statuses = cx
        .user
        .and_then(|_| lock(&cx.shared.state).project_statuses(&key, cx.base(), cx.api));
    statuses.map_or_else(|| no_project(&key), |p| Reply::json(200, p))
}

/// The old `createmeta?expand=…`: Cloud only (Data Center 9+ removed it).
async fn createmeta_old(Extension(cx): Extension<Cx>) -> Reply {
    match (cx.flavor(), cx.user) {
        (Flavor::Datacenter, _) => Reply::message(404, "Issue Does Not Exist"),
        (Flavor::Cloud, Some(_)) => Reply::json(
            200,
            lock(&cx.shared.state).createmeta_old(cx.base(), cx.api),
        ),
        (Flavor::Cloud, None) => needs_auth(),
    }
}

async fn issue_types(Extension(cx): Extension<Cx>, Path(project): Path<String>) -> Reply {
    if cx.user.is_none() {
        return needs_auth();
    }
    lock(&cx.shared.state)
        .createmeta_types(&project, cx.base(), cx.api)
        .into()
}

async fn type_fields(
    Extension(cx): Extension<Cx>,
    Path((project, type_id)): Path<(String, String)>,
) -> Reply {
    if cx.user.is_none() {
        return needs_auth();
    }
    lock(&cx.shared.state)
        .createmeta_fields(&project, &type_id, cx.base(), cx.api)
        .into()
}
