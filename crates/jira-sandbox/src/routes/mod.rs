//! The sandbox's routes, by resource, on axum's router: `meta` (server info, myself, users,
//! fields), `project` (projects, statuses, create metadata), `issue` (an issue and its changelog,
//! comments, edit metadata and transitions), `search`, `servicedesk` (Jira Service Management's
//! `/rest/servicedeskapi`), and the local pages that are not Jira's
//! REST API: `control` (`/_sandbox/`) and `browse` (`/browse/KEY`).
//!
//! axum only routes here: `server.rs` keeps the connection (the faults drop, cut and delay whole
//! answers around the routing) and turns each handler's [`Reply`] into the HTTP answer. A handler
//! gets its path parameters from axum and the rest (state, query, body, caller, API version) in a
//! [`Cx`].

mod browse;
mod control;
mod issue;
mod jql_parse;
mod meta;
mod project;
mod search;
mod servicedesk;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower::ServiceExt as _;

use crate::Flavor;
use crate::server::{Auth, Reply, Req, Shared};
use crate::state::Api;

const NOT_AUTHENTICATED: &str = "Client must be authenticated to access this resource.";

/// What a handler needs besides its path parameters.
#[derive(Clone)]
pub(crate) struct Cx {
    /// The sandbox.
    pub shared: Arc<Shared>,
    /// The request: method, path, query, headers and body.
    pub req: Arc<Req>,
    /// The authenticated user, if any.
    pub user: Option<usize>,
    /// The flavor and API version the path asked for.
    pub api: Api,
}

impl Cx {
    /// `http://127.0.0.1:PORT`.
    fn base(&self) -> &str {
        &self.shared.base
    }

    fn flavor(&self) -> Flavor {
        self.shared.args.flavor
    }

    /// Jira's answer to a path it does not have.
    fn not_found(&self) -> Reply {
        Reply::json(
            404,
            json!({"message": format!("null for uri: {}{}", self.base(), self.req.path), "status-code": 404}),
        )
    }
}

/// Jira's 401 for a resource that needs a user.
fn needs_auth() -> Reply {
    Reply::message(401, NOT_AUTHENTICATED)
}

/// axum carries the reply to [`dispatch`] in the response's extensions; `server.rs` renders it.
impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = Response::new(axum::body::Body::empty());
        response.extensions_mut().insert(self);
        response
    }
}

/// The two routers of a sandbox, built once.
#[derive(Clone)]
pub(crate) struct Routes {
    rest: Router,
    local: Router,
    desk: Router,
}

impl Routes {
    /// The REST API (paths below `/rest/api/{version}`) and the local pages.
    pub fn new() -> Self {
        Self {
            rest: Router::new()
                .merge(meta::routes())
                .merge(project::routes())
                .merge(issue::routes())
                .merge(search::routes()),
            local: Router::new()
                .merge(control::routes())
                .merge(browse::routes()),
            desk: servicedesk::routes(),
        }
    }

    /// Whether `path` is a local page (no auth, no faults, not logged).
    pub fn is_local(path: &str) -> bool {
        path == "/_sandbox" || path.starts_with("/_sandbox/") || path.starts_with("/browse/")
    }

    /// Answers a local page.
    pub async fn local(&self, shared: &Arc<Shared>, req: Arc<Req>) -> Reply {
        let (method, path) = (req.method.clone(), req.path.clone());
        let cx = Cx {
            shared: Arc::clone(shared),
            req,
            user: None,
            api: Api {
                flavor: shared.args.flavor,
                v3: false,
            },
        };
        dispatch(&self.local, &path, cx, || {
            control::not_found(&method, &path)
        })
        .await
    }

    /// Answers a REST request: the version prefix, the rule that writes need a user, then the
    /// resource's route.
    pub async fn rest(&self, shared: &Arc<Shared>, req: Arc<Req>, auth: Auth) -> Reply {
        let flavor = shared.args.flavor;
        let mut cx = Cx {
            shared: Arc::clone(shared),
            req: Arc::clone(&req),
            user: auth.user(),
            api: Api { flavor, v3: false },
        };
        if let Some(tail) = req.path.strip_prefix("/rest/servicedeskapi") {
            return self.desk(cx, tail).await;
        }
        let Some(rest) = req.path.strip_prefix("/rest/api/") else {
            return cx.not_found();
        };
        let (version, tail) = rest.split_once('/').unwrap_or((rest, ""));
        cx.api.v3 = match (version, flavor) {
            ("2" | "latest", _) => false,
            ("3", Flavor::Cloud) => true,
            _ => return cx.not_found(),
        };
        // Empty segments are ignored, as Jira does: `/issue//OPS-1/` is `/issue/OPS-1`.
        let segments: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
        if cx.user.is_none()
            && matches!(req.method.as_str(), "POST" | "PUT" | "DELETE")
            && segments.first() != Some(&"search")
        {
            return needs_auth();
        }
        let path = format!("/{}", segments.join("/"));
        let fallback = cx.clone();
        dispatch(&self.rest, &path, cx, || fallback.not_found()).await
    }
}

impl Routes {
    /// Answers a `/rest/servicedeskapi` request (`tail` is the path below it): Jira without
    /// Service Management (`--no-jsm`), then the rule that everything but `/info` needs a user.
    async fn desk(&self, cx: Cx, tail: &str) -> Reply {
        if cx.shared.args.no_jsm {
            return servicedesk::unlicensed(&cx);
        }
        let segments: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
        let path = format!("/{}", segments.join("/"));
        if cx.user.is_none() && path != "/info" {
            return needs_auth();
        }
        let fallback = cx.clone();
        dispatch(&self.desk, &path, cx, || fallback.not_found()).await
    }
}

/// Runs `router` on `path`; a path or method it does not have gets `fallback`.
async fn dispatch(router: &Router, path: &str, cx: Cx, fallback: impl FnOnce() -> Reply) -> Reply {
    let method =
        axum::http::Method::from_bytes(cx.req.method.as_bytes()).unwrap_or(axum::http::Method::GET);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .extension(cx)
        .body(axum::body::Body::empty());
    let Ok(request) = request else {
        return fallback();
    };
    let Ok(mut response) = router.clone().oneshot(request).await;
    response
        .extensions_mut()
        .remove::<Reply>()
        .unwrap_or_else(fallback)
}
