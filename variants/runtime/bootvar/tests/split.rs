//! Table tests of the mirage-bootvar splitter and of its inverse.

use petrel_bootvar::{JoinError, SplitError, join, quote, split, try_join};

fn ok(line: &str, want: &[&str]) {
    assert_eq!(
        split(line),
        Ok(want.iter().map(|s| s.to_string()).collect()),
        "split({line:?})"
    );
}

#[test]
fn mirage_bootvar_test_suite() {
    // The cases of mirage-bootvar's test/test.ml.
    ok("foo bar baz", &["foo", "bar", "baz"]);
    ok(r#"foo "bar" baz"#, &["foo", "bar", "baz"]);
    ok(r#"f\ oo b\"r baz"#, &["f oo", "b\"r", "baz"]);
    ok(r#"foo bar"bie"boo baz"#, &["foo", "barbieboo", "baz"]);
    ok(r#"foo "bar baz""#, &["foo", "bar baz"]);
    ok(r"foo bar\ baz", &["foo", "bar baz"]);
    ok("  ", &[]);
    assert_eq!(split("  \\"), Err(SplitError::TrailingEscape));
}

#[test]
fn only_space_separates() {
    ok("a b", &["a", "b"]);
    ok("a\tb", &["a\tb"]);
    ok("a\nb c", &["a\nb", "c"]);
    ok("a\r\nb", &["a\r\nb"]);
    ok("a\u{a0}b", &["a\u{a0}b"]);
}

#[test]
fn empty_tokens_are_dropped() {
    ok("", &[]);
    ok("    ", &[]);
    ok("  a   b  ", &["a", "b"]);
    ok(r#""""#, &[]);
    ok(r#"a "" b"#, &["a", "b"]);
    ok(r#"a """" b"#, &["a", "b"]);
}

#[test]
fn backslash_escapes_the_next_character() {
    ok(r"a\ b", &["a b"]);
    ok(r"a\\b", &[r"a\b"]);
    ok(r#"a\"b"#, &["a\"b"]);
    ok(r"\a\b\c", &["abc"]);
    ok(r"\ ", &[" "]);
    ok(r"\\", &[r"\"]);
    ok("\\\t", &["\t"]);
    ok(r"\é", &["é"]);
    ok(r"'a b'", &["'a", "b'"]);
}

#[test]
fn quotes_group_and_may_sit_mid_token() {
    ok(r#""a b""#, &["a b"]);
    ok(r#"bar"bie"boo"#, &["barbieboo"]);
    ok(r#"--hello="Hello, world!""#, &["--hello=Hello, world!"]);
    ok(r#""a"" b""#, &["a b"]);
    ok(r#""a\"b""#, &["a\"b"]);
    ok(r#""a\\b""#, &[r"a\b"]);
    ok(r#""a\ b""#, &["a b"]);
    ok(r#""\x""#, &["x"]);
    ok(r#""  x  ""#, &["  x  "]);
    ok(r#"a"" b"#, &["a", "b"]);
    ok(r#""" a"#, &["a"]);
}

#[test]
fn errors() {
    assert_eq!(
        split(r#"""#),
        Err(SplitError::UnclosedQuote { position: 1 })
    );
    assert_eq!(
        split(r#"--x="abc"#),
        Err(SplitError::UnclosedQuote { position: 5 })
    );
    assert_eq!(
        split(r#"a "b" "c"#),
        Err(SplitError::UnclosedQuote { position: 7 })
    );
    assert_eq!(
        split(r#"é "b"#),
        Err(SplitError::UnclosedQuote { position: 3 })
    );
    assert_eq!(
        split(r#""abc\"#),
        Err(SplitError::UnclosedQuote { position: 1 })
    );
    assert_eq!(
        split(r#""abc\""#),
        Err(SplitError::UnclosedQuote { position: 1 })
    );
    assert_eq!(split(r"\"), Err(SplitError::TrailingEscape));
    assert_eq!(split(r"abc\"), Err(SplitError::TrailingEscape));
    assert_eq!(split(r"abc \\\"), Err(SplitError::TrailingEscape));
}

#[test]
fn error_messages() {
    let cases = [r#"--hello="Hello"#, r"--hello=Hello\", r#""abc\"#];
    let mut out = String::new();
    for line in cases {
        let e = split(line).unwrap_err();
        assert!(!e.to_string().contains('\n'));
        out.push_str(&format!("{line}\n  => {e}\n"));
    }
    for e in [JoinError::Empty { index: 2 }, JoinError::Nul { index: 0 }] {
        out.push_str(&format!("{e:?}\n  => {e}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn quote_table() {
    let cases: &[(&str, &str)] = &[
        ("plain", "plain"),
        ("--hello=world", "--hello=world"),
        ("two words", "\"two words\""),
        (" ", "\" \""),
        (r"a\b", r"a\\b"),
        ("a\"b", "a\\\"b"),
        ("say \"hi\" \\o/", r#""say \"hi\" \\o/""#),
        ("tab\there", "tab\there"),
        ("", "\"\""),
    ];
    for (arg, want) in cases {
        assert_eq!(quote(arg), *want, "quote({arg:?})");
        if !arg.is_empty() {
            assert_eq!(split(&quote(arg)).unwrap(), [*arg]);
        }
    }
}

#[test]
fn join_round_trips_and_empty_is_refused() {
    let argv = ["--hello=Hello, world!", r"C:\dir", "\"q\"", "x"];
    let line = join(&argv);
    assert_eq!(line, r#""--hello=Hello, world!" C:\\dir \"q\" x"#);
    assert_eq!(split(&line).unwrap(), argv);
    assert_eq!(try_join(&argv).unwrap(), line);

    // The rules drop empty tokens: an empty argument cannot reach the guest.
    let with_empty = ["--hello", "", "x"];
    assert_eq!(split(&join(&with_empty)).unwrap(), ["--hello", "x"]);
    assert_eq!(try_join(&with_empty), Err(JoinError::Empty { index: 1 }));
    assert_eq!(try_join(&["a\0b"]), Err(JoinError::Nul { index: 0 }));
    assert_eq!(try_join::<&str>(&[]).unwrap(), "");
}
