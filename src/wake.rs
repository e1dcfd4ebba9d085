//! The webhook listener of `approval.wake` (SPEC section 10): Jira posts an event, the listener
//! verifies it, and an event about the gate's issue wakes the wait for an immediate read.
//!
//! The payload never decides: it only names an issue, and the wait reads that issue from Jira as
//! usual. Wake-ups ring a [`Bell`], which counts them; the wait reads once per burst (after
//! [`crate::poll::DEBOUNCE`]) and once more only for events that came during that read. The listener is bound before the ticket is written (no event is missed)
//! and closed when the [`Listener`] is dropped, with the step.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value as Json;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::poll::Bell;
use crate::stanza::{Wake, WakeCheck};

/// The largest body read; a longer one is refused with 413 without being buffered.
pub const MAX_BODY: usize = 1024 * 1024;
/// The header Jira's webhooks sign the body in.
pub const SIGNATURE_HEADER: &str = "x-hub-signature";
/// The header a Jira Automation rule sends the shared token in.
pub const TOKEN_HEADER: &str = "x-jira-gate-token";

/// A bound listener; dropping it closes the port and ends every open connection.
#[derive(Debug)]
pub struct Listener {
    /// Wakes the wait; rung once per verified event about the issue.
    pub bell: Arc<Bell>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    /// Where it listens (the actual port when the stanza wrote 0).
    pub addr: SocketAddr,
}

#[derive(Debug)]
struct Shared {
    path: String,
    check: WakeCheck,
    bell: Arc<Bell>,
    /// The issue's key and id once known; until then every verified event wakes the wait.
    issue: Mutex<Option<(String, String)>>,
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot listen for Jira webhooks on {addr}: {source} (hint: pick a free port in approval.wake.listen, one this runner may bind)"
)]
pub struct BindError {
    addr: SocketAddr,
    source: std::io::Error,
}

impl Listener {
    /// Binds `wake.listen` and starts serving on the current runtime.
    pub async fn bind(wake: &Wake) -> Result<Listener, BindError> {
        let socket = TcpListener::bind(wake.listen)
            .await
            .map_err(|source| BindError {
                addr: wake.listen,
                source,
            })?;
        let addr = socket.local_addr().unwrap_or(wake.listen);
        let bell = Arc::new(Bell::default());
        let shared = Arc::new(Shared {
            path: wake.path.clone(),
            check: wake.check.clone(),
            bell: Arc::clone(&bell),
            issue: Mutex::new(None),
        });
        tracing::info!("listening for Jira webhooks on http://{addr}{}", wake.path);
        let task = tokio::spawn(serve(socket, Arc::clone(&shared)));
        Ok(Listener {
            bell,
            shared,
            task,
            addr,
        })
    }

    /// From now on only events naming this issue (by key or id) wake the wait.
    pub fn watch(&self, key: &str, id: &str) {
        if let Ok(mut issue) = self.shared.issue.lock() {
            *issue = Some((key.to_owned(), id.to_owned()));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections until aborted; the connections live in a set aborted with it.
async fn serve(socket: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = match socket.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a moment rather than spin.
                tracing::debug!("webhook listener: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(req, &shared, peer).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!("webhook connection from {peer}: {e}");
            }
        });
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
    }
    response
}

