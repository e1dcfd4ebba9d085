//! The sandbox's HTTP side: the hyper accept loop, authentication, routing of the REST API and of
//! the `/_sandbox/` control endpoints, fault application and the request log.
//!
//! Requests are answered on whatever tokio runtime started the sandbox (a current-thread runtime is
//! enough: nothing blocks). The state lock is a plain mutex held only inside synchronous code, so
//! hundreds of concurrent clients (the benchmarks) never wait on each other for long.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::browse;
use crate::faults::{Fault, Faults, Rule};
use crate::jql;
use crate::state::{
    self, ALICE, APPROVED, AWAITING, Api, BOB, BOT, FieldSel, JiraError, REJECTED, State,
};
use crate::{Args, DelayRange, Flavor};

const NOT_AUTHENTICATED: &str = "Client must be authenticated to access this resource.";
const SEARCH_REMOVED: &str = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046";
const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";
const JSON_TYPE: &str = "application/json;charset=UTF-8";

/// Everything the connections share.
pub(crate) struct Shared {
    /// The configuration.
    pub args: Args,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    state: Mutex<State>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<LogEntry>>,
    started: Instant,
    request_ids: AtomicU64,
}

/// One line of the request log (`GET /_sandbox/requests`).
#[derive(Debug, Clone, Serialize)]
struct LogEntry {
    t_ms: u64,
    method: String,
    path: String,
    query: String,
    /// The status sent; `null` when the connection was dropped.
    status: Option<u16>,
    /// The fault applied, if any.
    fault: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// The shared state of a sandbox listening on `addr`.
    pub fn new(args: Args, addr: SocketAddr) -> Self {
        let state = State::new(args.flavor, &args.project, &args.effective_user());
        let faults = Faults::new(args.seed, args.fault_rate, &args.faults);
        Self {
            base: format!("http://{addr}"),
            args,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            log: Mutex::new(Vec::new()),
            started: Instant::now(),
            request_ids: AtomicU64::new(1),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Schedules the scripted approver for an issue that just entered "Awaiting approval".
    fn schedule_approver(self: &Arc<Self>, idx: usize, st: &State) {
        let issue = &st.issues[idx];
        let (id, round) = (issue.id, issue.approval_round);
        let mut rng =
            StdRng::seed_from_u64(self.args.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ round);
        let approve = self.args.approve_after.map(|r| pick(r, &mut rng));
        let reject = self.args.reject_after.map(|r| pick(r, &mut rng));
        let (delay, to, who) = match (approve, reject) {
            (Some(a), Some(r)) if r < a => (r, REJECTED, BOB),
            (Some(a), _) => (a, APPROVED, ALICE),
            (None, Some(r)) => (r, REJECTED, BOB),
            (None, None) => return,
        };
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut st = lock(&shared.state);
            let still_waiting = st
                .issues
                .iter()
                .position(|i| i.id == id && i.status == AWAITING && i.approval_round == round);
            if let Some(idx) = still_waiting {
                st.move_to(idx, to, who);
            }
        });
    }
}

fn pick(r: DelayRange, rng: &mut StdRng) -> Duration {
    if r.min >= r.max {
        return r.min;
    }
    let min = u64::try_from(r.min.as_millis()).unwrap_or(u64::MAX);
    let max = u64::try_from(r.max.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.gen_range(min..=max))
}

/// Accepts connections forever; each gets its own task.
pub(crate) async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "sandbox: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                tracing::debug!(error = %e, "sandbox: connection ended");
            }
        });
    }
}

/// Returned by the service to make hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the sandbox's fault injection")
    }
}

impl std::error::Error for Dropped {}

/// The body of every answer.
type Out = BoxBody<Bytes, Dropped>;

/// A body for the `truncate` fault: sends its data, waits a moment so hyper flushes the head and
/// the data, then fails, which makes hyper close the connection before the announced length.
struct Truncated {
    data: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match self.pause.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Dropped))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A body for the `huge` fault: `{"pad":"xxxx…` in 64 KiB chunks up to [`HUGE_BYTES`], never
