//! `petrel-hvt`: runs a Solo5 hvt unikernel on KVM (see README.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    petrel_tender::main(
        "petrel-hvt",
        &petrel_hvt::run::usage(),
        petrel_hvt::run::run,
    )
}
