//! [`petrel_console::Console`] on virtio: COM1 (`petrel_platform_virtio::serial`).
#![no_std]
#![warn(missing_docs)]

/// The virtio console.
pub struct VirtioConsole;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_console::Console for VirtioConsole {
    fn write(bytes: &[u8]) {
        petrel_platform_virtio::serial::write(bytes)
    }
}
