//! Property tests: `petrel run`'s escaping round-trips through the guest's splitter.

mod common;

use core::net::{Ipv4Addr, Ipv6Addr};
use petrel_bootvar::{Exit, Kind, Value, join, parse, quote, split, try_join};
use proptest::prelude::*;

/// Arguments rich in the characters the rules care about, plus arbitrary Unicode.
fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \\\\\"'a=\\-\t\n]{0,10}",
        any::<String>(),
        Just(String::new()),
        Just(" ".to_string()),
        Just("\\".to_string()),
        Just("\"".to_string()),
    ]
    .prop_map(|s| s.replace('\0', ""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// What `petrel run` accepts (no empty argument, no NUL) comes back exactly.
    #[test]
    fn split_of_join_is_identity(argv in prop::collection::vec(arg().prop_filter("non-empty", |s| !s.is_empty()), 0..8)) {
        let line = try_join(&argv).unwrap();
        prop_assert_eq!(&line, &join(&argv));
        prop_assert_eq!(split(&line).unwrap(), argv);
    }

    /// Any argv without NUL: the empty arguments disappear (the rules drop empty tokens), the
    /// others come back in order; `try_join` refuses exactly the argv that would lose some.
    #[test]
    fn empty_arguments_are_dropped_and_refused(argv in prop::collection::vec(arg(), 0..8)) {
        let kept: Vec<String> = argv.iter().filter(|a| !a.is_empty()).cloned().collect();
        prop_assert_eq!(split(&join(&argv)).unwrap(), kept);
        prop_assert_eq!(try_join(&argv).is_err(), argv.iter().any(|a| a.is_empty()));
    }

    #[test]
    fn quote_round_trips(a in arg().prop_filter("non-empty", |s| !s.is_empty())) {
        prop_assert_eq!(split(&quote(&a)).unwrap(), vec![a]);
    }

    /// The splitter never panics and never returns an empty token.
    #[test]
    fn split_total(line in any::<String>()) {
        if let Ok(argv) = split(&line) {
            prop_assert!(argv.iter().all(|a| !a.is_empty()));
        }
    }

    /// The parser never panics, and every error is one line.
    #[test]
    fn parse_total(argv in prop::collection::vec(arg(), 0..6)) {
        match parse(&common::APP, *common::SPECS, &argv) {
            Err(Exit::Error(e)) => prop_assert_eq!(e.matches('\n').count(), 1),
            Err(Exit::Help(_)) | Err(Exit::Version(_)) | Ok(_) => {}
        }
    }

    /// The crate's own IPv4/IPv6 parsers accept exactly what `core::net` accepts.
    #[test]
    fn addresses_match_core(s in "[0-9a-fA-F:.]{0,42}|(([0-9a-f]{0,5}|[0-9]{1,4}(\\.[0-9]{1,4}){0,4}):){0,9}[0-9a-f.]{0,16}") {
        prop_assert_eq!(Kind::Ipv4.parse_value(&s), s.parse::<Ipv4Addr>().ok().map(Value::Ipv4));
        prop_assert_eq!(Kind::Ipv6.parse_value(&s), s.parse::<Ipv6Addr>().ok().map(Value::Ipv6));
    }
}
