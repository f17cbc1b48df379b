//! The key registry: every key the catalogue's interfaces and the unikernel declare, and
//! which targets each value exists on.

use super::*;
use crate::manifest::KeySpec;

/// Who declared a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The interface of that name (its crate's metadata).
    Interface(String),
    /// The unikernel, in `[keys.NAME]`.
    Unikernel,
}

/// The definition of one configure key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    /// Its name in `[keys]`, `when` tables and on the command line.
    pub name: String,
    /// Who declared it.
    pub owner: Owner,
    /// The declaration.
    pub decl: KeyDecl,
}

impl KeyDef {
    /// True for boolean keys (written `dhcp = false`).
    pub fn is_bool(&self) -> bool {
        self.decl.boolean
    }

    /// The default value for `target`.
    pub fn default_for(&self, target: Target) -> &str {
        self.decl.default_for(target)
    }
}

/// Every key that exists for one configuration: the catalogue's and the unikernel's, by
/// name, with the implementations that say on which targets each value exists.
#[derive(Debug, Clone)]
pub struct Registry<'a> {
    keys: BTreeMap<String, KeyDef>,
    implementations: &'a [Implementation],
}

impl<'a> Registry<'a> {
    /// The keys of `catalogue` and of the unikernel's `[keys.NAME]` tables. Checks that no
    /// key is declared twice and that every implementation's `when` and `features` name
    /// declared keys and values.
    pub fn new(catalogue: &'a Catalogue, table: &KeyTable) -> Result<Registry<'a>, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut keys: BTreeMap<String, KeyDef> = BTreeMap::new();
        for (name, interface, decl) in catalogue.keys() {
            if let Some(first) = keys.get(name) {
                let Owner::Interface(first) = &first.owner else {
                    continue;
                };
                diags.push(
                    Diagnostic::error(format!(
                        "the key `{name}` is declared by two interfaces: `{first}` and `{}`",
                        interface.name
                    ))
                    .with_help("a key belongs to one interface: rename one of them"),
                );
                continue;
            }
            keys.insert(
                name.to_string(),
                KeyDef {
                    name: name.to_string(),
                    owner: Owner::Interface(interface.name.clone()),
                    decl: decl.clone(),
                },
            );
        }
        for spec in &table.decls {
            let name = &spec.name.value;
            if let Some(KeyDef {
                owner: Owner::Interface(owner),
                ..
            }) = keys.get(name)
            {
                diags.push(
                    Diagnostic::error(format!(
                        "the key `{name}` is already declared by the interface `{owner}`"
                    ))
                    .at_span(&table.file, spec.name.span.clone(), "declared again here")
                    .with_help(format!(
                        "set it with `{name} = ...` in `[keys]`, or give your key another name"
                    )),
                );
                continue;
            }
            match unikernel_decl(&table.file, spec) {
                Ok(decl) => {
                    keys.insert(
                        name.clone(),
                        KeyDef {
                            name: name.clone(),
                            owner: Owner::Unikernel,
                            decl,
                        },
                    );
                }
                Err(d) => diags.push(*d),
            }
        }
        for imp in &catalogue.implementations {
            let uses = imp.when.iter().map(|(k, v)| ("when", k, v)).chain(
                imp.features
                    .values()
                    .flatten()
                    .map(|(k, v)| ("features", k, v)),
            );
            for (field, key, value) in uses {
                if let Err(problem) = check_use(&keys, key, value) {
                    diags.push(
                        Diagnostic::error(format!(
                            "{}: [package.metadata.petrel] {field}: {problem}",
                            imp.package
                        ))
                        .at(Label::file(
                            &SourceFile::new(imp.dir.join("Cargo.toml").display().to_string(), ""),
                            "",
                        )),
                    );
                }
            }
        }
        diags.into_result(Registry {
            keys,
            implementations: &catalogue.implementations,
        })
    }

    /// The key `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<&KeyDef> {
        self.keys.get(name)
    }

    /// Every key, by name.
    pub fn iter(&self) -> impl Iterator<Item = &KeyDef> {
        self.keys.values()
    }

    /// The targets where `key = value` exists, or `None` when every target has it (no
    /// implementation's `when` names that value).
    pub fn targets_of(&self, key: &str, value: &str) -> Option<Vec<Target>> {
        let mut with: Vec<&Implementation> = self
            .implementations
            .iter()
            .filter(|i| i.when.get(key).is_some_and(|v| v == value))
            .collect();
        if with.is_empty() {
            return None;
        }
        with.sort_by(|a, b| a.package.cmp(&b.package));
        Some(
            Target::ALL
                .into_iter()
                .filter(|t| with.iter().any(|i| i.targets.contains(t)))
                .collect(),
        )
    }

    /// The packages whose `when` names `key = value`.
    pub(super) fn packages_with(&self, key: &str, value: &str) -> Vec<&str> {
        self.implementations
            .iter()
            .filter(|i| i.when.get(key).is_some_and(|v| v == value))
            .map(|i| i.package.as_str())
            .collect()
    }

    /// Whether `key = value` exists on `target`.
    pub(super) fn possible(&self, key: &str, value: &str, target: Target) -> bool {
        self.targets_of(key, value)
            .is_none_or(|ts| ts.contains(&target))
    }
}

/// Checks that `key = value` in an implementation's metadata names a declared key and one of
/// its values.
fn check_use(keys: &BTreeMap<String, KeyDef>, key: &str, value: &str) -> Result<(), String> {
    let Some(def) = keys.get(key) else {
        let known: Vec<&str> = keys.keys().map(String::as_str).collect();
        let hint = did_you_mean(key, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "`{key} = {value}` names the key `{key}`, which no interface or unikernel declares{hint}"
        ));
    };
    if def.decl.values.iter().any(|v| v == value) {
        Ok(())
    } else {
        Err(format!(
            "`{key} = {value}`, but `{key}` is one of {}",
            def.decl.values.join(", ")
        ))
    }
}

/// The declaration of a `[keys.NAME]` table, checked.
fn unikernel_decl(file: &Arc<SourceFile>, spec: &KeySpec) -> Result<KeyDecl, Box<Diagnostic>> {
    let name = &spec.name.value;
    let boolean = matches!(spec.default.value, Literal::Bool(_));
    let values: Vec<String> = if boolean {
        if let Some(v) = spec.values.first() {
            return Err(Box::new(
                Diagnostic::error(format!("the boolean key `{name}` has `values`"))
                    .at_span(
                        file,
                        v.span.clone(),
                        "a boolean key's values are true and false",
                    )
                    .with_help("remove `values`, or make `default` a string"),
            ));
        }
        vec!["true".into(), "false".into()]
    } else {
        spec.values.iter().map(|v| v.value.clone()).collect()
    };
    let default = spec.default.value.text();
    if !values.contains(&default) {
        let why = if values.is_empty() {
            "expected `values = [...]` listing it, or a boolean default".to_string()
        } else {
            format!("expected one of: {}", list(&values))
        };
        return Err(Box::new(
            Diagnostic::error(format!(
                "the default `{default}` of the key `{name}` is not one of its values"
            ))
            .at_span(file, spec.default.span.clone(), why),
        ));
    }
    Ok(KeyDecl {
        doc: spec.doc.value.clone(),
        values,
        boolean,
        default,
        defaults: BTreeMap::new(),
        limits: BTreeMap::new(),
    })
}
