//! The `/_sandbox/` control endpoints: list issues, set a status as a user, answer a service desk
//! approval as an approver, delete an issue, read or clear the request log, add or clear scripted
//! faults. No auth, no faults, not logged.

use axum::extract::Path;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde_json::{Value, json};

use super::Cx;
use crate::faults::Rule;
use crate::server::{Reply, lock};
use crate::state;

pub(super) fn routes() -> Router {
    Router::new()
        .route("/_sandbox/issues", get(issues))
        .route("/_sandbox/issues/{key}", delete(delete_issue))
        .route("/_sandbox/issues/{key}/status", post(set_status))
        .route("/_sandbox/issues/{key}/approval", post(answer_approval))
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/faults", post(add_faults).delete(clear_faults))
}

/// The answer to a path or method the control endpoints do not have.
pub(super) fn not_found(method: &str, path: &str) -> Reply {
    Reply::json(
        404,
        json!({"error": format!("no control endpoint {method} {path}")}),
    )
}

async fn issues(Extension(cx): Extension<Cx>) -> Reply {
    let st = lock(&cx.shared.state);
    let list: Vec<Value> = st
        .issues
        .iter()
        .map(|i| {
            json!({"key": i.key, "id": i.id.to_string(), "status": i.status_name(), "labels": i.labels(), "summary": i.summary()})
        })
        .collect();
    Reply::json(200, Value::Array(list))
}

async fn delete_issue(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    if lock(&cx.shared.state).delete(&key) {
        Reply::empty(204)
    } else {
        Reply::json(404, json!({"error": format!("no issue {key}")}))
    }
}

/// `{"status": NAME, "by": USER}`: moves the issue as that user (Alice by default); entering
/// "Awaiting approval" schedules the scripted approver as a transition would.
async fn set_status(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let body: Value = serde_json::from_slice(&cx.req.body).unwrap_or(Value::Null);
    let Some(target) = body
        .get("status")
        .and_then(Value::as_str)
        .and_then(state::status_by_name)
    else {
        return Reply::json(
            400,
            json!({"error": "body must be {\"status\": NAME, \"by\": USER} with a known status"}),
        );
    };
    let mut st = lock(&cx.shared.state);
    let by = body.get("by").and_then(Value::as_str).unwrap_or("alice");
    let Some(author) = st.user_by_name(by) else {
        return Reply::json(
            400,
            json!({"error": format!("unknown user {by}: use ci-bot, alice or bob")}),
        );
    };
    let Some(idx) = st.find(&key) else {
        return Reply::json(404, json!({"error": format!("no issue {key}")}));
    };
    if let Some(idx) = st.move_to(idx, target.id, author) {
        cx.shared.schedule_approver(idx, &st);
    }
    let i = &st.issues[idx];
    Reply::json(200, json!({"key": i.key, "status": i.status_name()}))
}

/// `{"by": USER, "decision": "approve" | "decline"}`: that approver answers the request's newest
/// pending approval (Jira Service Management), as `--approve-after NAME=…` would.
async fn answer_approval(Extension(cx): Extension<Cx>, Path(key): Path<String>) -> Reply {
    let body: Value = serde_json::from_slice(&cx.req.body).unwrap_or(Value::Null);
    let (Some(by), Some(verb)) = (
        body.get("by").and_then(Value::as_str),
        body.get("decision").and_then(Value::as_str),
    ) else {
        return Reply::json(
            400,
            json!({"error": "body must be {\"by\": USER, \"decision\": \"approve\" or \"decline\"}"}),
        );
    };
    let mut st = lock(&cx.shared.state);
    let Some(user) = st.user_by_name(by) else {
        return Reply::json(
            400,
            json!({"error": format!("unknown user {by}: use alice, bob or dave")}),
        );
    };
    match st.answer(&key, None, user, verb, cx.base(), cx.api) {
        Ok(approval) => Reply::json(200, approval),
        Err(e) => Reply::json(e.status, json!({"error": e.message})),
    }
}

async fn requests(Extension(cx): Extension<Cx>) -> Reply {
    Reply::json(200, json!(*lock(&cx.shared.log)))
}

async fn clear_requests(Extension(cx): Extension<Cx>) -> Reply {
    lock(&cx.shared.log).clear();
    Reply::empty(204)
}

/// One rule or an array of rules, added after the existing ones.
async fn add_faults(Extension(cx): Extension<Cx>) -> Reply {
    let parsed: Result<Vec<Rule>, _> =
        serde_json::from_slice::<Value>(&cx.req.body).and_then(|v| {
            if v.is_array() {
                serde_json::from_value(v)
            } else {
                serde_json::from_value(v).map(|r| vec![r])
            }
        });
    match parsed {
        Ok(rules) => {
            let n = rules.len();
            lock(&cx.shared.faults).add(rules);
            Reply::json(200, json!({"added": n}))
        }
        Err(e) => Reply::json(400, json!({"error": format!("invalid fault rules: {e}")})),
    }
}

async fn clear_faults(Extension(cx): Extension<Cx>) -> Reply {
    lock(&cx.shared.faults).clear();
    Reply::empty(204)
}
