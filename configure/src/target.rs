//! The targets Petrel builds for, and what each needs from the build.

use std::fmt;

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

    /// True for the targets that run without an operating system (built for
    /// `x86_64-unknown-none`).
    pub fn is_freestanding(self) -> bool {
        self != Target::Unix
    }

    /// True for the Solo5 targets, whose images carry the Solo5 ABI and manifest notes.
    pub fn is_solo5(self) -> bool {
        matches!(self, Target::Hvt | Target::Spt)
    }

    /// The file name of the image for a unikernel called `name`: `hello` on unix,
    /// `hello.hvt` elsewhere (Solo5 and mirage habit).
    pub fn image_name(self, name: &str) -> String {
        match self {
            Target::Unix => name.to_string(),
            t => format!("{name}.{}", t.name()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
