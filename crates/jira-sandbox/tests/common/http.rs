//! The HTTP side of the test harness: a blocking client for one running sandbox and the requests
//! the tests repeat (authenticated calls, issue creation, the `/_sandbox/` control endpoints).
//!
//! Shared by the sandbox crate's tests (which start the sandbox in-process) and jira-gate's end to
//! end tests (which run `jira-gate sandbox` as a process); they include this file by path.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

/// A client for the sandbox at `base`.
pub struct SandboxHttp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `true` for `--flavor datacenter`.
    pub datacenter: bool,
    client: Client,
}

impl SandboxHttp {
    /// A client for the sandbox at `base` (no proxy, 10 s timeout).
    pub fn new(base: String, datacenter: bool) -> Self {
        let client = Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        Self {
            base,
            datacenter,
            client,
        }
    }

    /// The HTTP client (no proxy, 10 s timeout).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The REST prefix of the flavor's main API: `/rest/api/3` on Cloud, `/rest/api/2` on DC.
    pub fn api(&self) -> &'static str {
        if self.datacenter {
            "/rest/api/2"
        } else {
            "/rest/api/3"
        }
    }

    /// Adds the default credentials of the flavor (Cloud Basic email:token, DC Bearer PAT).
    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        if self.datacenter {
            rb.bearer_auth("sandbox-pat")
        } else {
            rb.basic_auth("ci-bot@example.com", Some("sandbox-token"))
        }
    }

    /// An authenticated GET of `path`.
    pub fn get(&self, path: &str) -> Response {
        self.auth(self.client.get(self.url(path)))
            .send()
            .expect("GET")
    }

    /// An authenticated GET of `path`, parsed as JSON, asserting `status`.
    pub fn get_json(&self, path: &str, status: u16) -> Value {
        let r = self.get(path);
        assert_eq!(r.status().as_u16(), status, "GET {path}");
        r.json().expect("JSON body")
    }

    /// An authenticated request with a JSON body; returns status and body (`Null` when empty).
    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = self
            .auth(self.client.request(m, self.url(path)))
            .json(body)
            .send()
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().expect("body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON body")
            },
        )
    }

    /// Creates an issue of type Change with `summary` and extra `fields`; returns its key.
    pub fn create(&self, summary: &str, labels: &[&str]) -> String {
        let body = serde_json::json!({"fields": {
            "project": {"key": "OPS"}, "issuetype": {"name": "Change"}, "summary": summary, "labels": labels,
        }});
        let (status, v) = self.send("POST", &format!("{}/issue", self.api()), &body);
        assert_eq!(status, 201, "{v}");
        v["key"].as_str().expect("key").to_owned()
    }

    /// Applies transition `id` to `key`, asserting 204.
    pub fn transition(&self, key: &str, id: &str) {
        let (status, v) = self.send(
            "POST",
            &format!("{}/issue/{key}/transitions", self.api()),
            &serde_json::json!({"transition": {"id": id}}),
        );
        assert_eq!(status, 204, "{v}");
    }

    /// The current status name of `key`.
    pub fn status_of(&self, key: &str) -> String {
        let v = self.get_json(&format!("{}/issue/{key}?fields=status", self.api()), 200);
        v["fields"]["status"]["name"]
            .as_str()
            .expect("status name")
            .to_owned()
    }

    /// `GET /_sandbox/issues`.
    pub fn issues(&self) -> Vec<Value> {
        self.control("GET", "/_sandbox/issues", None)
            .1
            .as_array()
            .cloned()
            .expect("array")
    }

    /// `POST /_sandbox/issues/{key}/status` by Alice.
    pub fn set_status(&self, key: &str, status: &str) {
        self.set_status_by(key, status, "alice");
    }

    /// `POST /_sandbox/issues/{key}/status` by `by`.
    pub fn set_status_by(&self, key: &str, status: &str, by: &str) {
        let body = serde_json::json!({"status": status, "by": by});
        let (code, v) = self.control(
            "POST",
            &format!("/_sandbox/issues/{key}/status"),
            Some(&body),
        );
        assert_eq!(code, 200, "{v}");
    }

    /// `GET /_sandbox/requests`.
    pub fn requests(&self) -> Vec<Value> {
        self.control("GET", "/_sandbox/requests", None)
            .1
            .as_array()
            .cloned()
            .expect("array")
    }

    /// The request log as `METHOD /path` (no query), in order.
    pub fn request_lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or_default(),
                    r["path"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    /// `POST /_sandbox/faults` with a rule or an array of rules.
    pub fn add_faults(&self, rules: &Value) {
        let (code, v) = self.control("POST", "/_sandbox/faults", Some(rules));
        assert_eq!(code, 200, "{v}");
    }

    /// `DELETE /_sandbox/faults`.
    pub fn clear_faults(&self) {
        assert_eq!(self.control("DELETE", "/_sandbox/faults", None).0, 204);
    }

    /// `DELETE /_sandbox/issues/{key}`; returns the status.
    pub fn delete_issue(&self, key: &str) -> u16 {
        self.control("DELETE", &format!("/_sandbox/issues/{key}"), None)
            .0
    }

    fn control(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.client.request(m, self.url(path));
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().expect("control request");
        let status = r.status().as_u16();
        let text = r.text().expect("body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON")
            },
        )
    }
}
