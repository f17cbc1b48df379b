//! The image's dependency list in cargo-auditable's format (`.dep-v0`, docs/self-description.md),
//! from `cargo metadata --filter-platform` as cargo-auditable computes it: every package the
//! generated crate reaches through normal and build dependencies, each marked `build` when
//! only build scripts and proc-macros use it (format 1).
//!
//! The generated crate may not exist yet when configure runs, so the list starts from what it
//! will depend on (the user's crate, `petrel`, the chosen implementations) under a root
//! standing for it. Like cargo-auditable's, the list can hold a few packages more than the
//! build uses (cargo metadata unifies features over the whole workspace), never fewer.

use crate::error::Error;
use crate::project::Project;
use auditable_serde::{DependencyKind, Package, Source, VersionInfo};
use cargo_metadata::{Metadata, Node, PackageId, TargetKind};
use std::collections::{BTreeMap, HashMap};

/// `cargo metadata` of the project restricted to `triple` (the host's on unix), as cargo
/// resolves it for the image's build. The catalogue's implementations are filtered out with
/// the rest of `cfg(petrel_catalogue)`: only those the generated crate names are there.
pub fn metadata_for(project: &Project, triple: Option<&str>) -> Result<Metadata, Error> {
    let triple = match triple {
        Some(t) => t.to_string(),
        None => host_triple()?,
    };
    cargo_metadata::MetadataCommand::new()
        .manifest_path(project.cargo_toml())
        // cargo reads .cargo/config.toml (its [patch]) from the working directory.
        .current_dir(&project.dir)
        .other_options(vec!["--filter-platform".to_string(), triple])
        .exec()
        .map_err(|e| {
            Error::msg(format!(
                "`cargo metadata` failed on {}: {e}",
                project.cargo_toml().display()
            ))
        })
}

/// The host's target triple, as `rustc -vV` prints it.
fn host_triple() -> Result<String, Error> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(&rustc)
        .arg("-vV")
        .output()
        .map_err(|e| Error::msg(format!("cannot run `rustc -vV`: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| Error::msg("`rustc -vV` printed no `host:` line"))
}

/// How a package is used, weakest first (cargo-auditable's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Use {
    Build,
    Runtime,
}

/// The dependency list of a crate named `root` at `version` depending on the packages named
/// `direct`, and whether every one of them was in `metadata`'s resolution (not before the
/// generated crate that depends on them is written: the caller resolves again then).
pub fn version_info(
    metadata: &Metadata,
    root: &str,
    version: &str,
    direct: &[&str],
) -> (VersionInfo, bool) {
    let Some(resolve) = &metadata.resolve else {
        return (root_only(root, version), false);
    };
    let nodes: HashMap<&PackageId, &Node> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let packages: HashMap<&PackageId, &cargo_metadata::Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let proc_macro = |id: &PackageId| {
        packages.get(id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.contains(&TargetKind::ProcMacro))
        })
    };
    // The root's direct dependencies: the workspace members' packages by name (the user's
    // crate, the facade) or any resolved package by name (the implementations).
    let mut starts: Vec<&PackageId> = Vec::new();
    for name in direct {
        if let Some(p) = metadata
            .packages
            .iter()
            .filter(|p| p.name.as_str() == *name && nodes.contains_key(&p.id))
            .min_by_key(|p| p.source.is_some())
        {
            starts.push(&p.id);
        }
    }
    let complete = starts.len() == direct.len();
    // A worklist: a package is visited again when a stronger path (runtime over build)
    // reaches it, so each ends with its strongest use.
    let mut used: HashMap<&PackageId, Use> = HashMap::new();
    let mut queue: Vec<&PackageId> = Vec::new();
    for id in &starts {
        let kind = if proc_macro(id) {
            Use::Build
        } else {
            Use::Runtime
        };
        if used.get(id).is_none_or(|k| *k < kind) {
            used.insert(id, kind);
            queue.push(id);
        }
    }
    while let Some(parent) = queue.pop() {
        let (Some(node), Some(parent_use)) = (nodes.get(parent), used.get(parent).copied()) else {
            continue;
        };
        for dep in &node.deps {
            let strongest = dep
                .dep_kinds
                .iter()
                .filter_map(|k| match k.kind {
                    cargo_metadata::DependencyKind::Normal => Some(Use::Runtime),
                    cargo_metadata::DependencyKind::Build => Some(Use::Build),
                    _ => None,
                })
                .max();
            let Some(mut kind) = strongest else { continue };
            kind = kind.min(parent_use);
            if proc_macro(&dep.pkg) {
                kind = Use::Build;
            }
            if used.get(&dep.pkg).is_none_or(|k| *k < kind) {
                used.insert(&dep.pkg, kind);
                queue.push(&dep.pkg);
            }
        }
    }
    // Sorted by name, version, source (then id, which only breaks ties between two local
    // packages of one name and version): the same resolution always gives the same bytes.
    let mut ids: Vec<&PackageId> = used.keys().copied().collect();
    ids.sort_by_key(|id| {
        let p = packages.get(id);
        (
            p.map(|p| p.name.to_string()),
            p.map(|p| p.version.clone()),
            p.map(|p| String::from(source(p))),
            id.repr.clone(),
        )
    });
    // Index 0 is the root.
    let index: BTreeMap<&PackageId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i + 1)).collect();
    let mut list = root_only(root, version);
    list.packages[0].dependencies = starts
        .iter()
        .filter_map(|id| index.get(id).copied())
        .collect();
    list.packages[0].dependencies.sort_unstable();
    list.packages[0].dependencies.dedup();
    for id in ids {
        let (Some(p), Some(node)) = (packages.get(id), nodes.get(id)) else {
            continue;
        };
        let mut deps: Vec<usize> = node
            .deps
            .iter()
            .filter(|d| {
                d.dep_kinds
                    .iter()
                    .any(|k| !matches!(k.kind, cargo_metadata::DependencyKind::Development))
            })
            .filter_map(|d| index.get(&d.pkg).copied())
            .collect();
        deps.sort_unstable();
        deps.dedup();
        list.packages.push(Package {
            name: p.name.to_string(),
            version: p.version.clone(),
            source: source(p),
            kind: match used.get(id) {
                Some(Use::Build) => DependencyKind::Build,
                _ => DependencyKind::Runtime,
            },
            dependencies: deps,
            root: false,
        });
    }
    (list, complete)
}

/// A list holding only the root.
fn root_only(root: &str, version: &str) -> VersionInfo {
    VersionInfo {
        packages: vec![Package {
            name: root.to_string(),
            // A version cargo accepted already; `0.0.0` only if that were not so.
            version: version.parse().unwrap_or_else(|_| semver_zero()),
            source: Source::Local,
            kind: DependencyKind::Runtime,
            dependencies: Vec::new(),
            root: true,
        }],
        format: 1,
    }
}

fn semver_zero() -> cargo_metadata::semver::Version {
    cargo_metadata::semver::Version::new(0, 0, 0)
}

/// cargo-auditable's source names: `crates.io`, else the scheme of cargo's source id
/// (`git`, `registry`, `sparse`), `local` for a path.
fn source(p: &cargo_metadata::Package) -> Source {
    match &p.source {
        None => Source::Local,
        Some(s) if s.repr == "registry+https://github.com/rust-lang/crates.io-index" => {
            Source::CratesIo
        }
        Some(s) if s.repr == "sparse+https://index.crates.io/" => Source::CratesIo,
        Some(s) => Source::from(s.repr.split('+').next().unwrap_or("other")),
    }
}
