//! The device graph: instances, the implementation chosen for each, and who needs whom.
//!
//! [`resolve`] turns the checked manifest, the catalogue, the target, the keys and the main
//! function into a [`Resolved`] graph, or reports every problem found:
//!
//! - **nodes** are device *instances*: one per service interface of the catalogue (`time`,
//!   `clock`... named after the interface), one per `[devices.NAME]`, and one per default
//!   instance some need falls back to (`service` for `net`). An instance used by several
//!   consumers is one node, initialised once.
//! - **implementation**: for each node, the one implementation of its interface whose
//!   `targets` contain the target and whose every `when` key has the configured value. None
//!   or several is an error that lists every candidate and why it fits or not.
//! - **edges** are needs: the chosen implementation's `needs` (role → interface), wired by
//!   the device table (`net = "service"`) or else to the interface's default instance.
//! - the main function's parameters are devices (same name, handle type = the parameter's
//!   type) or `#[derive(BootArgs)]` structs; declared devices nobody uses are left out with a
//!   warning.
//! - cycles are errors naming the cycle; the initialisation order is a topological order,
//!   deterministic: an instance comes as soon as everything it needs is initialised, and
//!   among those ready, services before devices, then by name. No list of services is built
//!   in: a service that needs another comes after it because of the need.

use crate::bootargs::{Instance, Registry};
use crate::catalogue::{Catalogue, Implementation, Interface, InterfaceKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, did_you_mean, list};
use crate::keys::Keys;
use crate::manifest::{DeviceDecl, Manifest, Sp};
use crate::source::SourceInfo;
use crate::target::Target;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

mod check;
mod choose;
mod main_fn;
mod order;
mod wiring;

pub use check::{check, check_files};
use order::{init_order, reachable};

/// Why an instance exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The one instance of a service interface.
    Service,
    /// A `[devices.NAME]` table.
    Declared,
    /// Created for a need that was not wired (the interface's default instance).
    Implicit,
}

/// A need of a node, wired to another node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wire {
    /// The role (key of the implementation's `needs`).
    pub role: String,
    /// The instance it is wired to.
    pub instance: String,
    /// That instance's index in [`Resolved::nodes`] (always smaller than the consumer's).
    pub node: usize,
}

/// One instance, with its chosen implementation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Node {
    /// Instance name (`stack`, `service`, `time`).
    pub instance: String,
    /// Interface name (`stack`).
    pub interface: String,
    /// Service or device.
    pub kind: InterfaceKind,
    /// Devices: the handle type (`Stack`).
    pub handle: Option<String>,
    /// Devices the host attaches: their Solo5 manifest kind (the interface's `solo5-device`).
    pub solo5_device: Option<String>,
    /// Why it exists.
    pub origin: Origin,
    /// The chosen implementation.
    pub implementation: Implementation,
    /// Whether unikernel.toml pinned it (`implementation = ...` or `[implementations]`).
    pub pinned: bool,
    /// Its needs, by role.
    pub wiring: Vec<Wire>,
    /// The Cargo features configure enables on the implementation (from the target and the
    /// keys).
    pub features: Vec<String>,
    /// The string parameters set in the device table.
    pub params: BTreeMap<String, String>,
}

/// One parameter of the main function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MainParam {
    /// A device handle.
    Device {
        /// Parameter (and instance) name.
        name: String,
        /// Index in [`Resolved::nodes`].
        node: usize,
    },
    /// A `#[derive(BootArgs)]` struct.
    BootArgs {
        /// Parameter name.
        name: String,
        /// The struct's name.
        type_name: String,
    },
}

impl MainParam {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        match self {
            MainParam::Device { name, .. } | MainParam::BootArgs { name, .. } => name,
        }
    }
}

/// The resolved, checked device graph: what the emitters consume.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The unikernel's name.
    pub name: String,
    /// The target.
    pub target: Target,
    /// The configure keys.
    pub keys: Keys,
    /// The instances, in initialisation order.
    pub nodes: Vec<Node>,
    /// The main function's name.
    pub main: String,
    /// Its parameters, in order.
    pub params: Vec<MainParam>,
    /// Every boot argument.
    pub bootargs: Registry,
    /// Warnings (the configuration is still valid).
    pub warnings: Diagnostics,
}

impl Resolved {
    /// The node of instance `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.instance == name)
    }

    /// `bootargs.json`.
    pub fn bootargs_json(&self) -> String {
        self.bootargs.to_json(&self.name, self.target)
    }
}

/// An instance being resolved.
struct Draft<'a> {
    name: String,
    interface: &'a Interface,
    origin: Origin,
    decl: Option<&'a DeviceDecl>,
    /// Where a need created it (implicit instances), for diagnostics.
    cause: Option<Label>,
    imp: Option<&'a Implementation>,
    /// role, instance index, span of the wiring value (if written)
    wires: Vec<(String, usize, Option<Range<usize>>)>,
    params: BTreeMap<String, String>,
}

impl Draft<'_> {
    /// Tie-break of the initialisation order among instances whose needs are all
    /// initialised: services before devices (a device's constructor may use any service),
    /// then by name, so the order is deterministic.
    fn rank(&self) -> (bool, &str) {
        (self.origin != Origin::Service, &self.name)
    }
}

struct Cx<'a> {
    manifest: &'a Manifest,
    catalogue: &'a Catalogue,
    target: Target,
    keys: &'a Keys,
    drafts: Vec<Draft<'a>>,
    diags: Diagnostics,
}

