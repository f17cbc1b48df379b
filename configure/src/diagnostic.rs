//! Diagnostics: errors and warnings that point into the user's files.
//!
//! Every problem `petrel` finds in `unikernel.toml`, in `src/lib.rs` or on the command line is
//! a [`Diagnostic`]: a one-line message, a primary [`Label`] (file, byte span, what was
//! expected there), optional secondary labels (the *other* place involved, e.g. the first of
//! two declarations), notes and help lines. [`Diagnostic::render`] prints it the way rustc
//! does, in plain text (colour is the caller's business):
//!
//! ```text
//! error: unknown device type `blok`
//!  --> unikernel.toml:5:8
//!   |
//! 5 | type = "blok"
//!   |        ^^^^^^ expected one of: block, kv_ro, net, stack
//!   = help: did you mean `block`?
//! ```
//!
//! Checks collect several diagnostics into [`Diagnostics`] so that the whole input is checked
//! before anything is written. Rendering never panics, whatever the spans and the text: spans
//! are clamped to the text and to character boundaries, and very long lines are shown as a
//! window around the span.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// A file (or the command line) that diagnostics point into.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown after `-->`: the path as the user would type it (`unikernel.toml`).
    pub name: String,
    /// The whole text. Files that are not UTF-8 are kept lossily converted.
    pub text: String,
    /// Where its lines start, computed on first use.
    lines: OnceLock<LineIndex>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.text) == (&other.name, &other.text)
    }
}

impl Eq for SourceFile {}

impl SourceFile {
    /// A shared source file.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile::unshared(name, text))
    }

    /// A source file not yet shared.
    pub fn unshared(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            lines: OnceLock::new(),
        }
    }

    fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// The 1-based line and 1-based column (in characters) of byte offset `offset`, clamped to
    /// the text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset);
        let starts = &self.lines().starts;
        // The lines that start at or before `offset`; the first starts at 0.
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// Byte offset of 1-based `line` and 0-based character `column` (the convention of
    /// `proc_macro2::LineColumn`), clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        self.lines().offset_of(&self.text, line, column)
    }
}

/// Where each line of a text starts: turns positions into lines and back without scanning
/// the text again for each one (a file of 20,000 boot-argument fields has 40,000 spans, and
/// as many warnings may point into unikernel.toml).
#[derive(Debug, Clone)]
struct LineIndex {
    /// Byte offset of the start of each line; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `text`.
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// Byte offset in `text` (the text this index was built from) of 1-based `line` and
    /// 0-based character `column`, clamped to the text.
    fn offset_of(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.max(1) - 1) else {
            return text.len();
        };
        let line_text = text.get(start..).unwrap_or("");
        let line_text = &line_text[..line_text.find('\n').unwrap_or(line_text.len())];
        let within = line_text
            .char_indices()
            .nth(column)
            .map_or(line_text.len(), |(i, _)| i);
        start + within
    }
}

/// The largest char boundary of `s` not after `i`.
fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Configuration stops; nothing is written.
    Error,
    /// Reported, configuration goes on.
    Warning,
}

impl Severity {
    fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a file, with what is to be said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Byte range in the file; `None` when the problem is the file as a whole.
    pub span: Option<Range<usize>>,
    /// Shown after the underline (may be empty).
    pub message: String,
}

impl Label {
    /// A label on `span` of `file`.
    pub fn new(file: &Arc<SourceFile>, span: Range<usize>, message: impl Into<String>) -> Label {
        Label {
            file: file.clone(),
            span: Some(span),
            message: message.into(),
        }
    }

    /// A label on a whole file (no line shown).
    pub fn file(file: &Arc<SourceFile>, message: impl Into<String>) -> Label {
        Label {
            file: file.clone(),
            span: None,
            message: message.into(),
        }
    }

    /// `name:line:col` of the start of the span (or just `name`).
    pub fn location(&self) -> String {
        match &self.span {
            Some(span) => {
                let (line, col) = self.file.line_col(span.start);
                format!("{}:{line}:{col}", self.file.name)
            }
            None => self.file.name.clone(),
        }
    }
}

/// One error or warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The one-line summary (`unknown device type `blok``).
    pub message: String,
    /// Where it is; `None` for problems with no place (rare).
    pub primary: Option<Label>,
    /// Other places involved (shown with `-` underlines).
    pub secondary: Vec<Label>,
    /// `= note: ...` lines.
    pub notes: Vec<String>,
    /// `= help: ...` lines.
    pub help: Vec<String>,
}

