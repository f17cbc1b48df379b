//! Instances: the services, the declared devices, and each one's implementation and needs.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn add_services(&mut self) {
        let mut services: Vec<&Interface> = self
            .catalogue
            .interfaces
            .values()
            .filter(|i| i.kind == InterfaceKind::Service)
            .collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
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

    pub(super) fn device_interfaces(&self) -> Vec<&'a str> {
        self.catalogue
            .interfaces
            .values()
            .filter(|i| i.kind == InterfaceKind::Device)
            .map(|i| i.name.as_str())
            .collect()
    }

    pub(super) fn add_declared(&mut self) {
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

    /// Chooses draft `i`'s implementation and wires its needs (adding implicit instances).
    pub(super) fn resolve_instance(&mut self, i: usize) {
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
}
