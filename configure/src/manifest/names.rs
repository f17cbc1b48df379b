//! The naming rules of `unikernel.toml`: the unikernel's name and device instance names.

/// Checks a unikernel name: `[a-z][a-z0-9-]*`, at most 40 characters.
pub fn check_unikernel_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("expected a name: it is empty".into());
    }
    if name.chars().count() > 40 {
        return Err(format!(
            "expected at most 40 characters, found {}",
            name.chars().count()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("expected a name starting with a lowercase letter (a-z)".into());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "expected only a-z, 0-9 and `-`, found `{}`",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Rust keywords (strict and reserved, edition 2024): not usable as instance names.
pub const RUST_KEYWORDS: [&str; 52] = [
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "union",
];

/// Checks an instance name: `[a-z][a-z0-9_]*`, not a Rust keyword.
pub fn check_instance_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("expected a name: it is empty".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("expected a name starting with a lowercase letter (a-z)".into());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        return Err(format!(
            "expected only a-z, 0-9 and `_`, found `{}`",
            c.escape_default()
        ));
    }
    if RUST_KEYWORDS.contains(&name) {
        return Err(format!("`{name}` is a Rust keyword"));
    }
    Ok(())
}

/// A valid name close to `name` (lowercased, other characters replaced by `sep`).
pub(super) fn suggest_name(name: &str, sep: char) -> String {
    let mut s: String = name
        .chars()
        .take(40)
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                sep
            }
        })
        .collect();
    s = s
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .to_string();
    if s.is_empty() {
        s = "hello".into();
    }
    if RUST_KEYWORDS.contains(&s.as_str()) {
        s.push(sep);
        s.push('1');
    }
    s
}
