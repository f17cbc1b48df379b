//! The plan: everything the templates need, computed once from the resolved graph.
//! Templates only lay it out; every decision is made here or before.

use crate::target::Target;
use serde::Serialize;
use std::collections::BTreeMap;

/// One implementation crate the generated crate depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImplUse {
    /// Package name (`petrel-time-unix`).
    pub package: String,
    /// Library name as Rust code writes it (`petrel_time_unix`).
    pub lib: String,
    /// Path from the generated crate's directory, with `/` separators.
    pub path: String,
    /// Features to enable.
    pub features: Vec<String>,
}

/// One device built by the generated code, in initialisation order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInit {
    /// The Rust variable holding it (the instance name).
    pub var: String,
    /// The implementation's library name.
    pub lib: String,
    /// The constructor path inside that library (`Stack::connect`).
    pub constructor: String,
    /// Arguments passed to the constructor: earlier variables, string literals, `args`.
    pub inputs: Vec<String>,
    /// The directory embedded for this device, if its implementation asks for one.
    pub embedded: Option<Embedded>,
}

/// A directory embedded in the image for a device (crunch).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embedded {
    /// The Rust static holding the table (`HTDOCS_FILES`).
    pub var: String,
    /// (path inside the directory with `/` separators, path of the file from the generated
    /// crate's directory), sorted by path.
    pub files: Vec<(String, String)>,
}

/// The boot-argument table as one device instance with prefixed arguments reads it
/// (`petrel_bootvar::Values::for_instance`): its own arguments under the names its
/// implementation declares, the others unnamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceArgs {
    /// The instance.
    pub instance: String,
    /// The Rust static holding the table (`ARGS_STORAGE`).
    pub var: String,
    /// The table, entry for entry like [`Plan::args`].
    pub args: Vec<ArgSpec>,
}

/// One boot argument, as the generated `Spec` table writes it (its doc and section are only
/// in the `--help` text, [`Plan::help`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArgSpec {
    /// Name without `--`.
    pub name: String,
    /// A Rust expression of type `petrel::bootargs::Kind` (`Kind::String`).
    pub kind: String,
    /// The items of the default, as `Spec::default` holds them: none without a default, the
    /// text for a plain argument, the items of the list for a repeated one.
    pub default: Vec<String>,
    /// Must be given.
    pub required: bool,
    /// May repeat.
    pub repeated: bool,
}

/// One device of the Solo5 manifest (hvt, spt, virtio).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestDevice {
    /// The manifest name (the instance name; alphanumeric).
    pub name: String,
    /// `NET_BASIC` or `BLOCK_BASIC`.
    pub kind: String,
}

/// The Solo5 manifest note of a freestanding image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestPlan {
    /// The crate whose `solo5_manifest!` macro emits the note (the platform implementation).
    pub lib: String,
    /// Devices in handle order (sorted by name): the first is handle 1.
    pub devices: Vec<ManifestDevice>,
}

/// An ELF section of the image's self-description (docs/self-description.md), written as the
/// generated crate's assembly writes it: not allocated, so no loader maps it and no linker
/// garbage-collects it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddedSection {
    /// The section's name (`.dep-v0`).
    pub name: String,
    /// Its bytes, as `.byte` operands (`0x78,0x9c,...`), 32 to a line.
    pub lines: Vec<String>,
}

