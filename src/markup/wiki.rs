//! Markdown → Jira wiki markup (REST v2: Data Center, or Cloud on v2).
//!
//! `h1.` headings, `*strong*`, `_em_`, `-strike-`, `{{code}}`, `{code:lang}` blocks, `[text|url]`
//! links, `*` / `#` lists (nesting by repeating the marker), `bq.` and `{quote}`, `||th||` and
//! `|td|` tables, `----` rules. Text is escaped so that it shows as written: a character that
//! wiki markup would read as formatting gets a backslash, unless it sits between two letters or
//! digits, where Jira never reads it as markup (`deploy-prod` stays as it is); a backslash itself
//! is written `&#92;` (`\\` is a line break in wiki markup). A bare `http(s)://` URL is left as
//! it is, since Jira links it. Wiki markup has no list start number,
//! no paragraph inside a list item (the paragraphs are joined with line breaks) and no quote in a
//! quote (the inner quote's text joins the outer one).

use super::{Block, Inline, Marks, Row};

/// The languages Jira's `{code}` macro knows; any other is sent without one, since Data Center
/// shows an error box for an unknown language.
const LANGUAGES: &[&str] = &[
    "actionscript",
    "ada",
    "applescript",
    "bash",
    "c",
    "c#",
    "c++",
    "cpp",
    "css",
    "erlang",
    "go",
    "groovy",
    "haskell",
    "html",
    "java",
    "javascript",
    "js",
    "json",
    "lua",
    "none",
    "nyan",
    "objc",
    "perl",
    "php",
    "python",
    "r",
    "ruby",
    "scala",
    "sh",
    "sql",
    "swift",
    "visualbasic",
    "xml",
    "yaml",
];

/// Converts Markdown to Jira wiki markup.
pub fn from_markdown(text: &str) -> String {
    let blocks = super::parse(text);
    let mut out = Vec::new();
    for block in &blocks {
        block_wiki(block, &mut out);
    }
    out.join("\n\n")
}

fn block_wiki(block: &Block, out: &mut Vec<String>) {
    match block {
        Block::Paragraph(inlines) => out.push(inline_wiki(inlines, "\n")),
        Block::Heading(level, inlines) => {
            out.push(format!(
                "h{}. {}",
                level.clamp(&1, &6),
                inline_wiki(inlines, " ")
            ));
        }
        Block::Code { language, text } => out.push(code(language.as_deref(), text)),
        Block::List { start, items } => {
            let mut lines = Vec::new();
            list(*start, items, "", &mut lines);
            out.push(lines.join("\n"));
        }
        Block::Quote(blocks) => out.push(quote(blocks)),
        Block::Table(rows) => out.push(rows.iter().map(row).collect::<Vec<_>>().join("\n")),
        Block::Rule => out.push("----".into()),
    }
}

fn code(language: Option<&str>, text: &str) -> String {
    if text.contains("{code") {
        return format!("{{noformat}}\n{text}\n{{noformat}}");
    }
    let language = language.map(str::to_lowercase);
    match language.as_deref().map(|l| match l {
        "shell" | "console" | "zsh" => "bash",
        "yml" => "yaml",
        "py" => "python",
        other => other,
    }) {
        Some(l) if LANGUAGES.contains(&l) => format!("{{code:{l}}}\n{text}\n{{code}}"),
        _ => format!("{{code}}\n{text}\n{{code}}"),
    }
}

fn quote(blocks: &[Block]) -> String {
    if let [Block::Paragraph(inlines)] = blocks {
        return format!("bq. {}", inline_wiki(inlines, " \\\\ "));
    }
    let mut inner = Vec::new();
    flat_quote(blocks, &mut inner);
    format!("{{quote}}\n{}\n{{quote}}", inner.join("\n\n"))
}

/// The blocks of a quote, with any quote inside it unwrapped ({quote} does not nest).
fn flat_quote(blocks: &[Block], out: &mut Vec<String>) {
    for block in blocks {
        match block {
            Block::Quote(inner) => flat_quote(inner, out),
            other => block_wiki(other, out),
        }
    }
}

fn row(row: &Row) -> String {
    let sep = if row.header { "||" } else { "|" };
    let mut line = String::from(sep);
    for cell in &row.cells {
        let text = inline_wiki(cell, " \\\\ ");
        line.push_str(if text.trim().is_empty() { " " } else { &text });
        line.push_str(sep);
    }
    line
}

/// One list's lines, each item's marker `prefix` followed by `*` or `#`.
fn list(start: Option<u64>, items: &[Vec<Block>], prefix: &str, lines: &mut Vec<String>) {
    let marker = format!("{prefix}{}", if start.is_some() { '#' } else { '*' });
    for item in items {
        let before = lines.len();
        let mut line: Vec<String> = Vec::new();
        item_blocks(item, &marker, &mut line, lines);
        if !line.is_empty() || lines.len() == before {
            // An empty item still gets its marker.
            lines.push(format!("{marker} {}", line.join(" \\\\ ")));
        }
    }
}

