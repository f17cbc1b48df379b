//! The main function's parameters: devices by name, or the boot-arguments struct.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn main_params(&mut self, source: &SourceInfo) -> Vec<DraftParam> {
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
