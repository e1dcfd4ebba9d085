//! Rich text written in the stanza (issue 9): with `ticket.markup: markdown`, the default, the
//! description and every comment jira-gate posts are CommonMark (with GitHub's tables and
//! strikethrough), sent as Atlassian Document Format on REST v3 ([`adf`]) and as Jira wiki markup
//! on v2 ([`wiki`]); `plain` sends the text as it is (`crate::adf::from_text` on v3).
//!
//! pulldown-cmark parses; this module turns its events into a small tree ([`Block`], [`Inline`])
//! that both renderers walk, so the two flavors agree on what the text says. The tree is nested at
//! most [`MAX_NESTING`] block containers deep (deeper lists and quotes are folded into the
//! innermost kept one), which keeps the renderers' recursion and the JSON depth bounded whatever
//! the input. A single line break stays a line break, as in GitHub comments.

pub mod adf;
pub mod wiki;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use schemars::JsonSchema;
use serde::Deserialize;

/// How the stanza's rich text is read (`ticket.markup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Markup {
    /// CommonMark: ADF on REST v3, Jira wiki markup on v2.
    #[default]
    Markdown,
    /// The text as it is: paragraphs and links on v3, the string itself on v2.
    Plain,
}

/// Block containers (lists, list items, quotes) kept one inside another; deeper ones are folded
/// into the innermost kept container.
pub const MAX_NESTING: usize = 8;

/// A block of the parsed text.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A heading of level 1 to 6.
    Heading(u8, Vec<Inline>),
    /// A code block and its language (the first word of a fence's info string).
    Code {
        /// The language, if given.
        language: Option<String>,
        /// The code, without the final line break.
        text: String,
    },
    /// A bullet list (`start` is `None`) or an ordered list from `start`.
    List {
        /// The first number of an ordered list.
        start: Option<u64>,
        /// The items, each a list of blocks.
        items: Vec<Vec<Block>>,
    },
    /// A block quote.
    Quote(Vec<Block>),
    /// A table (GitHub's extension).
    Table(Vec<Row>),
    /// A thematic break.
    Rule,
}

/// A table row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The header row.
    pub header: bool,
    /// The cells' text.
    pub cells: Vec<Vec<Inline>>,
}

/// Inline content.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Text with its marks (never empty).
    Text(String, Marks),
    /// A line break.
    Break,
}

/// The marks on a run of text (one flag per Markdown mark, as ADF has one mark per flag).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Marks {
    /// `**strong**`.
    pub strong: bool,
    /// `*emphasis*`.
    pub em: bool,
    /// `~~strike~~`.
    pub strike: bool,
    /// `` `code` ``.
    pub code: bool,
    /// The target of a link around the text.
    pub link: Option<String>,
}

/// Parses CommonMark (with tables and strikethrough) into blocks. Never panics.
pub fn parse(text: &str) -> Vec<Block> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut builder = Builder::default();
    for event in Parser::new_ext(text, options) {
        builder.event(event);
    }
    builder.finish()
}