/// closed properly, so a client without a size cap would hold it all in memory.
struct Huge {
    sent: usize,
}

/// How much the `huge` fault streams before giving up.
const HUGE_BYTES: usize = 1 << 30;

impl hyper::body::Body for Huge {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        const CHUNK: usize = 64 * 1024;
        if self.sent >= HUGE_BYTES {
            return Poll::Ready(None);
        }
        let data = if self.sent == 0 {
            let mut v = b"{\"pad\":\"".to_vec();
            v.resize(CHUNK, b'x');
            Bytes::from(v)
        } else {
            Bytes::from(vec![b'x'; CHUNK])
        };
        self.sent += data.len();
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// An answer before the common headers are added.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Json(Value),
    Html(String),
    Empty,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    fn error(e: &JiraError) -> Self {
        Self::json(e.status, e.body())
    }

    fn message(status: u16, message: &str) -> Self {
        Self::error(&JiraError::message(status, message))
    }
}

impl From<Result<Value, JiraError>> for Reply {
    fn from(r: Result<Value, JiraError>) -> Self {
        match r {
            Ok(v) => Reply::json(200, v),
            Err(e) => Reply::error(&e),
        }
    }
}

/// Who the request authenticated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    User(usize),
    /// Credentials were sent and are wrong.
    Failed,
    Anonymous,
}

impl Auth {
    fn user(self) -> Option<usize> {
        match self {
            Auth::User(u) => Some(u),
            _ => None,
        }
    }
}

fn authenticate(args: &Args, headers: &HeaderMap) -> Auth {
    let Some(value) = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::Anonymous;
    };
    let user = args.effective_user();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let ok = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        decoded
            .and_then(|d| d.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())))
            .is_some_and(|(u, p)| {
                let secret = match args.flavor {
                    Flavor::Cloud => &args.token,
                    Flavor::Datacenter => &args.password,
                };
                u.eq_ignore_ascii_case(&user) && p == *secret
            })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        args.flavor == Flavor::Datacenter && rest.trim() == args.pat
    } else {
        false
    };
    if ok { Auth::User(BOT) } else { Auth::Failed }
}

/// A parsed request.
struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Result<Value, JiraError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            JiraError::message(
                400,
                format!("Unexpected character in the request body: {e}"),
            )
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Out>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let req = Req {
        method: parts.method.as_str().to_owned(),
        path,
        query: parse_query(&raw_query),
        headers: parts.headers,
        body,
    };
    if req.path == "/_sandbox" || req.path.starts_with("/_sandbox/") {
        let reply = control(&shared, &req);
        return Ok(respond(&shared, reply, &[], false));
    }
    if let Some(key) = req.path.strip_prefix("/browse/") {
        let reply = browse(&shared, &percent_decode(key));
        return Ok(respond(&shared, reply, &[], false));
    }
    let t_ms = shared.elapsed_ms();
    let fault = lock(&shared.faults).decide(&req.method, &req.path, SystemTime::now());
    let mut log = LogEntry {
        t_ms,
        method: req.method.clone(),
        path: req.path.clone(),
        query: raw_query,
        status: None,
        fault: fault.as_ref().map(Fault::name),
    };
    if let Some(Fault::Delay(d)) = fault {
        tokio::time::sleep(d).await;
    }
    let auth = authenticate(&shared.args, &req.headers);
    let auth_headers = auth_headers(&shared, auth);
    let result = match fault {
        Some(Fault::Drop) => Err(Dropped),
        Some(Fault::Status {
            status,
            headers,
            html,
        }) => {
            let mut reply = fault_reply(status, html);
            reply.headers = headers;
            Ok(respond(&shared, reply, &auth_headers, false))
        }
        Some(Fault::StoreThenDrop) => {
            let _ = rest(&shared, &req, auth);
            Err(Dropped)
        }
        Some(Fault::Late(d)) => {
            let reply = rest(&shared, &req, auth);
            tokio::time::sleep(d).await;
            Ok(respond(&shared, reply, &auth_headers, false))
        }
        Some(Fault::Huge) => {
            let mut resp = Response::new(Huge { sent: 0 }.boxed());
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static(JSON_TYPE));
            Ok(resp)
        }
        Some(Fault::Truncate) => Ok(respond(
            &shared,
            rest(&shared, &req, auth),
            &auth_headers,
            true,
        )),
        Some(Fault::Delay(_)) | None => Ok(respond(
            &shared,
            rest(&shared, &req, auth),
            &auth_headers,
            false,
        )),
    };
    log.status = result.as_ref().ok().map(|r| r.status().as_u16());
    lock(&shared.log).push(log);
    result
}

