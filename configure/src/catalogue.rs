//! The catalogue: every interface and implementation crate visible to the project, read from
//! `[package.metadata.petrel]` (schema in docs/architecture.md).

use crate::target::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether an interface has one implicit instance or declared ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InterfaceKind {
    /// One implicit instance in every unikernel (time, clock, random, console, platform).
    Service,
    /// Instances declared in `unikernel.toml` and passed to the main function (net, stack...).
    Device,
}

/// An interface crate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Interface {
    /// The device type name, as written in `unikernel.toml` (`time`, `stack`).
    pub name: String,
    /// The crate that declares it.
    pub package: String,
    /// Service or device.
    pub kind: InterfaceKind,
    /// Devices: the handle type the main function receives (`Stack`).
    pub handle: Option<String>,
    /// Devices: the instance used when a need is not wired explicitly (`service` for net).
    pub default_instance: Option<String>,
    /// Devices the host attaches: the kind of their Solo5 manifest entry (`NET_BASIC`,
    /// `BLOCK_BASIC`) on targets whose image carries a manifest. `None` for devices built on
    /// others (a stack, a key-value store), which have no entry.
    pub solo5_device: Option<String>,
    /// The configure keys this interface owns (`net` and `dhcp` for `stack`), by name.
    pub keys: BTreeMap<String, KeyDecl>,
}

/// A configure key as an interface crate declares it in `[package.metadata.petrel.keys.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyDecl {
    /// One line for `--help` and `describe`.
    pub doc: String,
    /// The allowed values; `["true", "false"]` for a boolean key (one whose default is a
    /// boolean).
    pub values: Vec<String>,
    /// True when the default is written `true` or `false`.
    pub boolean: bool,
    /// The value on targets without their own default.
    pub default: String,
    /// Per-target defaults (`defaults = { unix = "socket" }`).
    pub defaults: BTreeMap<Target, String>,
    /// Per-value wording for "exists only on ..." errors: value → (what it is, why it is
    /// limited), e.g. `socket` → ("the socket stack", "it uses the host's sockets").
    pub limits: BTreeMap<String, ValueLimit>,
}

/// How to explain that a key's value exists on few targets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueLimit {
    /// What the value chooses ("the socket stack").
    pub what: String,
    /// Why it exists only where it does ("it uses the host's sockets").
    pub why: String,
}

impl KeyDecl {
    /// The default for `target`.
    pub fn default_for(&self, target: Target) -> &str {
        self.defaults.get(&target).unwrap_or(&self.default)
    }
}

/// A boot argument as declared in metadata or in `unikernel.toml` (and as an image's
/// self-description carries it, the `selfdesc` module).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArgDecl {
    /// Name without the leading `--`.
    pub name: String,
    /// Type name as written (`string`, `bool`, `ipv4-prefix`...).
    #[serde(rename = "type")]
    pub ty: String,
    /// Default value as written, if any.
    pub default: Option<String>,
    /// One-line documentation.
    pub doc: String,
    /// Section of `--help` it appears in.
    pub section: String,
    /// Must be given.
    pub required: bool,
    /// May be given several times (a list).
    pub repeated: bool,
}

/// An implementation crate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Implementation {
    /// Package name (`petrel-time-unix`).
    pub package: String,
    /// Package version.
    pub version: String,
    /// Directory that holds its Cargo.toml.
    pub dir: PathBuf,
    /// The interface it implements.
    pub implements: String,
    /// The targets it supports.
    pub targets: Vec<Target>,
    /// Configure keys that must have these values for it to be chosen.
    pub when: BTreeMap<String, String>,
    /// Role -> interface of the other instances it is built on.
    pub needs: BTreeMap<String, String>,
    /// Cargo features configure enables from the keys: feature → the key values that turn it
    /// on (`dhcp = { dhcp = "true" }`).
    pub features: BTreeMap<String, BTreeMap<String, String>>,
    /// Cargo features configure enables for a given target (`hvt = ["hvt"]`).
    pub target_features: BTreeMap<Target, Vec<String>>,
    /// Devices: the path (relative to the crate) of the function that builds a handle.
    pub constructor: Option<String>,
    /// Devices: names of the string parameters a device table may set (`dir` for crunch).
    pub params: Vec<String>,
    /// Devices: the parameter naming a directory whose files the generated crate embeds in
    /// the image and passes to the constructor (`dir` for crunch).
    pub embed: Option<String>,
    /// Boot arguments it declares.
    pub bootargs: Vec<ArgDecl>,
}

/// Everything configure knows about interfaces and implementations.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Catalogue {
    /// Interfaces by name.
    pub interfaces: BTreeMap<String, Interface>,
    /// Implementations, sorted by package name.
    pub implementations: Vec<Implementation>,
}

