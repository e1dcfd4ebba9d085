//! User lookups, for user fields given by name, email, username or account id.

use super::client::JiraClient;
use super::error::Error;
use super::models::Deployment;
use super::models::User;

impl JiraClient {
    /// `GET user/search`: the users matching a display name, email, username or account id
    /// (for user fields; which one is meant is the caller's choice).
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>, Error> {
        let (path, param) = match self.deployment() {
            Deployment::Cloud => (self.rest("user/search"), "query"),
            Deployment::DataCenter => ("/rest/api/2/user/search".to_owned(), "username"),
        };
        let users: Vec<User> = self
            .transport
            .get(&path, &[(param, query.to_owned())])
            .await?;
        Ok(users)
    }
}
