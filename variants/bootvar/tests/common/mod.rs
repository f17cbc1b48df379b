//! A spec table covering every kind, shared by the integration tests.
#![allow(dead_code)]

use petrel_bootvar::{App, Kind, Spec};

pub const APP: App = App {
    name: "hello",
    version: "0.1.0",
};

const fn spec(name: &'static str, kind: Kind) -> Spec {
    Spec {
        name,
        kind,
        default: None,
        doc: "",
        section: "",
        device: "",
        required: false,
        repeated: false,
    }
}

pub static SPECS: &[Spec] = &[
    Spec {
        default: Some("Hello World!"),
        doc: "How to say hello.",
        ..spec("hello", Kind::String)
    },
    Spec {
        default: Some("1"),
        doc: "How many times to say it.",
        ..spec("count", Kind::parse_name("u16").unwrap())
    },
    Spec {
        default: Some("false"),
        doc: "Say more.",
        ..spec("verbose", Kind::Bool)
    },
    Spec {
        doc: "A level, if any.",
        ..spec("level", Kind::Int { min: -5, max: 5 })
    },
    Spec {
        default: Some("5s"),
        doc: "How long to wait for the peer before giving up. This documentation is long on purpose, so that the help text has to wrap it over several lines.",
        ..spec("timeout", Kind::Duration)
    },
    Spec {
        doc: "The peer's IPv4 address.",
        ..spec("peer", Kind::Ipv4)
    },
    Spec {
        doc: "The peer's IPv6 address.",
        ..spec("peer6", Kind::Ipv6)
    },
    Spec {
        doc: "The secret key.",
        required: true,
        ..spec("key", Kind::String)
    },
    Spec {
        default: Some("8.8.8.8 1.1.1.1"),
        doc: "DNS servers.",
        section: "DNS",
        device: "dns",
        repeated: true,
        ..spec("dns", Kind::Ipv4)
    },
    Spec {
        default: Some("10.0.0.2/24"),
        doc: "The IPv4 address and network of the unikernel.",
        section: "NETWORK OPTIONS",
        device: "stack",
        ..spec("ipv4", Kind::Ipv4Prefix)
    },
    Spec {
        doc: "The gateway of the unikernel.",
        section: "NETWORK OPTIONS",
        device: "stack",
        ..spec("ipv4-gateway", Kind::Ipv4)
    },
    Spec {
        doc: "The IPv6 address and network of the unikernel.",
        section: "NETWORK OPTIONS",
        device: "stack",
        ..spec("ipv6", Kind::Ipv6Prefix)
    },
    Spec {
        doc: "The MAC address of the interface.",
        section: "NETWORK OPTIONS",
        device: "net0",
        ..spec("mac", Kind::Mac)
    },
    Spec {
        doc: "Tags.",
        section: "CUSTOM",
        repeated: true,
        ..spec("tag", Kind::String)
    },
    Spec {
        default: Some("512"),
        doc: "Block size in bytes.",
        section: "DISK OPTIONS",
        device: "disk0",
        ..spec(
            "block-size",
            Kind::Uint {
                min: 512,
                max: 4096,
            },
        )
    },
    Spec {
        default: Some("-1"),
        doc: "An offset.",
        ..spec("offset", Kind::parse_name("i32").unwrap())
    },
];

pub fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}
