//! The boot-argument names of one device instance.
//!
//! With several instances of one kind (two block devices, two stacks), `petrel configure`
//! gives each instance's arguments a prefix (`--storage-disk`, `--backup-disk`; the rule is in
//! docs/architecture.md, "Boot arguments of several instances"). An implementation still
//! reads its declared names (`args.get("disk")`): the generated crate hands it a view of the
//! values under those names ([`Values::for_instance`](crate::Values::for_instance)), and
//! tells it the prefix, for its messages, through the constructor's parameters.

/// The constructor parameter that carries the prefix of the instance's boot arguments
/// (`storage-`). Absent when they keep their plain names. Its `@` keeps it apart from the
/// parameters a device table sets, which are names.
pub const PREFIX_PARAM: &str = "@bootargs-prefix";

/// The prefix of the boot arguments of the instance whose constructor received `params`
/// (`storage-`), or `""` when they keep their plain names: what the user types before the
/// declared name, for messages that name an argument.
///
/// ```
/// use petrel_bootvar::{PREFIX_PARAM, instance_prefix};
/// assert_eq!(instance_prefix(&[]), "");
/// assert_eq!(instance_prefix(&[("dir", "x"), (PREFIX_PARAM, "storage-")]), "storage-");
/// ```
pub fn instance_prefix<'a>(params: &[(&str, &'a str)]) -> &'a str {
    params
        .iter()
        .find(|(key, _)| *key == PREFIX_PARAM)
        .map_or("", |(_, prefix)| *prefix)
}

/// The start of the constructor parameters that carry the instance's configure keys
/// (`("@key:dhcp", "false")`). They are there only when instances of one implementation were
/// configured differently (`--key public.dhcp=false`): Cargo builds one copy of the crate, with
/// the union of the instances' features, so the instance's own value must reach it at run
/// time.
pub const KEY_PARAM_PREFIX: &str = "@key:";

/// The value of configure key `key` for the instance whose constructor received `params`, or
/// `None` when configure did not pass it (every instance of the implementation has the
/// unikernel's value: read it from the crate's features as before).
///
/// ```
/// use petrel_bootvar::instance_key;
/// assert_eq!(instance_key(&[("@key:dhcp", "false")], "dhcp"), Some("false"));
/// assert_eq!(instance_key(&[("dir", "x")], "dhcp"), None);
/// ```
pub fn instance_key<'a>(params: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.strip_prefix(KEY_PARAM_PREFIX) == Some(key))
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use crate::{App, Kind, Spec, parse};
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    static ARGS: &[Spec] = &[
        Spec::new("backup-disk", Kind::String).required(),
        Spec::new("disk", Kind::String).default(&["app.img"]),
        Spec::new("storage-disk", Kind::String).required(),
    ];
    static STORAGE: &[Spec] = &[
        Spec::new("", Kind::String).required(),
        Spec::new("", Kind::String).default(&["app.img"]),
        Spec::new("disk", Kind::String).required(),
    ];

    #[test]
    fn an_instance_reads_its_prefixed_argument_by_its_plain_name() {
        let app = App {
            name: "t",
            version: "0",
            help: "",
        };
        let argv: Vec<String> = ["--storage-disk=s.img", "--backup-disk=b.img"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        let values = parse(&app, ARGS, &argv).expect("parses");
        let storage = values.for_instance(STORAGE);
        assert_eq!(storage.get::<String>("disk"), "s.img");
        // The whole table still reads the other names; the view does not see them.
        assert_eq!(values.get::<String>("disk"), "app.img");
        assert_eq!(values.get::<String>("backup-disk"), "b.img");
        let unnamed = std::panic::catch_unwind(|| storage.get::<String>("backup-disk"));
        assert!(
            unnamed.is_err(),
            "another instance's argument is not in the view"
        );
    }
}