impl Catalogue {
    /// The implementations of `interface`, in package-name order.
    pub fn implementations_of<'a>(
        &'a self,
        interface: &'a str,
    ) -> impl Iterator<Item = &'a Implementation> + 'a {
        self.implementations
            .iter()
            .filter(move |i| i.implements == interface)
    }
}

/// A problem with the catalogue itself: `cargo metadata` failed, or a crate's
/// `[package.metadata.petrel]` is malformed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// `cargo metadata` could not run or failed on the project.
    #[error("`cargo metadata` failed on {manifest}: {source}")]
    Metadata {
        /// The Cargo.toml it ran on.
        manifest: PathBuf,
        /// What cargo said.
        #[source]
        source: cargo_metadata::Error,
    },
    /// A package's `[package.metadata.petrel]` does not follow the schema.
    #[error("{package} ({manifest}): [package.metadata.petrel] {problem}")]
    Malformed {
        /// The package.
        package: String,
        /// Its Cargo.toml.
        manifest: PathBuf,
        /// What is wrong, and what would be right.
        problem: String,
    },
}

/// The on-disk schema of `[package.metadata.petrel]` (docs/architecture.md).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMetadata {
    interface: Option<String>,
    kind: Option<String>,
    handle: Option<String>,
    default_instance: Option<String>,
    solo5_device: Option<String>,
    implements: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    when: BTreeMap<String, String>,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    #[serde(default)]
    features: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    target_features: BTreeMap<String, Vec<String>>,
    constructor: Option<String>,
    #[serde(default)]
    params: Vec<String>,
    embed: Option<String>,
    #[serde(default)]
    bootargs: Vec<RawArg>,
    #[serde(default)]
    keys: BTreeMap<String, RawKey>,
}

/// `[package.metadata.petrel.keys.NAME]`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    doc: String,
    #[serde(default)]
    values: Vec<String>,
    default: RawLiteral,
    #[serde(default)]
    defaults: BTreeMap<String, RawLiteral>,
    #[serde(default)]
    limits: BTreeMap<String, ValueLimit>,
}

/// A key's value in metadata: a string, or a boolean for boolean keys.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum RawLiteral {
    Bool(bool),
    Str(String),
}