/// A block being built.
#[derive(Debug)]
enum Open {
    Doc(Vec<Block>),
    Quote(Vec<Block>),
    Item(Vec<Block>),
    List(Option<u64>, Vec<Vec<Block>>),
    /// A paragraph; `true` when opened for the loose text of a tight list item.
    Para(Vec<Inline>, bool),
    Heading(u8, Vec<Inline>),
    Code(Option<String>, String),
    Table(Vec<Row>),
    Row(bool, Vec<Vec<Inline>>),
    Cell(Vec<Inline>),
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Open>,
    /// One entry per open list, item or quote: whether it got a frame (false past the nesting
    /// limit, so its end closes nothing).
    containers: Vec<bool>,
    /// How many of `containers` got a frame (counted, not recounted: input may open thousands).
    kept: usize,
    strong: usize,
    em: usize,
    strike: usize,
    links: Vec<String>,
    /// Images open, with the number of inlines their alt text had when they opened.
    images: Vec<(String, usize)>,
    /// Where inlines go if no inline frame could be found (never, but no panic either).
    spare: Vec<Inline>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if let Some(Open::Code(_, code)) = self.stack.last_mut() {
                    code.push_str(&text);
                } else {
                    self.text(&text, false);
                }
            }
            Event::Code(text) => self.text(&text, true),
            Event::Html(text) => {
                // An HTML block comes one line per event: its lines stay apart.
                if !self.inlines().is_empty() {
                    self.inlines().push(Inline::Break);
                }
                self.html(&text);
            }
            Event::InlineHtml(text) => self.html(&text),
            Event::SoftBreak | Event::HardBreak => self.inlines().push(Inline::Break),
            Event::Rule => self.push_block(Block::Rule),
            Event::FootnoteReference(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                self.text(&text, false);
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }, false),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::HtmlBlock => self.open_block(Open::Para(Vec::new(), false)),
            Tag::Heading { level, .. } => {
                self.open_block(Open::Heading(level as u8, Vec::new()));
            }
            Tag::CodeBlock(kind) => {
                let language = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .map(str::to_owned)
                        .filter(|l| !l.is_empty()),
                    CodeBlockKind::Indented => None,
                };
                self.open_block(Open::Code(language, String::new()));
            }
            Tag::BlockQuote(_) => self.open_container(Open::Quote(Vec::new())),
            Tag::List(start) => self.open_container(Open::List(start, Vec::new())),
            Tag::Item => self.open_container(Open::Item(Vec::new())),
            Tag::Table(_) => self.open_block(Open::Table(Vec::new())),
            Tag::TableHead => self.stack.push(Open::Row(true, Vec::new())),
            Tag::TableRow => self.stack.push(Open::Row(false, Vec::new())),
            Tag::TableCell => self.stack.push(Open::Cell(Vec::new())),
            Tag::Emphasis => self.em += 1,
            Tag::Strong => self.strong += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link { dest_url, .. } => self.links.push(dest_url.into_string()),
            Tag::Image { dest_url, .. } => {
                let before = self.inlines().len();
                self.links.push(dest_url.to_string());
                self.images.push((dest_url.into_string(), before));
            }
            // Not enabled in the options; their text still counts.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_)
            | Tag::Superscript
            | Tag::Subscript => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::HtmlBlock
            | TagEnd::Heading(_)
            | TagEnd::CodeBlock
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell => self.close(),
            TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item => {
                if self.containers.pop().unwrap_or(false) {
                    self.kept = self.kept.saturating_sub(1);
                    self.close_loose_paragraph();
                    self.close();
                }
            }
            TagEnd::Emphasis => self.em = self.em.saturating_sub(1),
            TagEnd::Strong => self.strong = self.strong.saturating_sub(1),
            TagEnd::Strikethrough => self.strike = self.strike.saturating_sub(1),
            TagEnd::Link => {
                self.links.pop();
            }
            TagEnd::Image => {
                self.links.pop();
                if let Some((url, before)) = self.images.pop() {
                    // An image without alt text still shows where it points.
                    if self.inlines().len() == before && !url.is_empty() {
                        self.links.push(url.clone());
                        self.text(&url, false);
                        self.links.pop();
                    }
                }
            }
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_)
            | TagEnd::Superscript
            | TagEnd::Subscript => {}
        }
    }

    fn marks(&self, code: bool) -> Marks {
        Marks {
            strong: self.strong > 0,
            em: self.em > 0,
            strike: self.strike > 0,
            code,
            link: self.links.last().cloned(),
        }
    }

    fn text(&mut self, text: &str, code: bool) {
        if text.is_empty() {
            return;
        }
        let marks = self.marks(code);
        let inlines = self.inlines();
        if let Some(Inline::Text(last, m)) = inlines.last_mut() {
            if *m == marks {
                last.push_str(text);
                return;
            }
        }
        inlines.push(Inline::Text(text.to_owned(), marks));
    }

    /// Raw HTML is shown as the text it is; its line breaks stay.
    fn html(&mut self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.inlines().push(Inline::Break);
            }
            self.text(line, false);
        }
    }

    /// The inline content being built, opening a paragraph for the loose text of a tight list
    /// item (pulldown-cmark gives its text without one).
    fn inlines(&mut self) -> &mut Vec<Inline> {
        if !matches!(
            self.stack.last(),
            Some(Open::Para(..) | Open::Heading(..) | Open::Cell(_))
        ) {
            if matches!(self.stack.last(), Some(Open::Code(..) | Open::Row(..))) {
                self.close();
            }
            self.stack.push(Open::Para(Vec::new(), true));
        }
        match self.stack.last_mut() {
            Some(Open::Para(i, _) | Open::Heading(_, i) | Open::Cell(i)) => i,
            _ => &mut self.spare,
        }
    }

    fn close_loose_paragraph(&mut self) {
        if matches!(self.stack.last(), Some(Open::Para(_, true))) {
            self.close();
        }
    }

    fn open_block(&mut self, open: Open) {
        self.close_loose_paragraph();
        self.stack.push(open);
    }

    fn open_container(&mut self, open: Open) {
        let kept = self.kept < MAX_NESTING;
        self.containers.push(kept);
        if kept {
            self.kept += 1;
            self.open_block(open);
        } else {
            self.close_loose_paragraph();
        }
    }

    /// Closes the innermost open block into its parent.
    fn close(&mut self) {
        let Some(top) = self.stack.pop() else {
            return;
        };
        match top {
            Open::Doc(blocks) => self.stack.push(Open::Doc(blocks)),
            Open::Quote(blocks) => self.push_block(Block::Quote(blocks)),
            Open::Item(blocks) => match self.stack.last_mut() {
                Some(Open::List(_, items)) => items.push(blocks),
                _ => blocks.into_iter().for_each(|b| self.push_block(b)),
            },
            Open::List(start, items) => self.push_block(Block::List { start, items }),
            Open::Para(inlines, _) => self.push_block(Block::Paragraph(inlines)),
            Open::Heading(level, inlines) => self.push_block(Block::Heading(level, inlines)),
            Open::Code(language, mut text) => {
                if text.ends_with('\n') {
                    text.pop();
                }
                self.push_block(Block::Code { language, text });
            }
            Open::Table(rows) => self.push_block(Block::Table(rows)),
            Open::Row(header, cells) => match self.stack.last_mut() {
                Some(Open::Table(rows)) => rows.push(Row { header, cells }),
                _ => cells
                    .into_iter()
                    .for_each(|c| self.push_block(Block::Paragraph(c))),
            },
            Open::Cell(inlines) => match self.stack.last_mut() {
                Some(Open::Row(_, cells)) => cells.push(inlines),
                _ => self.push_block(Block::Paragraph(inlines)),
            },
        }
    }

    /// Adds a finished block to the innermost open container, closing whatever else is open.
    fn push_block(&mut self, block: Block) {
        loop {
            match self.stack.last_mut() {
                Some(Open::Doc(blocks) | Open::Quote(blocks) | Open::Item(blocks)) => {
                    blocks.push(block);
                    return;
                }
                Some(Open::List(_, items)) => {
                    items.push(vec![block]);
                    return;
                }
                None => {
                    self.stack.push(Open::Doc(vec![block]));
                    return;
                }
                Some(_) => self.close(),
            }
        }
    }

    fn finish(mut self) -> Vec<Block> {
        // A `Doc` frame is only ever opened on an empty stack, so it is the bottom one.
        loop {
            match self.stack.as_slice() {
                [] => return Vec::new(),
                [Open::Doc(_)] => break,
                _ => self.close(),
            }
        }
        match self.stack.pop() {
            Some(Open::Doc(blocks)) => blocks,
            _ => Vec::new(),
        }
    }
}

