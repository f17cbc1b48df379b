//! virtio: a multiboot image for QEMU or any virtio hypervisor; its devices are bound to a
//! Solo5-style manifest in PCI order.

use super::{Boot, TargetSpec};

/// A multiboot v1 image with virtio-net and virtio-blk drivers.
pub const VIRTIO: TargetSpec = TargetSpec {
    about: "a multiboot image for any virtio hypervisor",
    triple: Some("x86_64-unknown-none"),
    link_script: Some("virtio/link.ld.j2"),
    image_suffix: Some("virtio"),
    manifest: true,
    boot: Boot::Qemu,
    deploy: Some(super::DeployFile::Libvirt),
};
