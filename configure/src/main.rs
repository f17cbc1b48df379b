//! The `petrel` command: see `petrel --help`.

use clap::Parser;
use petrel_cli::cli::Cli;
use petrel_cli::report;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    report::init(cli.message_format, cli.color);
    let dir = cli.directory.clone().unwrap_or_else(|| ".".into());
    match petrel_cli::commands::execute(&dir, cli.command) {
        Ok(code) => code,
        Err(e) => {
            report::emit(&e.diagnostics());
            ExitCode::FAILURE
        }
    }
}
