//! The Harness Jira connector (SPEC section 8): where Jira is and how to log in.
//!
//! Harness writes it as `connector: { type: Jira, spec: { jiraUrl, auth } }` with `auth` of type
//! `UsernamePassword` (`spec.username` or `spec.usernameRef`, and `spec.passwordRef`) or
//! `PersonalAccessToken` (`spec.patRef`). Connectors made before `auth` existed keep `username`,
//! `usernameRef` and `passwordRef` directly under `spec`; both shapes are read. Keys Harness
//! defines that jira-gate has no use for (`delegateSelectors`, `orgIdentifier`, `tags`, ...) are
//! returned in [`Connector::ignored`] for `-v`.

use super::{Doc, Error, did_you_mean};
use crate::locate::KeyPath;

/// A username: written in the connector, or a secret reference (`usernameRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Username {
    /// As written.
    Plain(String),
    /// A secret holds it.
    Secret(String),
}

/// How the connector logs in; secret references are resolved later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Basic auth: Cloud email + API token, or Data Center user + password.
    UsernamePassword {
        /// The user.
        username: Username,
        /// The secret holding the password or API token.
        password_ref: String,
    },
    /// A Data Center personal access token (Bearer).
    PersonalAccessToken {
        /// The secret holding the token.
        pat_ref: String,
    },
}

/// A Jira connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    /// `identifier`, for checking the step's `connectorRef`.
    pub identifier: Option<String>,
    /// `spec.jiraUrl`.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Keys that were read past (for `-v`).
    pub ignored: Vec<String>,
}

const CONNECTOR_KEYS: &[&str] = &[
    "name",
    "identifier",
    "description",
    "orgIdentifier",
    "projectIdentifier",
    "tags",
    "type",
    "spec",
];
const SPEC_KEYS: &[&str] = &[
    "jiraUrl",
    "auth",
    "username",
    "usernameRef",
    "passwordRef",
    "delegateSelectors",
];
const AUTH_SPEC_KEYS: &[&str] = &["username", "usernameRef", "passwordRef", "patRef"];

impl Connector {
    /// Reads a connector file.
    pub fn from_doc(doc: &Doc) -> Result<Connector, Error> {
        let root = KeyPath::default().key("connector");
        if doc
            .get(&root)
            .and_then(serde_yaml::Value::as_mapping)
            .is_none()
        {
            return Err(doc.error(
                &KeyPath::default(),
                "not a Harness connector file: it has no `connector:` map",
                Some(
                    "export the connector's YAML from Harness (Connectors > the connector > YAML)"
                        .into(),
                ),
            ));
        }
        let kind = doc.text_at(&root.key("type")).unwrap_or_default();
        let name = doc
            .text_at(&root.key("identifier"))
            .or_else(|| doc.text_at(&root.key("name")))
            .unwrap_or_else(|| "?".into());
        if kind != "Jira" {
            return Err(doc.error(
                &root.key("type"),
                format!(
                    "connector `{name}` is of type {}; jira-gate needs a Jira connector",
                    if kind.is_empty() {
                        "(none)".to_owned()
                    } else {
                        format!("`{kind}`")
                    }
                ),
                Some("pass the Jira connector's file with --connector".into()),
            ));
        }
        let spec = root.key("spec");
        let mut ignored: Vec<String> = doc
            .other_keys(&root, CONNECTOR_KEYS)
            .into_iter()
            .map(|k| format!("connector.{k}"))
            .collect();
        ignored.extend(
            doc.other_keys(&spec, SPEC_KEYS)
                .into_iter()
                .map(|k| format!("connector.spec.{k}")),
        );
        for key in ["orgIdentifier", "projectIdentifier", "tags", "description"] {
            if doc.get(&root.key(key)).is_some() {
                ignored.push(format!("connector.{key}"));
            }
        }
        if doc.get(&spec.key("delegateSelectors")).is_some() {
            ignored.push("connector.spec.delegateSelectors".into());
        }
        let url = required(doc, &spec, "jiraUrl", SPEC_KEYS)?;
        let auth_path = spec.key("auth");
        let auth = if doc.get(&auth_path).is_some() {
            let kind = doc.text_at(&auth_path.key("type")).unwrap_or_default();
            let auth_spec = auth_path.key("spec");
            match kind.as_str() {
                "UsernamePassword" => username_password(doc, &auth_spec)?,
                "PersonalAccessToken" => Auth::PersonalAccessToken {
                    pat_ref: required(doc, &auth_spec, "patRef", AUTH_SPEC_KEYS)?,
                },
                other => {
                    return Err(doc.error(
                        &auth_path.key("type"),
                        format!("authentication type `{other}` is not supported"),
                        Some("use UsernamePassword or PersonalAccessToken".into()),
                    ));
                }
            }
        } else {
            username_password(doc, &spec)?
        };
        Ok(Connector {
            identifier: doc.text_at(&root.key("identifier")),
            url: url.trim().to_owned(),
            auth,
            ignored,
        })
    }
}

