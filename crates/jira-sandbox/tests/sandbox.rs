//! Tests of the sandbox over real HTTP: each starts one on 127.0.0.1:0 and speaks to it as a client.
#![allow(clippy::many_single_char_names)]

mod common;

use std::time::{Duration, Instant};

use common::TestSandbox;
use serde_json::{Value, json};

const NOT_AUTH: &str =
    r#"{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}"#;
const NOT_FOUND: &str = r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#;

fn header(r: &reqwest::blocking::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn cloud_auth_and_anonymous_fallback() {
    let sb = TestSandbox::cloud(&[]);
    let c = sb.client();
    let info: Value = c
        .get(sb.url("/rest/api/2/serverInfo"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["deploymentType"], "Cloud");
    assert_eq!(info["version"], "1001.0.0-SNAPSHOT");

    let ok = sb.get("/rest/api/3/myself");
    assert_eq!(ok.status(), 200);
    assert!(header(&ok, "X-AAccountId").is_some());
    assert!(header(&ok, "X-AREQUESTID").is_some());
    assert_eq!(
        header(&ok, "content-type").unwrap(),
        "application/json;charset=UTF-8"
    );
    let me: Value = ok.json().unwrap();
    assert_eq!(me["displayName"], "CI Bot");
    assert_eq!(me["emailAddress"], "ci-bot@example.com");

    let none = c.get(sb.url("/rest/api/3/myself")).send().unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.text().unwrap(), NOT_AUTH);

    let bad = |path: &str| {
        c.get(sb.url(path))
            .basic_auth("ci-bot@example.com", Some("wrong"))
    };
    let r = bad("/rest/api/3/myself").send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "X-Seraph-LoginReason").as_deref(),
        Some("AUTHENTICATED_FAILED")
    );
    assert!(header(&r, "X-AAccountId").is_none());

    let key = sb.create("auth", &[]);
    let r = bad(&format!("/rest/api/3/issue/{key}")).send().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        header(&r, "X-Seraph-LoginReason").as_deref(),
        Some("AUTHENTICATED_FAILED")
    );
    assert_eq!(r.text().unwrap(), NOT_FOUND);
    let r = bad("/rest/api/3/search/jql?jql=project%3DOPS")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["issues"], json!([]));
    let r = c
        .post(sb.url("/rest/api/3/issue"))
        .basic_auth("ci-bot@example.com", Some("wrong"))
        .json(&json!({"fields": {}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // A Data Center PAT means nothing to Cloud.
    let r = c
        .get(sb.url("/rest/api/3/myself"))
        .bearer_auth("sandbox-pat")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn datacenter_auth_versions_and_headers() {
    let sb = TestSandbox::datacenter(&[]);
    let c = sb.client();
    let info: Value = c
        .get(sb.url("/rest/api/2/serverInfo"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["deploymentType"], "Server");
    assert_eq!(info["version"], "10.3.13");
    assert_eq!(info["versionNumbers"], json!([10, 3, 13]));

    let r = sb.get("/rest/api/2/myself");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "X-AUSERNAME").as_deref(), Some("ci-bot"));
    let me: Value = r.json().unwrap();
    assert_eq!(me["name"], "ci-bot");
    assert!(me["key"].is_string());
    assert!(me.get("accountId").is_none());

    let basic = c
        .get(sb.url("/rest/api/2/myself"))
        .basic_auth("ci-bot", Some("sandbox-password"))
        .send()
        .unwrap();
    assert_eq!(basic.status(), 200);
    // A PAT is not a password.
    let r = c
        .get(sb.url("/rest/api/2/myself"))
        .basic_auth("ci-bot", Some("sandbox-pat"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(sb.url("/rest/api/2/myself"))
        .bearer_auth("nope")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "X-AUSERNAME").as_deref(), Some("anonymous"));
    assert_eq!(r.text().unwrap(), NOT_AUTH);

    assert_eq!(sb.get("/rest/api/3/myself").status(), 404);
    assert_eq!(sb.get("/rest/api/latest/myself").status(), 200);
}

#[test]
fn custom_credentials() {
    let sb = TestSandbox::cloud(&["--user", "bot@corp.example", "--token", "t0ken"]);
    let c = sb.client();
    let r = c
        .get(sb.url("/rest/api/3/myself"))
        .basic_auth("bot@corp.example", Some("t0ken"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sb.get("/rest/api/3/myself").status(), 401);
    let dc = TestSandbox::datacenter(&["--pat", "p4t", "--user", "deployer", "--password", "pw"]);
    let r = dc
        .client()
        .get(dc.url("/rest/api/2/myself"))
        .bearer_auth("p4t")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "X-AUSERNAME").as_deref(), Some("deployer"));
    let r = dc
        .client()
        .get(dc.url("/rest/api/2/myself"))
        .basic_auth("deployer", Some("pw"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

#[test]
// One issue's life, step by step: each step depends on the state the previous one left.
#[allow(clippy::too_many_lines)]
fn cloud_create_get_edit_comment_and_rich_text_rules() {
    let sb = TestSandbox::cloud(&[]);
    let (status, created) = sb.send(
        "POST",
        "/rest/api/3/issue",
        &json!({"fields": {
            "project": {"key": "OPS"}, "issuetype": {"id": "10002"}, "summary": "Deploy svc 1.2",
            "description": adf("Pipeline 42 waits."), "labels": ["deploy", "corr-1"],
            "priority": {"name": "High"}, "customfield_10050": {"value": "Low"},
            "customfield_10051": adf("notes"), "customfield_10052": [{"accountId": "5b10a2844c20165700ede21a"}],
            "customfield_10053": 3.5, "customfield_10054": [{"value": "dev"}, {"id": "10112"}],
            "customfield_10055": "REF-1", "duedate": "2026-12-01",
            "customfield_10060": "2026-12-05T02:00:00.000+0100",
            "assignee": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
        }}),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["key"], "OPS-1");
    assert!(
        created["self"]
            .as_str()
            .unwrap()
            .ends_with("/rest/api/3/issue/10000")
    );

    let v3 = sb.get_json("/rest/api/3/issue/OPS-1", 200);
    let f = &v3["fields"];
    assert_eq!(f["status"]["name"], "To Do");
    assert_eq!(f["status"]["statusCategory"]["key"], "new");
    assert_eq!(f["description"], adf("Pipeline 42 waits."));
    assert_eq!(f["customfield_10051"], adf("notes"));
    assert_eq!(f["customfield_10050"]["value"], "Low");
    assert_eq!(f["customfield_10054"][1]["value"], "production");
    assert_eq!(f["customfield_10052"][0]["displayName"], "Alice Approver");
    assert_eq!(f["customfield_10053"], 3.5);
    assert_eq!(f["customfield_10060"], "2026-12-05T02:00:00.000+0100");
    assert_eq!(f["priority"]["name"], "High");
    assert_eq!(f["resolution"], Value::Null);
    assert_eq!(f["reporter"]["displayName"], "CI Bot");
    let v2 = sb.get_json("/rest/api/2/issue/OPS-1?fields=description,labels", 200);
    assert_eq!(
        v2["fields"],
        json!({"description": "Pipeline 42 waits.", "labels": ["deploy", "corr-1"]})
    );

    // Plain strings on v3 and ADF on v2 are refused, as Jira does.
    let (s, e) = sb.send(
        "PUT",
        "/rest/api/3/issue/OPS-1",
        &json!({"fields": {"description": "plain"}}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"errorMessages": [], "errors": {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}})
    );
    let (s, _) = sb.send(
        "PUT",
        "/rest/api/2/issue/OPS-1",
        &json!({"fields": {"description": adf("x")}}),
    );
    assert_eq!(s, 400);

    let (s, e) = sb.send(
        "PUT",
        "/rest/api/3/issue/OPS-1",
        &json!({"fields": {"summary": "Deploy svc 1.3"},
                "update": {"labels": [{"add": "approved-by-ci"}, {"remove": "corr-1"}], "comment": [{"add": {"body": adf("edited")}}]}}),
    );
    assert_eq!(s, 204, "{e}");
    let v = sb.get_json("/rest/api/3/issue/OPS-1?fields=summary,labels,comment", 200);
    assert_eq!(v["fields"]["summary"], "Deploy svc 1.3");
    assert_eq!(v["fields"]["labels"], json!(["deploy", "approved-by-ci"]));
    assert_eq!(v["fields"]["comment"]["comments"][0]["body"], adf("edited"));

    let (s, c) = sb.send(
        "POST",
        "/rest/api/3/issue/OPS-1/comment",
        &json!({"body": adf("hello")}),
    );
    assert_eq!(s, 201);
    assert_eq!(c["body"], adf("hello"));
    assert_eq!(c["author"]["displayName"], "CI Bot");
    let (s, _) = sb.send(
        "POST",
        "/rest/api/3/issue/OPS-1/comment",
        &json!({"body": "plain"}),
    );
    assert_eq!(s, 400);
    let (s, c) = sb.send(
        "POST",
        "/rest/api/2/issue/OPS-1/comment",
        &json!({"body": "plain"}),
    );
    assert_eq!((s, c["body"].clone()), (201, json!("plain")));

    assert_eq!(
        sb.get("/rest/api/3/issue/OPS-99").text().unwrap(),
        NOT_FOUND
    );
    let (s, _) = sb.send("PUT", "/rest/api/3/issue/OPS-99", &json!({"fields": {}}));
    assert_eq!(s, 404);
}

#[test]
// One list of (invalid body, Jira's answer) pairs per flavor, easier to compare in one place.
#[allow(clippy::too_many_lines)]
fn create_validation_matches_jira() {
    let sb = TestSandbox::cloud(&[]);
    let (s, e) = sb.send("POST", "/rest/api/3/issue", &json!({"fields": {}}));
    assert_eq!(s, 400);
    assert_eq!(
        e["errors"]["summary"],
        "You must specify a summary of the issue."
    );
    assert_eq!(e["errors"]["issuetype"], "Specify an issue type");
    assert_eq!(e["errors"]["project"], "Specify a valid project ID or key");

    let base = json!({"project": {"key": "OPS"}, "issuetype": {"name": "Change"}, "summary": "s"});
    let check = |extra: Value, field: &str, want: &str| {
        let mut fields = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        let (s, e) = sb.send("POST", "/rest/api/3/issue", &json!({"fields": fields}));
        assert_eq!(s, 400, "{extra}");
        let got = e["errors"][field].as_str().unwrap_or_default().to_owned();
        assert!(got.contains(want), "{extra}: {e}");
    };
    check(
        json!({"project": {"key": "XYZ"}}),
        "project",
        "Specify a valid project ID or key",
    );
    check(
        json!({"issuetype": {"name": "Bug"}}),
        "issuetype",
        "valid issue type",
    );
    check(
        json!({"customfield_99": 1}),
        "customfield_99",
        "Field 'customfield_99' cannot be set. It is not on the appropriate screen, or unknown.",
    );
    check(
        json!({"labels": ["a b"]}),
        "labels",
        "The label 'a b' contains spaces which is invalid.",
    );
    check(
        json!({"customfield_10050": "Low"}),
        "customfield_10050",
        "'id' or 'value'",
    );
    check(
        json!({"customfield_10050": {"value": "Huge"}}),
        "customfield_10050",
        "not valid",
    );
    check(
        json!({"customfield_10054": {"value": "dev"}}),
        "customfield_10054",
        "array",
    );
    check(
        json!({"priority": {"name": "Urgent"}}),
        "priority",
        "not valid",
    );
    check(
        json!({"customfield_10053": "3"}),
        "customfield_10053",
        "number",
    );
    check(json!({"duedate": "01/12/2026"}), "duedate", "date");
    // Date-time fields take Jira's one format; RFC 3339 offsets are refused (API-NOTES 4.2b).
    for refused in [
        "2026-12-05T02:00:00+01:00",
        "2026-12-05T02:00:00.000Z",
        "2026-12-05 02:00",
    ] {
        check(
            json!({"customfield_10060": refused}),
            "customfield_10060",
            "Error parsing time",
        );
    }
    check(
        json!({"assignee": {"name": "alice"}}),
        "assignee",
        "accountId",
    );
    check(
        json!({"status": {"name": "Done"}}),
        "status",
        "cannot be set",
    );
    assert!(sb.issues().is_empty(), "nothing is stored on a 400");

    let dc = TestSandbox::datacenter(&[]);
    let (s, v) = dc.send(
        "POST",
        "/rest/api/2/issue",
        &json!({"fields": {"project": {"id": "10000"}, "issuetype": {"id": "10003"}, "summary": "s",
                "assignee": {"name": "alice"}, "description": "text"}}),
    );
    assert_eq!(s, 201, "{v}");
    let (s, e) = dc.send(
        "POST",
        "/rest/api/2/issue",
        &json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10003"}, "summary": "s", "assignee": {"name": "carol"}}}),
    );
    assert_eq!(s, 400);
    assert_eq!(e["errors"]["assignee"], "User 'carol' does not exist.");
    let issue = dc.get_json("/rest/api/2/issue/OPS-1?fields=assignee,issuetype", 200);
    assert_eq!(issue["fields"]["assignee"]["name"], "alice");
    assert_eq!(issue["fields"]["issuetype"]["name"], "Task");
}

#[test]
fn workflow_transitions_and_resolutions() {
    let sb = TestSandbox::cloud(&[]);
    let key = sb.create("wf", &[]);
    let t = sb.get_json(&format!("/rest/api/3/issue/{key}/transitions"), 200);
    let ids: Vec<&str> = t["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["11", "21", "71"]);
    assert_eq!(t["transitions"][1]["to"]["name"], "Awaiting approval");
    assert_eq!(t["transitions"][2]["to"]["name"], "Won't Do");

    let (s, e) = sb.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/transitions"),
        &json!({"transition": {"id": "99"}}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"errorMessages": ["Transition id '99' is not valid for this issue."], "errors": {}})
    );
    let (s, _) = sb.send(
        "POST",
        &format!("/rest/api/3/issue/{key}/transitions"),
        &json!({"transition": {"id": "31"}}),
    );
    assert_eq!(s, 400, "Approve is not available from To Do");

    sb.transition(&key, "11");
    sb.transition(&key, "21");
    sb.transition(&key, "41");
    let v = sb.get_json(
        &format!("/rest/api/3/issue/{key}?fields=status,resolution"),
        200,
    );
    assert_eq!(v["fields"]["status"]["name"], "Rejected");
    assert_eq!(v["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(v["fields"]["resolution"]["name"], "Won't Do");
    sb.transition(&key, "61");
    let v = sb.get_json(
        &format!("/rest/api/3/issue/{key}?fields=status,resolution"),
        200,
    );
    assert_eq!(v["fields"]["status"]["name"], "To Do");
    assert_eq!(v["fields"]["resolution"], Value::Null);
    sb.transition(&key, "21");
    sb.transition(&key, "31");
    assert_eq!(sb.status_of(&key), "Approved");
    sb.transition(&key, "51");
    let v = sb.get_json(&format!("/rest/api/3/issue/{key}?fields=resolution"), 200);
    assert_eq!(v["fields"]["resolution"]["name"], "Done");

    // "Won't Do": a done-category status with resolution Won't Do, reachable while waiting for
    // approval, and reopened like Rejected (issue 8, defect 5).
    let key = sb.create("nobody will do this", &[]);
    sb.transition(&key, "21");
    sb.transition(&key, "71");
    let v = sb.get_json(
        &format!("/rest/api/3/issue/{key}?fields=status,resolution"),
        200,
    );
    assert_eq!(v["fields"]["status"]["name"], "Won't Do");
    assert_eq!(v["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(v["fields"]["resolution"]["name"], "Won't Do");
    sb.transition(&key, "61");
    assert_eq!(sb.status_of(&key), "To Do");
}

fn status_moves(histories: &Value) -> Vec<String> {
    histories
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["items"].as_array().unwrap().clone())
        .filter(|i| i["field"] == "status")
        .map(|i| i["toString"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn changelog_order_per_flavor() {
    let cloud = TestSandbox::cloud(&[]);
    let key = cloud.create("log", &[]);
    cloud.transition(&key, "21");
    cloud.set_status_by(&key, "Approved", "alice");
    let v = cloud.get_json(
        &format!("/rest/api/3/issue/{key}?fields=status&expand=changelog"),
        200,
    );
    assert_eq!(
        status_moves(&v["changelog"]["histories"]),
        ["Approved", "Awaiting approval"],
        "Cloud: newest first"
    );
    assert_eq!(
        v["changelog"]["histories"][0]["author"]["displayName"],
        "Alice Approver"
    );
    let item = &v["changelog"]["histories"][0]["items"][0];
    assert_eq!(
        (item["from"].as_str(), item["to"].as_str()),
        (Some("10100"), Some("10101"))
    );
    assert_eq!(item["fieldId"], "status");
    let created = v["changelog"]["histories"][0]["created"].as_str().unwrap();
    assert!(
        created.len() == 28 && created.ends_with("+0000"),
        "{created}"
    );
    let page = cloud.get_json(&format!("/rest/api/3/issue/{key}/changelog"), 200);
    assert_eq!(
        status_moves(&page["values"]),
        ["Awaiting approval", "Approved"],
        "/changelog: oldest first"
    );
    assert_eq!(
        (page["total"].as_u64(), page["isLast"].as_bool()),
        (Some(2), Some(true))
    );
    let page = cloud.get_json(
        &format!("/rest/api/3/issue/{key}/changelog?startAt=1&maxResults=1"),
        200,
    );
    assert_eq!(status_moves(&page["values"]), ["Approved"]);

    let dc = TestSandbox::datacenter(&[]);
    let key = dc.create("log", &[]);
    dc.transition(&key, "21");
    dc.set_status_by(&key, "Rejected", "bob");
    let v = dc.get_json(&format!("/rest/api/2/issue/{key}?expand=changelog"), 200);
    let h = &v["changelog"]["histories"];
    assert_eq!(
        status_moves(h),
        ["Awaiting approval", "Rejected"],
        "DC: oldest first"
    );
    assert_eq!(h[1]["author"]["name"], "bob");
    assert!(
        h[1]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["field"] == "resolution" && i["toString"] == "Won't Do")
    );
    assert_eq!(
        dc.get(&format!("/rest/api/2/issue/{key}/changelog"))
            .status(),
        404
    );
}

#[test]
fn cloud_search_jql_pagination_and_removed_search() {
    let sb = TestSandbox::cloud(&[]);
    for i in 0..3 {
        sb.create(&format!("s{i}"), &["batch"]);
    }
    sb.create("other", &["solo"]);
    let v = sb.get_json(
        "/rest/api/3/search/jql?jql=project%20%3D%20OPS%20AND%20labels%20%3D%20batch",
        200,
    );
    assert_eq!(
        v["issues"],
        json!([{"id": "10002"}, {"id": "10001"}, {"id": "10000"}]),
        "default fields: id only"
    );
    assert_eq!(v["isLast"], true);
    assert!(v.get("total").is_none() && v.get("nextPageToken").is_none());

    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"jql": "labels = \"batch\" ORDER BY created ASC", "fields": ["summary", "status"], "maxResults": 2, "startAt": 2});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (s, page) = sb.send("POST", "/rest/api/2/search/jql", &body);
        assert_eq!(s, 200, "{page}");
        for i in page["issues"].as_array().unwrap() {
            assert_eq!(i["fields"]["status"]["name"], "To Do");
            keys.push(i["key"].as_str().unwrap().to_owned());
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => {
                assert_eq!(page["isLast"], false);
                token = Some(t.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(
        keys,
        ["OPS-1", "OPS-2", "OPS-3"],
        "startAt is ignored, tokens page through"
    );

    let (s, e) = sb.send(
        "POST",
        "/rest/api/3/search/jql",
        &json!({"jql": "order by created DESC"}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        e["errorMessages"][0],
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    );
    let (s, e) = sb.send(
        "POST",
        "/rest/api/3/search/jql",
        &json!({"jql": "project = OPS OR"}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"errorMessages": ["Error in the JQL Query: Expecting a field name before the end of the query."], "errors": {}})
    );
    let v = sb.get_json("/rest/api/3/search/jql?jql=key%3DOPS-4&fields=labels", 200);
    assert_eq!(v["issues"][0]["fields"], json!({"labels": ["solo"]}));

    for path in [
        "/rest/api/3/search?jql=project%3DOPS",
        "/rest/api/2/search?jql=project%3DOPS",
    ] {
        let r = sb.get(path);
        assert_eq!(r.status(), 410);
        assert_eq!(
            r.text().unwrap(),
            r#"{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"],"errors":{}}"#
        );
    }
}

#[test]
fn search_answers_jql_errors_like_jira_and_cloud_parses_jql() {
    let sb = TestSandbox::cloud(&[]);
    sb.create("one", &["solo"]);
    sb.create("two", &["batch"]);
    let (s, e) = sb.send(
        "POST",
        "/rest/api/3/search/jql",
        &json!({"jql": "key = OPS-1 AND universe = 42"}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"errorMessages": ["Field 'universe' does not exist or you do not have permission to view it."], "errors": {}})
    );
    let v = sb.get_json(
        "/rest/api/3/search/jql?jql=key%20%3D%20OPS-1%20AND%20(labels%20%3D%20x%20OR%20NOT%20labels%20%3D%20batch)&fields=labels",
        200,
    );
    assert_eq!(v["issues"][0]["key"], "OPS-1");
    let (s, parsed) = sb.send(
        "POST",
        "/rest/api/3/jql/parse?validation=strict",
        &json!({"queries": ["labels = solo", "labels = (", "status = Nope"]}),
    );
    assert_eq!(s, 200, "{parsed}");
    let answers = parsed["queries"].as_array().unwrap();
    assert_eq!(answers[0]["structure"]["where"]["operator"], "=");
    assert_eq!(
        answers[1]["errors"][0],
        "Error in the JQL Query: Expecting either a value or function before the end of the query."
    );
    assert_eq!(
        answers[2],
        json!({"query": "status = Nope", "warnings": ["The value 'Nope' does not exist for the field 'status'."]})
    );
    let dc = TestSandbox::datacenter(&[]);
    let (s, _) = dc.send(
        "POST",
        "/rest/api/2/jql/parse?validation=strict",
        &json!({"queries": ["labels = solo"]}),
    );
    assert_eq!(s, 404, "Data Center has no jql/parse");
}

#[test]
fn datacenter_search_offsets() {
    let sb = TestSandbox::datacenter(&[]);
    for i in 0..3 {
        sb.create(&format!("s{i}"), &["batch"]);
    }
    let v = sb.get_json(
        "/rest/api/2/search?jql=project%3DOPS%20ORDER%20BY%20created%20ASC&maxResults=2&startAt=1",
        200,
    );
    assert_eq!(
        (
            v["total"].as_u64(),
            v["startAt"].as_u64(),
            v["maxResults"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    let keys: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["OPS-2", "OPS-3"]);
    assert_eq!(
        v["issues"][0]["fields"]["summary"], "s1",
        "DC default fields are the navigable ones"
    );
    let (s, v) = sb.send(
        "POST",
        "/rest/api/2/search",
        &json!({"jql": "", "fields": ["status"]}),
    );
    assert_eq!(
        (s, v["total"].as_u64()),
        (200, Some(3)),
        "DC accepts an empty JQL"
    );
    assert_eq!(
        sb.get("/rest/api/2/search/jql?jql=project%3DOPS").status(),
        404
    );
    let r = sb
        .client()
        .get(sb.url("/rest/api/2/search?jql=project%3DOPS"))
        .bearer_auth("wrong")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["total"], 0);
}

#[test]
fn search_lag_hides_fresh_changes() {
    let sb = TestSandbox::cloud(&["--search-lag", "800ms"]);
    let key = sb.create("lag", &["fresh"]);
    let path = "/rest/api/3/search/jql?jql=labels%3Dfresh";
    assert_eq!(
        sb.get_json(path, 200)["issues"],
        json!([]),
        "invisible to search at once"
    );
    assert_eq!(
        sb.status_of(&key),
        "To Do",
        "GET issue is consistent at once"
    );
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(
        sb.get_json(path, 200)["issues"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn createmeta_and_project_per_flavor() {
    let cloud = TestSandbox::cloud(&[]);
    let v = cloud.get_json("/rest/api/3/issue/createmeta/OPS/issuetypes", 200);
    let names: Vec<&str> = v["issueTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Change", "Task"]);
    let v = cloud.get_json("/rest/api/3/issue/createmeta/OPS/issuetypes/10002", 200);
    let fields = v["fields"].as_array().unwrap();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f["required"] == true)
        .map(|f| f["fieldId"].as_str().unwrap())
        .collect();
    assert_eq!(required, ["summary", "issuetype", "project"]);
    let risk = fields
        .iter()
        .find(|f| f["fieldId"] == "customfield_10050")
        .unwrap();
    assert_eq!(risk["allowedValues"].as_array().unwrap().len(), 3);
    assert!(v.get("values").is_none());
    let old = cloud.get_json(
        "/rest/api/3/issue/createmeta?projectKeys=OPS&expand=projects.issuetypes.fields",
        200,
    );
    assert_eq!(old["projects"][0]["key"], "OPS");
    assert!(old["projects"][0]["issuetypes"][0]["fields"]["summary"].is_object());
    let p = cloud.get_json("/rest/api/3/project/OPS", 200);
    assert_eq!(
        p["issueTypes"][0],
        json!({"self": p["issueTypes"][0]["self"], "id": "10002", "name": "Change",
        "subtask": false, "description": p["issueTypes"][0]["description"], "iconUrl": p["issueTypes"][0]["iconUrl"], "hierarchyLevel": 0})
    );
    let r = cloud.get("/rest/api/3/project/XYZ");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().unwrap(),
        r#"{"errorMessages":["No project could be found with key 'XYZ'."],"errors":{}}"#
    );

    let dc = TestSandbox::datacenter(&[]);
    let v = dc.get_json("/rest/api/2/issue/createmeta/OPS/issuetypes", 200);
    assert_eq!(v["isLast"], true);
    assert_eq!(v["values"][1]["id"], "10003");
    let v = dc.get_json("/rest/api/2/issue/createmeta/OPS/issuetypes/10003", 200);
    assert!(
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["fieldId"] == "customfield_10054")
    );
    let r =
        dc.get("/rest/api/2/issue/createmeta?projectKeys=OPS&expand=projects.issuetypes.fields");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().unwrap(),
        r#"{"errorMessages":["Issue Does Not Exist"],"errors":{}}"#
    );
}

#[test]
fn fields_and_users() {
    let sb = TestSandbox::cloud(&[]);
    let fields = sb.get_json("/rest/api/3/field", 200);
    let by_id = |id: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("customfield_10050")["name"], "Change risk");
    assert_eq!(
        by_id("customfield_10051")["schema"]["custom"],
        "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
    );
    assert_eq!(
        by_id("customfield_10052")["schema"],
        json!({"type": "array", "items": "user",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker", "customId": 10052})
    );
    assert_eq!(by_id("duedate")["schema"]["type"], "date");
    assert_eq!(by_id("customfield_10060")["name"], "Planned start");
    assert_eq!(by_id("customfield_10061")["schema"]["type"], "datetime");
    let users = sb.get_json("/rest/api/3/user/search?query=ali", 200);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["displayName"], "Alice Approver");
    assert!(users[0]["accountId"].is_string());
    let dc = TestSandbox::datacenter(&[]);
    let users = dc.get_json("/rest/api/2/user/search?username=BOB", 200);
    assert_eq!(users[0]["name"], "bob");
}

fn wait_for_status(sb: &TestSandbox, key: &str, want: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < within {
        if sb.status_of(key) == want {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{key} did not reach {want} within {within:?}; it is {}",
        sb.status_of(key)
    );
}

#[test]
fn scripted_approver_and_rejecter() {
    let sb = TestSandbox::cloud(&["--approve-after", "300ms"]);
    let key = sb.create("approve me", &[]);
    sb.transition(&key, "21");
    let took = wait_for_status(&sb, &key, "Approved", Duration::from_secs(5));
    assert!(took >= Duration::from_millis(200), "{took:?}");
    let v = sb.get_json(&format!("/rest/api/3/issue/{key}?expand=changelog"), 200);
    assert_eq!(
        v["changelog"]["histories"][0]["author"]["displayName"],
        "Alice Approver"
    );

    let sb = TestSandbox::datacenter(&["--approve-after", "5s", "--reject-after", "200ms..400ms"]);
    let key = sb.create("reject me", &[]);
    sb.transition(&key, "21");
    wait_for_status(&sb, &key, "Rejected", Duration::from_secs(3));
    let v = sb.get_json(&format!("/rest/api/2/issue/{key}?expand=changelog"), 200);
    assert_eq!(v["changelog"]["histories"][1]["author"]["name"], "bob");
    // Entering "Awaiting approval" from the control endpoint schedules it too.
    let key = sb.create("again", &[]);
    sb.set_status(&key, "Awaiting approval");
    wait_for_status(&sb, &key, "Rejected", Duration::from_secs(3));
}

#[test]
fn control_endpoints() {
    let sb = TestSandbox::cloud(&[]);
    let key = sb.create("ctl", &["a"]);
    let issues = sb.issues();
    assert_eq!(
        issues,
        vec![
            json!({"key": key, "id": "10000", "status": "To Do", "labels": ["a"], "summary": "ctl"})
        ]
    );
    sb.set_status_by(&key, "done", "bob");
    assert_eq!(sb.status_of(&key), "Done");
    let r = sb
        .client()
        .post(sb.url("/_sandbox/issues/OPS-1/status"))
        .json(&json!({"status": "Nope"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(sb.delete_issue(&key), 204);
    assert_eq!(sb.delete_issue(&key), 404);
    assert!(sb.issues().is_empty());
    assert_eq!(sb.get(&format!("/rest/api/3/issue/{key}")).status(), 404);
    let log = sb.requests();
    assert!(
        log.iter()
            .all(|e| e["path"].as_str().unwrap().starts_with("/rest/")),
        "control calls are not logged"
    );
    let last = log.last().unwrap();
    assert_eq!(
        (last["method"].as_str(), last["status"].as_u64()),
        (Some("GET"), Some(404))
    );
    assert!(last["t_ms"].is_u64());
    assert!(
        log.iter()
            .any(|e| e["path"] == "/rest/api/3/issue" && e["status"] == 201)
    );
}

#[test]
fn scripted_faults_of_every_kind() {
    let sb = TestSandbox::cloud(&[]);
    let myself = "/rest/api/3/myself";
    sb.add_faults(&json!([
        {"method": "GET", "path_prefix": myself, "kind": "status", "status": 503, "retry_after": "2", "times": 2},
        {"path_prefix": myself, "kind": "status", "status": 429, "retry_after": "3", "headers": {"RateLimit-Reason": "jira-burst-based"}},
    ]));
    for _ in 0..2 {
        let r = sb.get(myself);
        assert_eq!(r.status(), 503);
        assert_eq!(header(&r, "Retry-After").as_deref(), Some("2"));
    }
    let r = sb.get(myself);
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "Retry-After").as_deref(), Some("3"));
    assert_eq!(
        header(&r, "RateLimit-Reason").as_deref(),
        Some("jira-burst-based")
    );
    assert!(header(&r, "X-RateLimit-Reset").unwrap().ends_with('Z'));
    assert_eq!(sb.get(myself).status(), 200, "rules run out");

    sb.add_faults(&json!({"path_prefix": myself, "kind": "delay", "delay_ms": 400}));
    let t = Instant::now();
    assert_eq!(sb.get(myself).status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(400));

    sb.add_faults(&json!({"path_prefix": myself, "kind": "non_json", "status": 502}));
    let r = sb.get(myself);
    assert_eq!(r.status(), 502);
    assert!(header(&r, "content-type").unwrap().starts_with("text/html"));

    let create = json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "f"}});
    let post = || {
        sb.auth(sb.client().post(sb.url("/rest/api/3/issue")))
            .json(&create)
            .send()
    };
    sb.add_faults(&json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "drop"}));
    assert!(post().is_err(), "drop closes without an answer");
    assert!(sb.issues().is_empty(), "drop does not perform the request");

    sb.add_faults(
        &json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "store_then_drop"}),
    );
    assert!(post().is_err());
    assert_eq!(sb.issues().len(), 1, "store_then_drop stores the issue");

    sb.add_faults(
        &json!({"method": "POST", "path_prefix": "/rest/api/3/issue", "kind": "truncate"}),
    );
    let r = post().unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.text().is_err(), "the body ends early");
    assert_eq!(sb.issues().len(), 2, "truncate performs the request");

    sb.add_faults(&json!({"kind": "status", "status": 500, "times": 5}));
    sb.clear_faults();
    assert_eq!(sb.get(myself).status(), 200);

    let log = sb.requests();
    let faults: Vec<&str> = log.iter().filter_map(|e| e["fault"].as_str()).collect();
    assert_eq!(
        faults,
        [
            "503",
            "503",
            "429",
            "delay 400ms",
            "non_json 502",
            "drop",
            "store_then_drop",
            "truncate"
        ]
    );
    assert!(
        log.iter()
            .any(|e| e["fault"] == "drop" && e["status"].is_null())
    );
    let r = sb
        .client()
        .post(sb.url("/_sandbox/faults"))
        .body("{\"kind\":\"explode\"}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

fn fault_sequence(seed: &str) -> Vec<String> {
    let sb = TestSandbox::cloud(&[
        "--seed",
        seed,
        "--fault-rate",
        "0.5",
        "--faults",
        "500,502,503,504,429,truncate",
    ]);
    (0..40)
        .map(|_| {
            let r = sb.get("/rest/api/2/serverInfo");
            let status = r.status().as_u16();
            match r.text() {
                Ok(_) => status.to_string(),
                Err(_) => format!("{status}-cut"),
            }
        })
        .collect()
}

#[test]
fn random_faults_are_reproducible_from_the_seed() {
    let a = fault_sequence("42");
    assert_eq!(a, fault_sequence("42"));
    assert_ne!(a, fault_sequence("43"));
    let faulty = a.iter().filter(|s| *s != "200").count();
    assert!(
        (8..=32).contains(&faulty),
        "{faulty} of 40 at rate 0.5: {a:?}"
    );
    for kind in ["500", "502", "503", "504", "429", "200-cut"] {
        assert!(a.contains(&kind.to_owned()), "{kind} missing from {a:?}");
    }
    let sb = TestSandbox::cloud(&["--fault-rate", "1", "--faults", "drop"]);
    assert!(
        sb.client()
            .get(sb.url("/rest/api/2/serverInfo"))
            .send()
            .is_err()
    );
    let sb = TestSandbox::cloud(&["--fault-rate", "1", "--faults", "429"]);
    let r = sb.get("/rest/api/3/myself");
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "Retry-After").as_deref(), Some("1"));
}

