//! Jira Service Management in the sandbox over real HTTP: the service desk, request types and
//! their fields, customer requests, N-of-M approvals answered by scripted approvers and through the
//! control endpoint, and a Jira without Service Management.

mod common;

use std::time::{Duration, Instant};

use common::TestSandbox;
use serde_json::{Value, json};

/// Creates a "Request a change" (type 10) with `summary` and risk Low; returns the answer.
fn raise(sb: &TestSandbox, summary: &str) -> Value {
    let body = json!({"serviceDeskId": "1", "requestTypeId": "10", "requestFieldValues": {
        "summary": summary, "customfield_10050": {"value": "Low"}, "labels": ["jira-gate-x"],
    }});
    let (status, v) = sb.send("POST", "/rest/servicedeskapi/request", &body);
    assert_eq!(status, 201, "{v}");
    v
}

fn approval(sb: &TestSandbox, key: &str) -> Value {
    let page = sb.get_json(&format!("/rest/servicedeskapi/request/{key}/approval"), 200);
    assert_eq!(page["size"], 1, "{page}");
    assert_eq!(page["isLastPage"], true);
    page["values"][0].clone()
}

fn answer(sb: &TestSandbox, key: &str, by: &str, decision: &str) -> (u16, Value) {
    let r = sb
        .client()
        .post(sb.url(&format!("/_sandbox/issues/{key}/approval")))
        .json(&json!({"by": by, "decision": decision}))
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

#[test]
fn service_desks_and_request_types_come_in_paged_envelopes() {
    for sb in [TestSandbox::cloud(&[]), TestSandbox::datacenter(&[])] {
        let desks = sb.get_json("/rest/servicedeskapi/servicedesk", 200);
        assert_eq!(desks["values"][0]["projectKey"], "CHG");
        assert_eq!(desks["isLastPage"], true);
        assert_eq!(desks["start"], 0);
        assert_eq!(desks["limit"], 50);
        let by_key = sb.get_json("/rest/servicedeskapi/servicedesk/CHG", 200);
        assert_eq!(by_key["id"], "1");
        let types = sb.get_json(
            "/rest/servicedeskapi/servicedesk/1/requesttype?limit=2",
            200,
        );
        assert_eq!(types["size"], 2);
        assert_eq!(types["isLastPage"], false);
        assert!(
            types["_links"]["next"]
                .as_str()
                .unwrap()
                .contains("start=2")
        );
        assert_eq!(types["values"][0]["name"], "Request a change");
        let rest = sb.get_json(
            "/rest/servicedeskapi/servicedesk/1/requesttype?start=2",
            200,
        );
        assert_eq!(rest["values"][0]["name"], "Get IT help");
        let fields = sb.get_json(
            "/rest/servicedeskapi/servicedesk/1/requesttype/10/field",
            200,
        );
        let risk = &fields["requestTypeFields"][2];
        assert_eq!(risk["fieldId"], "customfield_10050");
        assert_eq!(risk["required"], true);
        assert_eq!(risk["validValues"][0]["label"], "Low");
        let info = sb.get_json("/rest/servicedeskapi/info", 200);
        assert_eq!(info["isLicensedForUse"], true);
    }
}

#[test]
fn a_project_that_is_no_service_desk_answers_404_with_an_error_message() {
    let sb = TestSandbox::cloud(&[]);
    let r = sb.get("/rest/servicedeskapi/servicedesk/OPS");
    assert_eq!(r.status(), 404);
    let body: Value = r.json().unwrap();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("'OPS' does not exist"),
        "{body}"
    );
    assert!(body["i18nErrorMessage"]["i18nKey"].is_string());
    let missing = sb.get("/rest/servicedeskapi/servicedesk/1/requesttype/99/field");
    assert_eq!(missing.status(), 404);
    // An issue of the software project is no request.
    let key = sb.create("not a request", &[]);
    let r = sb.get(&format!("/rest/servicedeskapi/request/{key}/approval"));
    assert_eq!(r.status(), 404);
}

