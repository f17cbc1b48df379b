//! The edge where diagnostics leave the program: rendered for a person on stderr (coloured
//! where the terminal takes it), or as JSON lines on stdout for tools
//! (`--message-format=json`, as cargo's). `main` chooses once; commands hand over warnings and
//! `main` the final error, and nothing below renders on its own.

use crate::diagnostic::Diagnostics;
use std::io::Write;
use std::sync::OnceLock;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Rendered as rustc renders its own, on stderr.
    #[default]
    Human,
    /// One JSON object per diagnostic and line on stdout: `{"reason": "petrel-diagnostic",
    /// "message": {...}}`, the message in rustc's diagnostic format (level, message, spans
    /// with file, line and column, children, rendered).
    Json,
}

/// When human diagnostics are coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// When stderr is a terminal and neither `NO_COLOR` nor `CLICOLOR=0` says otherwise.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    format: MessageFormat,
    color: Color,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Chooses the format and colour of every diagnostic printed from now on. Called once, by
/// `main`; before it (in tests, say) diagnostics are printed as plain text.
pub fn init(format: MessageFormat, color: Color) {
    let _ = SETTINGS.set(Settings { format, color });
}

/// Prints `diagnostics` in the chosen format.
pub fn emit(diagnostics: &Diagnostics) {
    let settings = SETTINGS.get().copied().unwrap_or_default();
    match settings.format {
        MessageFormat::Human => {
            let choice = match settings.color {
                Color::Auto => anstream::ColorChoice::Auto,
                Color::Always => anstream::ColorChoice::Always,
                Color::Never => anstream::ColorChoice::Never,
            };
            let mut err = anstream::AutoStream::new(std::io::stderr().lock(), choice);
            let rendered: Vec<String> = diagnostics.iter().map(|d| d.render_styled()).collect();
            let _ = err.write_all(rendered.join("\n").as_bytes());
        }
        MessageFormat::Json => {
            let mut out = std::io::stdout().lock();
            for d in diagnostics.iter() {
                let line = serde_json::json!({
                    "reason": "petrel-diagnostic",
                    "message": d.to_json(),
                });
                let _ = writeln!(out, "{line}");
            }
        }
    }
}