impl EmbeddedSection {
    /// The section `name` holding `bytes`.
    pub fn new(name: &str, bytes: &[u8]) -> EmbeddedSection {
        EmbeddedSection {
            name: name.to_string(),
            lines: bytes
                .chunks(32)
                .map(|c| {
                    c.iter()
                        .map(|b| format!("{b:#04x}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect(),
        }
    }
}

/// Petrel's crates seen through a link inside the project's workspace. Cargo identifies a
/// path dependency outside the workspace by its absolute path and hashes that into its
/// `-C metadata` (so into symbol names and code layout); inside the workspace it hashes the
/// relative path. Patching the user's `petrel` dependency to go through the link makes the
/// image independent of where the checkout is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetrelLink {
    /// The link, relative to the project (`.petrel/petrel-src`).
    pub link: String,
    /// The Petrel checkout it points to (absolute).
    pub checkout: String,
    /// The source URL cargo gives the user's `petrel` dependency (the `[patch]` key).
    pub facade_url: String,
}

/// Everything needed to render the generated workspace of one project for one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The unikernel's name (`unikernel.toml`).
    pub name: String,
    /// The user's crate version (`Cargo.toml`).
    pub version: String,
    /// The target.
    pub target: Target,
    /// The user's package name.
    pub user_crate: String,
    /// The user's library name as Rust code writes it.
    pub user_lib: String,
    /// Path of the user's crate from the generated crate's directory.
    pub user_path: String,
    /// Path of the facade `petrel` from the generated crate's directory.
    pub petrel_path: String,
    /// The `petrel` executable, for cargo's runner on non-unix targets.
    pub petrel_exe: String,
    /// `--remap-path-prefix` flags for rustc: this machine's varying path prefixes to fixed
    /// placeholders, so the image's bytes do not depend on where things are.
    pub remap_flags: Vec<String>,
    /// Petrel's crates through a link inside the workspace, when the project depends on a
    /// Petrel checkout outside it by path.
    pub petrel_link: Option<PetrelLink>,
    /// Implementations, sorted by package name.
    pub impls: Vec<ImplUse>,
    /// Devices in initialisation order.
    pub devices: Vec<DeviceInit>,
    /// The user's start function.
    pub main_fn: String,
    /// Arguments of the start function: device variables or a `FromArgs` expression.
    pub main_args: Vec<String>,
    /// The boot-argument table.
    pub args: Vec<ArgSpec>,
    /// The tables of the instances whose arguments are prefixed.
    pub instance_args: Vec<InstanceArgs>,
    /// The whole `--help` text, rendered here so that the image carries one string.
    pub help: String,
    /// Freestanding targets: the Solo5 manifest (possibly without devices, which the loaders
    /// still require).
    pub manifest: Option<ManifestPlan>,
    /// The `bootargs.json` document.
    pub bootargs_json: String,
    /// The image's self-description: its `.petrel-v0` and `.dep-v0` sections.
    pub self_description: Vec<EmbeddedSection>,
    /// Whether the dependency list in [`Plan::self_description`] is final: false before the
    /// generated crate exists (configure writes it, then resolves again).
    #[serde(skip)]
    pub dependencies_resolved: bool,
    /// The configure keys typed on the command line (only those: `[keys]` and the defaults
    /// are read afresh each time), recorded in `state.json` so that `build` and `run` keep
    /// them.
    pub command_line_keys: BTreeMap<String, String>,
}

impl Plan {
    /// The generated crate's package name.
    pub fn package(&self) -> String {
        package_name(&self.name, self.target)
    }

    /// The contents of `.petrel/state.json`: what was configured, read back by `build`,
    /// `run`, `describe` and `configure --check`.
    pub fn state_json(&self) -> String {
        let state = State {
            generator: "petrel",
            version: env!("CARGO_PKG_VERSION"),
            target: self.target,
            command_line: &self.command_line_keys,
        };
        // Serializing plain data to a String cannot fail.
        let mut s = serde_json::to_string_pretty(&state).expect("state serializes");
        s.push('\n');
        s
    }
}

/// The generated crate's package name for unikernel `name` on `target`.
pub fn package_name(name: &str, target: Target) -> String {
    format!("{name}-petrel-{target}")
}

/// `.petrel/state.json`.
#[derive(Serialize)]
struct State<'a> {
    generator: &'static str,
    version: &'static str,
    target: Target,
    command_line: &'a BTreeMap<String, String>,
}
