//! Choosing the one implementation of an interface that fits the target and the keys.

use super::*;

impl<'a> Cx<'a> {
    /// Why `imp` does not fit with `keys` (an instance's: [`Keys::for_instance`]), or `None`
    /// when it does.
    pub(super) fn misfit(&self, keys: &Keys, imp: &Implementation) -> Option<String> {
        if !imp.targets.contains(&self.target) {
            return Some(if imp.targets.is_empty() {
                "supports no target".to_string()
            } else {
                format!("only for {}", list(imp.targets.iter().map(|t| t.name())))
            });
        }
        let mut why = Vec::new();
        for (key, want) in &imp.when {
            match keys.get(key) {
                Some(k) if k.value == *want => {}
                Some(k) => why.push(format!("needs {key} = {want}, but {}", k.describe())),
                None => why.push(format!(
                    "needs {key} = {want}, but no key `{key}` is declared"
                )),
            }
        }
        if why.is_empty() {
            None
        } else {
            Some(why.join("; "))
        }
    }

    /// The package draft `i` is pinned to: its device table's `implementation`, else the
    /// interface's entry in `[implementations]`.
    pub(super) fn pin(&self, i: usize) -> Option<&'a Sp<String>> {
        let manifest: &'a Manifest = self.manifest;
        self.drafts[i]
            .decl
            .and_then(|d| d.implementation.as_ref())
            .or_else(|| manifest.pin(&self.drafts[i].interface.name))
    }

    /// Chooses the implementation of draft `i`; reports and returns `None` when zero or
    /// several fit, or when the pinned one does not.
    pub(super) fn choose(&mut self, i: usize) -> Option<&'a Implementation> {
        let catalogue: &'a Catalogue = self.catalogue;
        let iface = self.drafts[i].interface;
        let name = self.drafts[i].name.clone();
        let keys = self.keys.for_instance(&name);
        let candidates: Vec<&'a Implementation> =
            catalogue.implementations_of(&iface.name).collect();
        if let Some(pin) = self.pin(i) {
            return self.choose_pinned(i, pin, &candidates, &keys);
        }
        let fits: Vec<&'a Implementation> = candidates
            .iter()
            .copied()
            .filter(|c| self.misfit(&keys, c).is_none())
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
                let described: Vec<String> = keys
                    .values
                    .iter()
                    .filter(|k| relevant.contains(k.def.name.as_str()))
                    .map(|k| k.describe())
                    .collect();
                let with = if described.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", described.join(", "))
                };
                let lines: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}: {}",
                            c.package,
                            c.version,
                            self.misfit(&keys, c).unwrap_or_default()
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
                if let Some(hint) = self.key_hint(&keys, &candidates) {
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
                .with_help(match self.drafts[i].origin {
                    Origin::Declared => format!(
                        "pin one in unikernel.toml: `implementation = \"{}\"` in `[devices.{name}]` (or `{} = \"{}\"` under `[implementations]` for every instance), or remove the others from the dependencies",
                        several[0].package, iface.name, several[0].package
                    ),
                    _ => format!(
                        "pin one in unikernel.toml: `{} = \"{}\"` under `[implementations]`, or remove the others from the dependencies",
                        iface.name, several[0].package
                    ),
                });
                if let Some(l) = self.place(i, format!("{what} needs one implementation")) {
                    d = d.at(l);
                }
                self.diags.push(d);
            }
        }
        None
    }

    /// The pinned implementation of draft `i`, if it exists, implements the draft's
    /// interface and fits the target and the keys; otherwise reports why at the pin.
    fn choose_pinned(
        &mut self,
        i: usize,
        pin: &Sp<String>,
        candidates: &[&'a Implementation],
        keys: &Keys,
    ) -> Option<&'a Implementation> {
        let catalogue: &'a Catalogue = self.catalogue;
        let iface = &self.drafts[i].interface.name;
        let file = self.manifest.file.clone();
        let names: Vec<String> = candidates
            .iter()
            .map(|c| format!("{} {}", c.package, c.version))
            .collect();
        let known = || {
            if names.is_empty() {
                format!("the catalogue has no implementation of `{iface}`")
            } else {
                format!("implementations of `{iface}`: {}", list(&names))
            }
        };
        let found = catalogue
            .implementations
            .iter()
            .find(|c| c.package == pin.value);
        let d = match found {
            None => {
                let mut d = Diagnostic::error(format!(
                    "`{}` is not an implementation in the catalogue",
                    pin.value
                ))
                .at_span(&file, pin.span.clone(), "pinned here")
                .with_note(known());
                d = match did_you_mean(&pin.value, candidates.iter().map(|c| c.package.as_str())) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "add the crate to the unikernel's Cargo.toml under [target.'cfg(petrel_catalogue)'.dependencies] (or [dependencies]) with `implements = \"{iface}\"` in its [package.metadata.petrel]"
                    )),
                };
                d
            }
            Some(imp) if imp.implements != *iface => Diagnostic::error(format!(
                "`{}` implements `{}`, not `{iface}`",
                pin.value, imp.implements
            ))
            .at_span(&file, pin.span.clone(), format!("`{iface}` needed here"))
            .with_note(known()),
            Some(imp) => match self.misfit(keys, imp) {
                None => return Some(imp),
                Some(why) => {
                    let mut d = Diagnostic::error(format!(
                        "the pinned implementation `{}` does not fit target {} ({why})",
                        pin.value, self.target
                    ))
                    .at_span(&file, pin.span.clone(), "pinned here");
                    if let Some(hint) = self.key_hint(keys, &[imp]) {
                        d = d.with_help(hint);
                    }
                    d.with_note(known())
                }
            },
        };
        self.diags.push(d);
        None
    }

    /// A hint for a key value that would make a candidate fit.
    pub(super) fn key_hint(&self, keys: &Keys, candidates: &[&Implementation]) -> Option<String> {
        candidates
            .iter()
            .filter(|c| c.targets.contains(&self.target))
            .find_map(|c| {
                let changes: Vec<String> = c
                    .when
                    .iter()
                    .filter(|(k, v)| keys.value(k).is_some_and(|cur| cur != v.as_str()))
                    .map(|(k, v)| format!("--{k}={v}"))
                    .collect();
                (!changes.is_empty())
                    .then(|| format!("{} fits with {}", c.package, changes.join(" ")))
            })
    }
}
