//! xen: a PVH guest (the `XEN_ELFNOTE_PHYS32_ENTRY` note), booted with `xl create`.

use super::{Boot, TargetSpec};

/// A Xen PVH guest. Until its own linker script lands it shares virtio's layout (one
/// contiguous range from 0x100000, which Xen's loader needs too).
pub const XEN: TargetSpec = TargetSpec {
    about: "a Xen PVH guest",
    triple: Some("x86_64-unknown-none"),
    link_script: Some("virtio/link.ld.j2"),
    image_suffix: Some("xen"),
    manifest: true,
    boot: Boot::Xen,
};
