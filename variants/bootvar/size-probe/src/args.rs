// The probe's ten boot arguments, `(name, kind, default items)`: included by build.rs (which renders
// their `--help` as `petrel configure` does) and by main.rs (the boot-time `Spec` table).
const DOC: &str = "Documentation of the argument.";
const ARGS: [(&str, Kind, &[&str]); 10] = [
    ("hello", Kind::String, &["Hello World!"]),
    ("port", Kind::U16, &["80"]),
    ("verbose", Kind::Bool, &["false"]),
    ("offset", Kind::I8, &[]),
    ("timeout", Kind::Duration, &["5s"]),
    ("ipv4", Kind::Ipv4Prefix, &["10.0.0.2/24"]),
    ("ipv4-gateway", Kind::Ipv4, &[]),
    ("ipv6", Kind::Ipv6Prefix, &[]),
    ("ipv6-gateway", Kind::Ipv6, &[]),
    ("mac", Kind::Mac, &[]),
];
