//! `petrel describe`: the resolved graph as text, Graphviz (`--dot`) or JSON (`--json`).
//!
//! All three are deterministic: same inputs, same bytes.

use crate::graph::{MainParam, Node, Resolved};

/// The text rendering: name, target, keys, nodes in initialisation order with their
/// implementation and wiring, the main function and every boot argument.
pub fn text(r: &Resolved) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "unikernel: {}\ntarget:    {}\n\nkeys:\n",
        r.name, r.target
    ));
    let key_width = r
        .keys
        .values
        .iter()
        .map(|k| k.def.name.len())
        .max()
        .unwrap_or(0);
    for k in &r.keys.values {
        out.push_str(&format!(
            "  {:key_width$} = {:6} ({})\n",
            k.def.name, k.value, k.source
        ));
    }
    out.push_str("\ndevices (in initialisation order):\n");
    let inst_width = r
        .nodes
        .iter()
        .map(|n| n.instance.len() + n.interface.len() + 3)
        .max()
        .unwrap_or(0);
    for (i, n) in r.nodes.iter().enumerate() {
        let label = format!("{} : {}", n.instance, n.interface);
        out.push_str(&format!(
            "  {:>2}. {label:inst_width$}  {} {}{}",
            i + 1,
            n.implementation.package,
            n.implementation.version,
            if n.pinned { " (pinned)" } else { "" }
        ));
        let mut extra: Vec<String> = n
            .wiring
            .iter()
            .map(|w| format!("{} -> {}", w.role, w.instance))
            .collect();
        extra.extend(n.params.iter().map(|(k, v)| format!("{k} = {v:?}")));
        if let Some(own) = r.keys.instances.get(&n.instance) {
            extra.extend(own.iter().map(|k| format!("key {}", k.describe())));
        }
        if let Some(prefix) = r.bootargs.prefixes.get(&n.instance)
            && !prefix.is_empty()
        {
            extra.push(format!("prefix --{prefix}"));
        }
        if !n.features.is_empty() {
            extra.push(format!("features: {}", n.features.join(", ")));
        }
        if !extra.is_empty() {
            out.push_str(&format!("  [{}]", extra.join(", ")));
        }
        if n.origin == crate::graph::Origin::Implicit {
            out.push_str("  (default instance)");
        }
        out.push('\n');
    }
    let params: Vec<String> = r
        .params
        .iter()
        .map(|p| match p {
            MainParam::Device { name, node } => {
                format!(
                    "{name}: {}",
                    r.nodes
                        .get(*node)
                        .and_then(|n| n.handle.clone())
                        .unwrap_or_default()
                )
            }
            MainParam::BootArgs { name, type_name } => format!("{name}: {type_name}"),
        })
        .collect();
    out.push_str(&format!("\nmain: {}({})\n", r.main, params.join(", ")));
    out.push_str("\nboot arguments:\n");
    if r.bootargs.args.is_empty() {
        out.push_str("  (none)\n");
    }
    let mut section = None;
    for a in &r.bootargs.args {
        if section != Some(&a.decl.section) {
            out.push_str(&format!("  {}\n", a.decl.section));
            section = Some(&a.decl.section);
        }
        let mut flags = Vec::new();
        if let Some(d) = &a.decl.default {
            flags.push(format!("default {d:?}"));
        }
        if a.decl.required {
            flags.push("required".into());
        }
        if a.decl.repeated {
            flags.push("repeated".into());
        }
        flags.push(if a.device.is_empty() {
            "application".to_string()
        } else {
            format!("device {}", a.device)
        });
        out.push_str(&format!(
            "    --{}={}  {}  ({})\n",
            a.decl.name,
            a.decl.ty,
            a.decl.doc,
            flags.join(", ")
        ));
    }
    out
}

