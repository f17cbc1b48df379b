//! The command line: what each command and option means. Behaviour lives in `commands`.

use crate::report::{Color, MessageFormat};
use crate::target::Target;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Build Rust unikernels: configure a device graph for a target, then build and run it.
///
/// A project is a Rust library with a `unikernel.toml` and a `#[petrel::main]` function.
/// `petrel configure --target T` writes a Cargo workspace in which every interface (time,
/// clock, console, network...) is bound to its implementation for T; after that, plain
/// `cargo build` and `cargo run` work.
#[derive(Debug, Parser)]
#[command(
    name = "petrel",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
#[command(
    after_help = "Start with `petrel new hello && cd hello && petrel run`.\n\
See `petrel help <command>` for the options of each command."
)]
pub struct Cli {
    /// Run as if petrel was started in DIR instead of the current directory.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// How errors and warnings are printed: `human` (rendered on stderr) or `json` (one
    /// object per line on stdout, rustc's diagnostic format, as cargo's
    /// `--message-format=json`).
    #[arg(
        long,
        value_name = "FMT",
        value_enum,
        default_value_t = MessageFormat::Human,
        global = true
    )]
    pub message_format: MessageFormat,

    /// Colour in human diagnostics: `auto` (on a terminal, unless NO_COLOR is set),
    /// `always` or `never`.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Petrel's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve the device graph for a target and write the generated workspace.
    ///
    /// Reads unikernel.toml, Cargo.toml and src/lib.rs, checks everything, and only then
    /// writes `.petrel/`, `.cargo/config.toml` and one table in Cargo.toml. Nothing is
    /// compiled. Configuring twice with the same inputs writes the same bytes.
    Configure {
        /// What to configure for.
        #[command(flatten)]
        selection: Selection,
        /// Write nothing; exit 1 if the generated files are missing or out of date, printing
        /// each stale file's unified diff (what configure would change) on stdout.
        #[arg(long)]
        check: bool,
    },
    /// Configure if needed, build the image, and copy it to dist/ (dist/NAME on unix,
    /// dist/NAME.TARGET elsewhere) with the file its hypervisor's tools take: NAME.manifest.json
    /// (hvt, spt), NAME.xml (libvirt, virtio), NAME.xl (xen).
    Build {
        /// What to build for.
        #[command(flatten)]
        selection: Selection,
        /// Build without optimisations (cargo's dev profile).
        #[arg(long)]
        debug: bool,
        /// Also write dist/NAME.TARGET.record.json: what `petrel rebuild` needs to build the
        /// image again and compare (git commit, Cargo.lock, rustc, keys, the image's sha256).
        #[arg(long)]
        record: bool,
        /// xen: the guest's memory in MiB in dist/NAME.xl [default: 32]. Other targets take
        /// it when they boot (`petrel run --mem`).
        #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(2..=4096))]
        mem: Option<u32>,
    },
    /// Build a recorded image again in a temporary copy of its sources and compare sha256s.
    ///
    /// Clones the recorded git commit (from the repository holding the record, else the
    /// current directory's) or copies the recorded project directory, configures it with the
    /// recorded target and keys, builds it, and prints `match` (exit 0) or `MISMATCH` with
    /// both hashes (exit 1).
    Rebuild {
        /// The record (`dist/NAME.TARGET.record.json`, written by `petrel build --record`).
        record: PathBuf,
    },
    /// Configure if needed, build, and boot the unikernel with ARGS as its boot arguments.
    ///
    /// The guest sees exactly the ARGS you typed, on every target: petrel escapes them for
    /// targets that receive one command-line string.
    ///
    /// How it boots: unix as a process; spt on Petrel's tender petrel-spt; hvt on Petrel's
    /// tender petrel-hvt, in a KVM virtual machine (/dev/kvm); virtio under QEMU. --runner
    /// picks another Solo5 tender (e.g. the upstream solo5-spt or solo5-hvt).
    Run {
        /// What to run.
        #[command(flatten)]
        selection: Selection,
        /// Build without optimisations (cargo's dev profile).
        #[arg(long)]
        debug: bool,
        /// Print the command that boots the image before running it.
        #[arg(long, short)]
        verbose: bool,
        /// Back block device NAME with FILE [default: dist/NAME.img, created empty (1 MiB)
        /// if missing].
        #[arg(long, value_name = "NAME=FILE")]
        disk: Vec<String>,
        /// Attach network device NAME to the host's tap interface IF (on unix it passes the
        /// boot argument --interface=IF). Without it, a network device gets a private
        /// user-mode network (no root, no tap): 10.0.2.15 by DHCP, gateway 10.0.2.2 (the
        /// host), DNS 10.0.2.3; QEMU's on virtio, libslirp's on spt, hvt and unix.
        #[arg(long, value_name = "NAME=IF")]
        tap: Vec<String>,
        /// Forward host port HOST (on ADDR, default 127.0.0.1) to the guest's port GUEST, TCP
        /// unless /udp: on the guest's user-mode network (unix with the direct stack, spt, hvt,
        /// virtio), or through the testbed's dom0 on xen (TCP on 127.0.0.1 only).
        #[arg(long, value_name = "[ADDR:]HOST:GUEST[/tcp|/udp]")]
        publish: Vec<String>,
        /// The guest's memory in MiB [default: 512 on spt and hvt (the tender's), 128 on
        /// virtio, 32 on xen]; unix images are processes and take none.
        #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(2..=4096))]
        mem: Option<u32>,
        /// spt and hvt: boot with this Solo5 tender instead of Petrel's own (petrel-spt,
        /// petrel-hvt), e.g. the upstream solo5-hvt.
        #[arg(long, value_name = "PATH")]
        runner: Option<PathBuf>,
        /// Boot arguments, after `--` (try `petrel run -- --help`).
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Print the resolved device graph: keys, devices with their implementations in
    /// initialisation order, and every boot argument.
    Describe {
        /// What to describe (default: the configured target).
        #[command(flatten)]
        selection: Selection,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Shorthand for `--format dot` (Graphviz).
        #[arg(long, conflicts_with = "format")]
        dot: bool,
        /// Shorthand for `--format json`.
        #[arg(long, conflicts_with_all = ["format", "dot"])]
        json: bool,
    },
    /// Remove everything petrel wrote: .petrel/, .cargo/config.toml, dist/, the build
    /// directories, and its table in Cargo.toml (which is then exactly as before).
    Clean,
    /// Create a new unikernel project in directory NAME.
    New {
        /// Directory and name of the unikernel ([a-z][a-z0-9-]*).
        name: String,
    },
    /// Describe an image without its project: target, Solo5 ABI, tender checks, devices,
    /// and its self-description (name, version, boot arguments, dependencies).
    ///
    /// Reads any file without trusting it: a truncated or hostile file is one error line.
    /// The dependencies are those cargo-auditable readers (`cargo audit bin`) see.
    Inspect {
        /// The image (dist/hello.hvt, a unix binary, ...).
        image: PathBuf,
        /// Print JSON for tools instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Boot an already built image (cargo's runner on non-unix targets).
    #[command(hide = true)]
    RunImage {
        /// The image's target.
        #[arg(long, value_enum)]
        target: Target,
        /// The image.
        image: PathBuf,
        /// Boot arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// The target and the configure keys.
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    /// The target [default: the configured one, else unix].
    #[arg(long, short, value_enum)]
    pub target: Option<Target>,
    /// The TCP/IP stack: `socket` (host sockets, unix only) or `direct` (Petrel's own stack
    /// on a network device) [default: socket on unix, direct elsewhere].
    #[arg(long, value_name = "STACK")]
    pub net: Option<String>,
    /// Get the address by DHCP (the default).
    #[arg(long, conflicts_with = "no_dhcp")]
    pub dhcp: bool,
    /// Use the static address of the --ipv4 boot argument instead of DHCP.
    #[arg(long)]
    pub no_dhcp: bool,
    /// The read-only key-value store: `crunch` (files embedded in the image) or `direct` (a
    /// host directory, unix only) [default: crunch].
    #[arg(long, value_name = "KV")]
    pub kv: Option<String>,
    /// Set any configure key (repeatable): one an interface declares, or one of the
    /// unikernel's `[keys.NAME]` (see `petrel describe`); `DEVICE.NAME=VALUE` sets it for
    /// one device only (`--key live.kv=direct`).
    #[arg(long = "key", value_name = "[DEVICE.]NAME=VALUE")]
    pub keys: Vec<String>,
}

/// `describe` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// Graphviz.
    Dot,
    /// For tools (includes bootargs.json).
    Json,
}
