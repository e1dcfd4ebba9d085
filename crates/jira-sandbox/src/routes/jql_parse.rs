//! Cloud's `POST /rest/api/{2,3}/jql/parse?validation=strict|warn|none`: each query of
//! `{"queries": [...]}` parsed and checked without running it, answered as `ParsedJqlQueries`
//! (`query`, then `structure` or `errors` and `warnings`). Data Center has no such endpoint (404).

use axum::Extension;
use serde_json::{Value, json};

use super::Cx;
use crate::Flavor;
use crate::jql::{self, Clause, Expr, Operand, Query};
use crate::server::{Reply, lock};
use crate::state::State;

/// How much checking the caller asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Validation {
    /// Every problem; no structure when there is one.
    Strict,
    /// Every problem, and the structure when the syntax is right.
    Warn,
    /// The structure when the syntax is right; no other check.
    None,
}

pub(super) async fn parse(Extension(cx): Extension<Cx>) -> Reply {
    if cx.flavor() != Flavor::Cloud {
        return cx.not_found();
    }
    let validation = match cx.req.param("validation").unwrap_or("strict") {
        "strict" => Validation::Strict,
        "warn" => Validation::Warn,
        "none" => Validation::None,
        other => {
            return Reply::message(
                400,
                &format!("Invalid validation value '{other}'. Use strict, warn or none."),
            );
        }
    };
    let body = match cx.req.json() {
        Ok(body) => body,
        Err(e) => return Reply::error(&e),
    };
    let Some(queries) = body.get("queries").and_then(Value::as_array) else {
        return Reply::message(400, "The queries list must not be empty.");
    };
    let st = lock(&cx.shared.state);
    let answers: Vec<Value> = queries
        .iter()
        .map(|q| answer(q.as_str().unwrap_or_default(), validation, &st))
        .collect();
    Reply::json(200, json!({ "queries": answers }))
}

fn answer(text: &str, validation: Validation, st: &State) -> Value {
    let mut out = json!({ "query": text });
    let query = match jql::parse(text) {
        Ok(query) => query,
        Err(message) => {
            out["errors"] = json!([message]);
            return out;
        }
    };
    let problems = match validation {
        Validation::None => None,
        _ => query.check(st).err(),
    };
    if let Some(problems) = &problems {
        if !problems.errors.is_empty() {
            out["errors"] = json!(problems.errors);
        }
        if !problems.warnings.is_empty() {
            out["warnings"] = json!(problems.warnings);
        }
    }
    if problems.is_none() || validation == Validation::Warn {
        out["structure"] = structure(&query);
    }
    out
}

/// The `JqlQuery` syntax tree: `where` and `orderBy`.
fn structure(query: &Query) -> Value {
    let mut out = json!({});
    if let Some(condition) = &query.condition {
        out["where"] = clause_json(condition);
    }
    if let Some(desc) = query.order_desc {
        out["orderBy"] = json!({"fields": [{
            "field": {"name": "created", "encodedName": "created"},
            "direction": if desc { "desc" } else { "asc" },
        }]});
    }
    out
}

fn clause_json(expr: &Expr) -> Value {
    let compound = |operator: &str, list: &[Expr]| json!({"operator": operator, "clauses": list.iter().map(clause_json).collect::<Vec<_>>()});
    match expr {
        Expr::And(list) => compound("and", list),
        Expr::Or(list) => compound("or", list),
        Expr::Not(inner) => compound("not", std::slice::from_ref(inner)),
        Expr::Clause(Clause { field, op, operand }) => {
            let operand = match operand {
                Operand::Value(v) => json!({"value": v, "encodedValue": encode(v)}),
                Operand::List(list) => json!({
                    "values": list.iter().map(|v| json!({"value": v, "encodedValue": encode(v)})).collect::<Vec<_>>(),
                    "encodedOperand": format!("({})", list.iter().map(|v| encode(v)).collect::<Vec<_>>().join(", ")),
                }),
                Operand::Empty => json!({"keyword": "empty"}),
            };
            json!({
                "field": {"name": field, "encodedName": encode(field)},
                "operator": op.symbol(),
                "operand": operand,
            })
        }
    }
}

/// A name or value as it can be written back into JQL: as is when it is one plain word, else
/// in double quotes.
fn encode(text: &str) -> String {
    let plain = !text.is_empty()
        && !jql::is_reserved(text)
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.[]".contains(c));
    if plain {
        return text.to_owned();
    }
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_jiras_shape() {
        let st = State::new(Flavor::Cloud, "OPS", "ci-bot@example.com");
        let ok = answer(
            "labels in (a, \"b c\") OR NOT status IS EMPTY ORDER BY created",
            Validation::Strict,
            &st,
        );
        assert_eq!(
            ok,
            json!({"query": "labels in (a, \"b c\") OR NOT status IS EMPTY ORDER BY created", "structure": {
                "where": {"operator": "or", "clauses": [
                    {"field": {"name": "labels", "encodedName": "labels"}, "operator": "in", "operand": {
                        "values": [{"value": "a", "encodedValue": "a"}, {"value": "b c", "encodedValue": "\"b c\""}],
                        "encodedOperand": "(a, \"b c\")"}},
                    {"operator": "not", "clauses": [
                        {"field": {"name": "status", "encodedName": "status"}, "operator": "is", "operand": {"keyword": "empty"}}]},
                ]},
                "orderBy": {"fields": [{"field": {"name": "created", "encodedName": "created"}, "direction": "desc"}]},
            }})
        );
        assert_eq!(
            answer("universe = 42", Validation::Strict, &st),
            json!({"query": "universe = 42", "errors": ["Field 'universe' does not exist or you do not have permission to view it."]})
        );
        assert_eq!(
            answer("project = INVALID", Validation::Strict, &st),
            json!({"query": "project = INVALID", "warnings": ["The value 'INVALID' does not exist for the field 'project'."]})
        );
        let warn = answer("project = INVALID", Validation::Warn, &st);
        assert!(warn.get("structure").is_some() && warn.get("warnings").is_some());
        assert_eq!(
            answer("invalid query", Validation::None, &st)["errors"][0],
            "Error in the JQL Query: Expecting operator but got 'query'. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"
        );
        assert!(
            answer("universe = 42", Validation::None, &st)
                .get("errors")
                .is_none()
        );
    }
}
