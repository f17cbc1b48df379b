//! Progress lines on stderr in cargo's style: a right-aligned verb, bold green on a terminal.

use std::io::{IsTerminal, Write};

/// Prints `verb message`, e.g. `  Configured hello for unix`.
pub fn status(verb: &str, message: impl std::fmt::Display) {
    let mut err = std::io::stderr().lock();
    let _ = if std::io::stderr().is_terminal() {
        writeln!(err, "\x1b[1;32m{verb:>12}\x1b[0m {message}")
    } else {
        writeln!(err, "{verb:>12} {message}")
    };
}

/// Prints `warning: message` (bold yellow on a terminal).
pub fn warning(message: impl std::fmt::Display) {
    let mut err = std::io::stderr().lock();
    let _ = if std::io::stderr().is_terminal() {
        writeln!(err, "\x1b[1;33mwarning\x1b[0m: {message}")
    } else {
        writeln!(err, "warning: {message}")
    };
}
