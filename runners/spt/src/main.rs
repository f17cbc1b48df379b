//! `petrel-spt`: runs a Solo5 spt unikernel (see README.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    petrel_tender::main(
        "petrel-spt",
        &petrel_spt::run::usage(),
        petrel_spt::run::run,
    )
}