fn fault_reply(status: u16, html: bool) -> Reply {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    if html {
        return Reply {
            status,
            headers: Vec::new(),
            body: Body::Html(format!(
                "<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
            )),
        };
    }
    let message = match status {
        429 => "Rate limit exceeded.".to_owned(),
        503 => "Service temporarily unavailable. Please try again later.".to_owned(),
        _ => format!("{reason} (injected by the jira-gate sandbox)"),
    };
    Reply::json(status, json!({"errorMessages": [message], "errors": {}}))
}

fn auth_headers(shared: &Shared, auth: Auth) -> Vec<(String, String)> {
    let mut h = Vec::new();
    match (shared.args.flavor, auth) {
        (Flavor::Cloud, Auth::User(u)) => {
            let id = lock(&shared.state).users[u].account_id;
            h.push(("X-AAccountId".to_owned(), id.to_owned()));
        }
        (Flavor::Datacenter, Auth::User(u)) => {
            let name = lock(&shared.state).users[u].name.clone();
            h.push(("X-AUSERNAME".to_owned(), name));
        }
        (Flavor::Datacenter, _) => h.push(("X-AUSERNAME".to_owned(), "anonymous".to_owned())),
        (Flavor::Cloud, _) => {}
    }
    if auth == Auth::Failed {
        h.push((
            "X-Seraph-LoginReason".to_owned(),
            "AUTHENTICATED_FAILED".to_owned(),
        ));
    }
    h
}

/// Builds the hyper response: common headers, body, and a cut body for `truncate`.
fn respond(
    shared: &Shared,
    reply: Reply,
    extra: &[(String, String)],
    truncate: bool,
) -> Response<Out> {
    let n = shared.request_ids.fetch_add(1, Ordering::Relaxed);
    let minute = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60 % 1440);
    let (content_type, bytes) = match reply.body {
        Body::Json(v) => (
            Some(JSON_TYPE),
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
        ),
        Body::Html(s) => (Some("text/html;charset=UTF-8"), Bytes::from(s)),
        Body::Empty => (None, Bytes::new()),
    };
    let full_len = bytes.len();
    let body: Out = if truncate {
        let pause = Box::pin(tokio::time::sleep(Duration::from_millis(20)));
        Truncated {
            data: Some(bytes.slice(..full_len / 2)),
            pause,
        }
        .boxed()
    } else {
        Full::new(bytes).map_err(|never| match never {}).boxed()
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    let mut put = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            headers.append(k, v);
        }
    };
    put("X-AREQUESTID", &format!("{minute}x{n}x1"));
    if let Some(ct) = content_type {
        put("Content-Type", ct);
    }
    if truncate {
        // Announce the whole body but send half of it: the client sees the connection end early.
        put("Content-Length", &full_len.to_string());
    }
    for (k, v) in extra.iter().chain(&reply.headers) {
        put(k, v);
    }
    resp
}

/// `/browse/KEY`: the issue's HTML page for a person (no auth, no faults, not logged).
fn browse(shared: &Shared, key: &str) -> Reply {
    let st = lock(&shared.state);
    let (status, html) = match st.find(key) {
        Some(idx) => {
            let issue = &st.issues[idx];
            let rows = st.browse_rows(idx);
            (200, browse::issue_page(&issue.key, issue.summary(), &rows))
        }
        None => (404, browse::not_found_page(key)),
    };
    Reply {
        status,
        headers: Vec::new(),
        body: Body::Html(html),
    }
}