/// Resolves the device graph. Returns every error found, or the graph with its warnings.
pub fn resolve(
    manifest: &Manifest,
    catalogue: &Catalogue,
    target: Target,
    keys: &Keys,
    source: &SourceInfo,
) -> Result<Resolved, Diagnostics> {
    let mut cx = Cx {
        manifest,
        catalogue,
        target,
        keys,
        drafts: Vec::new(),
        diags: Diagnostics::new(),
    };
    cx.add_services();
    cx.add_declared();
    cx.check_pins();
    let mut i = 0;
    while i < cx.drafts.len() {
        cx.resolve_instance(i);
        i += 1;
    }
    let graph = cx.graph();
    cx.check_cycles(&graph);
    let params = cx.main_params(source);
    if cx.diags.has_errors() {
        cx.diags.sort();
        return Err(cx.diags);
    }
    let Cx {
        drafts, mut diags, ..
    } = cx;
    let keep = reachable(&drafts, &graph, &params);
    let mut warnings = Diagnostics::new();
    for (i, d) in drafts.iter().enumerate() {
        if let (false, Some(decl)) = (keep[i], d.decl) {
            warnings.push(
                Diagnostic::warning(format!("the device `{}` is not used", d.name))
                    .at_span(&manifest.file, decl.name.span.clone(), "declared here")
                    .with_note("no parameter of the main function and no other device uses it, so it is left out of the image")
                    .with_help(format!("pass it to the main function (`{}: {}`) or remove this table", d.name, d.interface.handle.as_deref().unwrap_or("..."))),
            );
        }
    }
    let order = init_order(&drafts, &graph, &keep);
    let mut index_of = vec![usize::MAX; drafts.len()];
    for (pos, &d) in order.iter().enumerate() {
        index_of[d] = pos;
    }
    let mut nodes = Vec::new();
    for &d in &order {
        let draft = &drafts[d];
        // Every kept draft has an implementation: errors returned above otherwise.
        let Some(imp) = draft.imp else { continue };
        let pinned = draft.decl.is_some_and(|d| d.implementation.is_some())
            || manifest.pin(&draft.interface.name).is_some();
        nodes.push(Node {
            instance: draft.name.clone(),
            interface: draft.interface.name.clone(),
            kind: draft.interface.kind,
            handle: draft.interface.handle.clone(),
            solo5_device: draft.interface.solo5_device.clone(),
            origin: draft.origin,
            implementation: imp.clone(),
            pinned,
            wiring: draft
                .wires
                .iter()
                .map(|(role, w, _)| Wire {
                    role: role.clone(),
                    instance: drafts[*w].name.clone(),
                    node: index_of[*w],
                })
                .collect(),
            features: keys.for_instance(&draft.name).features_for(imp, target),
            params: draft.params.clone(),
        });
    }
    let params: Vec<MainParam> = params
        .into_iter()
        .map(|p| match p {
            DraftParam::Device(name, d) => MainParam::Device {
                name,
                node: index_of[d],
            },
            DraftParam::BootArgs(name, type_name) => MainParam::BootArgs { name, type_name },
        })
        .collect();
    let devices: Vec<Instance> = nodes
        .iter()
        .map(|n| Instance {
            name: &n.instance,
            interface: &n.interface,
            implementation: &n.implementation,
            group: manifest.device(&n.instance).and_then(|d| d.group.as_ref()),
        })
        .collect();
    let (bootargs, arg_warnings) = Registry::build(manifest, &devices, Some(source))?;
    warnings.extend(arg_warnings);
    diags.extend(warnings);
    diags.sort();
    Ok(Resolved {
        name: manifest.name.value.clone(),
        target,
        keys: keys.clone(),
        nodes,
        main: source.main.name.clone(),
        params,
        bootargs,
        warnings: diags,
    })
}

/// A main parameter before node indices are final.
enum DraftParam {
    Device(String, usize),
    BootArgs(String, String),
}

impl<'a> Cx<'a> {
    fn find(&self, name: &str) -> Option<usize> {
        self.drafts.iter().position(|d| d.name == name)
    }

    /// The label pointing at where draft `i` comes from. For an implicit instance: the need
    /// that created it, saying so (the message given is then not used).
    /// Every `[implementations]` entry names an interface of the catalogue.
    fn check_pins(&mut self) {
        for pin in &self.manifest.pins {
            let name = &pin.interface.value;
            if self.catalogue.interfaces.contains_key(name) {
                continue;
            }
            let interfaces = self.catalogue.interfaces.keys().map(String::as_str);
            let mut d =
                Diagnostic::error(format!("unknown interface `{name}` in `[implementations]`"))
                    .at_span(
                        &self.manifest.file,
                        pin.interface.span.clone(),
                        "no interface of this name in the catalogue",
                    )
                    .with_note(format!(
                        "interfaces: {}",
                        list(self.catalogue.interfaces.keys().map(|k| format!("`{k}`")))
                    ));
            if let Some(s) = did_you_mean(name, interfaces) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.diags.push(d);
        }
    }

    fn place(&self, i: usize, message: impl Into<String>) -> Option<Label> {
        let d = &self.drafts[i];
        match (d.decl, &d.cause) {
            (Some(decl), _) => Some(Label::new(
                &self.manifest.file,
                decl.ty.span.clone(),
                message,
            )),
            (None, Some(cause)) => Some(cause.clone()),
            (None, None) => None,
        }
    }
}
