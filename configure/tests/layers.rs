//! The module graph of `configure/src` flows one way (issue 13, item 1): each top-level
//! module imports only modules of its own layer or of the layers below it, and no two
//! modules import each other, directly or through others.
//!
//! The imports are the `crate::NAME` paths of each module's files (a `use crate::{a, b}`
//! group counts each name), read from the token stream: comments and doc comments do not
//! count, and neither do `#[cfg(test)]` items (tests may reach anything below them).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A module may import modules of its own layer and of the
/// layers before it.
const LAYERS: &[(&str, &[&str])] = &[
    // Leaves: no import of the crate.
    (
        "base",
        &[
            "diagnostic",
            "error",
            "target",
            "status",
            "transaction",
            "project",
            "remap",
            "crunch",
        ],
    ),
    // unikernel.toml and src/lib.rs read into spanned raw values.
    ("syntax", &["manifest", "source"]),
    // What exists: interfaces, implementations and their keys; boot-argument kinds.
    (
        "registry",
        &[
            "catalogue",
            "bootargs",
            "dependencies",
            "ecosystem",
            "selfdesc",
        ],
    ),
    // Values for one configuration: the keys, then the device graph.
    ("resolution", &["keys", "graph"]),
    // What the resolution says, rendered.
    ("output", &["describe", "emit"]),
    // The generated files on disk.
    ("files", &["workspace"]),
    // The command line on top, and the edge where diagnostics are rendered.
    (
        "commands",
        &[
            "cli", "pipeline", "run", "deploy", "record", "commands", "report", "inspect",
        ],
    ),
];

/// Cycles tolerated for now: none.
const KNOWN_CYCLES: &[&[&str]] = &[];

/// Top-level module → the modules it imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect(&src, &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("UTF-8 path")
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let tokens: TokenStream = text.parse().expect("the crate's sources lex");
        let mut found = BTreeSet::new();
        crate_paths(tokens, &mut found);
        found.remove(&top);
        graph.entry(top).or_default().extend(found);
    }
    graph
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Adds to `found` the first segment after each `crate::` in `tokens`, skipping
/// `#[cfg(test)]` items.
fn crate_paths(tokens: TokenStream, found: &mut BTreeSet<String>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        if is_cfg_test(&tokens, i) {
            // Skip the attribute, then the item: up to its `;` or its braced body.
            i += 2;
            while i < tokens.len() {
                match &tokens[i] {
                    TokenTree::Punct(p) if p.as_char() == ';' => break,
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
                    _ => i += 1,
                }
            }
            i += 1;
            continue;
        }
        match &tokens[i] {
            TokenTree::Ident(id) if id == "crate" && is_path_sep(&tokens, i + 1) => {
                match tokens.get(i + 3) {
                    Some(TokenTree::Ident(name)) => {
                        found.insert(name.to_string());
                    }
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        // `crate::{a, b::c}`: the first name of each entry.
                        let mut first = true;
                        for t in g.stream() {
                            match t {
                                TokenTree::Ident(name) if first => {
                                    found.insert(name.to_string());
                                    first = false;
                                }
                                TokenTree::Punct(p) if p.as_char() == ',' => first = true,
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
                i += 3;
            }
            TokenTree::Group(g) => {
                crate_paths(g.stream(), found);
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// `#` `[cfg(test)]` at `i`.
fn is_cfg_test(tokens: &[TokenTree], i: usize) -> bool {
    let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(attr))) =
        (tokens.get(i), tokens.get(i + 1))
    else {
        return false;
    };
    hash.as_char() == '#'
        && attr.delimiter() == Delimiter::Bracket
        && attr.stream().to_string().replace(' ', "") == "cfg(test)"
}

/// `::` at `i`.
fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':'
    )
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

#[test]
fn every_module_has_a_layer() {
    let graph = imports();
    let missing: Vec<&String> = graph.keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "add these modules of configure/src to LAYERS in {}: {missing:?}",
        file!()
    );
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let mut upward = Vec::new();
    for (module, deps) in imports() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for dep in deps {
            if let Some(theirs) = layer_of(&dep)
                && theirs > own
            {
                upward.push(format!(
                    "{module} ({}) imports {dep} ({})",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = imports();
    let mut g = petgraph::graphmap::DiGraphMap::<&str, (), std::hash::RandomState>::default();
    for (module, deps) in &graph {
        g.add_node(module.as_str());
        for dep in deps.iter().filter(|d| graph.contains_key(*d)) {
            g.add_edge(module.as_str(), dep.as_str(), ());
        }
    }
    let cycles: Vec<Vec<&str>> = petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|mut c| {
            c.sort();
            c
        })
        .filter(|c| !KNOWN_CYCLES.contains(&c.as_slice()))
        .collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

/// The check sees what it should: a known import, a `use crate::{..}` group, and nothing
/// from comments or `#[cfg(test)]` items.
#[test]
fn the_scan_reads_paths_groups_and_skips_tests_and_comments() {
    let text = "/// see [`crate::docs_only`]\n// crate::comment\nuse crate::{a, b::c};\nfn f() { crate::d::e(); }\n#[cfg(test)]\nmod tests { use crate::t; }\n#[cfg(test)] use crate::u;\n";
    let mut found = BTreeSet::new();
    crate_paths(text.parse().expect("lexes"), &mut found);
    assert_eq!(found, BTreeSet::from(["a", "b", "d"].map(String::from)));
    let graph = imports();
    assert!(graph["keys"].contains("catalogue"), "{graph:?}");
    assert!(!graph["manifest"].contains("keys"), "{graph:?}");
}
