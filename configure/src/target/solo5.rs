//! The Solo5 targets (reference: the Solo5 v0.12.1 guest ABI): an ET_EXEC image with the
//! `ABI1` and `MFT1` notes, booted by a tender, hvt on KVM and spt as a seccomp-sandboxed
//! process.

use super::{Boot, TargetSpec};

/// Solo5 hvt: a KVM guest under `petrel-hvt` (or upstream `solo5-hvt`).
pub const HVT: TargetSpec = TargetSpec {
    about: "a Solo5 hvt image (KVM)",
    triple: Some("x86_64-unknown-none"),
    link_script: Some("solo5/link.ld.j2"),
    image_suffix: Some("hvt"),
    manifest: true,
    boot: Boot::Tender {
        program: "petrel-hvt",
        env: "PETREL_HVT",
        kvm: true,
    },
    deploy: Some(super::DeployFile::Solo5Manifest),
};

/// Solo5 spt: a process under seccomp, `petrel-spt` (or upstream `solo5-spt`).
pub const SPT: TargetSpec = TargetSpec {
    about: "a Solo5 spt image (seccomp-sandboxed process)",
    triple: Some("x86_64-unknown-none"),
    link_script: Some("solo5/link.ld.j2"),
    image_suffix: Some("spt"),
    manifest: true,
    boot: Boot::Tender {
        program: "petrel-spt",
        env: "PETREL_SPT",
        kvm: false,
    },
    deploy: Some(super::DeployFile::Solo5Manifest),
};
