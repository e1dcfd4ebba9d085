//! Jira Service Management's `/rest/servicedeskapi`: the instance info, service desks, request
//! types and their fields, customer requests and their approvals. Paths here are below
//! `/rest/servicedeskapi`; `--no-jsm` answers every one as a Jira without Service Management does.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::Value;

use super::Cx;
use crate::Flavor;
use crate::server::{Reply, lock};
use crate::state::{DeskError, State, paged};

pub(super) fn routes() -> Router {
    Router::new()
        .route("/info", get(info))
        .route("/servicedesk", get(desks))
        .route("/servicedesk/{id}", get(desk))
        .route("/servicedesk/{id}/requesttype", get(request_types))
        .route(
            "/servicedesk/{id}/requesttype/{type_id}/field",
            get(request_type_fields),
        )
        .route("/request", post(create))
        .route("/request/{key}", get(request))
        .route("/request/{key}/approval", get(approvals))
        .route("/request/{key}/approval/{id}", get(approval).post(answer))
}

/// The answer of an instance without Service Management: Cloud does not have the path, Data
/// Center without a licence answers a 403 page.
pub(super) fn unlicensed(cx: &Cx) -> Reply {
    match cx.flavor() {
        Flavor::Cloud => cx.not_found(),
        Flavor::Datacenter => Reply::html(
            403,
            "<html><head><title>Unlicensed</title></head><body><h1>Jira Service Management is not licensed</h1><p>This instance does not have a valid Jira Service Management license.</p></body></html>".to_owned(),
        ),
    }
}

fn error(e: &DeskError) -> Reply {
    Reply::json(e.status, e.body())
}

fn answer_of(r: Result<Value, DeskError>) -> Reply {
    match r {
        Ok(v) => Reply::json(200, v),
        Err(e) => error(&e),
    }
}

/// `start` and `limit` of a paged read.
fn page(cx: &Cx) -> (usize, usize) {
    let num = |name: &str, default: usize| {
        cx.req
            .param(name)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    (num("start", 0), num("limit", 50))
}

fn paged_reply(cx: &Cx, values: Result<Vec<Value>, DeskError>) -> Reply {
    let (start, limit) = page(cx);
    match values {
        Ok(values) => Reply::json(200, paged(values, start, limit, cx.base(), &cx.req.path)),
        Err(e) => error(&e),
    }
}

async fn info(Extension(cx): Extension<Cx>) -> Reply {
    let version = match cx.flavor() {
        Flavor::Cloud => "1001.0.0-SNAPSHOT",
        Flavor::Datacenter => "10.3.13",
    };
    Reply::json(200, State::desk_info(cx.base(), version))
}

async fn desks(Extension(cx): Extension<Cx>) -> Reply {
    paged_reply(&cx, Ok(vec![State::desk_json(cx.base())]))
}

async fn desk(Extension(cx): Extension<Cx>, Path(id): Path<String>) -> Reply {
    answer_of(State::desk(&id, cx.base()))
}

async fn request_types(Extension(cx): Extension<Cx>, Path(id): Path<String>) -> Reply {
    let query = cx.req.param("searchQuery").unwrap_or("").to_lowercase();
    let types = State::request_types(&id, cx.base()).map(|list| {
        list.into_iter()
            .filter(|t| {
                query.is_empty()
                    || ["name", "description"].iter().any(|k| {
                        t[*k]
                            .as_str()
                            .is_some_and(|s| s.to_lowercase().contains(&query))
                    })
            })
            .collect()
    });
    paged_reply(&cx, types)
}

async fn request_type_fields(Path((id, type_id)): Path<(String, String)>) -> Reply {
    answer_of(State::request_type_fields(&id, &type_id))
}

async fn create(Extension(cx): Extension<Cx>) -> Reply {
    let body = match cx.req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let mut st = lock(&cx.shared.state);
    match st.create_request(&body, cx.api) {
        Ok(idx) => {
            let json = st.request_json(idx, cx.base(), cx.api);
            cx.shared.schedule_desk_approvers(st.issues[idx].id);
            Reply::json(201, json)
        }
        Err(e) => error(&e),
    }
}

async fn request(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let st = lock(&cx.shared.state);
    let found = st
        .find(&key)
        .filter(|idx| st.requests.iter().any(|r| r.issue_id == st.issues[*idx].id));
    match found {
        Some(idx) => Reply::json(200, st.request_json(idx, cx.base(), cx.api)),
        None => error(&DeskError::new(
            404,
            "sd.request.error.not.found",
            format!(
                "Request with key or id '{key}' does not exist or you do not have permission to see it."
            ),
        )),
    }
}

async fn approvals(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let list = lock(&cx.shared.state).approvals(&key, cx.base(), cx.api);
    paged_reply(&cx, list)
}

async fn approval(Extension(cx): Extension<Cx>, Path((key, id)): Path<(String, String)>) -> Reply {
    answer_of(lock(&cx.shared.state).approval(&key, &id, cx.base(), cx.api))
}

/// `{"decision": "approve" | "decline"}` as the caller, who must be one of the approvers.
async fn answer(Extension(cx): Extension<Cx>, Path((key, id)): Path<(String, String)>) -> Reply {
    let body = match cx.req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let verb = body.get("decision").and_then(Value::as_str).unwrap_or("");
    let user = cx.user.unwrap_or_default();
    answer_of(lock(&cx.shared.state).answer(&key, Some(&id), user, verb, cx.base(), cx.api))
}
