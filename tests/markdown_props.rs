//! Property tests of `ticket.markup: markdown` (issue 9): whatever the text, the conversion does
//! not panic, the ADF is valid against Atlassian's ADF JSON schema
//! (`../shared/jira/fixtures/adf-schema/full.json`), and no word written is lost, in ADF or in
//! wiki markup.

use std::sync::LazyLock;

use jira_gate::adf::to_text;
use jira_gate::markup::{adf, wiki};
use proptest::prelude::*;
use serde_json::Value;

static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/jira/fixtures/adf-schema/full.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
});

fn assert_valid(doc: &Value) -> Result<(), TestCaseError> {
    let errors: Vec<String> = SCHEMA.iter_errors(doc).map(|e| e.to_string()).collect();
    prop_assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    "[a-z]{1,8}"
}

/// A word, alone or inside a Markdown mark or link.
fn inline() -> impl Strategy<Value = (String, String)> {
    (word(), 0..7usize).prop_map(|(w, kind)| {
        let md = match kind {
            0 => format!("**{w}**"),
            1 => format!("*{w}*"),
            2 => format!("~~{w}~~"),
            3 => format!("`{w}`"),
            4 => format!("[{w}](https://x.example/{w})"),
            5 => format!("_{w}_"),
            _ => w.clone(),
        };
        (md, w)
    })
}

fn line() -> impl Strategy<Value = (String, Vec<String>)> {
    proptest::collection::vec(inline(), 1..6).prop_map(|parts| {
        let md = parts.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>();
        (md.join(" "), parts.into_iter().map(|(_, w)| w).collect())
    })
}

/// A block of Markdown: its text and the words it holds.
fn block() -> impl Strategy<Value = (String, Vec<String>)> {
    let prefixes = prop_oneof![
        Just(""),
        Just("# "),
        Just("### "),
        Just("####### "),
        Just("- "),
        Just("* "),
        Just("1. "),
        Just("7) "),
        Just("  - "),
        Just("    1. "),
        Just("> "),
        Just("> - "),
        Just("- > "),
        Just("- # "),
        Just("> > "),
        Just("| "),
    ];
    prop_oneof![
        4 => (prefixes, line()).prop_map(|(p, (md, w))| (format!("{p}{md}"), w)),
        1 => line().prop_map(|(md, w)| (format!("```sh\n{md}\n```"), w)),
        1 => (line(), line()).prop_map(|((a, wa), (b, wb))| {
            (format!("| {a} | x |\n| - | - |\n| {b} | |"), [wa, wb].concat())
        }),
        1 => Just(("---".to_owned(), Vec::new())),
    ]
}

fn document() -> impl Strategy<Value = (String, Vec<String>)> {
    proptest::collection::vec((block(), prop_oneof![Just("\n"), Just("\n\n")]), 0..12).prop_map(
        |blocks| {
            let mut md = String::new();
            let mut words = Vec::new();
            for ((text, w), sep) in blocks {
                md.push_str(&text);
                md.push_str(sep);
                words.extend(w);
            }
            (md, words)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_gives_valid_adf(text in any::<String>()) {
        assert_valid(&adf::from_markdown(&text))?;
        let _ = wiki::from_markdown(&text);
    }

    #[test]
    fn markdown_signs_in_any_order_give_valid_adf(text in "[-*_`~#>|\\[\\]()!<>\n 1.a\\\\:]{0,80}") {
        assert_valid(&adf::from_markdown(&text))?;
        let _ = wiki::from_markdown(&text);
    }

    #[test]
    fn markdown_keeps_every_word((md, words) in document()) {
        let doc = adf::from_markdown(&md);
        assert_valid(&doc)?;
        let text = to_text(&doc);
        let wiki = wiki::from_markdown(&md);
        for w in &words {
            prop_assert!(text.contains(w.as_str()), "{w:?} lost from ADF of {md:?}: {text:?}");
            prop_assert!(wiki.contains(w.as_str()), "{w:?} lost from wiki of {md:?}: {wiki:?}");
        }
    }

    #[test]
    fn deep_nesting_stays_valid(unit in prop_oneof![Just("> "), Just("- "), Just("1. "), Just("  - "), Just("- > ")], n in 1..300usize, (md, words) in line()) {
        let text = format!("{}{md}", unit.repeat(n));
        let doc = adf::from_markdown(&text);
        assert_valid(&doc)?;
        let plain = to_text(&doc);
        for w in &words {
            prop_assert!(plain.contains(w.as_str()), "{w:?} lost");
        }
        let _ = wiki::from_markdown(&text);
    }
}

/// The schema check can fail: documents that break its rules are refused.
#[test]
fn the_schema_refuses_what_it_forbids() {
    for bad in [
        r#"{"type":"doc","version":1,"content":[{"type":"blockquote","content":[{"type":"heading","attrs":{"level":1}}]}]}"#,
        r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}"#,
        r#"{"type":"doc","version":1,"content":[{"type":"bulletList","content":[]}]}"#,
        r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a","marks":[{"type":"code"},{"type":"strong"}]}]}]}"#,
    ] {
        let doc: Value = serde_json::from_str(bad).unwrap();
        assert!(!SCHEMA.is_valid(&doc), "{bad}");
    }
}
