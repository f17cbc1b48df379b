//! The `petrel` command: see `petrel --help`.

use clap::Parser;
use petrel_cli::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dir = cli.directory.clone().unwrap_or_else(|| ".".into());
    match petrel_cli::commands::execute(&dir, cli.command) {
        Ok(code) => code,
        Err(e) => {
            let text = e.to_string();
            // Diagnostics are already rendered with their own `error:` headers.
            if text.starts_with("error") || text.starts_with("warning") {
                eprint!("{text}");
                if !text.ends_with('\n') {
                    eprintln!();
                }
            } else {
                eprintln!("error: {text}");
            }
            ExitCode::FAILURE
        }
    }
}