/// Escapes a string for a Graphviz double-quoted label.
fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The Graphviz rendering: instances as boxes `name : interface\nimplementation`, the main
/// function as a diamond, edges from each consumer to what it needs.
pub fn dot(r: &Resolved) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=BT;\n  node [shape=box];\n",
        dot_escape(&r.name)
    );
    let id = |n: &Node| format!("\"{}\"", dot_escape(&n.instance));
    for n in &r.nodes {
        out.push_str(&format!(
            "  {} [label=\"{} : {}\\n{} {}\"];\n",
            id(n),
            dot_escape(&n.instance),
            dot_escape(&n.interface),
            dot_escape(&n.implementation.package),
            dot_escape(&n.implementation.version)
        ));
    }
    out.push_str(&format!(
        "  \"main\" [shape=diamond, label=\"{}\"];\n",
        dot_escape(&r.main)
    ));
    for n in &r.nodes {
        for w in &n.wiring {
            if let Some(t) = r.nodes.get(w.node) {
                out.push_str(&format!(
                    "  {} -> {} [label=\"{}\"];\n",
                    id(n),
                    id(t),
                    dot_escape(&w.role)
                ));
            }
        }
    }
    for p in &r.params {
        if let MainParam::Device { name, node } = p
            && let Some(t) = r.nodes.get(*node)
        {
            out.push_str(&format!(
                "  \"main\" -> {} [label=\"{}\"];\n",
                id(t),
                dot_escape(name)
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// The JSON document of `describe --json`.
#[derive(serde::Serialize)]
struct JsonDoc<'a> {
    unikernel: &'a str,
    target: crate::target::Target,
    keys: Vec<JsonKey<'a>>,
    nodes: Vec<JsonNode<'a>>,
    main: JsonMain<'a>,
    bootargs: crate::bootargs::Document<'a>,
}

#[derive(serde::Serialize)]
struct JsonKey<'a> {
    name: &'a str,
    value: &'a str,
    source: crate::keys::KeySource,
}

#[derive(serde::Serialize)]
struct JsonNode<'a> {
    instance: &'a str,
    interface: &'a str,
    kind: crate::catalogue::InterfaceKind,
    origin: crate::graph::Origin,
    package: &'a str,
    version: &'a str,
    /// Pinned in unikernel.toml rather than chosen by target and keys.
    pinned: bool,
    wiring: &'a [crate::graph::Wire],
    params: &'a std::collections::BTreeMap<String, String>,
    features: &'a [String],
    /// The instance's own configure keys (absent when it has the unikernel's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<JsonKey<'a>>,
    /// The prefix of its boot arguments (`storage-`; absent for plain names).
    #[serde(skip_serializing_if = "str::is_empty")]
    prefix: &'a str,
}

#[derive(serde::Serialize)]
struct JsonMain<'a> {
    name: &'a str,
    params: &'a [MainParam],
}

fn json_key(k: &crate::keys::KeyValue) -> JsonKey<'_> {
    JsonKey {
        name: &k.def.name,
        value: &k.value,
        source: k.source,
    }
}

/// The JSON rendering (pretty, stable key order, ends with a newline); includes the
/// `bootargs.json` document under `bootargs`.
pub fn json(r: &Resolved) -> String {
    let doc = JsonDoc {
        unikernel: &r.name,
        target: r.target,
        keys: r.keys.values.iter().map(json_key).collect(),
        nodes: r
            .nodes
            .iter()
            .map(|n| JsonNode {
                instance: &n.instance,
                interface: &n.interface,
                kind: n.kind,
                origin: n.origin,
                package: &n.implementation.package,
                version: &n.implementation.version,
                pinned: n.pinned,
                wiring: &n.wiring,
                params: &n.params,
                features: &n.features,
                keys: r
                    .keys
                    .instances
                    .get(&n.instance)
                    .into_iter()
                    .flatten()
                    .map(json_key)
                    .collect(),
                prefix: r
                    .bootargs
                    .prefixes
                    .get(&n.instance)
                    .map_or("", String::as_str),
            })
            .collect(),
        main: JsonMain {
            name: &r.main,
            params: &r.params,
        },
        bootargs: r.bootargs.document(&r.name, r.target),
    };
    // Plain data: serialisation cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
