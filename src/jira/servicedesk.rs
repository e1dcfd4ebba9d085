//! Jira Service Management calls (`/rest/servicedeskapi`, SPEC section 7): the service desk of a
//! project, its request types and their fields, creating a customer request, and a request's
//! approvals. Answers are read leniently (`PagedDTO` envelopes, unknown decisions as pending); a
//! Jira without Service Management (Cloud: 404, Data Center without a licence: a 403 page) is
//! recognised by [`Error::no_service_management`].

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::{JiraClient, segment};
use super::error::Error;
use super::issues::Write;
use super::models::User;
use super::transport::Retry;
use crate::criteria::approval::{Answer, Approver, JsmApproval};

/// The prefix of every Service Management path.
const BASE: &str = "/rest/servicedeskapi";
/// Pages read at most for one list (50 entries each).
const MAX_PAGES: usize = 20;

/// A service desk (`ServiceDeskDTO`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDesk {
    /// Its id.
    #[serde(default, deserialize_with = "text")]
    pub id: String,
    /// Its project's id.
    #[serde(default, deserialize_with = "text")]
    pub project_id: String,
    /// Its project's key.
    #[serde(default)]
    pub project_key: String,
    /// Its project's name.
    #[serde(default)]
    pub project_name: String,
}

/// A request type (`RequestTypeDTO`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RequestType {
    /// Its id.
    #[serde(default, deserialize_with = "text")]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The issue type its requests get.
    #[serde(default, deserialize_with = "text")]
    pub issue_type_id: String,
}

/// A field of a request type's form (`RequestTypeFieldDTO`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RequestField {
    /// The Jira field id.
    #[serde(default)]
    pub field_id: String,
    /// The form's label.
    #[serde(default)]
    pub name: String,
    /// Whether the form requires it.
    #[serde(default)]
    pub required: bool,
    /// Its schema, as `GET /field` gives it.
    #[serde(default)]
    pub jira_schema: Value,
    /// The values it accepts (options), when it lists them.
    #[serde(default)]
    pub valid_values: Vec<ValidValue>,
}

