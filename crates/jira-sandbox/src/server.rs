//! The sandbox's HTTP side: the hyper accept loop, authentication, fault application, the request
//! log and the rendering of every answer. Routing is `routes/` (axum's router, by resource).
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

use crate::faults::{Fault, Faults};
use crate::routes::Routes;
use crate::state::{ALICE, APPROVED, AWAITING, Api, BOB, BOT, JiraError, REJECTED, State};
use crate::{Args, DelayRange, Flavor};

const JSON_TYPE: &str = "application/json;charset=UTF-8";

/// Everything the connections share.
pub(crate) struct Shared {
    /// The configuration.
    pub args: Args,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The issues and users.
    pub state: Mutex<State>,
    /// The fault injector.
    pub faults: Mutex<Faults>,
    /// The request log.
    pub log: Mutex<Vec<LogEntry>>,
    routes: Routes,
    started: Instant,
    request_ids: AtomicU64,
}

/// One line of the request log (`GET /_sandbox/requests`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogEntry {
    t_ms: u64,
    method: String,
    path: String,
    query: String,
    /// The status sent; `null` when the connection was dropped.
    status: Option<u16>,
    /// The fault applied, if any.
    fault: Option<String>,
}

/// Locks a mutex; a panic elsewhere while it was held does not stop the sandbox.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
            routes: Routes::new(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Schedules the scripted approver for an issue that just entered "Awaiting approval".
    pub fn schedule_approver(self: &Arc<Self>, idx: usize, st: &State) {
        let issue = &st.issues[idx];
        let (id, round) = (issue.id, issue.approval_round);
        let mut rng =
            StdRng::seed_from_u64(self.args.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ round);
        let approve = self
            .args
            .approve_after
            .iter()
            .find(|a| a.name.is_none())
            .map(|a| pick(a.delay, &mut rng));
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

impl Shared {
    /// Schedules the named approvers (`--approve-after NAME=…`, `--decline-after NAME=…`) on the
    /// approval of a service desk request just created; each answers if it is still pending.
    pub fn schedule_desk_approvers(self: &Arc<Self>, issue_id: u64) {
        let mut rng =
            StdRng::seed_from_u64(self.args.seed ^ issue_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let scripted = self
            .args
            .approve_after
            .iter()
            .map(|a| (a, "approve"))
            .chain(self.args.decline_after.iter().map(|a| (a, "decline")));
        for (who, verb) in scripted {
            let Some(name) = who.name.clone() else {
                continue;
            };
            let delay = pick(who.delay, &mut rng);
            let shared = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut st = lock(&shared.state);
                let (Some(user), Some(idx)) = (
                    st.user_by_name(&name),
                    st.issues.iter().position(|i| i.id == issue_id),
                ) else {
                    return;
                };
                let key = st.issues[idx].key.clone();
                let api = Api {
                    flavor: shared.args.flavor,
                    v3: false,
                };
                // An approval already complete, or an answer already given, is left as it is.
                let _ = st.answer(&key, None, user, verb, &shared.base, api);
            });
        }
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
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Html(String),
    Empty,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// An HTML page.
    pub fn html(status: u16, page: String) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Html(page),
        }
    }

    /// Jira's `ErrorCollection` for `e`.
    pub fn error(e: &JiraError) -> Self {
        Self::json(e.status, e.body())
    }

    /// An `ErrorCollection` with one message.
    pub fn message(status: u16, message: &str) -> Self {
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
pub(crate) enum Auth {
    User(usize),
    /// Credentials were sent and are wrong.
    Failed,
    Anonymous,
}

impl Auth {
    /// The user, when the credentials were right.
    pub fn user(self) -> Option<usize> {
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
pub(crate) struct Req {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, not decoded.
    pub path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Req {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter.
    pub fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when empty), or Jira's 400.
    pub fn json(&self) -> Result<Value, JiraError> {
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
    let req = Arc::new(req);
    if Routes::is_local(&req.path) {
        let reply = shared.routes.local(&shared, req).await;
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
            let _ = shared.routes.rest(&shared, req, auth).await;
            Err(Dropped)
        }
        Some(Fault::Late(d)) => {
            let reply = shared.routes.rest(&shared, req, auth).await;
            tokio::time::sleep(d).await;
            Ok(respond(&shared, reply, &auth_headers, false))
        }
        Some(Fault::Huge) => {
            let mut resp = Response::new(Huge { sent: 0 }.boxed());
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static(JSON_TYPE));
            Ok(resp)
        }
        Some(Fault::Truncate) => {
            let reply = shared.routes.rest(&shared, req, auth).await;
            Ok(respond(&shared, reply, &auth_headers, true))
        }
        Some(Fault::Delay(_)) | None => {
            let reply = shared.routes.rest(&shared, req, auth).await;
            Ok(respond(&shared, reply, &auth_headers, false))
        }
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
}