impl Diagnostic {
    /// An error with no place yet.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: Vec::new(),
        }
    }

    /// A warning with no place yet.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Sets the primary place.
    pub fn at(mut self, label: Label) -> Diagnostic {
        self.primary = Some(label);
        self
    }

    /// Sets the primary place from a file, span and message (shortcut for [`Diagnostic::at`]).
    pub fn at_span(
        self,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.at(Label::new(file, span, message))
    }

    /// Adds a secondary place.
    pub fn with_label(mut self, label: Label) -> Diagnostic {
        self.secondary.push(label);
        self
    }

    /// Adds a `= note:` line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Adds a `= help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The rustc-style plain-text rendering, ending with a newline.
    pub fn render(&self) -> String {
        self.render_with(&Renderer::plain())
    }

    /// The rendering with ANSI colours, as a terminal shows it.
    pub fn render_styled(&self) -> String {
        self.render_with(&Renderer::styled())
    }

    /// Renders with annotate-snippets (cargo's and rustc's renderer). Never panics: spans are
    /// clamped to the text and to character boundaries, and control characters are shown as
    /// placeholders of the same length, so offsets stay right.
    fn render_with(&self, renderer: &Renderer) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // One snippet per file, the primary place's file first.
        let labels: Vec<(&Label, bool)> = self
            .primary
            .iter()
            .map(|l| (l, true))
            .chain(self.secondary.iter().map(|l| (l, false)))
            .collect();
        let mut files: Vec<(&Arc<SourceFile>, String)> = Vec::new();
        for (label, _) in &labels {
            if label.span.is_some() && !files.iter().any(|(f, _)| Arc::ptr_eq(f, &label.file)) {
                files.push((&label.file, shown_text(&label.file.text)));
            }
        }
        let mut group = Group::with_title(level.primary_title(self.message.as_str()));
        for (file, text) in &files {
            let mut snippet = Snippet::source(text.as_str()).path(file.name.as_str());
            for (label, primary) in labels.iter().filter(|(l, _)| Arc::ptr_eq(&l.file, file)) {
                let Some(span) = &label.span else { continue };
                let start = floor_char_boundary(text, span.start);
                let end = floor_char_boundary(text, span.end.max(start));
                let kind = if *primary {
                    AnnotationKind::Primary
                } else {
                    AnnotationKind::Context
                };
                snippet = snippet.annotation(kind.span(start..end).label(label.message.as_str()));
            }
            group = group.element(snippet);
        }
        // A place that is a whole file: its name, and its message as a note.
        for (label, _) in labels.iter().filter(|(l, _)| l.span.is_none()) {
            group = group.element(Origin::path(label.file.name.as_str()));
            if !label.message.is_empty() {
                group = group.element(Level::NOTE.message(label.message.as_str()));
            }
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        for help in &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let mut out = renderer.render(&[group]);
        out.push('\n');
        out
    }

    /// The diagnostic as one JSON object in rustc's diagnostic format (what
    /// `cargo --message-format=json` carries in `message`): `level`, `message`, `spans` with
    /// file name, byte offsets, 1-based lines and columns, `is_primary` and `label`,
    /// `children` for notes and help, and `rendered`.
    pub fn to_json(&self) -> serde_json::Value {
        let span = |label: &Label, primary: bool| {
            let text = &label.file.text;
            let (start, end) = label.span.clone().map_or((0, 0), |s| {
                let start = floor_char_boundary(text, s.start);
                (start, floor_char_boundary(text, s.end.max(start)))
            });
            let (line_start, column_start) = label.file.line_col(start);
            let (line_end, column_end) = label.file.line_col(end);
            serde_json::json!({
                "file_name": label.file.name,
                "byte_start": start,
                "byte_end": end,
                "line_start": line_start,
                "line_end": line_end,
                "column_start": column_start,
                "column_end": column_end,
                "is_primary": primary,
                "label": (!label.message.is_empty()).then_some(&label.message),
            })
        };
        let spans: Vec<serde_json::Value> = self
            .primary
            .iter()
            .map(|l| span(l, true))
            .chain(self.secondary.iter().map(|l| span(l, false)))
            .collect();
        let children: Vec<serde_json::Value> = self
            .notes
            .iter()
            .map(|n| ("note", n))
            .chain(self.help.iter().map(|h| ("help", h)))
            .map(|(level, message)| {
                serde_json::json!({"level": level, "message": message, "spans": [], "children": []})
            })
            .collect();
        serde_json::json!({
            "$message_type": "diagnostic",
            "level": self.severity.name(),
            "message": self.message,
            "spans": spans,
            "children": children,
            "rendered": self.render(),
        })
    }
}

/// `text` with every control character but `\n` and `\t` (and `\r` before `\n`) replaced by a
/// visible placeholder of the same UTF-8 length, so that spans into `text` stay valid and
/// nothing the file holds can move the terminal's cursor.
fn shown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let keep = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if keep {
            out.push(c);
        } else {
            // Control characters are 1 byte (C0, DEL) or 2 bytes (C1) long.
            out.push_str(if c.len_utf8() == 1 { "?" } else { "\u{bf}" });
        }
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Several diagnostics, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when at least one is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file, then position, keeping the relative order of diagnostics at one place.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| match &d.primary {
            Some(l) => (
                0,
                l.file.name.clone(),
                l.span.as_ref().map_or(0, |s| s.start),
            ),
            None => (1, String::new(), 0),
        });
    }

    /// `Ok(ok)` when there is no error, else `Err(self)`.
    pub fn into_result<T>(self, ok: T) -> Result<T, Diagnostics> {
        if self.has_errors() { Err(self) } else { Ok(ok) }
    }

    /// Every diagnostic rendered, separated by blank lines.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(Diagnostic::render)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `word` (Levenshtein distance at most a third of its length, at
