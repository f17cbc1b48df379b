//! [`petrel_console::Console`] on Solo5: the tender's standard output (hvt: PUTS hypercall;
//! spt: `write(1)`).
#![no_std]
#![warn(missing_docs)]

/// The tender's standard output.
pub struct Solo5Console;

#[petrel_macros::implements]
impl petrel_console::Console for Solo5Console {
    fn write(bytes: &[u8]) {
        petrel_platform_solo5::console_write(bytes);
    }
}
