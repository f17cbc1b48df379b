//! Renders the probe's `--help` on the host, as `petrel configure` does for an image, into
//! `$OUT_DIR/help.txt`; main.rs includes it as the application's data (`App::help`).
use petrel_bootvar::{HelpArg, Kind};

include!("src/args.rs");

fn main() {
    println!("cargo::rerun-if-changed=src/args.rs");
    let args: Vec<HelpArg> = ARGS
        .iter()
        .map(|&(name, kind, default, doc, section)| HelpArg {
            name,
            kind,
            default: default.first().copied(),
            doc,
            section,
            required: false,
            repeated: false,
        })
        .collect();
    let help = petrel_bootvar::help("probe", "0.1.0", &args);
    // Cargo always sets OUT_DIR for a build script, and a failed write must stop the build.
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(format!("{out}/help.txt"), help).expect("write $OUT_DIR/help.txt");
}