/// One request: the path, the method, the size, the proof, then the issue it names.
async fn handle(
    req: Request<Incoming>,
    shared: &Shared,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    if req.uri().path() != shared.path {
        return answer(StatusCode::NOT_FOUND, "not found");
    }
    if req.method() != Method::POST {
        return answer(StatusCode::METHOD_NOT_ALLOWED, "only POST");
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (signature, token) = (header(SIGNATURE_HEADER), header(TOKEN_HEADER));
    let announced = header(hyper::header::CONTENT_LENGTH.as_str()).and_then(|n| n.parse().ok());
    if announced.is_some_and(|n: usize| n > MAX_BODY) {
        tracing::warn!("webhook from {peer}: refused a body announced over 1 MiB");
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB");
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            tracing::warn!("webhook from {peer}: refused a body over 1 MiB");
            return answer(StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB");
        }
        Err(e) => {
            tracing::debug!("webhook from {peer}: reading the body failed: {e}");
            return answer(StatusCode::BAD_REQUEST, "unreadable body");
        }
    };
    let verified = match &shared.check {
        WakeCheck::Signature(key) => {
            verify_signature(key.expose().as_bytes(), &body, signature.as_deref())
        }
        WakeCheck::Token(expected) => verify_token(expected.expose(), token.as_deref()),
    };
    if let Err(why) = verified {
        tracing::warn!("webhook from {peer}: {why}; answered 401, not waking");
        return answer(StatusCode::UNAUTHORIZED, "not verified");
    }
    let Some(event) = parse_event(&body) else {
        tracing::warn!("webhook from {peer}: verified, but the body is not a JSON object; ignored");
        return answer(StatusCode::BAD_REQUEST, "not a JSON object");
    };
    let watched = shared.issue.lock().ok().and_then(|i| i.clone());
    // Escaped: even a verified sender writes only one log line.
    let name = event.name.as_deref().unwrap_or("event").escape_debug();
    let about = event
        .key
        .as_deref()
        .or(event.id.as_deref())
        .unwrap_or("no issue")
        .escape_debug();
    match watched {
        Some((key, id)) if !event.names(&key, &id) => {
            tracing::info!("webhook: {name} about {about}, not {key}; ignored");
        }
        Some((key, _)) => {
            tracing::info!("webhook: {name} about {key}; reading it now");
            shared.bell.ring();
        }
        None => {
            tracing::info!("webhook: {name} about {about} before the ticket is known; reading it");
            shared.bell.ring();
        }
    }
    answer(StatusCode::ACCEPTED, "accepted")
}

/// Why a request does not verify (never naming the secret or the value sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No signature or token header.
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    Malformed,
    /// The signature or token is wrong.
    Wrong,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Missing => "no signature or token header",
            Refusal::Malformed => "a malformed signature header (want `sha256=<hex>`)",
            Refusal::Wrong => "a signature or token that does not verify",
        })
    }
}

/// Checks `X-Hub-Signature: sha256=<hex>` against the HMAC-SHA256 of `body` under `key`, in
/// constant time (`verify_slice`).
pub fn verify_signature(key: &[u8], body: &[u8], header: Option<&str>) -> Result<(), Refusal> {
    let header = header.ok_or(Refusal::Missing)?;
    let hex_digits = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(Refusal::Malformed)?;
    let given = hex::decode(hex_digits).map_err(|_| Refusal::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Refusal::Wrong)?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| Refusal::Wrong)
}

/// Compares the `X-Jira-Gate-Token` header with the expected token in constant time: both are
/// hashed with HMAC under the expected token, and the digests compared by `verify_slice`.
pub fn verify_token(expected: &str, header: Option<&str>) -> Result<(), Refusal> {
    let given = header.ok_or(Refusal::Missing)?;
    let digest = |value: &str| {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(expected.as_bytes()).map_err(|_| Refusal::Wrong)?;
        mac.update(value.as_bytes());
        Ok::<_, Refusal>(mac)
    };
    let given = digest(given.trim())?.finalize().into_bytes();
    digest(expected)?
        .verify_slice(&given)
        .map_err(|_| Refusal::Wrong)
}

/// What a webhook body says, read leniently: the event's name and the issue it is about.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Event {
    /// `webhookEvent`, e.g. `jira:issue_updated`.
    pub name: Option<String>,
    /// `issue.key`.
    pub key: Option<String>,
    /// `issue.id` (a string in Jira's webhooks, a number in some Automation bodies).
    pub id: Option<String>,
}

impl Event {
    /// Whether it names the issue with this key or id (keys compare case-insensitively).
    pub fn names(&self, key: &str, id: &str) -> bool {
        self.key
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case(key))
            || (!id.is_empty() && self.id.as_deref() == Some(id))
    }
}

