//! Search: Cloud's `search/jql` (tokens) and Data Center's `search` (offsets), GET or POST, with
//! the sandbox's own JQL subset (`crate::jql`); Cloud's old `search` is gone (410).

use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::Cx;
use crate::Flavor;
use crate::jql;
use crate::server::{Reply, Req, lock};
use crate::state::{FieldSel, JiraError};

const SEARCH_REMOVED: &str = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046";
const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";

pub(super) fn routes() -> Router {
    Router::new()
        .route("/search/jql", get(search_jql).post(search_jql))
        .route("/search", get(search_old).post(search_old))
}

async fn search_jql(Extension(cx): Extension<Cx>) -> Reply {
    match cx.flavor() {
        Flavor::Cloud => search(&cx),
        Flavor::Datacenter => cx.not_found(),
    }
}

async fn search_old(Extension(cx): Extension<Cx>) -> Reply {
    match cx.flavor() {
        Flavor::Cloud => Reply::message(410, SEARCH_REMOVED),
        Flavor::Datacenter => search(&cx),
    }
}

/// Search parameters from the query string (GET) or the JSON body (POST).
struct SearchParams {
    jql: String,
    fields: FieldSel,
    max: Option<usize>,
    start: usize,
    token: Option<String>,
    changelog: bool,
}

fn search_params(req: &Req, default: FieldSel) -> Result<SearchParams, JiraError> {
    if req.method == "POST" {
        let body = req.json()?;
        let fields: Vec<String> = match body.get("fields") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let expand = match body.get("expand") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        };
        let num = |k: &str| {
            body.get(k)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        Ok(SearchParams {
            jql: body
                .get("jql")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            fields: FieldSel::parse(fields.iter().map(String::as_str), default),
            max: num("maxResults"),
            start: num("startAt").unwrap_or(0),
            token: body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(str::to_owned),
            changelog: expand.split(',').any(|e| e.trim() == "changelog"),
        })
    } else {
        let num = |k: &str| req.param(k).and_then(|s| s.parse().ok());
        Ok(SearchParams {
            jql: req.param("jql").unwrap_or("").to_owned(),
            fields: FieldSel::parse(req.params("fields"), default),
            max: num("maxResults"),
            start: num("startAt").unwrap_or(0),
            token: req.param("nextPageToken").map(str::to_owned),
            changelog: req
                .params("expand")
                .any(|e| e.split(',').any(|x| x.trim() == "changelog")),
        })
    }
}

/// `search/jql` (Cloud) and `search` (Data Center): the matching issues, newest first unless the
/// JQL orders ascending, paged the flavor's way.
fn search(cx: &Cx) -> Reply {
    let cloud = cx.flavor() == Flavor::Cloud;
    let default = if cloud {
        FieldSel::IdOnly
    } else {
        FieldSel::All
    };
    let p = match search_params(&cx.req, default) {
        Ok(p) => p,
        Err(e) => return Reply::error(&e),
    };
    let query = match jql::parse(&p.jql) {
        Ok(q) => q,
        Err(e) => return Reply::message(400, &e),
    };
    if cloud && query.unbounded() {
        return Reply::message(400, UNBOUNDED);
    }
    let st = lock(&cx.shared.state);
    let lag = cx.shared.args.search_lag;
    let mut hits: Vec<usize> = (0..st.issues.len())
        .filter(|_| cx.user.is_some())
        .filter(|&i| {
            st.issues[i].changed_at.elapsed() >= lag
                && query.matches(&st.issues[i], st.project_of(&st.issues[i]))
        })
        .collect();
    hits.sort_by_key(|&i| (st.issues[i].created(), st.issues[i].id));
    if query.order_desc != Some(false) {
        hits.reverse();
    }
    let render = |i: usize| {
        if cloud && p.fields == FieldSel::IdOnly && !p.changelog {
            json!({"id": st.issues[i].id.to_string()})
        } else {
            st.issue_json(i, &p.fields, p.changelog, cx.base(), cx.api)
        }
    };
    if cloud {
        cloud_page(&p, &hits, render)
    } else {
        let max = p.max.unwrap_or(50).min(1000);
        let page: Vec<Value> = hits
            .iter()
            .skip(p.start)
            .take(max)
            .map(|&i| render(i))
            .collect();
        Reply::json(
            200,
            json!({"expand": "schema,names", "startAt": p.start, "maxResults": max, "total": hits.len(), "issues": page}),
        )
    }
}

/// Cloud's page: `nextPageToken` instead of offsets, up to 5000 ids or 100 issues with fields.
fn cloud_page(p: &SearchParams, hits: &[usize], render: impl Fn(usize) -> Value) -> Reply {
    let offset = match p.token.as_deref().map(decode_token) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => {
            return Reply::message(400, "The provided next page token is invalid or expired.");
        }
    };
    let cap = if p.fields == FieldSel::IdOnly {
        5000
    } else {
        100
    };
    let max = p.max.unwrap_or(50).clamp(1, cap);
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|&i| render(i))
        .collect();
    let next = offset + page.len();
    let mut body = json!({"issues": page, "isLast": next >= hits.len()});
    if next < hits.len() {
        body["nextPageToken"] = json!(BASE64.encode(format!("sandbox-offset:{next}")));
    }
    Reply::json(200, body)
}

fn decode_token(t: &str) -> Option<usize> {
    let bytes = BASE64.decode(t).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sandbox-offset:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        let t = BASE64.encode("sandbox-offset:50");
        assert_eq!(decode_token(&t), Some(50));
        assert_eq!(decode_token("garbage"), None);
    }
}