impl RawLiteral {
    fn text(&self) -> String {
        match self {
            RawLiteral::Bool(b) => b.to_string(),
            RawLiteral::Str(s) => s.clone(),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    default: Option<String>,
    doc: String,
    section: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    repeated: bool,
}

/// Reads the catalogue of the project whose manifest is `cargo_toml`, with one
/// `cargo metadata` call (all platforms, so that the `cfg(petrel_catalogue)` dependencies of
/// the facade are listed).
pub fn load(cargo_toml: &Path) -> Result<Catalogue, CatalogueError> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(cargo_toml)
        .exec()
        .map_err(|source| CatalogueError::Metadata {
            manifest: cargo_toml.to_path_buf(),
            source,
        })?;
    from_packages(&metadata.packages)
}

/// Builds the catalogue from the packages `cargo metadata` listed.
pub fn from_packages(packages: &[cargo_metadata::Package]) -> Result<Catalogue, CatalogueError> {
    let mut catalogue = Catalogue::default();
    for package in packages {
        let Some(raw) = package.metadata.get("petrel") else {
            continue;
        };
        let manifest = package.manifest_path.clone().into_std_path_buf();
        let malformed = |problem: String| CatalogueError::Malformed {
            package: package.name.to_string(),
            manifest: manifest.clone(),
            problem,
        };
        let raw: RawMetadata =
            serde_json::from_value(raw.clone()).map_err(|e| malformed(e.to_string()))?;
        match (raw.interface, raw.implements) {
            (Some(name), None) => {
                let kind = match raw.kind.as_deref() {
                    Some("service") => InterfaceKind::Service,
                    Some("device") => InterfaceKind::Device,
                    other => {
                        return Err(malformed(format!(
                            "kind must be \"service\" or \"device\", found {other:?}"
                        )));
                    }
                };
                if kind == InterfaceKind::Device && raw.handle.is_none() {
                    return Err(malformed("a device interface needs `handle`".into()));
                }
                if let Some(dev) = &raw.solo5_device {
                    let kinds = petrel_solo5_abi::MFT_DEVICE_KINDS.map(|(k, _)| k);
                    if kind != InterfaceKind::Device || !kinds.contains(&dev.as_str()) {
                        return Err(malformed(format!(
                            "`solo5-device = {dev:?}`: a device interface's Solo5 manifest kind is one of {}",
                            kinds.join(", ")
                        )));
                    }
                }
                let mut keys = BTreeMap::new();
                for (key, decl) in raw.keys {
                    keys.insert(key.clone(), key_decl(&key, decl).map_err(&malformed)?);
                }
                catalogue.interfaces.insert(
                    name.clone(),
                    Interface {
                        name,
                        package: package.name.to_string(),
                        kind,
                        handle: raw.handle,
                        default_instance: raw.default_instance,
                        solo5_device: raw.solo5_device,
                        keys,
                    },
                );
            }
            (None, Some(implements)) => {
                if !raw.keys.is_empty() {
                    return Err(malformed(
                        "`keys` belong to the interface crate, not to an implementation".into(),
                    ));
                }
                let targets = parse_targets(&raw.targets).map_err(&malformed)?;
                if targets.is_empty() {
                    return Err(malformed("`targets` must list at least one target".into()));
                }
                for feature in raw.features.keys() {
                    check_feature_name(feature).map_err(&malformed)?;
                }
                let mut target_features = BTreeMap::new();
                for (t, f) in raw.target_features {
                    let target = Target::from_name(&t).ok_or_else(|| {
                        malformed(format!("target-features: unknown target `{t}`"))
                    })?;
                    target_features.insert(target, f);
                }
                for a in &raw.bootargs {
                    check_printable(a).map_err(&malformed)?;
                }
                catalogue.implementations.push(Implementation {
                    package: package.name.to_string(),
                    version: package.version.to_string(),
                    dir: manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
                    implements,
                    targets,
                    when: raw.when,
                    needs: raw.needs,
                    features: raw.features,
                    target_features,
                    constructor: raw.constructor,
                    embed: raw.embed,
                    params: raw.params,
                    bootargs: raw
                        .bootargs
                        .into_iter()
                        .map(|a| ArgDecl {
                            name: a.name,
                            ty: a.ty,
                            default: a.default,
                            doc: a.doc,
                            section: a.section.unwrap_or_else(|| "OPTIONS".into()),
                            required: a.required,
                            repeated: a.repeated,
                        })
                        .collect(),
                });
            }
            (Some(_), Some(_)) => {
                return Err(malformed(
                    "has both `interface` and `implements`: a crate is one or the other".into(),
                ));
            }
            (None, None) => {
                return Err(malformed(
                    "needs `interface = \"...\"` or `implements = \"...\"`".into(),
                ));
            }
        }
    }
    catalogue
        .implementations
        .sort_by(|a, b| a.package.cmp(&b.package));
    Ok(catalogue)
}

fn parse_targets(names: &[String]) -> Result<Vec<Target>, String> {
    names
        .iter()
        .map(|n| {
            Target::from_name(n).ok_or_else(|| {
                format!(
                    "unknown target `{n}` in `targets` (expected {})",
                    Target::names_listed()
                )
            })
        })
        .collect()
}

/// A boot argument's doc, section and default are printed by `--help` as they are: no control
/// characters (an escape sequence would reach the user's terminal).
fn check_printable(arg: &RawArg) -> Result<(), String> {
    let texts = [Some(&arg.doc), arg.section.as_ref(), arg.default.as_ref()];
    match texts
        .into_iter()
        .flatten()
        .flat_map(|t| t.chars())
        .find(|c| c.is_control())
    {
        None => Ok(()),
        Some(c) => Err(format!(
            "boot argument `--{}` has the control character U+{:04X} in its doc, section or default",
            arg.name,
            u32::from(c)
        )),
    }
}

/// Checks the name of one entry of an implementation's `features` table (the keys it names
/// are checked against the key registry, see `keys`).
fn check_feature_name(feature: &str) -> Result<(), String> {
    let valid_name = !feature.is_empty()
        && feature
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_+.".contains(c));
    if valid_name {
        Ok(())
    } else {
        Err(format!("features: {feature:?} is not a Cargo feature name"))
    }
}

/// Checks one key declaration: a boolean default, or a default among `values`, and every
/// per-target default and limit naming a value and a target that exist.
fn key_decl(name: &str, raw: RawKey) -> Result<KeyDecl, String> {
    let boolean = matches!(raw.default, RawLiteral::Bool(_));
    let values = if boolean {
        if !raw.values.is_empty() {
            return Err(format!(
                "keys.{name}: a boolean key (its default is `true` or `false`) has no `values`"
            ));
        }
        vec!["true".to_string(), "false".to_string()]
    } else if raw.values.is_empty() {
        return Err(format!(
            "keys.{name}: needs `values = [...]` (or a boolean `default`)"
        ));
    } else {
        raw.values
    };
    let known = |what: &str, v: &str| {
        if values.iter().any(|x| x == v) {
            Ok(())
        } else {
            Err(format!(
                "keys.{name}: {what} `{v}` is not one of its values ({})",
                values.join(", ")
            ))
        }
    };
    let default = raw.default.text();
    known("the default", &default)?;
    let mut defaults = BTreeMap::new();
    for (t, v) in raw.defaults {
        let target = Target::from_name(&t)
            .ok_or_else(|| format!("keys.{name}.defaults: unknown target `{t}`"))?;
        known("the default", &v.text())?;
        defaults.insert(target, v.text());
    }
    for v in raw.limits.keys() {
        known("the limit", v)?;
    }
    Ok(KeyDecl {
        doc: raw.doc,
        values,
        boolean,
        default,
        defaults,
        limits: raw.limits,
    })
}

impl Catalogue {
    /// Every key the interfaces declare: (name, owning interface, declaration), by name.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &Interface, &KeyDecl)> {
        self.interfaces
            .values()
            .flat_map(|i| i.keys.iter().map(move |(k, d)| (k.as_str(), i, d)))
    }
}

