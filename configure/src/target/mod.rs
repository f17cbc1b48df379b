//! The targets Petrel builds for. A target is data: its [`TargetSpec`] (Rust triple, linker
//! script, image name, how it boots, whether its image carries a device manifest) lives in
//! one module per family ([`unix`], [`solo5`] for hvt and spt, [`virtio`], [`xen`]), and the
//! emitters and `petrel run` read the spec instead of matching on the target. Adding a target
//! is one module here, its templates, and its implementation crates.

use std::fmt;

pub mod solo5;
pub mod unix;
pub mod virtio;
pub mod xen;

/// What the build and `petrel run` need to know about a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSpec {
    /// One line on what the image is.
    pub about: &'static str,
    /// The Rust target triple of the image; `None`: the host's (a process).
    pub triple: Option<&'static str>,
    /// The linker script's template, by its name under `templates/` (the emitters embed every
    /// template; a test checks that each target's is there), for images built without an OS.
    pub link_script: Option<&'static str>,
    /// The image's file name is `NAME.SUFFIX` (mirage habit); `None`: `NAME`.
    pub image_suffix: Option<&'static str>,
    /// Whether the image carries a Solo5-style manifest of its network and block devices
    /// (names and kinds from the interfaces' `solo5-device` metadata).
    pub manifest: bool,
    /// How `petrel run` boots the image.
    pub boot: Boot,
    /// The deploy file `petrel build` writes beside the image, if any.
    pub deploy: Option<DeployFile>,
}

/// A file beside the image that a hypervisor's own tools take (`dist/`), as mirage writes
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployFile {
    /// `NAME.manifest.json`: the Solo5 manifest, as `solo5-elftool` reads and prints it.
    Solo5Manifest,
    /// `NAME.xml`: a libvirt domain booting the image directly (`<kernel>`).
    Libvirt,
    /// `NAME.xl`: the `xl create` configuration of a PVH guest.
    Xl,
}

impl DeployFile {
    /// The file's name in `dist/` for a unikernel called `name`.
    pub fn file_name(self, name: &str) -> String {
        match self {
            DeployFile::Solo5Manifest => format!("{name}.manifest.json"),
            DeployFile::Libvirt => format!("{name}.xml"),
            DeployFile::Xl => format!("{name}.xl"),
        }
    }
}

/// How an image boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// Run as a process with argv.
    Process,
    /// Under a Solo5 tender: Petrel's (`program`, or `$env`) unless `--runner` names another.
    Tender {
        /// Petrel's tender.
        program: &'static str,
        /// The variable naming another tender.
        env: &'static str,
        /// Whether the tender needs `/dev/kvm`.
        kvm: bool,
    },
    /// Under QEMU (TCG), with a serial console and isa-debug-exit.
    Qemu,
    /// Under Xen, with `xl create`.
    Xen,
}

/// A target: where the unikernel runs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Linux process.
    Unix,
    /// The Solo5 hvt tender (KVM).
    Hvt,
    /// The Solo5 spt tender (a seccomp-sandboxed process).
    Spt,
    /// A multiboot image for QEMU or any virtio hypervisor.
    Virtio,
    /// A Xen PVH guest.
    Xen,
}

impl Target {
    /// Every target, in a fixed order.
    pub const ALL: [Target; 5] = [
        Target::Unix,
        Target::Hvt,
        Target::Spt,
        Target::Virtio,
        Target::Xen,
    ];

    /// The name used on the command line and in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Target::Unix => "unix",
            Target::Hvt => "hvt",
            Target::Spt => "spt",
            Target::Virtio => "virtio",
            Target::Xen => "xen",
        }
    }

    /// Parses a target name as written in metadata.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The target's spec, from its family's module.
    pub fn spec(self) -> &'static TargetSpec {
        match self {
            Target::Unix => &unix::UNIX,
            Target::Hvt => &solo5::HVT,
            Target::Spt => &solo5::SPT,
            Target::Virtio => &virtio::VIRTIO,
            Target::Xen => &xen::XEN,
        }
    }

    /// True for the targets that run without an operating system (built for their own
    /// triple, with a linker script).
    pub fn is_freestanding(self) -> bool {
        self.spec().triple.is_some()
    }

    /// The file name of the image for a unikernel called `name`: `hello` on unix,
    /// `hello.hvt` elsewhere (Solo5 and mirage habit).
    pub fn image_name(self, name: &str) -> String {
        match self.spec().image_suffix {
            None => name.to_string(),
            Some(suffix) => format!("{name}.{suffix}"),
        }
    }

    /// The target names, for messages: `unix, hvt, spt, virtio or xen`.
    pub fn names_listed() -> String {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