/// Writes the pending text of an item as a line.
fn flush(marker: &str, line: &mut Vec<String>, lines: &mut Vec<String>) {
    if !line.is_empty() {
        lines.push(format!("{marker} {}", line.join(" \\\\ ")));
        line.clear();
    }
}

fn item_blocks(blocks: &[Block], marker: &str, line: &mut Vec<String>, lines: &mut Vec<String>) {
    for block in blocks {
        match block {
            Block::Paragraph(inlines) | Block::Heading(_, inlines) => {
                line.push(inline_wiki(inlines, " \\\\ "));
            }
            Block::List { start, items } => {
                flush(marker, line, lines);
                list(*start, items, marker, lines);
            }
            Block::Quote(inner) => item_blocks(inner, marker, line, lines),
            Block::Table(rows) => line.extend(rows.iter().map(row)),
            Block::Code { language, text } => {
                flush(marker, line, lines);
                lines.push(code(language.as_deref(), text));
            }
            Block::Rule => {}
        }
    }
}

/// Inline content; `brk` is what a line break becomes.
fn inline_wiki(inlines: &[Inline], brk: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < inlines.len() {
        let link = match &inlines[i] {
            Inline::Text(_, m) => m.link.clone(),
            Inline::Break => None,
        };
        let mut j = i + 1;
        while j < inlines.len() {
            let same = match &inlines[j] {
                Inline::Text(_, m) => m.link == link,
                Inline::Break => link.is_none(),
            };
            if !same {
                break;
            }
            j += 1;
        }
        if let Some(url) = link.filter(|l| !l.is_empty()) {
            let text = Styled::render(&inlines[i..j], brk);
            let url = link_url(&url);
            if text == escape(&url, None) || text.is_empty() {
                out.push_str(&format!("[{url}]"));
            } else {
                out.push_str(&format!("[{text}|{url}]"));
            }
        } else {
            let mut styled = Styled {
                out: std::mem::take(&mut out),
                ..Styled::default()
            };
            styled.runs(&inlines[i..j], brk);
            out = styled.finish();
        }
        i = j;
    }
    out
}

/// A URL as it can stand inside `[...]`.
fn link_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('|', "%7C")
        .replace(']', "%5D")
        .replace('[', "%5B")
}

/// Text with `*`, `_` and `-` marks opened once for a run of text that shares them.
#[derive(Default)]
struct Styled {
    out: String,
    /// Open marks, innermost last, with where each opened in `out`.
    open: Vec<(char, usize)>,
}

impl Styled {
    fn render(inlines: &[Inline], brk: &str) -> String {
        let mut styled = Styled::default();
        styled.runs(inlines, brk);
        styled.finish()
    }

