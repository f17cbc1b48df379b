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
        let mut out = format!("{}: {}\n", self.severity.name(), self.message);
        let labels: Vec<&Label> = self.primary.iter().chain(self.secondary.iter()).collect();
        let width = labels
            .iter()
            .filter_map(|l| {
                l.span
                    .as_ref()
                    .map(|s| l.file.line_col(s.start).0.to_string().len())
            })
            .max()
            .unwrap_or(1);
        let pad = " ".repeat(width);
        for (i, label) in labels.iter().enumerate() {
            let primary = i == 0 && self.primary.is_some();
            // Like rustc: `-->` for the primary place, `:::` for the others.
            let arrow = if primary { "-->" } else { ":::" };
            if i > 0 {
                out.push_str(&format!("{pad} |\n"));
            }
            out.push_str(&format!("{pad}{arrow} {}\n", label.location()));
            match &label.span {
                Some(span) => render_snippet(
                    &mut out,
                    label,
                    span,
                    width,
                    if primary { '^' } else { '-' },
                ),
                None if !label.message.is_empty() => {
                    out.push_str(&format!("{pad} = {}\n", label.message));
                }
                None => {}
            }
        }
        for note in &self.notes {
            out.push_str(&format!(
                "{pad} = note: {}\n",
                indent_continuation(note, width)
            ));
        }
        for help in &self.help {
            out.push_str(&format!(
                "{pad} = help: {}\n",
                indent_continuation(help, width)
            ));
        }
        out
    }
}

/// Indents the continuation lines of a multi-line note so they line up after `= note: `.
fn indent_continuation(text: &str, width: usize) -> String {
    text.replace('\n', &format!("\n{}   ", " ".repeat(width)))
}

/// The longest source line shown; longer ones are cut to a window around the span.
const MAX_LINE: usize = 100;

/// Writes the `|`, source line and underline of `label`.
fn render_snippet(out: &mut String, label: &Label, span: &Range<usize>, width: usize, mark: char) {
    let text = &label.file.text;
    let start = floor_char_boundary(text, span.start);
    let end = floor_char_boundary(text, span.end.max(start));
    let (line_no, _) = label.file.line_col(start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    // Characters (tabs as 4 columns, control characters as one) before and within the span.
    let chars: Vec<char> = line.chars().map(displayable).collect();
    let before = text[line_start..start.min(line_start + line.len())]
        .chars()
        .count();
    let underline_end = end.min(line_start + line.len()).max(start);
    let mut len = text[start.min(line_start + line.len())..underline_end]
        .chars()
        .count();
    if len == 0 {
        len = 1;
    }
    // A window around the span when the line is too long.
    let (from, prefix) = if chars.len() > MAX_LINE && before > MAX_LINE / 2 {
        (before - MAX_LINE / 2, "...")
    } else {
        (0, "")
    };
    let to = (from + MAX_LINE).min(chars.len());
    let suffix = if to < chars.len() { "..." } else { "" };
    let shown: String = chars[from..to]
        .iter()
        .collect::<String>()
        .replace('\t', "    ");
    let lead: usize = prefix.len()
        + chars[from..before.min(to)]
            .iter()
            .map(|&c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>();
    let len = len.min((to + 1).saturating_sub(before).max(1));
    let pad = " ".repeat(width);
    out.push_str(&format!("{pad} |\n"));
    out.push_str(&format!("{line_no:>width$} | {prefix}{shown}{suffix}\n"));
    let marks: String = std::iter::repeat_n(mark, len).collect();
    let message = if label.message.is_empty() {
        String::new()
    } else {
        format!(" {}", label.message)
    };
    out.push_str(&format!("{pad} | {}{marks}{message}\n", " ".repeat(lead)));
}

/// Replaces characters that would break the layout (control characters) by `?`.
fn displayable(c: char) -> char {
    if c == '\t' || !c.is_control() {
        c
    } else {
        '\u{fffd}'
    }
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
            "error: unknown device type `blok`\n --> unikernel.toml:5:8\n  |\n5 | type = \"blok\"\n  |        ^^^^^^ expected one of: block, kv_ro, net, stack\n  = help: did you mean `block`?\n"
        );
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
