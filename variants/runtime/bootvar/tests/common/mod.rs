//! A spec table covering every kind, shared by the integration tests.
#![allow(dead_code)]

use petrel_bootvar::{App, HelpArg, Kind, Spec};

/// The unikernel. Its `--help` text would be rendered by `petrel configure` (`help`, whose
/// output for [`ARGS`] is the `help` snapshot); `parse` only returns it.
pub const APP: App = App {
    name: "hello",
    version: "0.1.0",
    help: "hello 0.1.0\n(the --help text rendered by petrel configure)\n",
};

const fn spec(name: &'static str, kind: Kind) -> HelpArg<'static> {
    HelpArg {
        name,
        kind,
        default: None,
        doc: "",
        section: "",
        required: false,
        repeated: false,
    }
}

/// The boot-time table of `args`, as `petrel configure` writes it into the image: the default
/// of a repeated argument split into its items.
fn specs_of(args: &[HelpArg<'static>]) -> &'static [Spec] {
    let specs: Vec<Spec> = args
        .iter()
        .map(|a| {
            let spec = Spec::new(a.name, a.kind).default(match a.default {
                None => &[],
                Some(d) if a.repeated => leak(petrel_bootvar::split(d).expect("a valid list")),
                Some(d) => leak(vec![d.to_string()]),
            });
            match (a.required, a.repeated) {
                (false, false) => spec,
                (true, false) => spec.required(),
                (false, true) => spec.repeated(),
                (true, true) => spec.required().repeated(),
            }
        })
        .collect();
    Vec::leak(specs)
}

/// `items` with the `'static` lifetime of a table in an image.
fn leak(items: Vec<String>) -> &'static [&'static str] {
    Vec::leak(items.into_iter().map(|s| &*String::leak(s)).collect())
}

/// The boot-time table of [`ARGS`].
pub static SPECS: std::sync::LazyLock<&'static [Spec]> =
    std::sync::LazyLock::new(|| specs_of(&ARGS));

/// Every argument with its documentation and section, as `petrel configure` knows them.
pub const ARGS: [HelpArg<'static>; 16] = [
    HelpArg {
        default: Some("Hello World!"),
        doc: "How to say hello.",
        ..spec("hello", Kind::String)
    },
    HelpArg {
        default: Some("1"),
        doc: "How many times to say it.",
        ..spec("count", Kind::parse_name("u16").unwrap())
    },
    HelpArg {
        default: Some("false"),
        doc: "Say more.",
        ..spec("verbose", Kind::Bool)
    },
    HelpArg {
        doc: "A level, if any.",
        ..spec("level", Kind::I8)
    },
    HelpArg {
        default: Some("5s"),
        doc: "How long to wait for the peer before giving up. This documentation is long on purpose, so that the help text has to wrap it over several lines.",
        ..spec("timeout", Kind::Duration)
    },
    HelpArg {
        doc: "The peer's IPv4 address.",
        ..spec("peer", Kind::Ipv4)
    },
    HelpArg {
        doc: "The peer's IPv6 address.",
        ..spec("peer6", Kind::Ipv6)
    },
    HelpArg {
        doc: "The secret key.",
        required: true,
        ..spec("key", Kind::String)
    },
    HelpArg {
        default: Some("8.8.8.8 1.1.1.1"),
        doc: "DNS servers.",
        section: "DNS",
        repeated: true,
        ..spec("dns", Kind::Ipv4)
    },
    HelpArg {
        default: Some("10.0.0.2/24"),
        doc: "The IPv4 address and network of the unikernel.",
        section: "NETWORK OPTIONS",
        ..spec("ipv4", Kind::Ipv4Prefix)
    },
    HelpArg {
        doc: "The gateway of the unikernel.",
        section: "NETWORK OPTIONS",
        ..spec("ipv4-gateway", Kind::Ipv4)
    },
    HelpArg {
        doc: "The IPv6 address and network of the unikernel.",
        section: "NETWORK OPTIONS",
        ..spec("ipv6", Kind::Ipv6Prefix)
    },
    HelpArg {
        doc: "The MAC address of the interface.",
        section: "NETWORK OPTIONS",
        ..spec("mac", Kind::Mac)
    },
    HelpArg {
        doc: "Tags.",
        section: "CUSTOM",
        repeated: true,
        ..spec("tag", Kind::String)
    },
    HelpArg {
        default: Some("512"),
        doc: "Block size in bytes.",
        section: "DISK OPTIONS",
        ..spec("block-size", Kind::U16)
    },
    HelpArg {
        default: Some("-1"),
        doc: "An offset.",
        ..spec("offset", Kind::parse_name("i32").unwrap())
    },
];

pub fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}
