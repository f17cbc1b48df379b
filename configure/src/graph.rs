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
//!   deterministic: services first (time, clock, random, console, platform, then others by
//!   name), then devices by name, each as soon as its needs are initialised.

use crate::bootargs::Registry;
use crate::catalogue::{Catalogue, Implementation, Interface, InterfaceKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, did_you_mean, list};
use crate::keys::Keys;
use crate::manifest::{DeviceDecl, Manifest};
use crate::source::SourceInfo;
use crate::target::Target;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// The fixed initialisation order of the well-known services.
pub const SERVICE_ORDER: [&str; 5] = ["time", "clock", "random", "console", "platform"];

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
    /// Why it exists.
    pub origin: Origin,
    /// The chosen implementation.
    pub implementation: Implementation,
    /// Its needs, by role.
    pub wiring: Vec<Wire>,
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
    /// Sort key of the initialisation order.
    fn rank(&self) -> (u8, usize, &str) {
        match self.origin {
            Origin::Service => (
                0,
                SERVICE_ORDER
                    .iter()
                    .position(|s| *s == self.name)
                    .unwrap_or(SERVICE_ORDER.len()),
                &self.name,
            ),
            _ => (1, 0, &self.name),
        }
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
        nodes.push(Node {
            instance: draft.name.clone(),
            interface: draft.interface.name.clone(),
            kind: draft.interface.kind,
            handle: draft.interface.handle.clone(),
            origin: draft.origin,
            implementation: imp.clone(),
            wiring: draft
                .wires
                .iter()
                .map(|(role, w, _)| Wire {
                    role: role.clone(),
                    instance: drafts[*w].name.clone(),
                    node: index_of[*w],
                })
                .collect(),
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
    let devices: Vec<(&str, &Implementation)> = nodes
        .iter()
        .map(|n| (n.instance.as_str(), &n.implementation))
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

    fn add_services(&mut self) {
        let mut services: Vec<&Interface> = self
            .catalogue
            .interfaces
            .values()
            .filter(|i| i.kind == InterfaceKind::Service)
            .collect();
        services.sort_by_key(|i| {
            (
                SERVICE_ORDER
                    .iter()
                    .position(|s| *s == i.name)
                    .unwrap_or(SERVICE_ORDER.len()),
                i.name.clone(),
            )
        });
        for interface in services {
            self.drafts.push(Draft {
                name: interface.name.clone(),
                interface,
                origin: Origin::Service,
                decl: None,
                cause: None,
                imp: None,
                wires: Vec::new(),
                params: BTreeMap::new(),
            });
        }
    }

    fn device_interfaces(&self) -> Vec<&'a str> {
        self.catalogue
            .interfaces
            .values()
            .filter(|i| i.kind == InterfaceKind::Device)
            .map(|i| i.name.as_str())
            .collect()
    }

    fn add_declared(&mut self) {
        let file = &self.manifest.file;
        for decl in &self.manifest.devices {
            if let Some(s) = self
                .drafts
                .iter()
                .find(|d| d.origin == Origin::Service && d.name == decl.name.value)
            {
                self.diags.push(
                    Diagnostic::error(format!(
                        "the device name `{}` is taken by a service",
                        decl.name.value
                    ))
                    .at_span(
                        file,
                        decl.name.span.clone(),
                        format!(
                            "`{}` is the implicit instance of the service `{}`",
                            s.name, s.interface.name
                        ),
                    )
                    .with_help(format!(
                        "choose another name, e.g. `[devices.my_{}]`",
                        decl.name.value
                    )),
                );
                continue;
            }
            let ty = &decl.ty.value;
            let interface = match self.catalogue.interfaces.get(ty) {
                Some(i) if i.kind == InterfaceKind::Device => i,
                Some(i) => {
                    self.diags.push(
                        Diagnostic::error(format!("`{ty}` is a service, not a device"))
                            .at_span(file, decl.ty.span.clone(), format!("expected one of: {}", list(self.device_interfaces())))
                            .with_note(format!("every unikernel has one `{}` instance, used through plain functions (`petrel::{}::...`)", i.name, i.name))
                            .with_help(format!("remove the table `[devices.{}]`", decl.name.value)),
                    );
                    continue;
                }
                None => {
                    let devices = self.device_interfaces();
                    let mut d = Diagnostic::error(format!("unknown device type `{ty}`")).at_span(
                        file,
                        decl.ty.span.clone(),
                        format!("expected one of: {}", list(&devices)),
                    );
                    if let Some(s) = did_you_mean(ty, devices.iter().copied()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else {
                        d = d.with_note("the device types are the interfaces of kind \"device\" in the catalogue (the crates the unikernel depends on)");
                    }
                    self.diags.push(d);
                    continue;
                }
            };
            self.drafts.push(Draft {
                name: decl.name.value.clone(),
                interface,
                origin: Origin::Declared,
                decl: Some(decl),
                cause: None,
                imp: None,
                wires: Vec::new(),
                params: BTreeMap::new(),
            });
        }
    }

    /// The label pointing at where draft `i` comes from. For an implicit instance: the need
    /// that created it, saying so (the message given is then not used).
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

    /// Why `imp` does not fit, or `None` when it does.
    fn misfit(&self, imp: &Implementation) -> Option<String> {
        if !imp.targets.contains(&self.target) {
            return Some(if imp.targets.is_empty() {
                "supports no target".to_string()
            } else {
                format!("only for {}", list(imp.targets.iter().map(|t| t.name())))
            });
        }
        let mut why = Vec::new();
        for (key, want) in &imp.when {
            match self.keys.get(key) {
                Some(k) if k.value == *want => {}
                Some(k) => why.push(format!("needs {key} = {want}, but {}", k.describe())),
                None => why.push(format!(
                    "needs {key} = {want}, but petrel has no key `{key}`"
                )),
            }
        }
        if why.is_empty() {
            None
        } else {
            Some(why.join("; "))
        }
    }

    /// Chooses the implementation of draft `i`; reports and returns `None` when zero or
    /// several fit.
    fn choose(&mut self, i: usize) -> Option<&'a Implementation> {
        let catalogue: &'a Catalogue = self.catalogue;
        let iface = self.drafts[i].interface;
        let name = self.drafts[i].name.clone();
        let candidates: Vec<&'a Implementation> =
            catalogue.implementations_of(&iface.name).collect();
        let fits: Vec<&'a Implementation> = candidates
            .iter()
            .copied()
            .filter(|c| self.misfit(c).is_none())
            .collect();
        let what = match self.drafts[i].origin {
            Origin::Service => format!("the service `{}`", iface.name),
            Origin::Implicit => format!("the default `{}` instance `{name}`", iface.name),
            Origin::Declared => format!("the device `{name}`"),
        };
        match fits.as_slice() {
            [one] => return Some(one),
            [] if candidates.is_empty() => {
                let mut d = Diagnostic::error(format!("no implementation of `{}` in the catalogue", iface.name))
                    .with_note(format!("{what} needs one"))
                    .with_help(format!(
                        "add a crate implementing `{}` (e.g. `petrel-{}-{}`) to the unikernel's [dependencies]",
                        iface.name, iface.name, self.target
                    ));
                if let Some(l) = self.place(i, format!("{what} needs an implementation")) {
                    d = d.at(l);
                }
                self.diags.push(d);
            }
            [] => {
                let relevant: BTreeSet<&str> = candidates
                    .iter()
                    .flat_map(|c| c.when.keys().map(String::as_str))
                    .collect();
                let keys: Vec<String> = self
                    .keys
                    .values
                    .iter()
                    .filter(|k| relevant.contains(k.def.name))
                    .map(|k| k.describe())
                    .collect();
                let with = if keys.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", keys.join(", "))
                };
                let lines: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}: {}",
                            c.package,
                            c.version,
                            self.misfit(c).unwrap_or_default()
                        )
                    })
                    .collect();
                let mut d = Diagnostic::error(format!(
                    "no implementation of `{}` for target {}{with}",
                    iface.name, self.target
                ))
                .with_note(format!("candidates:\n  {}", lines.join("\n  ")));
                if let Some(l) = self.place(i, format!("{what} needs an implementation")) {
                    d = d.at(l);
                }
                if let Some(hint) = self.key_hint(&candidates) {
                    d = d.with_help(hint);
                }
                self.diags.push(d);
            }
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|c| format!("{} {}", c.package, c.version))
                    .collect();
                let mut d = Diagnostic::error(format!(
                    "{} implementations of `{}` fit target {}: {}",
                    several.len(),
                    iface.name,
                    self.target,
                    list(&names)
                ))
                .with_note(format!(
                    "an interface has exactly one implementation in an image: these would collide at link time (each has `links = \"petrel-{}\"`)",
                    iface.name
                ))
                .with_help("remove all but one of them from the dependencies, or restrict them with `targets` or `when`");
                if let Some(l) = self.place(i, format!("{what} needs one implementation")) {
                    d = d.at(l);
                }
                self.diags.push(d);
            }
        }
        None
    }

    /// A hint for a key value that would make a candidate fit.
    fn key_hint(&self, candidates: &[&Implementation]) -> Option<String> {
        candidates
            .iter()
            .filter(|c| c.targets.contains(&self.target))
            .find_map(|c| {
                let changes: Vec<String> = c
                    .when
                    .iter()
                    .filter(|(k, v)| self.keys.value(k).is_some_and(|cur| cur != v.as_str()))
                    .map(|(k, v)| format!("--{k}={v}"))
                    .collect();
                (!changes.is_empty())
                    .then(|| format!("{} fits with {}", c.package, changes.join(" ")))
            })
    }

    /// Chooses draft `i`'s implementation and wires its needs (adding implicit instances).
    fn resolve_instance(&mut self, i: usize) {
        let Some(imp) = self.choose(i) else { return };
        self.drafts[i].imp = Some(imp);
        let file = self.manifest.file.clone();
        let name = self.drafts[i].name.clone();
        // Entries of the device table: wiring roles or parameters.
        if let Some(decl) = self.drafts[i].decl {
            for e in &decl.entries {
                if imp.needs.contains_key(&e.key.value) {
                    continue;
                }
                if imp.params.contains(&e.key.value) {
                    self.drafts[i]
                        .params
                        .insert(e.key.value.clone(), e.value.value.clone());
                    continue;
                }
                let roles: Vec<&str> = imp.needs.keys().map(String::as_str).collect();
                let accepted = format!(
                    "{} accepts {}{}",
                    imp.package,
                    if roles.is_empty() {
                        "no wiring role".to_string()
                    } else {
                        format!("the wiring roles: {}", list(&roles))
                    },
                    if imp.params.is_empty() {
                        ", and no parameter".to_string()
                    } else {
                        format!("; parameters: {}", list(&imp.params))
                    },
                );
                let mut d = Diagnostic::error(format!(
                    "unknown key `{}` in `[devices.{name}]`",
                    e.key.value
                ))
                .at_span(
                    &file,
                    e.key.span.clone(),
                    format!("not a wiring role nor a parameter of {}", imp.package),
                )
                .with_note(accepted);
                let all = roles
                    .iter()
                    .copied()
                    .chain(imp.params.iter().map(String::as_str));
                if let Some(s) = did_you_mean(&e.key.value, all) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if let Some(other) =
                    self.catalogue
                        .implementations_of(&imp.implements)
                        .find(|o| {
                            o.package != imp.package
                                && (o.needs.contains_key(&e.key.value)
                                    || o.params.contains(&e.key.value))
                        })
                {
                    let when: Vec<String> = other
                        .when
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect();
                    let cond = if when.is_empty() {
                        String::new()
                    } else {
                        format!(" (chosen when {})", when.join(", "))
                    };
                    d = d.with_help(format!(
                        "`{}` is accepted by {}{cond}",
                        e.key.value, other.package
                    ));
                }
                self.diags.push(d);
            }
        }
        for (role, need) in &imp.needs {
            let Some(need_iface) = self.catalogue.interfaces.get(need) else {
                let mut d = Diagnostic::error(format!(
                    "{} needs the interface `{need}`, which is not in the catalogue",
                    imp.package
                ))
                .with_help(format!(
                    "add a crate declaring the interface `{need}` to the unikernel's [dependencies]"
                ));
                if let Some(l) =
                    self.place(i, format!("`{name}` is implemented by {}", imp.package))
                {
                    d = d.at(l);
                }
                self.diags.push(d);
                continue;
            };
            let explicit = self.drafts[i].decl.and_then(|d| d.entry(role));
            let target_name: String;
            let span: Option<Range<usize>>;
            let cause: Label;
            if let Some(e) = explicit {
                target_name = e.value.value.clone();
                span = Some(e.value.span.clone());
                cause = Label::new(&file, e.value.span.clone(), "");
            } else {
                let default = match need_iface.kind {
                    InterfaceKind::Service => Some(need_iface.name.clone()),
                    InterfaceKind::Device => need_iface.default_instance.clone(),
                };
                let Some(default) = default else {
                    let same: Vec<&str> = self
                        .drafts
                        .iter()
                        .filter(|d| d.interface.name == *need)
                        .map(|d| d.name.as_str())
                        .collect();
                    let example = same.first().copied().unwrap_or("my_device");
                    let mut d = Diagnostic::error(format!(
                        "the device `{name}` needs a `{need}` device for its role `{role}`"
                    ))
                    .with_note(format!(
                        "`{need}` has no default instance, so the need must be wired"
                    ))
                    .with_help(format!(
                        "add `{role} = \"{example}\"` to `[devices.{name}]`"
                    ));
                    if let Some(l) = self.place(i, format!("{} needs `{role}`", imp.package)) {
                        d = d.at(l);
                    }
                    self.diags.push(d);
                    continue;
                };
                target_name = default;
                span = None;
                cause = self.place(i, "").unwrap_or_else(|| Label::file(&file, ""));
            }
            let target = match self.find(&target_name) {
                Some(t) => t,
                None if target_name == need_iface.default_instance.clone().unwrap_or_default()
                    && need_iface.kind == InterfaceKind::Device =>
                {
                    self.drafts.push(Draft {
                        name: target_name.clone(),
                        interface: need_iface,
                        origin: Origin::Implicit,
                        decl: None,
                        cause: Some(Label {
                            message: format!(
                                "`{name}` needs the `{need}` instance `{target_name}` (role `{role}`)"
                            ),
                            ..cause
                        }),
                        imp: None,
                        wires: Vec::new(),
                        params: BTreeMap::new(),
                    });
                    self.drafts.len() - 1
                }
                None => {
                    let names: Vec<&str> = self.drafts.iter().map(|d| d.name.as_str()).collect();
                    let mut d = Diagnostic::error(format!("no device named `{target_name}`"))
                        .with_note(format!(
                            "the role `{role}` of `{name}` needs a `{need}` device"
                        ));
                    if let Some(s) = span.clone() {
                        d = d.at_span(&file, s, format!("expected the name of a `{need}` device"));
                    }
                    if let Some(s) = did_you_mean(&target_name, names.iter().copied()) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else {
                        d =
                            d.with_help(format!(
                            "declare it:\n[devices.{target_name}]\ntype = \"{need}\"{}",
                            need_iface.default_instance.as_ref().map_or(String::new(), |di| format!(
                                "\nor remove `{role} = ...` to use the default instance `{di}`"
                            ))
                        ));
                    }
                    self.diags.push(d);
                    continue;
                }
            };
            let found = self.drafts[target].interface;
            if found.name != *need {
                let mut d = Diagnostic::error(format!(
                    "type mismatch: the role `{role}` of `{name}` needs a `{need}`, but `{target_name}` is a `{}`",
                    found.name
                ));
                d = match span.clone() {
                    Some(s) => d.at_span(&file, s, format!("expected a `{need}` device")),
                    None => match self.place(
                        i,
                        format!("the role `{role}` defaults to the instance `{target_name}`"),
                    ) {
                        Some(l) => d.at(l),
                        None => d,
                    },
                };
                if let Some(l) = self.place(
                    target,
                    format!("`{target_name}` is declared as a `{}` here", found.name),
                ) {
                    d = d.with_label(l);
                }
                self.diags.push(d);
                continue;
            }
            self.drafts[i].wires.push((role.clone(), target, span));
        }
    }

    /// The graph: one node per draft (same index), an edge consumer → need.
    fn graph(&self) -> DiGraph<usize, String> {
        let mut g = DiGraph::new();
        for i in 0..self.drafts.len() {
            g.add_node(i);
        }
        for (i, d) in self.drafts.iter().enumerate() {
            for (role, w, _) in &d.wires {
                g.add_edge(NodeIndex::new(i), NodeIndex::new(*w), role.clone());
            }
        }
        g
    }

    fn check_cycles(&mut self, g: &DiGraph<usize, String>) {
        let mut sccs = petgraph::algo::tarjan_scc(g);
        sccs.iter_mut().for_each(|s| {
            s.sort_by(|a, b| {
                self.drafts[a.index()]
                    .name
                    .cmp(&self.drafts[b.index()].name)
            })
        });
        sccs.sort_by(|a, b| {
            self.drafts[a[0].index()]
                .name
                .cmp(&self.drafts[b[0].index()].name)
        });
        for scc in sccs {
            let start = scc[0];
            if scc.len() == 1 && !g.contains_edge(start, start) {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            // Shortest path from `start` back to `start` inside the component.
            let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut closing = None;
            'bfs: while let Some(n) = queue.pop_front() {
                let mut next: Vec<NodeIndex> =
                    g.neighbors(n).filter(|m| members.contains(m)).collect();
                next.sort_by(|a, b| {
                    self.drafts[a.index()]
                        .name
                        .cmp(&self.drafts[b.index()].name)
                });
                for m in next {
                    if m == start {
                        closing = Some(n);
                        break 'bfs;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                        e.insert(n);
                        queue.push_back(m);
                    }
                }
            }
            let mut path = vec![start];
            let mut cur = closing.unwrap_or(start);
            while cur != start {
                path.push(cur);
                cur = prev.get(&cur).copied().unwrap_or(start);
            }
            path[1..].reverse();
            path.push(start);
            let names: Vec<String> = path
                .iter()
                .map(|n| format!("`{}`", self.drafts[n.index()].name))
                .collect();
            let mut d = Diagnostic::error(format!("the devices {} need each other", list(
                path[..path.len() - 1].iter().map(|n| format!("`{}`", self.drafts[n.index()].name))
            )))
            .with_note(format!("cycle: {}", names.join(" needs ")))
            .with_help("a device is initialised after the devices it needs, so needs cannot form a cycle: wire one of them to another device");
            let mut first = true;
            for pair in path.windows(2) {
                let (a, b) = (pair[0].index(), pair[1].index());
                let wire = self.drafts[a].wires.iter().find(|(_, w, _)| *w == b);
                if let Some((role, _, Some(span))) = wire {
                    let label = Label::new(
                        &self.manifest.file,
                        span.clone(),
                        format!(
                            "`{}` needs `{}` (role `{role}`)",
                            self.drafts[a].name, self.drafts[b].name
                        ),
                    );
                    d = if first {
                        d.at(label)
                    } else {
                        d.with_label(label)
                    };
                    first = false;
                }
            }
            self.diags.push(d);
        }
    }

    fn main_params(&mut self, source: &SourceInfo) -> Vec<DraftParam> {
        let lib = &source.file;
        let file = self.manifest.file.clone();
        let mut out = Vec::new();
        for p in &source.main.params {
            if let Some(i) = self.find(&p.name) {
                let d = &self.drafts[i];
                if d.origin == Origin::Service {
                    self.diags.push(
                        Diagnostic::error(format!("`{}` is a service, not a device", p.name))
                            .at_span(lib, p.name_span.clone(), "the main function's parameters are devices")
                            .with_help(format!("remove this parameter and call `petrel::{}::...` functions directly", d.interface.name)),
                    );
                    continue;
                }
                let handle = d.interface.handle.clone().unwrap_or_default();
                if p.ty_name.as_deref() != Some(handle.as_str()) {
                    let mut diag = Diagnostic::error(format!(
                        "type mismatch: the parameter `{}` has type `{}`, but the device `{}` is a `{}`",
                        p.name, p.ty, p.name, d.interface.name
                    ))
                    .at_span(lib, p.ty_span.clone(), format!("expected `{handle}`"));
                    if let Some(decl) = d.decl {
                        diag = diag.with_label(Label::new(
                            &file,
                            decl.ty.span.clone(),
                            format!("`{}` is declared as a `{}` here", p.name, d.interface.name),
                        ));
                    } else {
                        diag = diag.with_note(format!(
                            "`{}` is the default `{}` instance",
                            p.name, d.interface.name
                        ));
                    }
                    diag = diag.with_help(format!("write `{}: {handle}`", p.name));
                    self.diags.push(diag);
                    continue;
                }
                out.push(DraftParam::Device(p.name.clone(), i));
                continue;
            }
            if let Some(s) = p
                .ty_name
                .as_ref()
                .and_then(|t| source.bootargs.iter().find(|b| &b.name == t))
            {
                out.push(DraftParam::BootArgs(p.name.clone(), s.name.clone()));
                continue;
            }
            let declared: Vec<&str> = self
                .manifest
                .devices
                .iter()
                .map(|d| d.name.value.as_str())
                .collect();
            let mut diag = Diagnostic::error(format!(
                "the main function's parameter `{}` is not a device",
                p.name
            ))
            .at_span(lib, p.name_span.clone(), "no device has this name")
            .with_note(if declared.is_empty() {
                "unikernel.toml declares no device".to_string()
            } else {
                format!("declared devices: {}", list(&declared))
            });
            let by_handle = self.catalogue.interfaces.values().find(|i| {
                i.kind == InterfaceKind::Device && i.handle.is_some() && i.handle == p.ty_name
            });
            if let Some(s) = did_you_mean(&p.name, declared.iter().copied()) {
                diag = diag.with_help(format!("did you mean `{s}`?"));
            } else if let Some(iface) = by_handle {
                diag = diag.with_help(format!(
                    "declare it in unikernel.toml:\n[devices.{}]\ntype = \"{}\"",
                    p.name, iface.name
                ));
            } else {
                diag = diag.with_help(format!(
                    "a parameter is a device declared as `[devices.{}]` in unikernel.toml, or a `#[derive(BootArgs)]` struct",
                    p.name
                ));
            }
            self.diags.push(diag);
        }
        out
    }
}

