//! Harness's string conventions for Jira field values (SPEC section 8).
//!
//! A Harness `JiraCreate` / `JiraUpdate` step lists fields as `{name, value}` with every value a
//! string. A multi-valued field takes its values comma-separated (`Labels: deploy, production`);
//! double quotes keep a comma inside one value (`Components: "Web, mobile", API`). Summary,
//! Description and Comment are text and never split. A value with no unquoted comma stays one
//! value, so a single-valued field whose text has a comma is written quoted as a whole.

/// Splits a Harness multi-value string: commas outside double quotes separate values, each value
/// is trimmed and loses one pair of surrounding quotes; empty values are dropped. An unbalanced
/// quote keeps the rest of the text as one value.
pub fn split(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => {
                push_item(&mut out, &current);
                current.clear();
            }
            c => current.push(c),
        }
    }
    push_item(&mut out, &current);
    out
}

fn push_item(out: &mut Vec<String>, raw: &str) {
    let item = raw.trim();
    let item = item
        .strip_prefix('"')
        .and_then(|i| i.strip_suffix('"'))
        .unwrap_or(item);
    if !item.trim().is_empty() {
        out.push(item.to_owned());
    }
}

/// Writes values the way [`split`] reads them: values with a comma or surrounding whitespace are
/// quoted. Values that contain a `"` cannot be written (Harness has no escape for it).
pub fn join(values: &[String]) -> Option<String> {
    let mut parts = Vec::with_capacity(values.len());
    for value in values {
        if value.contains('"') || value.trim().is_empty() {
            return None;
        }
        if value.contains(',') || value.trim() != value {
            parts.push(format!("\"{value}\""));
        } else {
            parts.push(value.clone());
        }
    }
    Some(parts.join(", "))
}

/// Where a Harness field goes in a native stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `ticket.summary`.
    Summary,
    /// `ticket.description`.
    Description,
    /// `ticket.comment`.
    Comment,
    /// `ticket.labels` (split).
    Labels,
    /// `ticket.fields.NAME`, by display name or id.
    Field(String),
}

impl Target {
    /// Maps a Harness field name (compared case-insensitively for the built-in ones).
    pub fn of(name: &str) -> Target {
        let name = name.trim();
        match name.to_lowercase().as_str() {
            "summary" => Target::Summary,
            "description" => Target::Description,
            "comment" => Target::Comment,
            "labels" => Target::Labels,
            _ => Target::Field(name.to_owned()),
        }
    }
}

/// A field value after the conventions: one text, or several values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A single value (quotes around the whole value removed).
    One(String),
    /// Comma-separated values.
    Many(Vec<String>),
}

/// Applies the conventions to one field: text targets are kept whole, labels always become a
/// list, other fields a list only when the value has an unquoted comma.
pub fn value_for(target: &Target, value: &str) -> FieldValue {
    match target {
        Target::Summary | Target::Description | Target::Comment => {
            FieldValue::One(value.to_owned())
        }
        Target::Labels => FieldValue::Many(split(value)),
        Target::Field(_) => {
            let mut items = split(value);
            if items.len() == 1 {
                FieldValue::One(items.pop().expect("one item"))
            } else if items.is_empty() {
                FieldValue::One(String::new())
            } else {
                FieldValue::Many(items)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn commas_split_quotes_keep_them() {
        assert_eq!(split("a, b ,c"), strings(&["a", "b", "c"]));
        assert_eq!(
            split(r#""Web, mobile", API"#),
            strings(&["Web, mobile", "API"])
        );
        assert_eq!(split("one"), strings(&["one"]));
        assert_eq!(split(" , ,"), Vec::<String>::new());
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(
            split(r#""unbalanced, rest"#),
            strings(&[r#""unbalanced, rest"#])
        );
        assert_eq!(
            split(r#"say "hi", there"#),
            strings(&[r#"say "hi""#, "there"])
        );
    }

    #[test]
    fn join_quotes_what_split_would_cut() {
        let values = strings(&["Web, mobile", "API", " padded "]);
        let joined = join(&values).unwrap();
        assert_eq!(joined, r#""Web, mobile", API, " padded ""#);
        assert_eq!(split(&joined), values);
        assert_eq!(join(&strings(&["a\"b"])), None);
    }

    #[test]
    fn the_text_fields_and_labels_are_recognised_in_any_case() {
        for (name, target) in [
            ("Summary", Target::Summary),
            ("DESCRIPTION", Target::Description),
            (" Description", Target::Description),
            ("comment", Target::Comment),
            ("Comment ", Target::Comment),
            ("Labels", Target::Labels),
        ] {
            assert_eq!(Target::of(name), target, "{name:?}");
        }
        // A description is text: its commas never split it.
        assert_eq!(
            value_for(&Target::of("Description"), "Deploy a, b"),
            FieldValue::One("Deploy a, b".into())
        );
        assert_eq!(
            Target::of("Descriptions"),
            Target::Field("Descriptions".into())
        );
    }

    #[test]
    fn targets_and_values() {
        assert_eq!(Target::of(" summary "), Target::Summary);
        assert_eq!(Target::of("LABELS"), Target::Labels);
        assert_eq!(
            Target::of("customfield_10050"),
            Target::Field("customfield_10050".into())
        );
        assert_eq!(
            value_for(&Target::Summary, "Deploy a, b"),
            FieldValue::One("Deploy a, b".into())
        );
        assert_eq!(
            value_for(&Target::Labels, "deploy"),
            FieldValue::Many(strings(&["deploy"]))
        );
        assert_eq!(
            value_for(&Target::Field("Components".into()), "Web, API"),
            FieldValue::Many(strings(&["Web", "API"]))
        );
        assert_eq!(
            value_for(&Target::Field("Reason".into()), r#""hotfix, urgent""#),
            FieldValue::One("hotfix, urgent".into())
        );
        assert_eq!(
            value_for(&Target::Field("Priority".into()), "High"),
            FieldValue::One("High".into())
        );
    }
}
