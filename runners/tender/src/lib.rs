//! What Petrel's Solo5 tenders share on the host side (`solo5-abi.md` §1.8, §5): [`cli`]
//! parses the command line both take, [`devices`] attaches block files and taps to manifest
//! entries and patches the guest's manifest copy, [`boot`] sizes guest memory and builds the
//! guest command line, and [`Error`] is how any of it fails.

use std::fmt;
use std::process::ExitCode;

pub mod boot;
pub mod cli;
pub mod devices;
pub mod seccomp;
#[cfg(feature = "testing")]
pub mod testing;

/// Exit status of a runner error.
pub const EXIT_ERROR: u8 = 1;
/// Exit status of a command line the guest cannot be given (mirage's code for a bad boot
/// argument): too long, or with an empty argument.
pub const EXIT_BAD_BOOT_ARGUMENT: u8 = 64;

/// A runner error: a message for the user (one or more lines) and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    code: u8,
}

impl Error {
    /// An error with this message, exit status 1.
    pub fn new(msg: impl Into<String>) -> Error {
        Error {
            message: msg.into(),
            code: EXIT_ERROR,
        }
    }

    /// A boot-argument error with this message, exit status 64.
    pub fn boot_argument(msg: impl Into<String>) -> Error {
        Error {
            message: msg.into(),
            code: EXIT_BAD_BOOT_ARGUMENT,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit status it gives.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// What a tender does with a parsed command line: runs it (returning only on an error
/// before the guest starts, or with the guest's status).
pub type Runner = fn(cli::Options) -> Result<ExitCode, Error>;

/// The whole `main` of a tender called `program` with `--help` text `usage`: parses the
/// arguments, answers `--help` and `--version`, runs, and prints an error as
/// `PROGRAM: error: LINE` (one per line of the message) with its exit status.
pub fn main(program: &str, usage: &str, run: Runner) -> ExitCode {
    let result = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli::Command::Help) => {
            println!("{usage}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(cli::Command::Version) => {
            println!(
                "{program} (Petrel's Solo5 {} runner), version {}",
                program.trim_start_matches("petrel-"),
                env!("CARGO_PKG_VERSION")
            );
            println!("ABI version 2");
            Ok(ExitCode::SUCCESS)
        }
        Ok(cli::Command::Run(o)) => run(o),
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| {
        for line in e.message().lines() {
            eprintln!("{program}: error: {line}");
        }
        ExitCode::from(e.code())
    })
}

/// Lossy text of raw bytes, for messages.
pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
