//! Parser behaviour, typed values, and snapshots of `--help` and of every error message.

mod common;

use common::{APP, ARGS, SPECS, argv};
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use petrel_bootvar::{
    Exit, Ipv4Prefix, Ipv6Prefix, Kind, LogLevel, MacAddr, Spec, Values, check_default,
    check_default_list, check_name, check_specs, help, name_problem, parse, parse_cmdline,
};

fn ok(args: &[&str]) -> Values {
    match parse(&APP, *SPECS, &argv(args)) {
        Ok(v) => v,
        Err(e) => panic!("{args:?}: {e:?}"),
    }
}

fn err(args: &[&str]) -> String {
    match parse(&APP, *SPECS, &argv(args)) {
        Ok(v) => panic!("{args:?} parsed: {v:?}"),
        Err(Exit::Error(e)) => {
            assert!(e.starts_with("error: ") && e.ends_with('\n'), "{e:?}");
            assert_eq!(e.matches('\n').count(), 1, "one line: {e:?}");
            e
        }
        Err(other) => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn defaults_and_typed_values() {
    let v = ok(&["--key=k"]);
    assert_eq!(v.get::<String>("hello"), "Hello World!");
    assert_eq!(v.get::<u16>("count"), 1);
    assert_eq!(v.get::<u32>("count"), 1);
    assert_eq!(v.get::<i32>("count"), 1);
    assert_eq!(v.get::<usize>("count"), 1);
    assert_eq!(v.get::<Option<u64>>("count"), Some(1));
    assert_eq!(v.get::<isize>("offset"), -1);
    assert_eq!(v.get::<i64>("offset"), -1);
    assert!(!v.get::<bool>("verbose"));
    assert_eq!(v.get::<Option<i8>>("level"), None);
    assert_eq!(v.get::<Duration>("timeout"), Duration::from_secs(5));
    assert_eq!(v.get::<Option<Ipv4Addr>>("peer"), None);
    assert_eq!(v.get::<String>("key"), "k");
    assert_eq!(
        v.get::<Vec<Ipv4Addr>>("dns"),
        [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)]
    );
    let p: Ipv4Prefix = v.get("ipv4");
    assert_eq!(p, "10.0.0.2/24".parse().unwrap());
    assert_eq!(p.netmask(), Ipv4Addr::new(255, 255, 255, 0));
    assert_eq!(p.network(), Ipv4Addr::new(10, 0, 0, 0));
    assert!(p.contains(Ipv4Addr::new(10, 0, 0, 99)));
    assert_eq!(v.get::<Vec<String>>("tag"), Vec::<String>::new());
    assert_eq!(v.get::<u16>("block-size"), 512);
    assert_eq!(v.get::<i32>("offset"), -1);
    assert_eq!(v.get::<Option<i32>>("offset"), Some(-1));
    assert_eq!(v.log_level(), None);
    assert!(v.is_given("key") && !v.is_given("hello"));
}

#[test]
fn given_values() {
    let v = ok(&[
        "--solo5:quiet",
        "--solo5:debug",
        "--hello=Bonjour, monde",
        "--count",
        "65535",
        "--verbose",
        "--level=-5",
        "--timeout=1m30s",
        "--peer",
        "192.168.1.1",
        "--peer6=fe80::1",
        "--key=",
        "--dns=9.9.9.9",
        "--ipv4=192.168.0.7/16",
        "--ipv4-gateway=192.168.0.1",
        "--ipv6=fd00::7/64",
        "--mac=02:AB:cd:00:00:01",
        "--tag",
        "a",
        "--tag=b=c",
        "--tag",
        "-x",
        "--block-size=4096",
        "--offset",
        "-2147483648",
    ]);
    assert_eq!(v.log_level(), Some(LogLevel::Debug));
    assert_eq!(v.get::<String>("hello"), "Bonjour, monde");
    assert_eq!(v.get::<u16>("count"), 65535);
    assert!(v.get::<bool>("verbose"));
    assert_eq!(v.get::<Option<i8>>("level"), Some(-5));
    assert_eq!(v.get::<Duration>("timeout"), Duration::from_secs(90));
    assert_eq!(
        v.get::<Option<Ipv4Addr>>("peer"),
        Some(Ipv4Addr::new(192, 168, 1, 1))
    );
    assert_eq!(
        v.get::<Option<Ipv6Addr>>("peer6"),
        Some("fe80::1".parse().unwrap())
    );
    assert_eq!(v.get::<String>("key"), "");
    assert_eq!(v.get::<Vec<Ipv4Addr>>("dns"), [Ipv4Addr::new(9, 9, 9, 9)]);
    assert_eq!(v.get::<Ipv4Prefix>("ipv4").to_string(), "192.168.0.7/16");
    let p6: Option<Ipv6Prefix> = v.get("ipv6");
    assert_eq!(p6.unwrap().to_string(), "fd00::7/64");
    assert_eq!(p6.unwrap().network(), "fd00::".parse::<Ipv6Addr>().unwrap());
    let mac: Option<MacAddr> = v.get("mac");
    assert_eq!(mac, Some(MacAddr([2, 0xab, 0xcd, 0, 0, 1])));
    assert_eq!(mac.unwrap().to_string(), "02:ab:cd:00:00:01");
    assert_eq!(v.get::<Vec<String>>("tag"), ["a", "b=c", "-x"]);
    assert_eq!(v.get::<u16>("block-size"), 4096);
    assert_eq!(v.get::<i32>("offset"), i32::MIN);
}

#[test]
fn bools() {
    assert!(ok(&["--key=k", "--verbose=true"]).get::<bool>("verbose"));
    assert!(!ok(&["--key=k", "--verbose=false"]).get::<bool>("verbose"));
    // A bare flag never takes the next token.
    assert!(err(&["--key=k", "--verbose", "false"]).contains("unexpected argument 'false'"));
}

#[test]
fn durations() {
    let d = |s: &str| ok(&["--key=k", &format!("--timeout={s}")]).get::<Duration>("timeout");
    assert_eq!(d("250ms"), Duration::from_millis(250));
    assert_eq!(d("5s"), Duration::from_secs(5));
    assert_eq!(d("1m"), Duration::from_secs(60));
    assert_eq!(d("2h"), Duration::from_secs(7200));
    assert_eq!(d("1d"), Duration::from_secs(86400));
    assert_eq!(d("1h1m1s1ms1us1ns"), Duration::new(3661, 1_001_001));
    assert_eq!(d("10µs"), Duration::from_micros(10));
    assert_eq!(d("0"), Duration::ZERO);
    for bad in [
        "",
        "5",
        "s",
        "1.5s",
        "-1s",
        "5 s",
        "5sec",
        "99999999999999999999999s",
    ] {
        err(&["--key=k", &format!("--timeout={bad}")]);
    }
}

#[test]
fn parse_cmdline_splits_then_parses() {
    let v = parse_cmdline(&APP, *SPECS, r#"--solo5:info --key=a\ b --hello="x y""#).unwrap();
    assert_eq!(v.get::<String>("key"), "a b");
    assert_eq!(v.get::<String>("hello"), "x y");
    assert_eq!(v.log_level(), Some(LogLevel::Info));
    let e = parse_cmdline(&APP, *SPECS, r#"--hello="x"#).unwrap_err();
    assert_eq!(e.code(), 64);
}

/// An unclosed quote is shown with the line from the quote: the last `"` that opens a part,
/// after escaped ones and closed parts, cut like any user text in a message.
#[test]
fn unclosed_quote_shows_the_line_from_the_quote() {
    let message = |line: &str| {
        parse_cmdline(&APP, *SPECS, line)
            .unwrap_err()
            .text()
            .to_string()
    };
    assert_eq!(
        message(r#"--key="a b" --hello=\"é "Grüße, world"#),
        "error: unclosed '\"' at '\"Grüße, world' in the boot command line\n"
    );
    let long = format!("--hello=\"{}", "y".repeat(100));
    assert_eq!(
        message(&long),
        format!(
            "error: unclosed '\"' at '\"{}...' in the boot command line\n",
            "y".repeat(63)
        )
    );
}

#[test]
fn help_and_version_win() {
    let h = parse(&APP, *SPECS, &argv(&["--nope", "--help"])).unwrap_err();
    assert_eq!(h.code(), 63);
    // The text `petrel configure` rendered, as is.
    assert_eq!(h, Exit::Help(APP.help));
    assert_eq!(h.text(), APP.help);
    let v = parse(&APP, *SPECS, &argv(&["--version", "--count=x"])).unwrap_err();
    assert_eq!(v, Exit::Version("hello 0.1.0\n"));
    assert_eq!(v.text(), petrel_bootvar::version(&APP));
    assert_eq!(v.code(), 63);
}

#[test]
fn help_snapshot() {
    insta::assert_snapshot!("help", help(APP.name, APP.version, &ARGS));
}

#[test]
fn help_without_arguments_snapshot() {
    insta::assert_snapshot!("help_empty", help("noop", "1.2.3", &[]));
}

/// Every error message of `parse`, one per case.
#[test]
fn error_messages_snapshot() {
    let cases: &[&[&str]] = &[
        // unknown argument, with and without a suggestion
        &["--key=k", "--helo=x"],
        &["--key=k", "--helo"],
        &["--key=k", "--ipv4-gw=10.0.0.1"],
        &["--key=k", "--verison"],
        &["--key=k", "--zzzzzz"],
        // not an option
        &["--key=k", "hello"],
        &["--key=k", "-count=2"],
        &["--key=k", "--"],
        &["--key=k", ""],
        // missing value
        &["--key"],
        &["--key=k", "--count"],
        &["--key=k", "--count", "--verbose"],
        // bad value, for every kind
        &["--key=k", "--count=abc"],
        &["--key=k", "--count=65536"],
        &["--key=k", "--count=-1"],
        &["--key=k", "--verbose=yes"],
        &["--key=k", "--level=128"],
        &["--key=k", "--timeout=5"],
        &["--key=k", "--peer=10.0.0"],
        &["--key=k", "--peer6=fe80:::1"],
        &["--key=k", "--ipv4=10.0.0.2"],
        &["--key=k", "--ipv4=10.0.0.2/33"],
        &["--key=k", "--ipv6=fd00::1/129"],
        &["--key=k", "--mac=02:00:00:00:00"],
        &["--key=k", "--block-size=-1"],
        &["--key=k", "--offset=2147483648"],
        &["--key=k", "--dns=8.8.8.8", "--dns=one"],
        // shown safely: control characters and long values
        &["--key=k", "--count=1\n2"],
        &[
            "--key=k",
            "--count=1234567890123456789012345678901234567890123456789012345678901234567890",
        ],
        // given twice
        &["--key=k", "--count=1", "--count=2"],
        // missing required
        &[],
        &["--hello=x"],
        // Solo5 options
        &["--key=k", "--solo5:debug"],
        &["--solo5:loud", "--key=k"],
        // help and version take no value
        &["--help=x"],
        &["--version=1"],
    ];
    let mut out = String::new();
    for args in cases {
        out.push_str(&format!("{args:?}\n  {}", err(args)));
    }
    // A split error, as parse_cmdline reports it.
    let e = parse_cmdline(&APP, *SPECS, r#"--hello="x"#).unwrap_err();
    out.push_str(&format!("cmdline --hello=\"x\n  {}", e.text()));
    let e = parse_cmdline(&APP, *SPECS, r"--hello=x\").unwrap_err();
    out.push_str(&format!("cmdline --hello=x\\\n  {}", e.text()));
    insta::assert_snapshot!("errors", out);
}

const fn s(name: &'static str, kind: Kind, default: &'static [&'static str]) -> Spec {
    Spec::new(name, kind).default(default)
}

/// Configuration bugs are reported by `check_specs` (what `petrel configure` checks), and by
/// `parse` in a debug build.
#[test]
fn bad_specs_snapshot() {
    static CASES: &[&[Spec]] = &[
        &[s("port", Kind::U16, &["70000"])],
        &[s("dns", Kind::Ipv4, &["8.8.8.8", "nope"]).repeated()],
        &[s("port", Kind::U16, &["1", "2"])],
        &[s("a", Kind::String, &[]), s("a", Kind::Bool, &[])],
        &[s("help", Kind::String, &[])],
        &[s("", Kind::String, &[])],
        &[s("a=b", Kind::String, &[])],
    ];
    let cases = CASES;

    let mut out = String::new();
    for specs in cases {
        match check_specs(specs) {
            Err(Exit::Error(e)) => out.push_str(&e),
            other => panic!("{other:?}"),
        }
    }
    insta::assert_snapshot!("bad_specs", out);
    // A debug build checks the whole table again at boot and reports the same errors; a
    // release image trusts what `petrel configure` checked.
    for specs in cases {
        let parsed = parse(&APP, specs, &[]);
        if cfg!(debug_assertions) {
            assert_eq!(parsed.unwrap_err(), check_specs(specs).unwrap_err());
        } else {
            assert!(parsed.is_ok(), "{parsed:?}");
        }
    }
    assert_eq!(check_specs(*SPECS), Ok(()));
}

#[test]
fn configure_time_checks() {
    assert!(check_default(Kind::Ipv4Prefix, "10.0.0.2/24").is_ok());
    assert!(check_default(Kind::parse_name("u8").unwrap(), "256").is_err());
    assert!(check_default_list(Kind::Ipv4, "8.8.8.8 1.1.1.1").is_ok());
    assert!(check_default_list(Kind::Ipv4, "").is_ok());
    assert!(check_default_list(Kind::Ipv4, "8.8.8.8 x").is_err());
    // The one naming rule (configure, the derive macro and check_specs all use it).
    let longest = "x".repeat(64);
    for good in [
        "a",
        "ipv4-gateway",
        "he-aaaa-timeout",
        "x1",
        "a-1-b",
        &longest,
    ] {
        assert_eq!(check_name(good), Ok(()), "{good}");
        assert_eq!(name_problem(good), None, "{good}");
    }
    let mut out = String::new();
    for bad in [
        "",
        "Ipv4",
        "1x",
        "a--b",
        "a-",
        "help",
        "version",
        "a_b",
        "a=b",
        "-x",
        "9x",
        "solo5:x",
        &"x".repeat(65),
    ] {
        assert!(name_problem(bad).is_some(), "{bad}");
        out.push_str(&check_name(bad).unwrap_err());
        out.push('\n');
    }
    out.push_str(&check_default(Kind::parse_name("u8").unwrap(), "256").unwrap_err());
    out.push('\n');
    out.push_str(&check_default_list(Kind::Ipv4, "8.8.8.8 \\").unwrap_err());
    out.push('\n');
    insta::assert_snapshot!("configure_checks", out);
}

#[test]
fn kind_names_round_trip() {
    for name in Kind::NAMES {
        let k = Kind::parse_name(name).unwrap();
        let canonical = match *name {
            "int" => "i64",
            "uint" => "u64",
            n => n,
        };
        assert_eq!(k.name(), canonical);
        assert_eq!(Kind::parse_name(k.name()), Some(k));
        // The example is valid.
        assert!(check_default(k, k.example()).is_ok(), "{name}");
    }
    assert_eq!(Kind::parse_name("float"), None);
    assert_eq!(Kind::I8.describe(), "an integer from -128 to 127");
    assert_eq!(
        Kind::I64.describe(),
        "an integer from -9223372036854775808 to 9223372036854775807"
    );
    assert_eq!(
        Kind::U64.describe(),
        "an integer from 0 to 18446744073709551615"
    );
}

#[test]
#[should_panic(expected = "boot argument '--nope' is not declared")]
fn get_undeclared_panics() {
    ok(&["--key=k"]).get::<String>("nope");
}

/// A `get` whose type does not fit the declaration panics at the line of the call (which
/// shows the type read), naming the argument.
#[test]
fn get_mismatch_panics_at_the_call() {
    type Case<'a> = (
        u32,
        &'a str,
        Box<dyn Fn(&Values) + std::panic::RefUnwindSafe>,
    );
    // One line each: the panic must point at the line of its `get`.
    #[rustfmt::skip]
    let cases: [Case; 6] = [
        (line!(), "count", Box::new(|v| _ = v.get::<bool>("count"))),
        (line!(), "level", Box::new(|v| _ = v.get::<i8>("level"))),
        (line!(), "dns", Box::new(|v| _ = v.get::<Ipv4Addr>("dns"))),
        (line!(), "offset", Box::new(|v| _ = v.get::<Vec<u32>>("offset"))),
        (line!(), "count", Box::new(|v| _ = v.get::<Option<i16>>("count"))),
        (line!(), "count", Box::new(|v| _ = v.get::<u8>("count"))),
    ];
    let v = ok(&["--key=k"]);
    for (line, name, read) in cases {
        let (message, at) = panic_of(|| read(&v));
        assert_eq!(
            message,
            format!(
                "boot argument '--{name}' is not declared as the code reads it (fix the code or \
                 unikernel.toml, and re-run `petrel configure`)"
            )
        );
        // A debug build reports it at the `get` (`#[track_caller]`); a release image, to save
        // the location of every call, in petrel-bootvar.
        if cfg!(debug_assertions) {
            assert_eq!(at, (file!().to_string(), line));
        } else {
            assert!(at.0.ends_with("values.rs"), "{at:?}");
        }
    }
}

/// A default that does not parse (a table edited by hand): a debug build's `parse` reports it;
/// a release build trusts the table and panics when the app reads the value.
#[test]
fn a_bad_default_is_an_error_in_debug_and_a_panic_at_get_in_release() {
    static BAD: &[Spec] = &[Spec::new("port", Kind::U16).default(&["70000"])];
    let parsed = parse(&APP, BAD, &[]);
    if cfg!(debug_assertions) {
        assert_eq!(parsed.unwrap_err(), check_specs(BAD).unwrap_err());
    } else {
        let values = parsed.expect("a release build does not check the defaults");
        let (message, _) = panic_of(|| _ = values.get::<u16>("port"));
        assert_eq!(
            message,
            "a boot argument's default is not valid (re-run `petrel configure`)"
        );
    }
}

/// The message and location of the panic of `f`, which must panic.
fn panic_of(f: impl FnOnce() + std::panic::UnwindSafe) -> (String, (String, u32)) {
    use std::sync::Mutex;
    type Seen = Option<(String, (String, u32))>;
    static SEEN: Mutex<Seen> = Mutex::new(None);
    let me = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Other tests run on other threads: keep only this one's panic.
        if std::thread::current().id() == me {
            let at = info.location().map(|l| (l.file().to_string(), l.line()));
            let message = info.payload_as_str().unwrap_or_default().to_string();
            *SEEN.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((message, at.unwrap_or_default()));
        }
    }));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(previous);
    assert!(result.is_err(), "no panic");
    let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner()).take();
    seen.expect("the hook saw the panic")
}

/// A flag without a default reads as a plain `bool` (as `petrel configure` accepts it for a
/// `#[derive(BootArgs)]` field): `false` when absent.
#[test]
fn flag_without_default_is_false() {
    static FLAG: &[Spec] = &[Spec::new("debug", Kind::Bool)];
    let absent = parse(&APP, FLAG, &[]).unwrap();
    assert!(!absent.get::<bool>("debug"));
    assert_eq!(absent.get::<Option<bool>>("debug"), Some(false));
    assert!(!absent.is_given("debug"));
    let given = parse(&APP, FLAG, &argv(&["--debug"])).unwrap();
    assert!(given.get::<bool>("debug") && given.is_given("debug"));
}

/// The `false` of a flag declared without a default holds whatever the order of the builders,
/// and only for a flag: a required or repeated `bool`, or one with a declared default, keeps
/// what it declares. `defaults()` gives what was declared.
#[test]
fn only_a_flag_gets_false_whatever_the_builders_order() {
    static SPECS: &[Spec] = &[
        Spec::new("a", Kind::Bool).default(&[]),
        Spec::new("b", Kind::Bool).required(),
        Spec::new("c", Kind::Bool).repeated(),
        Spec::new("d", Kind::Bool).default(&["true"]).repeated(),
        Spec::new("e", Kind::Bool).repeated().default(&["false"]),
        Spec::new("f", Kind::String),
    ];
    let declared: Vec<&[&str]> = SPECS.iter().map(|s| s.defaults()).collect();
    let none: &[&str] = &[];
    assert_eq!(declared, [none, none, none, &["true"], &["false"], none]);
    let v = parse(&APP, SPECS, &argv(&["--b"])).expect("the required flag is given");
    assert!(!v.get::<bool>("a"));
    assert!(v.get::<bool>("b"));
    assert_eq!(v.get::<Vec<bool>>("c"), Vec::<bool>::new());
    assert_eq!(v.get::<Vec<bool>>("d"), [true]);
    assert_eq!(v.get::<Vec<bool>>("e"), [false]);
    assert_eq!(v.get::<Option<String>>("f"), None);
    // The required flag is required.
    let e = parse(&APP, SPECS, &[]).unwrap_err();
    assert!(e.text().contains("missing required argument '--b'"), "{e}");
}

/// `get` reads the extremes of a declared integer type as every integer type that holds them.
#[test]
fn integer_extremes_read_as_wider_types() {
    let v = ok(&[
        "--key=k",
        "--level=-128",
        "--count=65535",
        "--offset=2147483647",
    ]);
    assert_eq!(v.get::<Option<i8>>("level"), Some(-128));
    assert_eq!(v.get::<Option<i64>>("level"), Some(-128));
    assert_eq!(v.get::<Option<isize>>("level"), Some(-128));
    assert_eq!(v.get::<u16>("count"), u16::MAX);
    assert_eq!(v.get::<i32>("count"), 65535);
    assert_eq!(v.get::<u64>("count"), 65535);
    assert_eq!(v.get::<i32>("offset"), i32::MAX);
    assert_eq!(v.get::<i64>("offset"), 2147483647);
    let v = ok(&["--key=k", "--level=127", "--offset=-2147483648"]);
    assert_eq!(v.get::<Option<i16>>("level"), Some(127));
    assert_eq!(v.get::<isize>("offset"), -2147483648);
}
