//! Issues: create, read and edit one, its changelog, comments, edit metadata and transitions.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::json;

use super::Cx;
use crate::Flavor;
use crate::server::{Reply, lock};
use crate::state::{self, BOT, FieldSel};

pub(super) fn routes() -> Router {
    Router::new()
        .route("/issue", post(create))
        .route("/issue/{key}", get(get_issue).put(edit))
        .route("/issue/{key}/changelog", get(changelog))
        .route("/issue/{key}/comment", post(comment))
        .route("/issue/{key}/editmeta", get(editmeta))
        .route(
            "/issue/{key}/transitions",
            get(transitions).post(transition),
        )
}

fn not_found() -> Reply {
    Reply::message(404, state::ISSUE_NOT_FOUND)
}

async fn create(Extension(cx): Extension<Cx>) -> Reply {
    let body = match cx.req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let mut st = lock(&cx.shared.state);
    match st.create(&body, cx.api) {
        Ok(idx) => {
            let i = &st.issues[idx];
            let v = if cx.api.v3 { 3 } else { 2 };
            Reply::json(
                201,
                json!({"id": i.id.to_string(), "key": i.key, "self": format!("{}/rest/api/{v}/issue/{}", cx.base(), i.id)}),
            )
        }
        Err(e) => Reply::error(&e),
    }
}

async fn get_issue(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let st = lock(&cx.shared.state);
    let Some(idx) = st.find(&key).filter(|_| cx.user.is_some()) else {
        return not_found();
    };
    let sel = FieldSel::parse(cx.req.params("fields"), FieldSel::All);
    let changelog = cx
        .req
        .params("expand")
        .any(|e| e.split(',').any(|x| x.trim() == "changelog"));
    let mut issue = st.issue_json(idx, &sel, changelog, cx.base(), cx.api);
    if cx.shared.args.hide_approvals_field {
        if let Some(fields) = issue.get_mut("fields").and_then(|f| f.as_object_mut()) {
            fields.remove(crate::state::APPROVALS_FIELD);
        }
    }
    Reply::json(200, issue)
}

async fn edit(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let body = match cx.req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    match lock(&cx.shared.state).edit(&key, &body, cx.api, cx.user.unwrap_or(BOT)) {
        Ok(()) => Reply::empty(204),
        Err(e) => Reply::error(&e),
    }
}

/// `/issue/KEY/changelog`, paged oldest first: Cloud only.
async fn changelog(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    if cx.flavor() != Flavor::Cloud {
        return cx.not_found();
    }
    if cx.user.is_none() {
        return not_found();
    }
    let start = cx
        .req
        .param("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let max = cx
        .req
        .param("maxResults")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
        .clamp(1, 100);
    lock(&cx.shared.state)
        .changelog_page(&key, start, max, cx.base(), cx.api)
        .into()
}

async fn comment(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let result = cx.req.json().and_then(|b| {
        lock(&cx.shared.state).add_comment(&key, &b, cx.base(), cx.api, cx.user.unwrap_or(BOT))
    });
    match result {
        Ok(c) => Reply::json(201, c),
        Err(e) => Reply::error(&e),
    }
}

async fn editmeta(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    match cx.user {
        Some(_) => lock(&cx.shared.state)
            .editmeta(&key, cx.base(), cx.api)
            .into(),
        None => not_found(),
    }
}

async fn transitions(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    match cx.user {
        Some(_) => lock(&cx.shared.state)
            .transitions(&key, cx.base(), cx.api)
            .into(),
        None => not_found(),
    }
}

async fn transition(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let body = match cx.req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let mut st = lock(&cx.shared.state);
    match st.do_transition(&key, &body, cx.api, cx.user.unwrap_or(BOT)) {
        Ok(entered) => {
            if let Some(idx) = entered {
                cx.shared.schedule_approver(idx, &st);
            }
            Reply::empty(204)
        }
        Err(e) => Reply::error(&e),
    }
}