/// A value a form field accepts (`RequestTypeFieldValueDTO`): the option's id and its label.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ValidValue {
    /// The id Jira stores.
    #[serde(default, deserialize_with = "text")]
    pub value: String,
    /// What people read.
    #[serde(default)]
    pub label: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
    #[serde(default = "yes")]
    is_last_page: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateMeta {
    #[serde(default)]
    request_type_fields: Vec<RequestField>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApprovalDto {
    #[serde(default, deserialize_with = "text")]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    final_decision: Option<String>,
    #[serde(default)]
    approvers: Vec<ApproverDto>,
    #[serde(default)]
    created_date: Option<DateDto>,
    #[serde(default)]
    completed_date: Option<DateDto>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApproverDto {
    #[serde(default)]
    approver: Option<User>,
    #[serde(default)]
    approver_decision: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DateDto {
    #[serde(default)]
    iso8601: Option<String>,
    #[serde(default)]
    jira: Option<String>,
    #[serde(default)]
    epoch_millis: Option<i64>,
}

/// A string or a number, as text (ids come as either).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

impl ApprovalDto {
    fn into_approval(self) -> JsmApproval {
        JsmApproval {
            id: self.id,
            name: self.name,
            decision: Answer::parse(self.final_decision.as_deref().unwrap_or_default()),
            created_ms: self
                .created_date
                .and_then(|d| d.epoch_millis)
                .unwrap_or_default(),
            completed_at: self.completed_date.and_then(|d| d.jira.or(d.iso8601)),
            approvers: self
                .approvers
                .into_iter()
                .map(|a| Approver {
                    name: a.approver.map_or_else(
                        || "unknown user".into(),
                        |u| {
                            u.display_name
                                .clone()
                                .or(u.email_address.clone())
                                .unwrap_or_else(|| u.label())
                        },
                    ),
                    answer: Answer::parse(a.approver_decision.as_deref().unwrap_or_default()),
                    seen_at: None,
                    seen_order: 0,
                })
                .collect(),
        }
    }
}

impl Error {
    /// Whether this answer from `/rest/servicedeskapi` means the site has no Jira Service
    /// Management: Cloud answers 404 on its paths, Data Center without a licence a 403 page.
    pub fn no_service_management(&self) -> bool {
        match self {
            Error::Status {
                status: 404, path, ..
            } => path.ends_with("/servicedesk") || path.ends_with("/info"),
            Error::Status {
                status: 403,
                detail,
                ..
            } => detail.trim_start().starts_with('<') || detail.to_lowercase().contains("licen"),
            _ => false,
        }
    }
}

impl JiraClient {
    async fn desk_get<T: DeserializeOwned>(
        &self,
        tail: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        self.transport.get(&format!("{BASE}/{tail}"), query).await
    }

    /// Every entry of a paged list (`PagedDTO`), at most [`MAX_PAGES`] pages.
    async fn desk_list<T: DeserializeOwned>(&self, tail: &str) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let query = [("start", out.len().to_string()), ("limit", "50".to_owned())];
            let page: Page<T> = self.desk_get(tail, &query).await?;
            let empty = page.values.is_empty();
            out.extend(page.values);
            if page.is_last_page || empty {
                break;
            }
        }
        Ok(out)
    }

    /// Every service desk the user can see.
    pub async fn service_desks(&self) -> Result<Vec<ServiceDesk>, Error> {
        self.desk_list("servicedesk").await
    }

    /// The request types of the service desk `desk` (its id).
    pub async fn request_types(&self, desk: &str) -> Result<Vec<RequestType>, Error> {
        self.desk_list(&format!("servicedesk/{}/requesttype", segment(desk)))
            .await
    }

    /// The form of a request type.
    pub async fn request_type_fields(
        &self,
        desk: &str,
        request_type: &str,
    ) -> Result<Vec<RequestField>, Error> {
        let meta: CreateMeta = self
            .desk_get(
                &format!(
                    "servicedesk/{}/requesttype/{}/field",
                    segment(desk),
                    segment(request_type)
                ),
                &[],
            )
            .await?;
        Ok(meta.request_type_fields)
    }

    /// `POST /rest/servicedeskapi/request`: not retried once it may have reached Jira, like
    /// `POST /issue`. Its answer has `issueKey` and `issueId`.
    pub fn create_customer_request(&self, body: Value) -> Write {
        Write {
            method: Method::POST,
            path: format!("{BASE}/request"),
            body,
            retry: Retry::UnlessSent,
        }
    }

    /// The approvals of the request `key`, oldest first as JSM lists them. A 404 is
    /// `not_a_request`'s error, not a missing issue: the polls read the issue just before.
    pub async fn approvals(&self, key: &str) -> Result<Vec<JsmApproval>, Error> {
        let list: Vec<ApprovalDto> = self
            .desk_list(&format!("request/{}/approval", segment(key)))
            .await
            .map_err(|e| not_a_request(key, e))?;
        Ok(list.into_iter().map(ApprovalDto::into_approval).collect())
    }
}

/// The approvals in the value of JSM's Approvals field on an issue read, which holds the same
/// `ApprovalDTO`s as [`JiraClient::approvals`]: `null` is none yet; `None` when the value is not
/// a list of approvals (then read them from the service desk API instead).
pub fn approvals_in_field(value: &serde_json::Value) -> Option<Vec<JsmApproval>> {
    if value.is_null() {
        return Some(Vec::new());
    }
    // Read in place: this runs on every poll, and the value is the read's own.
    let list = Vec::<ApprovalDto>::deserialize(value).ok()?;
    Some(list.into_iter().map(ApprovalDto::into_approval).collect())
}

/// A 404 on the approvals of `key`, an issue Jira has just shown: JSM answers 404 for an issue
/// that is not a customer request, for a user who is not an agent of the service desk, and where
/// JSM is not licensed for the user. It says what Jira answered and what to do, as an error that
/// is not a 404, so that it does not read as a deleted issue. Other errors pass as they are.
fn not_a_request(key: &str, e: Error) -> Error {
    if !e.is_not_found() {
        return e;
    }
    Error::Connection(format!(
        "{key} is not a Jira Service Management request whose approvals this user can read: {e} (hint: JSM answers 404 for an issue that is not a customer request, for a user who is not an agent of its service desk, and where Jira Service Management is not licensed; raise the ticket with `ticket.request_type`, make this user an agent, or use `status:` criteria)"
    ))
}

/// The key and id in the answer to [`JiraClient::create_customer_request`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRequest {
    /// The issue key, e.g. `CHG-7`.
    pub issue_key: String,
    /// The issue id.
    #[serde(default, deserialize_with = "text")]
    pub issue_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsm::scripted::Jira;
    use serde_json::json;

    #[test]
    fn the_approvals_field_of_an_issue_read_holds_the_same_approvals() {
        // No approval yet: Jira shows the field as null.
        assert_eq!(approvals_in_field(&json!(null)).map(|l| l.len()), Some(0));
        let list = approvals_in_field(&json!([
            {"id": "60", "name": "To Do", "finalDecision": "pending", "canAnswerApproval": false,
             "approvers": [{"approver": {"displayName": "Fred F. User"}, "approverDecision": "approved"}],
             "createdDate": {"epochMillis": 1_475_046_060_000_i64}, "_links": {}}
        ]))
        .unwrap();
        assert_eq!(list[0].id, "60");
        assert_eq!(list[0].approvers[0].name, "Fred F. User");
        // Anything else is not the Approvals field's shape: read them from the service desk.
        assert!(approvals_in_field(&json!("approved")).is_none());
        assert!(approvals_in_field(&json!({"values": []})).is_none());
    }

    #[test]
    fn approvals_are_read_leniently() {
        let page: Page<ApprovalDto> = serde_json::from_value(json!({
            "size": 2, "isLastPage": true, "values": [
                {"id": 1, "name": "CAB", "finalDecision": "approved",
                 "approvers": [{"approver": {"displayName": "Fred F. User", "accountId": "x"}, "approverDecision": "approved"},
                               {"approver": {"name": "jo"}, "approverDecision": "something-new"}, {}],
                 "createdDate": {"epochMillis": 1_475_046_060_000_i64},
                 "completedDate": {"iso8601": "2016-09-29T14:30:00+0700", "jira": "2016-09-29T14:30:00.000+0700"}},
                {"finalDecision": null, "extra": [1, 2]}
            ]})).unwrap();
        let list: Vec<JsmApproval> = page
            .values
            .into_iter()
            .map(ApprovalDto::into_approval)
            .collect();
        assert_eq!(list[0].id, "1");
        assert_eq!(list[0].decision, Answer::Approved);
        assert_eq!(list[0].created_ms, 1_475_046_060_000);
        assert_eq!(
            list[0].completed_at.as_deref(),
            Some("2016-09-29T14:30:00.000+0700")
        );
        let names: Vec<(&str, Answer)> = list[0]
            .approvers
            .iter()
            .map(|a| (a.name.as_str(), a.answer))
            .collect();
        assert_eq!(
            names,
            [
                ("Fred F. User", Answer::Approved),
                ("jo", Answer::Pending),
                ("unknown user", Answer::Pending)
            ]
        );
        assert_eq!(list[1].decision, Answer::Pending);
    }

    /// JSM's 404 on a request's approvals is not a deleted issue (the polls read the issue just
    /// before): the error says what Jira answered, gives the likely causes, and is no longer a
    /// "not found" that the wait would report as a deletion.
    #[test]
    fn a_404_on_the_approvals_names_what_jsm_answered_and_is_not_a_deletion() {
        let status = |status| {
            Error::Status {
            method: "GET".into(),
            path: "/rest/servicedeskapi/request/CHG-1/approval".into(),
            status,
            detail: "Request with key or id 'CHG-1' does not exist or you do not have permission to see it.".into(),
        }
        };
        let e = not_a_request("CHG-1", status(404));
        assert!(!e.is_not_found(), "{e:?}");
        assert_eq!(
            e.to_string(),
            "CHG-1 is not a Jira Service Management request whose approvals this user can read: GET /rest/servicedeskapi/request/CHG-1/approval answered HTTP 404: Request with key or id 'CHG-1' does not exist or you do not have permission to see it. (hint: JSM answers 404 for an issue that is not a customer request, for a user who is not an agent of its service desk, and where Jira Service Management is not licensed; raise the ticket with `ticket.request_type`, make this user an agent, or use `status:` criteria)"
        );
        // Any other failure stays what it was (a 403 keeps its own message and status).
        let e = not_a_request("CHG-1", status(403));
        assert!(matches!(e, Error::Status { status: 403, .. }), "{e:?}");
    }

    /// A paged list is read page after page from where the last one ended, up to the page that
    /// says it is the last, and no further.
    #[tokio::test]
    async fn every_page_of_a_list_is_read_and_no_more() {
        let desk = |key: &str| json!({"id": key, "projectKey": key});
        let jira = Jira::start(vec![
            (
                "GET",
                "/rest/servicedeskapi/servicedesk?start=0&",
                200,
                json!({"isLastPage": false, "values": [desk("A"), desk("B")]}),
            ),
            (
                "GET",
                "/rest/servicedeskapi/servicedesk?start=2&",
                200,
                json!({"isLastPage": true, "values": [desk("C")]}),
            ),
            (
                "GET",
                "/rest/servicedeskapi/servicedesk",
                200,
                json!({"isLastPage": true, "values": [desk("past the last page")]}),
            ),
        ])
        .await;
        let keys: Vec<String> = jira
            .client()
            .service_desks()
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.project_key)
            .collect();
        assert_eq!(keys, ["A", "B", "C"]);
        assert_eq!(
            jira.seen(),
            [
                "GET /rest/servicedeskapi/servicedesk?start=0&limit=50",
                "GET /rest/servicedeskapi/servicedesk?start=2&limit=50"
            ]
        );
    }

    /// A page that does not say whether it is the last is taken as the last (Data Center's
    /// older lists); an empty page ends the list even when it says more follow.
    #[tokio::test]
    async fn a_page_without_is_last_page_or_without_values_ends_the_list() {
        let jira = Jira::start(vec![
            (
                "GET",
                "/rest/servicedeskapi/servicedesk/4/requesttype?start=0&",
                200,
                json!({"values": [{"id": 21, "name": "Request a change"}]}),
            ),
            (
                "GET",
                "/rest/servicedeskapi/servicedesk/4/requesttype",
                200,
                json!({"isLastPage": true, "values": [{"id": 99, "name": "past the last page"}]}),
            ),
            (
                "GET",
                "/rest/servicedeskapi/request/CHG-1/approval",
                200,
                json!({"isLastPage": false, "values": []}),
            ),
        ])
        .await;
        let client = jira.client();
        let types = client.request_types("4").await.unwrap();
        assert_eq!(types.len(), 1, "{types:?}");
        assert_eq!(
            (types[0].id.as_str(), types[0].name.as_str()),
            ("21", "Request a change")
        );
        assert!(client.approvals("CHG-1").await.unwrap().is_empty());
        assert_eq!(jira.seen().len(), 2, "{:?}", jira.seen());
    }

    /// The approvals of a request, from its own path, as the criteria read them.
    #[tokio::test]
    async fn the_approvals_of_a_request_are_read_from_its_path() {
        let jira = Jira::start(vec![(
            "GET",
            "/rest/servicedeskapi/request/CHG-1/approval?",
            200,
            json!({"isLastPage": true, "values": [
                {"id": "7", "name": "Change approval", "finalDecision": "declined",
                 "approvers": [{"approver": {"displayName": "Bob Builder"}, "approverDecision": "declined"}]}
            ]}),
        )])
        .await;
        let list = jira.client().approvals("CHG-1").await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].id.as_str(), list[0].decision),
            ("7", Answer::Declined)
        );
        assert_eq!(list[0].approvers[0].name, "Bob Builder");
        assert_eq!(list[0].approvers[0].answer, Answer::Declined);
        // Through the client, a 404 there is the error that names the request.
        let jira = Jira::start(Vec::new()).await;
        let e = jira.client().approvals("CHG-1").await.unwrap_err();
        assert!(
            e.to_string()
                .starts_with("CHG-1 is not a Jira Service Management request"),
            "{e}"
        );
    }

    /// The form of a request type, from its path below the service desk.
    #[tokio::test]
    async fn a_request_types_form_is_read_from_its_path() {
        let jira = Jira::start(vec![(
            "GET",
            "/rest/servicedeskapi/servicedesk/4/requesttype/21/field",
            200,
            json!({"requestTypeFields": [{"fieldId": "summary", "name": "What changes?", "required": true, "visible": true}]}),
        )])
        .await;
        let form = jira.client().request_type_fields("4", "21").await.unwrap();
        assert_eq!(form.len(), 1);
        assert_eq!(
            (form[0].field_id.as_str(), form[0].required),
            ("summary", true)
        );
    }

    /// A customer request is created with one POST that is not repeated once it may have reached
    /// Jira.
    #[tokio::test]
    async fn a_customer_request_is_one_post_not_repeated_once_sent() {
        let jira = Jira::start(Vec::new()).await;
        let body = json!({"serviceDeskId": "4", "requestTypeId": "21"});
        let write = jira.client().create_customer_request(body.clone());
        assert_eq!(write.method, Method::POST);
        assert_eq!(write.path, "/rest/servicedeskapi/request");
        assert_eq!(write.body, body);
        assert_eq!(write.retry, Retry::UnlessSent);
    }

    /// Ids come as text or as numbers, and anything else reads as no id.
    #[test]
    fn ids_are_read_as_text_or_numbers() {
        let desk = |id: Value| -> ServiceDesk {
            serde_json::from_value(json!({"id": id, "projectId": 10010})).unwrap()
        };
        assert_eq!(desk(json!("4")).id, "4");
        assert_eq!(desk(json!(4)).id, "4");
        assert_eq!(desk(json!(4)).project_id, "10010");
        assert_eq!(desk(json!({"no": "id"})).id, "");
    }

    #[test]
    fn no_service_management_is_recognised() {
        let status = |status, path: &str, detail: &str| Error::Status {
            method: "GET".into(),
            path: path.into(),
            status,
            detail: detail.into(),
        };
        assert!(
            status(404, "/rest/servicedeskapi/servicedesk", "null for uri").no_service_management()
        );
        assert!(
            status(
                403,
                "/rest/servicedeskapi/servicedesk",
                "<html><h1>Unlicensed</h1>"
            )
            .no_service_management()
        );
        assert!(
            !status(
                404,
                "/rest/servicedeskapi/request/OPS-1/approval",
                "Request does not exist"
            )
            .no_service_management()
        );
        assert!(
            !status(
                403,
                "/rest/servicedeskapi/servicedesk",
                "You do not have permission"
            )
            .no_service_management()
        );
        // Data Center asked whether it is licensed, and either sign of a missing licence alone.
        assert!(status(404, "/rest/servicedeskapi/info", "").no_service_management());
        assert!(
            status(
                403,
                "/rest/servicedeskapi/servicedesk",
                "  <html><h1>Forbidden</h1>"
            )
            .no_service_management()
        );
        assert!(
            status(
                403,
                "/rest/servicedeskapi/servicedesk",
                "Jira Service Management is not LICENSED"
            )
            .no_service_management()
        );
        assert!(!status(401, "/rest/servicedeskapi/servicedesk", "<html>").no_service_management());
    }
}
