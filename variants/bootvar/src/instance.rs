//! The boot-argument names of one device instance.
//!
//! With several instances of one kind (two block devices, two stacks), `petrel configure`
//! gives each instance's arguments a prefix (`--storage-disk`, `--backup-disk`; the rule is in
//! docs/architecture.md, "Boot arguments of several instances"). The generated crate tells an
//! implementation its instance's prefix through the constructor's parameters; the
//! implementation reads its arguments by [`instance_arg`]'s names.

use alloc::string::String;

/// The constructor parameter that carries the prefix of the instance's boot arguments
/// (`storage-`). Absent when they keep their plain names. Its `@` keeps it apart from the
/// parameters a device table sets, which are names.
pub const PREFIX_PARAM: &str = "@bootargs-prefix";

/// The command-line name (without `--`) of the boot argument an implementation declares as
/// `name`, for the instance whose constructor received `params`: `name` itself, or with the
/// instance's prefix (`storage-disk`).
///
/// ```
/// use petrel_bootvar::{PREFIX_PARAM, instance_arg};
/// assert_eq!(instance_arg(&[], "disk"), "disk");
/// assert_eq!(instance_arg(&[(PREFIX_PARAM, "storage-")], "disk"), "storage-disk");
/// ```
pub fn instance_arg(params: &[(&str, &str)], name: &str) -> String {
    let prefix = params
        .iter()
        .find(|(key, _)| *key == PREFIX_PARAM)
        .map_or("", |(_, value)| *value);
    let mut full = String::with_capacity(prefix.len() + name.len());
    full.push_str(prefix);
    full.push_str(name);
    full
}
