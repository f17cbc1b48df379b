// The probe's boot arguments, `(name, kind, default items, doc, section)`: included by build.rs
// (which renders their `--help` as `petrel configure` does) and by main.rs (the boot-time
// `Spec` table, and one `Values::get` each in `read`). Three tables, chosen by feature:
// - `hello`: examples/hello-key's one string argument;
// - `network`: examples/static_website on the direct stack (its port, and the stack's
//   addresses and gateways: IPv4 and IPv6 addresses and prefixes);
// - neither: ten arguments, one of every kind family (the worst case: every value parser).

#[cfg(feature = "hello")]
const ARGS: &[(&str, Kind, &[&str], &str, &str)] = &[(
    "hello",
    Kind::String,
    &["Hello world!"],
    "The greeting to print.",
    "",
)];

#[cfg(feature = "network")]
const ARGS: &[(&str, Kind, &[&str], &str, &str)] = &[
    (
        "port",
        Kind::U16,
        &["8080"],
        "The TCP port to serve HTTP on, on every IPv4 and IPv6 address.",
        "",
    ),
    (
        "ipv4",
        Kind::Ipv4Prefix,
        &[],
        "The IPv4 address and network of the unikernel, e.g. 10.0.0.2/24. It replaces the DHCP lease; without DHCP (petrel configure --no-dhcp) it defaults to 10.0.0.2/24.",
        "NETWORK OPTIONS",
    ),
    (
        "ipv4-gateway",
        Kind::Ipv4,
        &[],
        "The IPv4 gateway (with DHCP, the lease's router).",
        "NETWORK OPTIONS",
    ),
    (
        "ipv6",
        Kind::Ipv6Prefix,
        &[],
        "A global IPv6 address and prefix of the unikernel, e.g. fd00::2/64 (a link-local address from the MAC address is always there).",
        "NETWORK OPTIONS",
    ),
    ("ipv6-gateway", Kind::Ipv6, &[], "The IPv6 gateway.", "NETWORK OPTIONS"),
];

#[cfg(not(any(feature = "hello", feature = "network")))]
const ARGS: &[(&str, Kind, &[&str], &str, &str)] = {
    const DOC: &str = "Documentation of the argument.";
    &[
        ("hello", Kind::String, &["Hello World!"], DOC, ""),
        ("port", Kind::U16, &["80"], DOC, ""),
        ("verbose", Kind::Bool, &["false"], DOC, ""),
        ("offset", Kind::I8, &[], DOC, ""),
        ("timeout", Kind::Duration, &["5s"], DOC, ""),
        ("ipv4", Kind::Ipv4Prefix, &["10.0.0.2/24"], DOC, ""),
        ("ipv4-gateway", Kind::Ipv4, &[], DOC, ""),
        ("ipv6", Kind::Ipv6Prefix, &[], DOC, ""),
        ("ipv6-gateway", Kind::Ipv6, &[], DOC, ""),
        ("mac", Kind::Mac, &[], DOC, ""),
    ]
};
