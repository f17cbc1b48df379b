//! Checking each table of `unikernel.toml`: its keys, the types of its values, and the
//! shape of `[keys]`, `[devices.NAME]`, `[args.NAME]` and `[implementations]`.

use super::*;
use toml::Spanned as TSpanned;

pub(super) type Key<'i> = TSpanned<std::borrow::Cow<'i, str>>;
pub(super) type Val<'i> = TSpanned<DeValue<'i>>;

/// The checking context: the file and the problems found so far.
pub(super) struct Cx {
    /// The file.
    pub(super) file: Arc<SourceFile>,
    /// The problems found so far.
    pub(super) diags: Diagnostics,
}

impl Cx {
    pub(super) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// An unknown key (or table) `key` in `place`, listing `allowed`.
    pub(super) fn unknown_key(&mut self, key: &Key<'_>, what: &str, place: &str, allowed: &[&str]) {
        let name = key.get_ref().as_ref();
        let shown = if what == "table" {
            format!("[{}]", truncate(name, 40))
        } else {
            truncate(name, 40)
        };
        let mut d = Diagnostic::error(format!("unknown {what} `{shown}` in {place}")).at_span(
            &self.file,
            key.span(),
            format!("expected one of: {}", list(allowed)),
        );
        if let Some(s) = did_you_mean(name, allowed.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.error(d);
    }

    /// `value` as a table, or an error "expected a table".
    pub(super) fn table<'a, 'i>(
        &mut self,
        value: &'a Val<'i>,
        what: &str,
    ) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.error(
                    Diagnostic::error(format!("{what} must be a table")).at_span(
                        &self.file,
                        value.span(),
                        format!("expected a table, found {}", article(other.type_str())),
                    ),
                );
                None
            }
        }
    }

    /// `value` as a string, or an error.
    pub(super) fn string(&mut self, value: &Val<'_>, what: &str) -> Option<Sp<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), value.span())),
            other => {
                self.error(
                    Diagnostic::error(format!("{what} must be a string")).at_span(
                        &self.file,
                        value.span(),
                        format!("expected a string, found {}", article(other.type_str())),
                    ),
                );
                None
            }
        }
    }

    /// `value` as a boolean, or an error.
    pub(super) fn boolean(&mut self, value: &Val<'_>, what: &str) -> Option<Sp<bool>> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, value.span())),
            other => {
                let mut d = Diagnostic::error(format!("{what} must be a boolean")).at_span(
                    &self.file,
                    value.span(),
                    format!(
                        "expected `true` or `false`, found {}",
                        article(other.type_str())
                    ),
                );
                if let DeValue::String(s) = other
                    && (s == "true" || s == "false")
                {
                    d = d.with_help(format!("write `{s}` without quotes"));
                }
                self.error(d);
                None
            }
        }
    }

    pub(super) fn unikernel(&mut self, doc: &DeTable<'_>) -> Option<Sp<String>> {
        let Some(value) = doc.get("unikernel") else {
            self.error(
                Diagnostic::error("missing table `[unikernel]`")
                    .at_span(
                        &self.file,
                        0..0,
                        "expected a `[unikernel]` table with the unikernel's name",
                    )
                    .with_help("start the file with:\n[unikernel]\nname = \"hello\""),
            );
            return None;
        };
        let table = self.table(value, "`unikernel`")?;
        for (key, _) in table.iter() {
            if !UNIKERNEL_KEYS.contains(&key.get_ref().as_ref()) {
                self.unknown_key(key, "key", "`[unikernel]`", &UNIKERNEL_KEYS);
            }
        }
        let Some(name) = table.get("name") else {
            self.error(
                Diagnostic::error("missing `name` in `[unikernel]`")
                    .at_span(&self.file, header_span(value), "this table needs a `name`")
                    .with_help("add `name = \"hello\"`: the image and the generated package are named after it"),
            );
            return None;
        };
        let name = self.string(name, "the unikernel's name")?;
        if let Err(why) = check_unikernel_name(&name.value) {
            self.error(
                Diagnostic::error(format!(
                    "invalid unikernel name `{}`",
                    truncate(&name.value, 40)
                ))
                .at_span(&self.file, name.span.clone(), why)
                .with_note("the image and the generated package are named after it")
                .with_help(format!(
                    "try `name = \"{}\"`",
                    suggest_name(&name.value, '-')
                )),
            );
            return None;
        }
        Some(name)
    }

    /// `[keys]`: `name = value` settings and `[keys.NAME]` declarations.
    pub(super) fn keys(&mut self, value: &Val<'_>) -> KeyTable {
        let mut out = KeyTable {
            file: self.file.clone(),
            settings: Vec::new(),
            decls: Vec::new(),
        };
        let Some(table) = self.table(value, "`keys`") else {
            return out;
        };
        for (key, value) in table.iter() {
            let name = Sp::new(key.get_ref().to_string(), key.span());
            let what = format!("the key `{}`", truncate(&name.value, 40));
            match value.get_ref() {
                DeValue::Table(t) => {
                    if let Some(spec) = self.key_spec(name, value, t) {
                        out.decls.push(spec);
                    }
                }
                _ => {
                    if let Some(v) = self.literal(value, &what) {
                        out.settings.push(KeySetting { name, value: v });
                    }
                }
            }
        }
        out.settings.sort_by_key(|k| k.name.span.start);
        out.decls.sort_by_key(|k| k.name.span.start);
        out
    }

    /// A key's value: a string or a boolean.
    pub(super) fn literal(&mut self, value: &Val<'_>, what: &str) -> Option<Sp<Literal>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Sp::new(Literal::Str(s.to_string()), value.span())),
            DeValue::Boolean(b) => Some(Sp::new(Literal::Bool(*b), value.span())),
            other => {
                self.error(
                    Diagnostic::error(format!("{what} must be a string or a boolean")).at_span(
                        &self.file,
                        value.span(),
                        format!(
                            "expected a string or `true`/`false`, found {}",
                            article(other.type_str())
                        ),
                    ),
                );
                None
            }
        }
    }

    /// `[keys.NAME]`: `doc`, `values`, `default`.
    pub(super) fn key_spec(
        &mut self,
        name: Sp<String>,
        value: &Val<'_>,
        t: &DeTable<'_>,
    ) -> Option<KeySpec> {
        const SPEC_KEYS: [&str; 3] = ["doc", "values", "default"];
        let what = format!("`[keys.{}]`", truncate(&name.value, 40));
        for (k, _) in t.iter() {
            if !SPEC_KEYS.contains(&k.get_ref().as_ref()) {
                self.unknown_key(k, "key", &what, &SPEC_KEYS);
            }
        }
        let missing = |cx: &mut Cx, field: &str, help: &str| {
            cx.error(
                Diagnostic::error(format!("missing `{field}` in {what}"))
                    .at_span(
                        &cx.file,
                        header_span(value),
                        format!("this key needs a `{field}`"),
                    )
                    .with_help(help.to_string()),
            );
        };
        let doc = match t.get("doc") {
            Some(v) => self
                .string(v, &format!("`doc` in {what}"))
                .and_then(|d| self.one_line(d, &format!("`doc` in {what}"))),
            None => {
                missing(self, "doc", "add `doc = \"...\"`: `describe` shows it");
                None
            }
        };
        let default = match t.get("default") {
            Some(v) => self.literal(v, &format!("`default` in {what}")),
            None => {
                missing(
                    self,
                    "default",
                    "add `default = \"...\"` (one of `values`), or `default = false` for a boolean key",
                );
                None
            }
        };
        let mut values = Vec::new();
        if let Some(v) = t.get("values") {
            match v.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        if let Some(s) = self.string(item, &format!("a value in {what}")) {
                            values.push(s);
                        }
                    }
                }
                other => self.error(
                    Diagnostic::error(format!("`values` in {what} must be an array of strings"))
                        .at_span(
                            &self.file,
                            v.span(),
                            format!("expected an array, found {}", article(other.type_str())),
                        ),
                ),
            }
        }
        Some(KeySpec {
            name,
            doc: doc?,
            values,
            default: default?,
        })
    }

    /// `[implementations]`: `interface = "package"`. Which interfaces exist is the
    /// catalogue's business, checked when the graph is resolved.
    pub(super) fn pins(&mut self, value: &Val<'_>) -> Vec<Pin> {
        let Some(table) = self.table(value, "`implementations`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().to_string();
            let what = format!("`{}` in `[implementations]`", truncate(&name, 40));
            if let Some(package) = self.string(value, &what) {
                out.push(Pin {
                    interface: Sp::new(name, key.span()),
                    package,
                });
            }
        }
        out.sort_by_key(|p| p.interface.span.start);
        out
    }

    pub(super) fn devices(&mut self, value: &Val<'_>) -> Vec<DeviceDecl> {
        let Some(table) = self.table(value, "`devices`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().to_string();
            let ok_name = self.instance_name(&name, key.span());
            let what = format!("`[devices.{}]`", truncate(&name, 40));
            let Some(dev) = self.table(value, &what) else {
                continue;
            };
            let mut ty = None;
            let mut implementation = None;
            let mut group = None;
            let mut keys = Vec::new();
            let mut entries = Vec::new();
            for (k, v) in dev.iter() {
                let kname = k.get_ref().to_string();
                if kname == "keys" {
                    keys = self.instance_keys(v, &what);
                } else if kname == "type" {
                    ty = self.string(v, &format!("`type` in {what}"));
                } else if kname == "implementation" {
                    implementation = self.string(v, &format!("`implementation` in {what}"));
                } else if kname == "group" {
                    group = self.string(v, &format!("`group` in {what}"));
                } else if let Some(s) =
                    self.string(v, &format!("`{}` in {what}", truncate(&kname, 40)))
                {
                    entries.push(DeviceEntry {
                        key: Sp::new(kname, k.span()),
                        value: s,
                    });
                }
            }
            entries.sort_by_key(|e| e.key.span.start);
            let Some(ty) = ty else {
                if dev.get("type").is_none() {
                    self.error(
                        Diagnostic::error(format!("missing `type` in {what}"))
                            .at_span(&self.file, header_span(value), "this device needs a `type`")
                            .with_help("add `type = \"<interface>\"`, e.g. `type = \"stack\"`"),
                    );
                }
                continue;
            };
            if ok_name {
                out.push(DeviceDecl {
                    name: Sp::new(name, key.span()),
                    ty,
                    implementation,
                    group,
                    keys,
                    entries,
                });
            }
        }
        out.sort_by_key(|d| d.name.span.start);
        out
    }

    /// `keys = { kv = "direct" }` in a device table: configure keys for this instance only.
    fn instance_keys(&mut self, value: &Val<'_>, what: &str) -> Vec<KeySetting> {
        let Some(table) = self.table(value, &format!("`keys` in {what}")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let name = Sp::new(key.get_ref().to_string(), key.span());
            let shown = format!("the key `{}` in {what}", truncate(&name.value, 40));
            if let Some(v) = self.literal(value, &shown) {
                out.push(KeySetting { name, value: v });
            }
        }
        out.sort_by_key(|k| k.name.span.start);
        out
    }

    /// Checks an instance name; reports and returns false when it is not valid.
    pub(super) fn instance_name(&mut self, name: &str, span: Range<usize>) -> bool {
        match check_instance_name(name) {
            Ok(()) => true,
            Err(why) => {
                self.error(
                    Diagnostic::error(format!("invalid device name `{}`", truncate(name, 40)))
                        .at_span(&self.file, span, why)
                        .with_note(
                            "device names become Rust identifiers: the main function's parameters",
                        )
                        .with_help(format!("try `[devices.{}]`", suggest_name(name, '_'))),
                );
                false
            }
        }
    }

    pub(super) fn args(&mut self, value: &Val<'_>) -> Vec<ArgSpec> {
        let Some(table) = self.table(value, "`args`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().to_string();
            let what = format!("`[args.{}]`", truncate(&name, 40));
            let Some(arg) = self.table(value, &what) else {
                continue;
            };
            for (k, _) in arg.iter() {
                if !ARG_KEYS.contains(&k.get_ref().as_ref()) {
                    self.unknown_key(k, "key", &what, &ARG_KEYS);
                }
            }
            let ty = match arg.get("type") {
                Some(v) => self.string(v, &format!("`type` in {what}")),
                None => {
                    self.error(
                        Diagnostic::error(format!("missing `type` in {what}"))
                            .at_span(
                                &self.file,
                                header_span(value),
                                "this argument needs a `type`",
                            )
                            .with_help(format!(
                                "add `type = \"string\"` (or one of: {})",
                                list(petrel_bootvar::Kind::NAMES)
                            )),
                    );
                    None
                }
            };
            let doc = match arg.get("doc") {
                Some(v) => self.string(v, &format!("`doc` in {what}")).and_then(|d| {
                    if d.value.trim().is_empty() {
                        self.error(
                            Diagnostic::error(format!("empty `doc` in {what}"))
                                .at_span(
                                    &self.file,
                                    d.span.clone(),
                                    "expected a one-line description",
                                )
                                .with_note("`--help` shows it beside the argument"),
                        );
                        None
                    } else {
                        self.one_line(d, &format!("`doc` in {what}"))
                    }
                }),
                None => {
                    self.error(
                        Diagnostic::error(format!("missing `doc` in {what}"))
                            .at_span(
                                &self.file,
                                header_span(value),
                                "this argument needs a `doc`",
                            )
                            .with_help(
                                "add `doc = \"...\"`: `--help` shows it beside the argument",
                            ),
                    );
                    None
                }
            };
            let default = arg
                .get("default")
                .and_then(|v| self.default_value(v, &what))
                .and_then(|d| self.one_line(d, &format!("`default` in {what}")));
            let section = arg.get("section").and_then(|v| {
                let what = format!("`section` in {what}");
                self.string(v, &what).and_then(|s| self.one_line(s, &what))
            });
            let required = arg
                .get("required")
                .and_then(|v| self.boolean(v, &format!("`required` in {what}")));
            let repeated = arg
                .get("repeated")
                .and_then(|v| self.boolean(v, &format!("`repeated` in {what}")));
            if let (Some(ty), Some(doc)) = (ty, doc) {
                out.push(ArgSpec {
                    name: Sp::new(name, key.span()),
                    ty,
                    default,
                    doc,
                    section,
                    required,
                    repeated,
                });
            }
        }
        out.sort_by_key(|a| a.name.span.start);
        out
    }

    /// `text` if it has no control characters (it is printed by `--help`, where an escape
    /// sequence would reach the user's terminal), else an error at it.
    pub(super) fn one_line(&mut self, text: Sp<String>, what: &str) -> Option<Sp<String>> {
        let Some(c) = text.value.chars().find(|c| c.is_control()) else {
            return Some(text);
        };
        self.error(
            Diagnostic::error(format!(
                "{what} contains the control character U+{:04X}",
                u32::from(c)
            ))
            .at_span(&self.file, text.span, "expected one line of printable text")
            .with_note("`--help` prints it as it is: control characters would reach the terminal"),
        );
        None
    }

    /// A default value: a string, or a boolean or integer written bare (kept as written).
    pub(super) fn default_value(&mut self, value: &Val<'_>, what: &str) -> Option<Sp<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), value.span())),
            DeValue::Boolean(b) => Some(Sp::new(b.to_string(), value.span())),
            DeValue::Integer(_) => {
                let written = self
                    .file
                    .text
                    .get(value.span())
                    .unwrap_or("")
                    .replace('_', "");
                Some(Sp::new(written, value.span()))
            }
            other => {
                self.error(
                    Diagnostic::error(format!("`default` in {what} must be a string")).at_span(
                        &self.file,
                        value.span(),
                        format!(
                            "expected a string (or a boolean or integer), found {}",
                            article(other.type_str())
                        ),
                    ),
                );
                None
            }
        }
    }
}

/// The span of a table's header (`[devices.x]`), or of the whole value for inline tables.
fn header_span(value: &Val<'_>) -> Range<usize> {
    value.span()
}

/// `a string`, `an integer`...
fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}
