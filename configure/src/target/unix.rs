//! unix: the unikernel as a Linux process, built for the host.

use super::{Boot, TargetSpec};

/// A Linux process: argv, host sockets or a tap, files as disks.
pub const UNIX: TargetSpec = TargetSpec {
    about: "a Linux process",
    triple: None,
    link_script: None,
    image_suffix: None,
    manifest: false,
    boot: Boot::Process,
    deploy: None,
};