/// Which drafts are kept: services, and everything the main parameters need (transitively).
fn reachable(drafts: &[Draft<'_>], g: &DiGraph<usize, String>, params: &[DraftParam]) -> Vec<bool> {
    let mut keep: Vec<bool> = drafts.iter().map(|d| d.origin == Origin::Service).collect();
    let mut stack: Vec<usize> = (0..drafts.len()).filter(|&i| keep[i]).collect();
    stack.extend(params.iter().filter_map(|p| match p {
        DraftParam::Device(_, i) => Some(*i),
        DraftParam::BootArgs(..) => None,
    }));
    while let Some(i) = stack.pop() {
        keep[i] = true;
        for n in g.neighbors(NodeIndex::new(i)) {
            if !keep[n.index()] {
                stack.push(n.index());
            }
        }
    }
    keep
}

/// The deterministic initialisation order of the kept drafts (the graph is acyclic here).
fn init_order(drafts: &[Draft<'_>], g: &DiGraph<usize, String>, keep: &[bool]) -> Vec<usize> {
    let mut pending: Vec<usize> = vec![0; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let needs: BTreeSet<usize> = d.wires.iter().map(|(_, w, _)| *w).collect();
        pending[i] = needs.len();
    }
    let mut ready: BTreeSet<((u8, usize, &str), usize)> = (0..drafts.len())
        .filter(|&i| keep[i] && pending[i] == 0)
        .map(|i| (drafts[i].rank(), i))
        .collect();
    let mut order = Vec::new();
    while let Some(first) = ready.pop_first() {
        let i = first.1;
        order.push(i);
        let consumers: BTreeSet<usize> = g
            .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|n| n.index())
            .collect();
        for c in consumers {
            pending[c] -= 1;
            if pending[c] == 0 && keep[c] {
                ready.insert((drafts[c].rank(), c));
            }
        }
    }
    order
}

/// Checks a project in one go: reads `unikernel.toml` and `src/lib.rs` in `project_dir`
/// (shown with those relative names), resolves the keys and the graph. Problems in both
/// files are reported together.
pub fn check(
    project_dir: &std::path::Path,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let manifest = crate::manifest::load_as(&project_dir.join("unikernel.toml"), "unikernel.toml");
    let source = crate::source::scan_as(&project_dir.join("src").join("lib.rs"), "src/lib.rs");
    check_parsed(manifest, source, catalogue, target, overrides)
}

/// [`check`] on texts already in memory (tests, editors).
pub fn check_files(
    manifest: std::sync::Arc<crate::diagnostic::SourceFile>,
    lib_rs: std::sync::Arc<crate::diagnostic::SourceFile>,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let manifest = crate::manifest::parse(manifest);
    let source = crate::source::scan_str(lib_rs);
    check_parsed(manifest, source, catalogue, target, overrides)
}

fn check_parsed(
    manifest: Result<Manifest, Diagnostics>,
    source: Result<SourceInfo, Diagnostics>,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let mut diags = Diagnostics::new();
    let keys = match &manifest {
        Ok(m) => crate::keys::resolve(m, target, overrides)
            .map_err(|d| diags.extend(d))
            .ok(),
        Err(d) => {
            diags.extend(d.clone());
            None
        }
    };
    let source = source.map_err(|d| diags.extend(d)).ok();
    match (manifest, keys, source) {
        (Ok(m), Some(k), Some(s)) if !diags.has_errors() => resolve(&m, catalogue, target, &k, &s),
        _ => Err(diags),
    }
}