fn username_password(doc: &Doc, spec: &KeyPath) -> Result<Auth, Error> {
    let username = match (
        doc.text_at(&spec.key("username"))
            .filter(|u| !u.trim().is_empty()),
        doc.text_at(&spec.key("usernameRef"))
            .filter(|u| !u.trim().is_empty()),
    ) {
        (Some(user), _) => Username::Plain(user),
        (None, Some(reference)) => Username::Secret(reference),
        (None, None) => {
            return Err(missing(doc, spec, "username", AUTH_SPEC_KEYS));
        }
    };
    Ok(Auth::UsernamePassword {
        username,
        password_ref: required(doc, spec, "passwordRef", AUTH_SPEC_KEYS)?,
    })
}

fn required(doc: &Doc, map: &KeyPath, key: &str, known: &[&str]) -> Result<String, Error> {
    doc.text_at(&map.key(key))
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing(doc, map, key, known))
}

fn missing(doc: &Doc, map: &KeyPath, key: &str, known: &[&str]) -> Error {
    let misspelt = doc
        .other_keys(map, known)
        .into_iter()
        .find(|k| did_you_mean(k, &[key]).is_some());
    let hint = match &misspelt {
        Some(k) => format!("`{k}`: did you mean `{key}`?"),
        None => format!("add `{key}` under `{map}`"),
    };
    let message = format!("`{map}` has no `{key}`");
    match misspelt {
        Some(k) => doc.key_error(map, &k, message, Some(hint)),
        None => doc.error(map, message, Some(hint)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Connector, Error> {
        Connector::from_doc(&Doc::parse("jira.yaml", text).unwrap())
    }

    #[test]
    fn username_password_and_pat() {
        let c = read(
            "connector:
  name: Jira
  identifier: jira
  orgIdentifier: default
  type: Jira
  spec:
    jiraUrl: https://example.atlassian.net/
    delegateSelectors: [a]
    auth:
      type: UsernamePassword
      spec:
        username: ci@example.com
        passwordRef: account.jira_token
",
        )
        .unwrap();
        assert_eq!(c.url, "https://example.atlassian.net/");
        assert_eq!(
            c.auth,
            Auth::UsernamePassword {
                username: Username::Plain("ci@example.com".into()),
                password_ref: "account.jira_token".into()
            }
        );
        assert!(c.ignored.contains(&"connector.orgIdentifier".to_owned()));
        assert!(
            c.ignored
                .contains(&"connector.spec.delegateSelectors".to_owned())
        );
        let c = read(
            "connector:
  type: Jira
  spec:
    jiraUrl: https://jira.example.com
    auth: { type: PersonalAccessToken, spec: { patRef: jira_pat } }
",
        )
        .unwrap();
        assert_eq!(
            c.auth,
            Auth::PersonalAccessToken {
                pat_ref: "jira_pat".into()
            }
        );
    }

    #[test]
    fn the_older_flat_shape() {
        let c = read(
            "connector:
  type: Jira
  spec:
    jiraUrl: https://jira.example.com
    usernameRef: org.jira_user
    passwordRef: org.jira_password
",
        )
        .unwrap();
        assert_eq!(
            c.auth,
            Auth::UsernamePassword {
                username: Username::Secret("org.jira_user".into()),
                password_ref: "org.jira_password".into()
            }
        );
    }

    #[test]
    fn other_connectors_and_mistakes_are_located() {
        let err = read("connector:\n  identifier: gh\n  type: Github\n  spec: {}\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 9));
        assert!(err.message.contains("`Github`"), "{err}");
        let err = read("pipeline: {}\n").unwrap_err();
        assert!(err.message.contains("not a Harness connector"), "{err}");
        let err = read(
            "connector:
  type: Jira
  spec:
    jiraUrl: https://x
    auth:
      type: UsernamePassword
      spec:
        username: u
        passwordRf: t
",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (9, 9));
        assert!(
            err.to_string().contains("did you mean `passwordRef`"),
            "{err}"
        );
        let err = read(
            "connector:\n  type: Jira\n  spec:\n    jiraUrl: https://x\n    auth: { type: OAuth, spec: {} }\n",
        )
        .unwrap_err();
        assert!(err.message.contains("`OAuth`"), "{err}");
    }
}
