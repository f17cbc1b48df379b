//! [`petrel_console::Console`] on Xen: the PV console ring (`petrel_platform_xen::console`).
#![no_std]
#![warn(missing_docs)]

/// The Xen console.
pub struct XenConsole;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[petrel_macros::implements]
impl petrel_console::Console for XenConsole {
    fn write(bytes: &[u8]) {
        petrel_platform_xen::console::write(bytes)
    }
}
