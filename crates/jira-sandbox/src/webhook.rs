//! `--webhook URL`: the sandbox posts a Jira-shaped `jira:issue_updated` event to a URL on every
//! status change, signed the way Jira signs webhooks with a secret (`X-Hub-Signature:
//! sha256=<hex>`, HMAC-SHA256 of the body). Each post is fire-and-forget on its own task, and
//! `--webhook-drop` loses a seeded share of them, so a client's safety net can be tested.
//!
//! This is the sandbox's own code: it never shares the client's verifier.

use hmac::{Hmac, Mac};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// Where and how to send events.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub url: String,
    pub secret: Option<String>,
    /// Share of events not sent (0.0 to 1.0).
    pub drop: f64,
    pub seed: u64,
}

/// The body of a `jira:issue_updated` event for a status change.
pub(crate) fn status_changed(
    issue: (u64, &str),
    status: (&str, &str),
    from: &str,
    to: &str,
    now_ms: u128,
) -> Value {
    json!({
        "timestamp": u64::try_from(now_ms).unwrap_or(u64::MAX),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "issue": {"id": issue.0.to_string(), "key": issue.1, "fields": {"status": {"id": status.0, "name": status.1}}},
        "changelog": {"id": "1", "items": [
            {"field": "status", "fieldtype": "jira", "fromString": from, "toString": to}
        ]},
    })
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(e) => return format!("sha256=invalid-key-{e}"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Starts the sender on the current runtime; events sent to the returned channel are posted.
pub(crate) fn start(target: Target) -> UnboundedSender<Value> {
    let (tx, mut rx) = unbounded_channel::<Value>();
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut rng = StdRng::seed_from_u64(target.seed ^ 0x5745_4248_4f4f_4b53);
        while let Some(event) = rx.recv().await {
            let key = event["issue"]["key"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if target.drop > 0.0 && rng.gen_bool(target.drop.min(1.0)) {
                tracing::info!("sandbox: dropped the webhook about {key} (--webhook-drop)");
                continue;
            }
            let body = event.to_string().into_bytes();
            let mut request = client
                .post(&target.url)
                .header("content-type", "application/json");
            if let Some(secret) = &target.secret {
                request = request.header("x-hub-signature", signature(secret, &body));
            }
            let request = request.body(body);
            tokio::spawn(async move {
                match request.send().await {
                    Ok(answer) => tracing::info!(
                        "sandbox: webhook about {key} answered {}",
                        answer.status().as_u16()
                    ),
                    Err(e) => tracing::info!("sandbox: webhook about {key} failed: {e}"),
                }
            });
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn signs_like_jira() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
