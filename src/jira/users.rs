//! User lookups, for user fields given by name, email, username or account id.

use super::client::{Deployment, JiraClient};
use super::error::Error;
use super::models::User;

impl JiraClient {
    /// Finds one user by display name, email, username or account id (for user fields).
    pub async fn find_user(&self, query: &str) -> Result<User, Error> {
        let (path, param) = match self.deployment() {
            Deployment::Cloud => (self.rest("user/search"), "query"),
            Deployment::DataCenter => ("/rest/api/2/user/search".to_owned(), "username"),
        };
        let users: Vec<User> = self
            .transport
            .get(&path, &[(param, query.to_owned())])
            .await?;
        let wanted = query.to_lowercase();
        let exact: Vec<&User> = users
            .iter()
            .filter(|u| {
                [
                    &u.account_id,
                    &u.name,
                    &u.key,
                    &u.display_name,
                    &u.email_address,
                ]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| v.to_lowercase() == wanted))
            })
            .collect();
        match (exact.as_slice(), users.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            ([], []) => Err(Error::Mismatch(format!(
                "no Jira user matches {query:?} (hint: use the email, username or account id)"
            ))),
            (many, all) => {
                let list = if many.is_empty() {
                    all.iter().collect::<Vec<_>>()
                } else {
                    many.to_vec()
                };
                Err(Error::Mismatch(format!(
                    "{query:?} matches several Jira users: {} (hint: use the email or account id)",
                    list.iter()
                        .map(|u| u.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
}