/// least 1), for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Edit distance between two strings (characters; a swap of two neighbours counts as one
/// edit), bounded to avoid quadratic work on huge inputs: strings longer than 64 characters
/// are never "close".
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    // d[i][j]: distance between a[..i] and b[..j] (optimal string alignment).
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `a, b, c`: the items joined by commas.
pub fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let f = SourceFile::new("unikernel.toml", "[devices.b]\n\n\n\ntype = \"blok\"\n");
        let start = f.text.find("\"blok").unwrap();
        let d = Diagnostic::error("unknown device type `blok`")
            .at_span(
                &f,
                start..start + 6,
                "expected one of: block, kv_ro, net, stack",
            )
            .with_help("did you mean `block`?");
        assert_eq!(
            d.render(),
            "error: unknown device type `blok`\n --> unikernel.toml:5:8\n  |\n5 | type = \"blok\"\n  |        ^^^^^^ expected one of: block, kv_ro, net, stack\n  |\n  = help: did you mean `block`?\n"
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let f = SourceFile::new("f", "a = \"\u{1b}[2J\u{9b}x\r\"\n");
        let at = f.text.find('x').unwrap();
        let r = Diagnostic::error("m")
            .at_span(&f, at..at + 1, "here")
            .render();
        assert!(!r.chars().any(|c| c.is_control() && c != '\n'), "{r:?}");
        assert!(r.contains("^ here"), "{r}");
    }

    #[test]
    fn json_has_file_line_column_and_message() {
        let f = SourceFile::new("unikernel.toml", "[devices.b]\ntype = \"blok\"\n");
        let other = SourceFile::new("src/lib.rs", "fn x() {}\n");
        let at = f.text.find("\"blok").unwrap();
        let d = Diagnostic::error("unknown device type `blok`")
            .at_span(&f, at..at + 6, "here")
            .with_label(Label::new(&other, 3..4, "used here"))
            .with_note("a note")
            .with_help("did you mean `block`?");
        let j = d.to_json();
        assert_eq!(j["level"], "error");
        assert_eq!(j["message"], "unknown device type `blok`");
        let primary = &j["spans"][0];
        assert_eq!(primary["file_name"], "unikernel.toml");
        assert_eq!(primary["line_start"], 2);
        assert_eq!(primary["column_start"], 8);
        assert_eq!(primary["column_end"], 14);
        assert_eq!(primary["is_primary"], true);
        assert_eq!(j["spans"][1]["file_name"], "src/lib.rs");
        assert_eq!(j["spans"][1]["is_primary"], false);
        assert_eq!(j["children"][0]["level"], "note");
        assert_eq!(j["children"][1]["message"], "did you mean `block`?");
        assert_eq!(j["rendered"], d.render());
        // The secondary place in another file is rendered too.
        assert!(d.render().contains("src/lib.rs:1:4"), "{}", d.render());
    }

    #[test]
    fn spans_out_of_range_do_not_panic() {
        let f = SourceFile::new("x", "é\u{0}\tz");
        for s in 0..8 {
            for e in 0..8 {
                let _ = Diagnostic::error("m").at_span(&f, s..e, "here").render();
            }
        }
        let empty = SourceFile::new("e", "");
        assert!(
            Diagnostic::error("m")
                .at_span(&empty, 3..9, "")
                .render()
                .contains("e:1:1")
        );
    }

    #[test]
    fn long_lines_are_windowed() {
        let text = format!("k = \"{}x\"", "a".repeat(10_000));
        let f = SourceFile::new("f", text.clone());
        let at = text.find('x').unwrap();
        let r = Diagnostic::error("m")
            .at_span(&f, at..at + 1, "here")
            .render();
        assert!(r.lines().all(|l| l.len() < 200), "{r}");
        assert!(r.contains("^ here"));
    }

    #[test]
    fn offsets_and_columns_round_trip() {
        let f = SourceFile::new("f", "ab\ncdé\nf");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
        assert_eq!(f.offset_of(2, 2), 5);
        assert_eq!(f.offset_of(3, 0), 8);
        assert_eq!(f.offset_of(9, 0), 9);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("blok", ["block", "net", "kv_ro"]),
            Some("block")
        );
        assert_eq!(did_you_mean("zzzz", ["block", "net"]), None);
        assert_eq!(did_you_mean("nte", ["net", "kv"]), Some("net"));
    }
}
