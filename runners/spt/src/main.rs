//! `petrel-spt`: runs a Solo5 spt unikernel (see README.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    match petrel_spt::run::main(std::env::args_os().skip(1)) {
        Ok(code) => code,
        Err(e) => {
            for line in e.message().lines() {
                eprintln!("petrel-spt: error: {line}");
            }
            ExitCode::from(1)
        }
    }
}