/// The `/_sandbox/` control endpoints (no auth, not logged).
fn control(shared: &Arc<Shared>, req: &Req) -> Reply {
    let segs: Vec<&str> = req
        .path
        .trim_start_matches("/_sandbox")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["issues"]) => {
            let st = lock(&shared.state);
            let list: Vec<Value> = st
                .issues
                .iter()
                .map(|i| {
                    json!({"key": i.key, "id": i.id.to_string(), "status": i.status_name(), "labels": i.labels(), "summary": i.summary()})
                })
                .collect();
            Reply::json(200, Value::Array(list))
        }
        ("POST", ["issues", key, "status"]) => set_status(shared, key, req),
        ("DELETE", ["issues", key]) => {
            if lock(&shared.state).delete(key) {
                Reply::empty(204)
            } else {
                Reply::json(404, json!({"error": format!("no issue {key}")}))
            }
        }
        ("GET", ["requests"]) => Reply::json(200, json!(*lock(&shared.log))),
        ("DELETE", ["requests"]) => {
            lock(&shared.log).clear();
            Reply::empty(204)
        }
        ("POST", ["faults"]) => {
            let parsed: Result<Vec<Rule>, _> =
                serde_json::from_slice::<Value>(&req.body).and_then(|v| {
                    if v.is_array() {
                        serde_json::from_value(v)
                    } else {
                        serde_json::from_value(v).map(|r| vec![r])
                    }
                });
            match parsed {
                Ok(rules) => {
                    let n = rules.len();
                    lock(&shared.faults).add(rules);
                    Reply::json(200, json!({"added": n}))
                }
                Err(e) => Reply::json(400, json!({"error": format!("invalid fault rules: {e}")})),
            }
        }
        ("DELETE", ["faults"]) => {
            lock(&shared.faults).clear();
            Reply::empty(204)
        }
        _ => Reply::json(
            404,
            json!({"error": format!("no control endpoint {} {}", req.method, req.path)}),
        ),
    }
}

fn set_status(shared: &Arc<Shared>, key: &str, req: &Req) -> Reply {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
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
    let mut st = lock(&shared.state);
    let by = body.get("by").and_then(Value::as_str).unwrap_or("alice");
    let Some(author) = st.user_by_name(by) else {
        return Reply::json(
            400,
            json!({"error": format!("unknown user {by}: use ci-bot, alice or bob")}),
        );
    };
    let Some(idx) = st.find(key) else {
        return Reply::json(404, json!({"error": format!("no issue {key}")}));
    };
    if let Some(idx) = st.move_to(idx, target.id, author) {
        shared.schedule_approver(idx, &st);
    }
    let i = &st.issues[idx];
    Reply::json(200, json!({"key": i.key, "status": i.status_name()}))
}