/// A package as `cargo metadata` lists it, with `petrel` as its `[package.metadata.petrel]`
/// (for tests here and in `keys`).
#[cfg(test)]
pub(crate) fn test_package(name: &str, petrel: serde_json::Value) -> cargo_metadata::Package {
    let json = serde_json::json!({
        "name": name, "version": "0.1.0", "id": format!("path+file:///x/{name}#0.1.0"),
        "license": null, "license_file": null, "description": null, "source": null,
        "dependencies": [], "targets": [], "features": {},
        "manifest_path": format!("/x/{name}/Cargo.toml"),
        "categories": [], "keywords": [], "readme": null, "repository": null,
        "homepage": null, "documentation": null, "edition": "2024",
        "links": null, "default_run": null, "rust_version": null, "authors": [],
        "publish": null,
        "metadata": { "petrel": petrel },
    });
    serde_json::from_value(json).expect("test package JSON matches cargo_metadata's schema")
}

#[cfg(test)]
mod tests {
    use super::test_package as package;
    use super::*;

    #[test]
    fn reads_interfaces_and_implementations() {
        let c = from_packages(&[
            package("petrel-net", serde_json::json!({"interface": "net", "kind": "device", "handle": "Net", "default-instance": "service"})),
            package("petrel-net-solo5", serde_json::json!({"implements": "net", "targets": ["hvt", "spt"], "target-features": {"hvt": ["hvt"]}})),
        ])
        .expect("valid metadata");
        assert_eq!(c.interfaces["net"].handle.as_deref(), Some("Net"));
        assert_eq!(
            c.interfaces["net"].default_instance.as_deref(),
            Some("service")
        );
        let imp = &c.implementations[0];
        assert_eq!(imp.targets, vec![Target::Hvt, Target::Spt]);
        assert_eq!(imp.target_features[&Target::Hvt], vec!["hvt".to_string()]);
        assert_eq!(imp.dir, PathBuf::from("/x/petrel-net-solo5"));
    }

    #[test]
    fn rejects_malformed_metadata_with_the_package_name() {
        let err = from_packages(&[package(
            "bad",
            serde_json::json!({"implements": "net", "targets": ["dos"]}),
        )])
        .expect_err("unknown target");
        assert_eq!(
            err.to_string(),
            "bad (/x/bad/Cargo.toml): [package.metadata.petrel] unknown target `dos` in `targets` (expected unix, hvt, spt, virtio or xen)"
        );
        let err = from_packages(&[package(
            "bad",
            serde_json::json!({"implements": "net", "targets": ["unix"], "colour": 1}),
        )])
        .expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
        let err = from_packages(&[package("bad", serde_json::json!({"targets": ["unix"]}))])
            .expect_err("neither");
        assert!(err.to_string().contains("needs `interface"), "{err}");
    }

    #[test]
    fn rejects_control_characters_in_boot_argument_texts() {
        for arg in [
            serde_json::json!({"name": "ipv4", "type": "ipv4", "doc": "A\u{1b}[2Jddress."}),
            serde_json::json!({"name": "ipv4", "type": "ipv4", "doc": "Address.", "section": "NET\nWORK"}),
        ] {
            let err = from_packages(&[package(
                "bad",
                serde_json::json!({"implements": "stack", "targets": ["unix"], "bootargs": [arg]}),
            )])
            .expect_err("control character");
            assert!(
                err.to_string()
                    .contains("`--ipv4` has the control character U+"),
                "{err}"
            );
        }
    }
}