#[test]
fn a_taken_port_is_named_with_a_hint() {
    let sb = TestSandbox::cloud(&[]);
    let addr: std::net::SocketAddr = sb.base.trim_start_matches("http://").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let args = jira_sandbox::Args {
        listen: addr,
        ..jira_sandbox::Args::default()
    };
    let Err(e) = runtime.block_on(jira_sandbox::Sandbox::start(args)) else {
        panic!("a second sandbox on {addr} started");
    };
    let message = e.to_string();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    assert!(
        message.starts_with(&format!("cannot listen on {addr}: ")),
        "{message}"
    );
    assert!(
        message.contains("`--listen 127.0.0.1:0` picks a free port"),
        "{message}"
    );
}

#[test]
fn browse_shows_the_issue_as_html() {
    let sb = TestSandbox::cloud(&[]);
    let key = sb.create("Deploy <b>checkout</b> & \"cart\"", &["deploy"]);
    sb.transition(&key, "21");
    let r = sb
        .client()
        .get(sb.url(&format!("/browse/{key}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("text/html;charset=UTF-8")
    );
    let page = r.text().unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains(&format!(
            "<h1>{key}: Deploy &lt;b&gt;checkout&lt;/b&gt; &amp; &quot;cart&quot;</h1>"
        )),
        "{page}"
    );
    assert!(!page.contains("<b>checkout"), "unescaped summary: {page}");
    assert!(
        page.contains("<p>Status: <strong>Awaiting approval</strong></p>"),
        "{page}"
    );
    assert!(
        page.contains("<tr><th>Labels</th><td>deploy</td></tr>"),
        "{page}"
    );
    assert!(
        page.contains("<tr><th>Issue Type</th><td>Change</td></tr>"),
        "{page}"
    );

    let r = sb.client().get(sb.url("/browse/OPS-999")).send().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("text/html;charset=UTF-8")
    );
    let page = r.text().unwrap();
    assert!(page.contains("<h1>Issue not found</h1>"), "{page}");
    assert!(page.contains("OPS-999"), "{page}");
}
