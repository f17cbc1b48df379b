//! Fuzz target for the splitter plus the parser (bolero).
//!
//! `cargo test` runs it for one second with random inputs. For a long run (see the README):
//!
//! ```text
//! BOLERO_RANDOM_ITERATIONS=10000000 cargo test --release -p petrel-bootvar --all-features --test fuzz
//! ```
//!
//! With `cargo bolero test -p petrel-bootvar split_and_parse` (nightly, libFuzzer) the same
//! target runs coverage-guided.

mod common;

use common::{APP, SPECS};
use petrel_bootvar::{
    Exit, Ipv4Prefix, Ipv6Prefix, Kind, MacAddr, Spec, Value, check_specs, join, parse,
    parse_cmdline, split, try_join,
};

const fn spec(name: &'static str, kind: Kind, default: &'static [&'static str]) -> Spec {
    Spec::new(name, kind).default(default)
}

/// Other tables, including configuration bugs that must be reported, not panic.
static OTHER_SPECS: &[&[Spec]] = &[
    &[],
    &[spec("a", Kind::Bool, &[]), spec("a", Kind::Bool, &[])],
    &[spec("port", Kind::U16, &["1", "2"])],
    &[spec("x", Kind::Duration, &["1s", "2m", "3h\""])
        .repeated()
        .required()],
    &[spec("mac", Kind::Mac, &["zz"])],
];

const WORDS: &[&str] = &[
    "--",
    "=",
    " ",
    "\\",
    "\"",
    "-",
    "--solo5:",
    "quiet",
    "debug",
    "true",
    "false",
    "0",
    "-1",
    "65535",
    "65536",
    "250ms",
    "1m30s",
    "10.0.0.2",
    "/24",
    "fd00::1",
    "/129",
    "02:00:00:00:00:01",
    "é",
    "\t",
    "\n",
    "8.8.8.8 1.1.1.1",
];

fn check_exit(r: &Result<petrel_bootvar::Values, Exit>) {
    match r {
        Err(Exit::Error(e)) => {
            assert!(e.starts_with("error: ") && e.ends_with('\n'));
            assert_eq!(e.matches('\n').count(), 1, "{e:?}");
        }
        Err(Exit::Help(h)) => assert_eq!(*h, APP.help),
        Err(Exit::Version(v)) => assert_eq!(*v, "hello 0.1.0\n"),
        Ok(_) => {}
    }
}

/// Builds an argv from the bytes: names, values and fragments of the dictionary.
fn structured(data: &[u8]) -> Vec<String> {
    let mut argv = Vec::new();
    let mut cur = String::new();
    let mut it = data.iter().copied();
    while let Some(op) = it.next() {
        let arg = usize::from(it.next().unwrap_or(0));
        match op % 6 {
            0 => {
                cur.push_str("--");
                cur.push_str((*SPECS)[arg % (*SPECS).len()].name());
            }
            1 => cur.push_str(WORDS[arg % WORDS.len()]),
            2 => cur.push_str((*SPECS)[arg % (*SPECS).len()].kind().example()),
            3 => cur.push(char::from(arg as u8)),
            4 if op == 4 && arg == 255 => argv.push("--help".to_string()),
            _ => argv.push(std::mem::take(&mut cur)),
        }
    }
    argv.push(cur);
    argv
}

fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    // 1. The raw bytes as a boot command line: split, then parse.
    if let Ok(argv) = split(&text) {
        assert!(argv.iter().all(|a| !a.is_empty()));
        assert_eq!(split(&join(&argv)).unwrap(), argv);
        check_exit(&parse(&APP, *SPECS, &argv));
    }
    check_exit(&parse_cmdline(&APP, *SPECS, &text));

    // 2. A structured argv, parsed directly and through petrel run's escaping.
    let argv = structured(data);
    let direct = parse(&APP, *SPECS, &argv);
    check_exit(&direct);
    if !argv.iter().any(|a| a.contains('\0')) {
        let kept: Vec<String> = argv.iter().filter(|a| !a.is_empty()).cloned().collect();
        assert_eq!(split(&join(&argv)).unwrap(), kept);
        if let Ok(line) = try_join(&argv) {
            assert_eq!(parse_cmdline(&APP, *SPECS, &line), direct);
        }
    }

    // 3. Other spec tables, including broken ones.
    let table = OTHER_SPECS[usize::from(data.first().copied().unwrap_or(0)) % OTHER_SPECS.len()];
    check_exit(&parse(&APP, table, &argv));

    // 4. Every value parser on the raw text; Display of a parsed value parses back.
    // The crate's own address parsers accept exactly what `core::net` accepts.
    assert_eq!(
        Kind::Ipv4.parse_value(&text),
        text.parse::<std::net::Ipv4Addr>().ok().map(Value::Ipv4)
    );
    assert_eq!(
        Kind::Ipv6.parse_value(&text),
        text.parse::<std::net::Ipv6Addr>().ok().map(Value::Ipv6)
    );
    // Every kind, through its type names (`int` and `uint` repeat `i64` and `u64`).
    for kind in Kind::NAMES.iter().filter_map(|n| Kind::parse_name(n)) {
        match kind.parse_value(&text) {
            Some(Value::Ipv4Prefix(p)) => {
                assert_eq!(p.to_string().parse::<Ipv4Prefix>(), Ok(p));
            }
            Some(Value::Ipv6Prefix(p)) => {
                assert_eq!(p.to_string().parse::<Ipv6Prefix>(), Ok(p));
            }
            Some(Value::Mac(m)) => assert_eq!(m.to_string().parse::<MacAddr>(), Ok(m)),
            _ => {}
        }
    }

    // 5. The configure-time check of the table never panics either.
    if let Err(e) = check_specs(table) {
        check_exit(&Err(e));
    }
}

#[test]
fn split_and_parse() {
    bolero::check!().for_each(fuzz_one);
}
