//! xen: a PVH guest (the `XEN_ELFNOTE_PHYS32_ENTRY` note), booted with `xl create`.

use super::{Boot, TargetSpec};

/// A Xen PVH guest: one contiguous loaded range from 0x100000 (Xen's loader refuses a note
/// segment below it), the `.note.Xen` entry note in its own PT_NOTE too.
pub const XEN: TargetSpec = TargetSpec {
    about: "a Xen PVH guest",
    triple: Some("x86_64-unknown-none"),
    link_script: Some("xen/link.ld.j2"),
    image_suffix: Some("xen"),
    manifest: true,
    boot: Boot::Xen,
    deploy: Some(super::DeployFile::Xl),
};