/// Parses a webhook body; `None` unless it is a JSON object. Never panics.
pub fn parse_event(body: &[u8]) -> Option<Event> {
    let json: Json = serde_json::from_slice(body).ok()?;
    let object = json.as_object()?;
    let text = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let issue = object.get("issue");
    Some(Event {
        name: object
            .get("webhookEvent")
            .and_then(Json::as_str)
            .map(str::to_owned),
        key: issue.and_then(|i| i.get("key")).and_then(text),
        id: issue.and_then(|i| i.get("id")).and_then(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sign(key: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn signatures_verify_only_when_right() {
        let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
        let good = sign(b"s3cret", body);
        assert_eq!(verify_signature(b"s3cret", body, Some(&good)), Ok(()));
        assert_eq!(
            verify_signature(b"other", body, Some(&good)),
            Err(Refusal::Wrong)
        );
        assert_eq!(
            verify_signature(b"s3cret", b"{}", Some(&good)),
            Err(Refusal::Wrong),
            "a changed body"
        );
        assert_eq!(
            verify_signature(b"s3cret", body, None),
            Err(Refusal::Missing)
        );
        let bare = good.trim_start_matches("sha256=");
        assert_eq!(
            verify_signature(b"s3cret", body, Some(bare)),
            Err(Refusal::Malformed),
            "no prefix"
        );
        assert_eq!(
            verify_signature(b"s3cret", body, Some(&format!("sha1={bare}"))),
            Err(Refusal::Malformed),
            "wrong prefix"
        );
        assert_eq!(
            verify_signature(b"s3cret", body, Some(&good[..good.len() - 1])),
            Err(Refusal::Malformed),
            "odd hex"
        );
        assert_eq!(
            verify_signature(b"s3cret", body, Some("sha256=zz")),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify_signature(b"s3cret", body, Some(&good[..good.len() - 2])),
            Err(Refusal::Wrong),
            "a short digest"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert_eq!(verify_token("t0ken", Some("t0ken")), Ok(()));
        assert_eq!(verify_token("t0ken", Some("t0ke")), Err(Refusal::Wrong));
        assert_eq!(verify_token("t0ken", Some("")), Err(Refusal::Wrong));
        assert_eq!(verify_token("t0ken", None), Err(Refusal::Missing));
    }

    #[test]
    fn events_name_their_issue_by_key_or_id() {
        let event = parse_event(
            br#"{"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"OPS-7"}}"#,
        )
        .unwrap();
        assert_eq!(event.name.as_deref(), Some("jira:issue_updated"));
        assert!(event.names("OPS-7", ""));
        assert!(event.names("ops-7", "1"));
        assert!(event.names("OPS-8", "10001"));
        assert!(!event.names("OPS-8", "10002"));
        let numeric = parse_event(br#"{"issue":{"id":10001}}"#).unwrap();
        assert!(numeric.names("OPS-8", "10001"));
        assert!(!numeric.names("OPS-8", ""));
        assert_eq!(parse_event(b"[1]"), None);
        assert_eq!(parse_event(b"{"), None);
        assert_eq!(parse_event(b"{}"), Some(Event::default()));
    }

    proptest! {
        #[test]
        fn the_verifier_never_panics(
            key in proptest::collection::vec(any::<u8>(), 0..80),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            header in proptest::option::of(".{0,80}"),
        ) {
            let _ = verify_signature(&key, &body, header.as_deref());
            let _ = verify_token(&String::from_utf8_lossy(&key), header.as_deref());
            let _ = parse_event(&body);
        }

        #[test]
        fn a_right_signature_always_verifies(
            key in proptest::collection::vec(any::<u8>(), 0..80),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let signature = sign(&key, &body);
            prop_assert_eq!(verify_signature(&key, &body, Some(&signature)), Ok(()));
        }
    }
}