/// The REST API: one arm per endpoint, so the whole surface reads in one place.
#[allow(clippy::too_many_lines)]
fn rest(shared: &Arc<Shared>, req: &Req, auth: Auth) -> Reply {
    let flavor = shared.args.flavor;
    let not_found = || {
        Reply::json(
            404,
            json!({"message": format!("null for uri: {}{}", shared.base, req.path), "status-code": 404}),
        )
    };
    let Some(rest) = req.path.strip_prefix("/rest/api/") else {
        return not_found();
    };
    let (version, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let v3 = match (version, flavor) {
        ("2" | "latest", _) => false,
        ("3", Flavor::Cloud) => true,
        _ => return not_found(),
    };
    let api = Api { flavor, v3 };
    let segs: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
    let base = shared.base.as_str();
    let user = auth.user();
    let method = req.method.as_str();
    let needs_auth = || Reply::message(401, NOT_AUTHENTICATED);
    if user.is_none()
        && matches!(method, "POST" | "PUT" | "DELETE")
        && segs.first() != Some(&"search")
    {
        return needs_auth();
    }
    match (method, segs.as_slice()) {
        ("GET", ["serverInfo"]) => Reply::json(200, server_info(base, flavor)),
        ("GET", ["myself"]) => match user {
            Some(u) => Reply::json(200, lock(&shared.state).myself(u, base, api)),
            None => needs_auth(),
        },
        ("GET", ["user", "search"]) => match user {
            Some(_) => {
                let q = req
                    .param("query")
                    .or_else(|| req.param("username"))
                    .unwrap_or("");
                Reply::json(200, lock(&shared.state).user_search(q, base, api))
            }
            None => needs_auth(),
        },
        ("GET", ["field"]) => match user {
            Some(_) => Reply::json(
                200,
                Value::Array(state::FIELDS.iter().map(state::FieldDef::details).collect()),
            ),
            None => needs_auth(),
        },
        ("GET", ["project", key]) => {
            let project = user.and_then(|_| lock(&shared.state).project_json(key, base, api));
            project.map_or_else(
                || Reply::message(404, &format!("No project could be found with key '{key}'.")),
                |p| Reply::json(200, p),
            )
        }
        ("GET", ["project", key, "statuses"]) => {
            let statuses = user.and_then(|_| lock(&shared.state).project_statuses(key, base, api));
            statuses.map_or_else(
                || Reply::message(404, &format!("No project could be found with key '{key}'.")),
                |p| Reply::json(200, p),
            )
        }
        ("GET", ["issue", "createmeta"]) => match (flavor, user) {
            (Flavor::Datacenter, _) => Reply::message(404, "Issue Does Not Exist"),
            (Flavor::Cloud, Some(_)) => {
                Reply::json(200, lock(&shared.state).createmeta_old(base, api))
            }
            (Flavor::Cloud, None) => needs_auth(),
        },
        ("GET", ["issue", "createmeta", project, "issuetypes"]) => match user {
            Some(_) => lock(&shared.state)
                .createmeta_types(project, base, api)
                .into(),
            None => needs_auth(),
        },
        ("GET", ["issue", "createmeta", project, "issuetypes", type_id]) => match user {
            Some(_) => lock(&shared.state)
                .createmeta_fields(project, type_id, base, api)
                .into(),
            None => needs_auth(),
        },
        ("POST", ["issue"]) => create(shared, req, api),
        ("GET", ["issue", key]) => get_issue(shared, req, key, user, api),
        ("PUT", ["issue", key]) => {
            let body = match req.json() {
                Ok(b) => b,
                Err(e) => return Reply::error(&e),
            };
            match lock(&shared.state).edit(key, &body, api, user.unwrap_or(BOT)) {
                Ok(()) => Reply::empty(204),
                Err(e) => Reply::error(&e),
            }
        }
        ("GET", ["issue", key, "changelog"]) if flavor == Flavor::Cloud => {
            if user.is_none() {
                return Reply::message(404, state::ISSUE_NOT_FOUND);
            }
            let start = req
                .param("startAt")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let max = req
                .param("maxResults")
                .and_then(|s| s.parse().ok())
                .unwrap_or(100)
                .clamp(1, 100);
            lock(&shared.state)
                .changelog_page(key, start, max, base, api)
                .into()
        }
        ("POST", ["issue", key, "comment"]) => {
            let result = req.json().and_then(|b| {
                lock(&shared.state).add_comment(key, &b, base, api, user.unwrap_or(BOT))
            });
            match result {
                Ok(c) => Reply::json(201, c),
                Err(e) => Reply::error(&e),
            }
        }
        ("GET", ["issue", key, "editmeta"]) => match user {
            Some(_) => lock(&shared.state).editmeta(key, base, api).into(),
            None => Reply::message(404, state::ISSUE_NOT_FOUND),
        },
        ("GET", ["issue", key, "transitions"]) => match user {
            Some(_) => lock(&shared.state).transitions(key, base, api).into(),
            None => Reply::message(404, state::ISSUE_NOT_FOUND),
        },
        ("POST", ["issue", key, "transitions"]) => {
            let body = match req.json() {
                Ok(b) => b,
                Err(e) => return Reply::error(&e),
            };
            let mut st = lock(&shared.state);
            match st.do_transition(key, &body, api, user.unwrap_or(BOT)) {
                Ok(entered) => {
                    if let Some(idx) = entered {
                        shared.schedule_approver(idx, &st);
                    }
                    Reply::empty(204)
                }
                Err(e) => Reply::error(&e),
            }
        }
        ("GET" | "POST", ["search", "jql"]) if flavor == Flavor::Cloud => {
            search(shared, req, user, api)
        }
        ("GET" | "POST", ["search"]) => match flavor {
            Flavor::Cloud => Reply::message(410, SEARCH_REMOVED),
            Flavor::Datacenter => search(shared, req, user, api),
        },
        _ => not_found(),
    }
}

fn server_info(base: &str, flavor: Flavor) -> Value {
    let now = state::jira_time(SystemTime::now());
    let (version, numbers, deployment, build) = match flavor {
        Flavor::Cloud => ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud", 100_289),
        Flavor::Datacenter => ("10.3.13", [10, 3, 13], "Server", 10_030_013),
    };
    json!({
        "baseUrl": base, "version": version, "versionNumbers": numbers, "deploymentType": deployment,
        "buildNumber": build, "buildDate": "2026-01-15T00:00:00.000+0000", "serverTime": now,
        "scmInfo": "0000000000000000000000000000000000000000", "serverTitle": "jira-gate sandbox",
        "defaultLocale": {"locale": "en_US"},
    })
}

fn create(shared: &Arc<Shared>, req: &Req, api: Api) -> Reply {
    let body = match req.json() {
        Ok(b) => b,
        Err(e) => return Reply::error(&e),
    };
    let mut st = lock(&shared.state);
    match st.create(&body, api) {
        Ok(idx) => {
            let i = &st.issues[idx];
            let v = if api.v3 { 3 } else { 2 };
            Reply::json(
                201,
                json!({"id": i.id.to_string(), "key": i.key, "self": format!("{}/rest/api/{v}/issue/{}", shared.base, i.id)}),
            )
        }
        Err(e) => Reply::error(&e),
    }
}

fn get_issue(shared: &Shared, req: &Req, key: &str, user: Option<usize>, api: Api) -> Reply {
    let st = lock(&shared.state);
    let Some(idx) = st.find(key).filter(|_| user.is_some()) else {
        return Reply::message(404, state::ISSUE_NOT_FOUND);
    };
    let sel = FieldSel::parse(req.params("fields"), FieldSel::All);
    let changelog = req
        .params("expand")
        .any(|e| e.split(',').any(|x| x.trim() == "changelog"));
    Reply::json(200, st.issue_json(idx, &sel, changelog, &shared.base, api))
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

fn search(shared: &Shared, req: &Req, user: Option<usize>, api: Api) -> Reply {
    let cloud = api.flavor == Flavor::Cloud;
    let default = if cloud {
        FieldSel::IdOnly
    } else {
        FieldSel::All
    };
    let p = match search_params(req, default) {
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
    let st = lock(&shared.state);
    let lag = shared.args.search_lag;
    let mut hits: Vec<usize> = (0..st.issues.len())
        .filter(|_| user.is_some())
        .filter(|&i| {
            st.issues[i].changed_at.elapsed() >= lag && query.matches(&st.issues[i], &st.project)
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
            st.issue_json(i, &p.fields, p.changelog, &shared.base, api)
        }
    };
    if cloud {
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
    fn query_decoding() {
        assert_eq!(
            parse_query("jql=project+%3D+OPS%20AND%20labels%3D%22a%22&fields=status,resolution&x"),
            vec![
                (
                    "jql".to_owned(),
                    "project = OPS AND labels=\"a\"".to_owned()
                ),
                ("fields".to_owned(), "status,resolution".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn page_tokens_round_trip() {
        let t = BASE64.encode("sandbox-offset:50");
        assert_eq!(decode_token(&t), Some(50));
        assert_eq!(decode_token("garbage"), None);
    }
}
