// The probe's ten boot arguments, `(name, kind, default)`: included by build.rs (which renders
// their `--help` as `petrel configure` does) and by main.rs (the boot-time `Spec` table).
const DOC: &str = "Documentation of the argument.";
const ARGS: [(&str, Kind, Option<&str>); 10] = [
    ("hello", Kind::String, Some("Hello World!")),
    ("port", Kind::Uint { min: 0, max: 65535 }, Some("80")),
    ("verbose", Kind::Bool, Some("false")),
    ("offset", Kind::Int { min: -10, max: 10 }, None),
    ("timeout", Kind::Duration, Some("5s")),
    ("ipv4", Kind::Ipv4Prefix, Some("10.0.0.2/24")),
    ("ipv4-gateway", Kind::Ipv4, None),
    ("ipv6", Kind::Ipv6Prefix, None),
    ("ipv6-gateway", Kind::Ipv6, None),
    ("mac", Kind::Mac, None),
];
