//! The catalogue: every interface and implementation crate visible to the project, read from
//! `[package.metadata.petrel]` (schema in docs/architecture.md).

use crate::target::Target;
use std::collections::BTreeMap;
use std::path::PathBuf;

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
}

/// A boot argument as declared in metadata or in `unikernel.toml`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// Cargo features configure may enable.
    pub features: Vec<String>,
    /// Devices: the path (relative to the crate) of the function that builds a handle.
    pub constructor: Option<String>,
    /// Devices: names of the string parameters a device table may set (`dir` for crunch).
    pub params: Vec<String>,
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
    pub fn implementations_of<'a>(&'a self, interface: &'a str) -> impl Iterator<Item = &'a Implementation> + 'a {
        self.implementations.iter().filter(move |i| i.implements == interface)
    }
}