/// Every text of the blocks, in order (for tests: nothing written is lost).
pub fn plain_text(blocks: &[Block]) -> String {
    fn inlines(out: &mut String, inlines: &[Inline]) {
        for inline in inlines {
            match inline {
                Inline::Text(text, _) => out.push_str(text),
                Inline::Break => out.push('\n'),
            }
        }
        out.push('\n');
    }
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Paragraph(i) | Block::Heading(_, i) => inlines(&mut out, i),
            Block::Code { text, .. } => {
                out.push_str(text);
                out.push('\n');
            }
            Block::List { items, .. } => items.iter().for_each(|b| out.push_str(&plain_text(b))),
            Block::Quote(b) => out.push_str(&plain_text(b)),
            Block::Table(rows) => rows
                .iter()
                .flat_map(|r| &r.cells)
                .for_each(|c| inlines(&mut out, c)),
            Block::Rule => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Inline {
        Inline::Text(t.to_owned(), Marks::default())
    }

    #[test]
    fn tight_list_items_get_paragraphs_and_nesting() {
        let blocks = parse("- a\n  - b\n- c\n\n3. x\n4. y\n");
        assert_eq!(
            blocks,
            vec![
                Block::List {
                    start: None,
                    items: vec![
                        vec![
                            Block::Paragraph(vec![text("a")]),
                            Block::List {
                                start: None,
                                items: vec![vec![Block::Paragraph(vec![text("b")])]]
                            }
                        ],
                        vec![Block::Paragraph(vec![text("c")])],
                    ]
                },
                Block::List {
                    start: Some(3),
                    items: vec![
                        vec![Block::Paragraph(vec![text("x")])],
                        vec![Block::Paragraph(vec![text("y")])],
                    ]
                },
            ]
        );
    }

    #[test]
    fn marks_nest_and_links_carry_their_target() {
        let blocks = parse("**a *b*** ~~c~~ [`d`](https://e.example)");
        let Block::Paragraph(inlines) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        let marks: Vec<(String, Marks)> = inlines
            .iter()
            .map(|i| match i {
                Inline::Text(t, m) => (t.clone(), m.clone()),
                Inline::Break => ("\n".into(), Marks::default()),
            })
            .collect();
        let strong = Marks {
            strong: true,
            ..Marks::default()
        };
        assert_eq!(marks[0], ("a ".into(), strong.clone()));
        assert_eq!(marks[1], ("b".into(), Marks { em: true, ..strong }));
        assert!(marks.iter().any(|(t, m)| t == "c" && m.strike));
        assert!(
            marks
                .iter()
                .any(|(t, m)| t == "d" && m.code && m.link.as_deref() == Some("https://e.example"))
        );
    }

    #[test]
    fn deep_nesting_is_folded() {
        fn depth(b: &[Block]) -> usize {
            b.iter()
                .map(|b| match b {
                    Block::Quote(inner) => 1 + depth(inner),
                    Block::List { items, .. } => {
                        2 + items.iter().map(|i| depth(i)).max().unwrap_or(0)
                    }
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
        }
        // Thousands of containers (within a 256 KiB stanza): counted once each, not recounted.
        let deep = format!("{}x", "> ".repeat(100_000));
        let blocks = parse(&deep);
        assert!(depth(&blocks) <= MAX_NESTING, "{}", depth(&blocks));
        assert_eq!(plain_text(&blocks).trim(), "x");
    }

    fn linked(t: &str, url: &str) -> Inline {
        Inline::Text(
            t.to_owned(),
            Marks {
                link: Some(url.to_owned()),
                ..Marks::default()
            },
        )
    }

    #[test]
    fn an_image_shows_its_alt_text_linked_to_the_picture() {
        assert_eq!(
            parse("see ![the diagram](https://x.example/d.png)"),
            vec![Block::Paragraph(vec![
                text("see "),
                linked("the diagram", "https://x.example/d.png"),
            ])]
        );
    }

    #[test]
    fn an_image_without_alt_text_shows_its_address_as_a_link() {
        assert_eq!(
            parse("![](https://x.example/d.png)"),
            vec![Block::Paragraph(vec![linked(
                "https://x.example/d.png",
                "https://x.example/d.png"
            )])]
        );
        // Nothing to show: no text at all.
        assert_eq!(plain_text(&parse("a ![]() b")), "a  b\n");
    }

    #[test]
    fn an_html_block_keeps_its_lines_apart() {
        assert_eq!(
            parse("<!-- deploy\nnotes -->\n\ntext"),
            vec![
                Block::Paragraph(vec![text("<!-- deploy"), Inline::Break, text("notes -->")]),
                Block::Paragraph(vec![text("text")]),
            ]
        );
    }

    #[test]
    fn an_html_tag_across_lines_keeps_its_line_break() {
        assert_eq!(
            parse("a <span\ntitle=x>b"),
            vec![Block::Paragraph(vec![
                text("a <span"),
                Inline::Break,
                text("title=x>b"),
            ])]
        );
    }
}