    fn runs(&mut self, inlines: &[Inline], brk: &str) {
        for inline in inlines {
            match inline {
                Inline::Break => {
                    self.set(&Marks::default());
                    self.out.push_str(brk);
                }
                Inline::Text(text, marks) => {
                    // Whitespace before a mark that opens goes before it (`* b*` is not bold).
                    let body = text.trim_start();
                    self.close_unwanted(marks);
                    self.out.push_str(&text[..text.len() - body.len()]);
                    self.set(marks);
                    let text = body;
                    if marks.code {
                        self.out
                            .push_str(&format!("{{{{{}}}}}", escape(text, None)));
                    } else if marks.link.is_some() {
                        let prev = self.out.chars().last();
                        self.out.push_str(&escape(text, prev));
                    } else {
                        for (part, url) in crate::adf::url_spans(text) {
                            if url {
                                // Jira links a bare URL itself; escaping would break it.
                                self.out.push_str(part);
                            } else {
                                let prev = self.out.chars().last();
                                self.out.push_str(&escape(part, prev));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Closes the marks `marks` does not have (and any opened inside them).
    fn close_unwanted(&mut self, marks: &Marks) {
        let wanted = |c: char| match c {
            '*' => marks.strong,
            '_' => marks.em,
            _ => marks.strike,
        };
        while let Some(pos) = self.open.iter().position(|&(c, _)| !wanted(c)) {
            while self.open.len() > pos {
                self.close();
            }
        }
    }

    /// Closes the marks `marks` does not have, then opens the ones it adds.
    fn set(&mut self, marks: &Marks) {
        self.close_unwanted(marks);
        for (c, on) in [('*', marks.strong), ('_', marks.em), ('-', marks.strike)] {
            if on && !self.open.iter().any(|&(o, _)| o == c) {
                self.out.push(c);
                self.open.push((c, self.out.len()));
            }
        }
    }

    /// Closes the innermost mark; whitespace before the close moves after it (Jira does not
    /// read `*bold *` as bold), and a mark around nothing is taken back.
    fn close(&mut self) {
        let Some((c, start)) = self.open.pop() else {
            return;
        };
        let trimmed = self.out.trim_end().len().max(start);
        let tail = self.out.split_off(trimmed);
        if self.out.len() == start {
            self.out.pop();
        } else {
            self.out.push(c);
        }
        self.out.push_str(&tail);
    }

    fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Escapes text for wiki markup; `before` is the character written before it.
fn escape(text: &str, before: Option<char>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i == 0 { before } else { Some(chars[i - 1]) };
        let next = chars.get(i + 1).copied();
        let inside_word =
            prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric);
        match c {
            '\\' => out.push_str("&#92;"),
            '{' | '}' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '*' | '_' | '-' | '+' | '^' | '~' | '?' if !inside_word => {
                out.push('\\');
                out.push(c);
            }
            '!' if next.is_some_and(|n| !n.is_whitespace()) => out.push_str("\\!"),
            '#' if prev.is_none_or(|p| p == '\n') => out.push_str("\\#"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Inline, Marks, from_markdown, inline_wiki};

    #[test]
    fn every_construct_becomes_its_markup() {
        let wiki = from_markdown(
            "# Title\n\nSome **bold**, *em*, ~~gone~~ and `code` [link](https://x.example).\n\n\
             ```yaml\na: 1\n```\n\n- a\n  1. b\n\n> quoted\n\n| h | i |\n| - | - |\n| c | d |\n\n---\n",
        );
        assert_eq!(
            wiki,
            "h1. Title\n\n\
             Some *bold*, _em_, -gone- and {{code}} [link|https://x.example].\n\n\
             {code:yaml}\na: 1\n{code}\n\n\
             * a\n*# b\n\n\
             bq. quoted\n\n\
             ||h||i||\n|c|d|\n\n\
             ----"
        );
    }

    #[test]
    fn text_is_escaped_but_words_stay() {
        assert_eq!(
            from_markdown("deploy-prod a_b {x} [y] 1 * 2 \\ #3"),
            "deploy-prod a_b \\{x\\} \\[y\\] 1 \\* 2 &#92; #3"
        );
        assert_eq!(from_markdown("\\# not a heading"), "\\# not a heading");
    }

    #[test]
    fn marks_span_runs_and_whitespace_moves_out() {
        assert_eq!(from_markdown("**a *b* c**"), "*a _b_ c*");
        let strong = Marks {
            strong: true,
            ..Marks::default()
        };
        let runs = [
            Inline::Text("a ".into(), strong.clone()),
            Inline::Text("b".into(), Marks::default()),
            Inline::Text(" ".into(), strong),
        ];
        assert_eq!(inline_wiki(&runs, "\n"), "*a* b ");
        assert_eq!(
            from_markdown("**bold [link](https://u.example) more**"),
            "*bold* [*link*|https://u.example] *more*"
        );
        assert_eq!(
            from_markdown("see https://ci.example/-/p_1 now"),
            "see https://ci.example/-/p_1 now"
        );
    }

    #[test]
    fn lists_nest_and_items_join_paragraphs() {
        assert_eq!(
            from_markdown("1. one\n\n   more\n   - deep\n2. two\n"),
            "# one \\\\ more\n#* deep\n# two"
        );
        assert_eq!(from_markdown("-\n-\n- - a\n"), "* \n* \n** a");
    }

    #[test]
    fn a_code_block_keeps_a_language_jira_knows_under_its_jira_name_and_drops_others() {
        assert_eq!(
            from_markdown("```rust\nx\n```\n\n```Shell\ny\n```\n\n```py\nz\n```"),
            "{code}\nx\n{code}\n\n{code:bash}\ny\n{code}\n\n{code:python}\nz\n{code}"
        );
    }

    #[test]
    fn a_quote_of_several_paragraphs_is_a_quote_block_holding_any_inner_quote() {
        assert_eq!(
            from_markdown("> a\n>\n> b\n>\n> > c\n"),
            "{quote}\na\n\nb\n\nc\n{quote}"
        );
    }

    #[test]
    fn a_link_that_shows_its_own_address_is_written_once() {
        assert_eq!(
            from_markdown("<https://x.example/a> and [https://x.example/b](https://x.example/b)"),
            "[https://x.example/a] and [https://x.example/b]"
        );
    }

    #[test]
    fn bold_inside_emphasis_keeps_the_emphasis_open() {
        assert_eq!(from_markdown("*a **b** c*"), "_a *b* c_");
    }

    #[test]
    fn a_mark_sign_touching_a_word_on_one_side_only_is_escaped() {
        assert_eq!(
            from_markdown("a -b c- d +e f^ ~g h? x?y"),
            "a \\-b c\\- d \\+e f\\^ \\~g h\\? x?y"
        );
    }

    #[test]
    fn an_exclamation_mark_before_a_word_is_escaped_and_one_before_a_space_is_not() {
        // `!name!` would show an attachment as an image.
        assert_eq!(from_markdown("Done! !alert x!"), "Done! \\!alert x!");
    }
}
