//! The error every command returns: structured diagnostics, never text. Rendering (plain,
//! coloured or JSON) happens once, at the edge (`main`, through [`crate::report`]).

use crate::diagnostic::{Diagnostic, Diagnostics};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems found, each with its place in the user's files or on the command line where
    /// it has one.
    #[error("{}", .0.render())]
    Diagnostics(Diagnostics),
    /// A command petrel ran failed and already said why on its own stderr.
    #[error("{what} failed ({status})")]
    Subprocess {
        /// What was run.
        what: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
}

impl Error {
    /// An error with a message and no place in a file (a missing tool, an I/O failure).
    pub fn msg(m: impl std::fmt::Display) -> Error {
        Error::Diagnostics(Diagnostic::error(m.to_string()).into())
    }

    /// The diagnostics to report for this error.
    pub fn diagnostics(&self) -> Diagnostics {
        match self {
            Error::Diagnostics(d) => d.clone(),
            Error::Subprocess { .. } => Diagnostic::error(self.to_string()).into(),
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Error {
        Error::Diagnostics(d)
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Error {
        Error::Diagnostics(d.into())
    }
}
