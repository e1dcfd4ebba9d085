//! Who and what: `serverInfo`, `myself`, `user/search` and `field`.

use std::time::SystemTime;

use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Value, json};

use super::{Cx, needs_auth};
use crate::Flavor;
use crate::server::{Reply, lock};
use crate::state;

pub(super) fn routes() -> Router {
    Router::new()
        .route("/serverInfo", get(server_info))
        .route("/myself", get(myself))
        .route("/user/search", get(user_search))
        .route("/field", get(fields))
}

async fn server_info(Extension(cx): Extension<Cx>) -> Reply {
    let now = state::jira_time(SystemTime::now());
    let (version, numbers, deployment, build) = match cx.flavor() {
        Flavor::Cloud => ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud", 100_289),
        Flavor::Datacenter => ("10.3.13", [10, 3, 13], "Server", 10_030_013),
    };
    Reply::json(
        200,
        json!({
            "baseUrl": cx.base(), "version": version, "versionNumbers": numbers, "deploymentType": deployment,
            "buildNumber": build, "buildDate": "2026-01-15T00:00:00.000+0000", "serverTime": now,
            "scmInfo": "0000000000000000000000000000000000000000", "serverTitle": "jira-gate sandbox",
            "defaultLocale": {"locale": "en_US"},
        }),
    )
}

async fn myself(Extension(cx): Extension<Cx>) -> Reply {
    match cx.user {
        Some(u) => Reply::json(200, lock(&cx.shared.state).myself(u, cx.base(), cx.api)),
        None => needs_auth(),
    }
}

async fn user_search(Extension(cx): Extension<Cx>) -> Reply {
    if cx.user.is_none() {
        return needs_auth();
    }
    let q = cx
        .req
        .param("query")
        .or_else(|| cx.req.param("username"))
        .unwrap_or("");
    Reply::json(
        200,
        lock(&cx.shared.state).user_search(q, cx.base(), cx.api),
    )
}

async fn fields(Extension(cx): Extension<Cx>) -> Reply {
    if cx.user.is_none() {
        return needs_auth();
    }
    Reply::json(
        200,
        Value::Array(state::FIELDS.iter().map(state::FieldDef::details).collect()),
    )
}