#[test]
fn without_jsm_cloud_has_no_path_and_data_center_answers_an_html_403() {
    let cloud = TestSandbox::cloud(&["--no-jsm"]);
    assert_eq!(cloud.get("/rest/servicedeskapi/info").status(), 404);
    let dc = TestSandbox::datacenter(&["--no-jsm"]);
    let r = dc.get("/rest/servicedeskapi/servicedesk");
    assert_eq!(r.status(), 403);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[test]
fn creating_a_request_validates_the_form_like_jsm() {
    let sb = TestSandbox::cloud(&[]);
    let (status, v) = sb.send(
        "POST",
        "/rest/servicedeskapi/request",
        &json!({"serviceDeskId": "1", "requestTypeId": "10", "requestFieldValues": {"summary": "x", "Risk": "Low"}}),
    );
    assert_eq!(status, 400);
    let message = v["errorMessage"].as_str().unwrap();
    assert!(message.contains("Field 'Risk' cannot be set"), "{message}");
    assert!(
        message.contains("customfield_10050: Change risk is required."),
        "{message}"
    );
    let (status, v) = sb.send(
        "POST",
        "/rest/servicedeskapi/request",
        &json!({"serviceDeskId": "1", "requestTypeId": "77", "requestFieldValues": {}}),
    );
    assert_eq!(status, 400, "{v}");
    let created = raise(&sb, "Deploy web 1.4.2");
    assert_eq!(created["issueKey"], "CHG-1");
    assert_eq!(created["currentStatus"]["status"], "Awaiting approval");
    assert_eq!(
        created["requestFieldValues"][0]["value"],
        "Deploy web 1.4.2"
    );
    // The request is an issue of project CHG, found by the dedupe search.
    let issue = sb.get_json("/rest/api/3/issue/CHG-1?fields=project,status,labels", 200);
    assert_eq!(issue["fields"]["project"]["key"], "CHG");
    let found = sb.get_json(
        "/rest/api/3/search/jql?jql=project%20%3D%20CHG%20AND%20labels%20%3D%20jira-gate-x&fields=status",
        200,
    );
    assert_eq!(found["issues"][0]["key"], "CHG-1", "{found}");
}

#[test]
fn two_of_three_approve_and_the_request_moves_as_the_second_approver() {
    let sb = TestSandbox::datacenter(&[]);
    raise(&sb, "Deploy");
    let a = approval(&sb, "CHG-1");
    assert_eq!(a["finalDecision"], "pending");
    assert_eq!(a["condition"]["value"], "2");
    assert!(a.get("completedDate").is_none());
    assert_eq!(answer(&sb, "CHG-1", "alice", "approve").0, 200);
    assert_eq!(approval(&sb, "CHG-1")["finalDecision"], "pending");
    assert_eq!(
        answer(&sb, "CHG-1", "alice", "approve").0,
        409,
        "answered twice"
    );
    let (status, done) = answer(&sb, "CHG-1", "dave", "approve");
    assert_eq!(status, 200);
    assert_eq!(done["finalDecision"], "approved");
    let decisions: Vec<&str> = done["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["approverDecision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["approved", "pending", "approved"]);
    assert!(done["completedDate"]["epochMillis"].is_u64());
    assert_eq!(sb.status_of("CHG-1"), "Approved");
    let issue = sb.get_json("/rest/api/2/issue/CHG-1?expand=changelog", 200);
    let last = issue["changelog"]["histories"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"]["name"], "dave");
    // The bot is no approver: the real endpoint refuses its answer.
    raise(&sb, "Another");
    let id = approval(&sb, "CHG-2")["id"].as_str().unwrap().to_owned();
    let (status, v) = sb.send(
        "POST",
        &format!("/rest/servicedeskapi/request/CHG-2/approval/{id}"),
        &json!({"decision": "approve"}),
    );
    assert_eq!(status, 403, "{v}");
}

#[test]
fn one_decline_declines() {
    let sb = TestSandbox::cloud(&[]);
    raise(&sb, "Deploy");
    answer(&sb, "CHG-1", "alice", "approve");
    let (_, done) = answer(&sb, "CHG-1", "bob", "decline");
    assert_eq!(done["finalDecision"], "declined");
    assert_eq!(sb.status_of("CHG-1"), "Rejected");
    assert_eq!(
        answer(&sb, "CHG-1", "dave", "approve").0,
        404,
        "nothing pending"
    );
}

#[test]
fn scripted_approvers_answer_each_request() {
    let sb = TestSandbox::cloud(&[
        "--approve-after",
        "alice=100ms",
        "--approve-after",
        "dave=300ms",
        "--decline-after",
        "bob=5s",
    ]);
    raise(&sb, "Deploy");
    let started = Instant::now();
    while sb.status_of("CHG-1") != "Approved" {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not approved in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let a = approval(&sb, "CHG-1");
    assert_eq!(
        a["approvers"][0]["approver"]["displayName"],
        "Alice Approver"
    );
    assert_eq!(a["approvers"][1]["approverDecision"], "pending");
    assert_eq!(a["approvers"][2]["approverDecision"], "approved");
}
