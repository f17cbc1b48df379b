//! From the project's files to a [`Plan`]: read `unikernel.toml`, `src/lib.rs` and the
//! catalogue (one `cargo metadata`), resolve the keys and the device graph, then decide
//! everything the generated files say. Nothing is written here.

use crate::catalogue;
use crate::cli::Selection;
use crate::crunch;
use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::emit::user_manifest::PETREL_LINK;
use crate::emit::{
    self, ArgSpec, DeviceInit, EmbeddedSection, ImplUse, InstanceArgs, PetrelLink, Plan,
    user_manifest,
};
use crate::error::Error;
use crate::graph::{self, MainParam, Resolved};
use crate::keys::{self, KeyOverrides};
use crate::project::{Project, relative_path};
use crate::remap::{Prefixes, Remap};
use crate::run::{Backing, BootDevices};
use crate::target::Target;
use crate::workspace::Configuration;
use crate::{dependencies, manifest, selfdesc, source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A resolved configuration: the graph (for `describe`), the plan (for the emitters) and
/// the host resources `run` attaches.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The device graph.
    pub resolved: Resolved,
    /// What the generated files say.
    pub plan: Plan,
    /// What `petrel run` attaches to the devices.
    pub boot: BootDevices,
    /// Warnings found on the way (unused devices, skipped files), for the caller to report.
    pub warnings: Diagnostics,
}

/// What `.petrel/state.json` remembers of the last configure: the target and the keys that
/// were typed on its command line, nothing else. `[keys]` in unikernel.toml and the targets'
/// defaults are read afresh every time, so an edit to unikernel.toml always applies.
/// (A state.json written before this field existed has a `keys` table holding every key,
/// defaults included: it is ignored, since replaying it would hide unikernel.toml.)
#[derive(Debug, Default, serde::Deserialize)]
struct State {
    target: Option<Target>,
    #[serde(default)]
    command_line: BTreeMap<String, String>,
}

fn previous_state(project: &Project) -> State {
    std::fs::read_to_string(project.state_json())
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// The target and key overrides for `selection`: what the user typed, else what was typed
/// for the last configure of the same target (so `petrel build` after
/// `petrel configure --target spt --net=direct` builds the same thing).
fn effective(project: &Project, selection: &Selection) -> Result<(Target, KeyOverrides), Error> {
    let state = previous_state(project);
    let target = selection.target.or(state.target).unwrap_or(Target::Unix);
    let mut typed = KeyOverrides::new();
    for arg in &selection.keys {
        typed.key_flag(arg).map_err(Error::msg)?;
    }
    if let Some(net) = &selection.net {
        typed.alias("net", net).map_err(Error::msg)?;
    }
    if selection.dhcp || selection.no_dhcp {
        let dhcp = if selection.dhcp { "true" } else { "false" };
        typed.alias("dhcp", dhcp).map_err(Error::msg)?;
    }
    if let Some(kv) = &selection.kv {
        typed.alias("kv", kv).map_err(Error::msg)?;
    }
    if typed.is_empty() && state.target == Some(target) {
        for (name, value) in &state.command_line {
            typed.replay(name, value);
        }
    }
    Ok((target, typed))
}

/// Resolves the project's configuration for `selection`, reporting every problem in the
/// user's files at once.
pub fn resolve(project: &Project, selection: &Selection) -> Result<Configured, Error> {
    let (target, overrides) = effective(project, selection)?;
    let path = project.unikernel_toml();
    let reading = manifest::read_path(&path, &path.display().to_string());
    let source = source::scan(&project.lib_rs());
    // The keys are declared in the catalogue: read it unless the files alone are already
    // wrong and it cannot be read (then their problems are reported without the keys').
    let catalogue = if reading.manifest.is_ok() && source.is_ok() {
        let metadata = cargo_metadata(project)?;
        let catalogue = catalogue::from_packages(&metadata.packages).map_err(Error::msg)?;
        Some((metadata, catalogue))
    } else {
        cargo_metadata(project).ok().and_then(|m| {
            let c = catalogue::from_packages(&m.packages).ok()?;
            Some((m, c))
        })
    };
    let mut all = Diagnostics::new();
    let read = match &catalogue {
        Some((_, c)) => keys::resolve_reading(reading, c, target, &overrides)
            .map_err(|d| all.extend(d))
            .ok(),
        None => {
            if let Err(d) = reading.manifest {
                all.extend(d);
            }
            None
        }
    };
    let source = source.map_err(|d| all.extend(d)).ok();
    let (Some((manifest, keys)), Some(source), Some((metadata, catalogue))) =
        (read, source, catalogue)
    else {
        return Err(Error::from(all));
    };
    let resolved =
        graph::resolve(&manifest, &catalogue, target, &keys, &source).map_err(Error::from)?;
    let mut warnings = resolved.warnings.clone();
    let plan = plan(project, &metadata, &resolved, &manifest, &mut warnings)?;
    let boot = boot_devices(project, &resolved, &plan);
    Ok(Configured {
        resolved,
        plan,
        boot,
        warnings,
    })
}

/// What `petrel run` attaches by default, in manifest order: `dist/NAME.img` for each block
/// device, user networking (virtio) for each network device. `run`'s flags override them.
/// On unix (no manifest) only the network devices, whose tap `--tap NAME=IF` names.
fn boot_devices(project: &Project, resolved: &Resolved, plan: &Plan) -> BootDevices {
    let default_disk = |name: &str| {
        Backing::Disk(
            project
                .dir
                .join(crate::workspace::DIST_DIR)
                .join(format!("{name}.img")),
        )
    };
    if plan.manifest.is_none() {
        // Unix: a device is attached through its boot argument (petrel-net-unix's
        // `interface`, petrel-block-unix's `disk`, with the instance's prefix); an
        // implementation without that argument cannot be attached by `petrel run`.
        let mut boot = BootDevices::default();
        for node in &resolved.nodes {
            let (base, backing) = match node.interface.as_str() {
                "net" => ("interface", Backing::Net(None)),
                "block" => ("disk", default_disk(&node.instance)),
                _ => continue,
            };
            let arg = format!("{}{base}", resolved.bootargs.prefix(&node.instance));
            if resolved
                .bootargs
                .get(&arg)
                .is_some_and(|a| a.device == node.instance)
            {
                boot.devices.push((node.instance.clone(), backing));
                boot.unix_args.insert(node.instance.clone(), arg);
            }
        }
        return boot;
    }
    let devices = plan
        .manifest
        .iter()
        .flat_map(|m| &m.devices)
        .map(|d| {
            let backing = if d.kind == "BLOCK_BASIC" {
                default_disk(&d.name)
            } else {
                Backing::Net(None)
            };
            (d.name.clone(), backing)
        })
        .collect();
    BootDevices {
        devices,
        ..BootDevices::default()
    }
}

/// Renders every file of `configured` in memory.
pub fn render(project: &Project, configured: &Configured) -> Result<Configuration, Error> {
    let files = emit::render(&configured.plan).map_err(Error::msg)?;
    let mut config = Configuration::new(&project.dir, files).map_err(Error::msg)?;
    config.link = configured
        .plan
        .petrel_link
        .as_ref()
        .map(|l| (PathBuf::from(&l.link), PathBuf::from(&l.checkout)));
    Ok(config)
}

/// Points [`PETREL_LINK`] at the Petrel checkout that the user's Cargo.toml names by path,
/// before cargo reads the generated files that go through it (the link may be missing or
/// point at an older checkout). Nothing to do for a registry or git dependency.
fn link_declared_checkout(project: &Project) -> Result<(), Error> {
    let cargo_toml = project.cargo_toml();
    let text = std::fs::read_to_string(&cargo_toml)
        .map_err(|e| Error::msg(format!("{}: {e}", cargo_toml.display())))?;
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Ok(()); // cargo metadata reports it.
    };
    let Some(path) = doc
        .get("dependencies")
        .and_then(|d| d.get("petrel"))
        .and_then(|p| p.get("path"))
        .and_then(|p| p.as_str())
    else {
        return Ok(());
    };
    let Some(checkout) = normalize(&project.dir.join(path))
        .parent()
        .map(Path::to_path_buf)
    else {
        return Ok(());
    };
    let link = project.dir.join(PETREL_LINK);
    // A first configure creates it with the other files (all or nothing); only an earlier
    // configuration's files need it now.
    let configured_before = link.parent().is_some_and(Path::is_dir);
    if checkout.starts_with(&project.dir) || !configured_before {
        return Ok(());
    }
    if std::fs::read_link(&link).is_ok_and(|t| t == checkout) {
        return Ok(());
    }
    let failed = |e: std::io::Error| Error::msg(format!("{}: {e}", link.display()));
    if std::fs::symlink_metadata(&link).is_ok() {
        std::fs::remove_file(&link).map_err(failed)?;
    }
    if let Some(dir) = link.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::os::unix::fs::symlink(&checkout, &link).map_err(failed)
}

/// `path` with `.` and `..` resolved lexically, as cargo resolves dependency paths.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `cargo metadata` on the project. If Petrel's table names a generated crate that no longer
/// exists (`.petrel/` deleted by hand), cargo would refuse the manifest: take the table out
/// first, since configure is about to write it again.
fn cargo_metadata(project: &Project) -> Result<cargo_metadata::Metadata, Error> {
    let cargo_toml = project.cargo_toml();
    if !project
        .dir
        .join(user_manifest::APP_DIR)
        .join("Cargo.toml")
        .is_file()
    {
        let current = std::fs::read_to_string(&cargo_toml)
            .map_err(|e| Error::msg(format!("{}: {e}", cargo_toml.display())))?;
        if user_manifest::has_petrel_table(&current) {
            let restored = user_manifest::remove(&current).map_err(Error::msg)?;
            crate::transaction::write_one(&cargo_toml, restored.as_bytes())
                .map_err(|f| Error::msg(format!("{}: {}", f.path.display(), f.source)))?;
        }
    }
    link_declared_checkout(project)?;
    cargo_metadata::MetadataCommand::new()
        .manifest_path(&cargo_toml)
        // cargo reads .cargo/config.toml (its [patch]) from the working directory.
        .current_dir(&project.dir)
        .exec()
        .map_err(|e| {
            Error::msg(format!(
                "`cargo metadata` failed on {}: {e}",
                cargo_toml.display()
            ))
        })
}

/// The link for a `petrel` path dependency outside the project (see [`PetrelLink`]); none
/// for a registry or git dependency (identified by URL, already the same everywhere), or
/// for a path cargo would percent-encode in its URL (rare; the image then depends on where
/// the checkout is, as the README says).
fn petrel_link(project: &Project, user: &cargo_metadata::Package) -> Option<PetrelLink> {
    let declared = user
        .dependencies
        .iter()
        .find(|d| d.name == "petrel")?
        .path
        .clone()?;
    let checkout = declared.parent()?.as_std_path().to_path_buf();
    if checkout.starts_with(&project.dir) {
        return None;
    }
    let plain = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+~".contains(c))
    };
    let (url_path, checkout_text) = (declared.as_str(), checkout.to_str()?);
    if !plain(url_path) || !declared.is_absolute() {
        return None;
    }
    Some(PetrelLink {
        link: PETREL_LINK.to_string(),
        checkout: checkout_text.to_string(),
        facade_url: format!("file://{url_path}"),
    })
}

/// Decides what the generated files say.
fn plan(
    project: &Project,
    metadata: &cargo_metadata::Metadata,
    resolved: &Resolved,
    manifest: &manifest::Manifest,
    warnings: &mut Diagnostics,
) -> Result<Plan, Error> {
    let user = metadata.root_package().ok_or_else(|| {
        Error::msg(format!(
            "{} has no [package]",
            project.cargo_toml().display()
        ))
    })?;
    let user_lib = user
        .targets
        .iter()
        .find(|t| t.is_lib())
        .map(|t| t.name.replace('-', "_"))
        .ok_or_else(|| {
            Error::msg(format!(
                "`{}` has no library target: a unikernel is a library (src/lib.rs)",
                user.name
            ))
        })?;
    let facade = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "petrel")
        .ok_or_else(|| {
            Error::msg(format!(
                "`{}` does not depend on `petrel`; add it to [dependencies]",
                user.name
            ))
        })?;
    crate::ecosystem::check(metadata).map_err(Error::msg)?;
    let app_dir = project.dir.join(user_manifest::APP_DIR);
    let petrel_link = petrel_link(project, user);
    // Petrel's crates as cargo will see them: through the link if there is one (the project
    // itself may be inside the checkout, as the examples are, and stays where it is).
    let through_link = |dir: &Path| match &petrel_link {
        Some(_) if dir.starts_with(&project.dir) => dir.to_path_buf(),
        Some(l) => match dir.strip_prefix(&l.checkout) {
            Ok(rest) => project.dir.join(&l.link).join(rest),
            Err(_) => dir.to_path_buf(),
        },
        None => dir.to_path_buf(),
    };
    let rel = |dir: &Path| relative_path(&app_dir, &through_link(dir));
    let facade_dir = facade
        .manifest_path
        .parent()
        .map(|p| p.as_std_path().to_path_buf())
        .unwrap_or_default();

    let mut impls: BTreeMap<String, ImplUse> = BTreeMap::new();
    for node in &resolved.nodes {
        let imp = &node.implementation;
        let features = node.features.clone();
        for f in &features {
            check_feature(&imp.package, f)?;
        }
        // Cargo builds one copy of a crate: two instances with different keys (one stack
        // with DHCP, one without) share the union of their features.
        let used = impls.entry(imp.package.clone()).or_insert_with(|| ImplUse {
            package: imp.package.clone(),
            lib: imp.package.replace('-', "_"),
            path: rel(&imp.dir),
            features: Vec::new(),
        });
        for f in features {
            if !used.features.contains(&f) {
                used.features.push(f);
            }
        }
    }

    let mut devices = Vec::new();
    for node in resolved
        .nodes
        .iter()
        .filter(|n| n.kind == catalogue::InterfaceKind::Device)
    {
        let imp = &node.implementation;
        let constructor = imp.constructor.clone().ok_or_else(|| {
            Error::msg(format!(
                "{}: [package.metadata.petrel] has no `constructor` for device `{}`",
                imp.package, node.instance
            ))
        })?;
        check_rust_path(&imp.package, &constructor)?;
        let prefix = resolved.bootargs.prefix(&node.instance);
        let keys = instance_keys(resolved, node);
        let params: Vec<String> = node
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            // The instance's boot-argument prefix, for `petrel_bootvar::instance_prefix`.
            .chain((!prefix.is_empty()).then_some((petrel_bootvar::PREFIX_PARAM, prefix)))
            .chain(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(k, v)| format!("({k:?}, {v:?})"))
            .collect();
        let mut inputs = vec![
            format!("{:?}", node.instance),
            format!("&[{}]", params.join(", ")),
            "args".to_string(),
        ];
        let embedded = match &imp.embed {
            Some(param) => {
                let e = embed(
                    project,
                    &app_dir,
                    manifest,
                    &node.instance,
                    param,
                    &node.params,
                    warnings,
                )?;
                inputs.push(e.var.clone());
                Some(e)
            }
            None => None,
        };
        inputs.extend(node.wiring.iter().map(|w| format!("&{}", w.instance)));
        devices.push(DeviceInit {
            var: node.instance.clone(),
            lib: imp.package.replace('-', "_"),
            constructor,
            inputs,
            embedded,
        });
    }

    let main_args = resolved
        .params
        .iter()
        .map(|p| match p {
            MainParam::Device { name, .. } => name.clone(),
            MainParam::BootArgs { type_name, .. } => {
                format!("<{user_lib}::{type_name} as petrel::bootargs::FromArgs>::from_args(args)")
            }
        })
        .collect();

    let mut args = Vec::new();
    let mut help_args = Vec::new();
    for a in &resolved.bootargs.args {
        let kind = petrel_bootvar::Kind::parse_name(&a.decl.ty).ok_or_else(|| {
            Error::msg(format!(
                "boot argument --{}: unknown type `{}`",
                a.decl.name, a.decl.ty
            ))
        })?;
        // The image does not split a repeated default: its items are written one by one.
        let default = match &a.decl.default {
            None => Vec::new(),
            Some(d) if a.decl.repeated => petrel_bootvar::split(d).map_err(|e| {
                Error::msg(format!("boot argument --{}: default: {e}", a.decl.name))
            })?,
            Some(d) => vec![d.clone()],
        };
        args.push(ArgSpec {
            name: a.decl.name.clone(),
            kind: format!("Kind::{kind:?}"),
            default,
            required: a.decl.required,
            repeated: a.decl.repeated,
        });
        help_args.push(petrel_bootvar::HelpArg {
            name: &a.decl.name,
            kind,
            default: a.decl.default.as_deref(),
            doc: &a.decl.doc,
            section: &a.decl.section,
            required: a.decl.required,
            repeated: a.decl.repeated,
        });
    }
    let instance_args = instance_views(resolved, &args, &mut devices);
    let version = user.version.to_string();
    // `--help` is rendered here, by the code that rendered it at boot before: the image
    // carries the finished text.
    let help = petrel_bootvar::help(&resolved.name, &version, &help_args);

    let (self_description, dependencies_resolved) =
        self_description(project, resolved, user.name.as_str(), &version, &impls)?;

    let manifest = if resolved.target.spec().manifest {
        Some(manifest_plan(resolved, manifest)?)
    } else {
        None
    };

    Ok(Plan {
        manifest,
        name: resolved.name.clone(),
        version,
        target: resolved.target,
        user_crate: user.name.to_string(),
        user_lib,
        user_path: rel(&project.dir),
        petrel_path: rel(&facade_dir),
        petrel_exe: std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "petrel".into()),
        remap_flags: Prefixes::of_this_machine(
            metadata.workspace_root.as_std_path().to_path_buf(),
            // A facade from a registry or git lives under CARGO_HOME, remapped already;
            // behind the link, the checkout is the link's target.
            match &petrel_link {
                Some(l) => Some(PathBuf::from(&l.checkout)),
                None => facade
                    .source
                    .is_none()
                    .then(|| facade_dir.parent().map(Path::to_path_buf))
                    .flatten(),
            },
            &project.dir,
        )
        .remaps()
        .iter()
        .map(Remap::flag)
        .collect(),
        petrel_link,
        impls: impls.into_values().collect(),
        devices,
        main_fn: resolved.main.clone(),
        main_args,
        args,
        instance_args,
        help,
        bootargs_json: resolved.bootargs_json(),
        self_description,
        dependencies_resolved,
        command_line_keys: resolved.keys.command_line(),
    })
}

/// The image's `.petrel-v0` and `.dep-v0` sections (docs/self-description.md), and whether
/// the dependency list is final. It comes from a second `cargo metadata`, restricted to the
/// image's platform as cargo-auditable restricts it, which knows the implementations only
/// once the generated crate names them.
fn self_description(
    project: &Project,
    resolved: &Resolved,
    user: &str,
    version: &str,
    impls: &BTreeMap<String, ImplUse>,
) -> Result<(Vec<EmbeddedSection>, bool), Error> {
    let description = selfdesc::Description {
        format: selfdesc::FORMAT,
        name: resolved.name.clone(),
        version: version.to_string(),
        target: resolved.target.to_string(),
        arguments: resolved
            .bootargs
            .args
            .iter()
            .map(|a| selfdesc::Argument {
                decl: a.decl.clone(),
                device: a.device.clone(),
            })
            .collect(),
    };
    let metadata = dependencies::metadata_for(project, resolved.target.spec().triple)?;
    let mut direct = vec![user, "petrel"];
    direct.extend(impls.keys().map(String::as_str));
    let package = emit::package_name(&resolved.name, resolved.target);
    let (list, complete) = dependencies::version_info(&metadata, &package, version, &direct);
    let sections = vec![
        EmbeddedSection::new(
            selfdesc::DESCRIPTION_SECTION,
            &selfdesc::encode_description(&description),
        ),
        EmbeddedSection::new(
            selfdesc::DEPENDENCIES_SECTION,
            &selfdesc::encode_dependencies(&list),
        ),
    ];
    Ok((sections, complete))
}

/// The configure keys `node`'s constructor receives as parameters, for
/// `petrel_bootvar::instance_key`: its interface's keys with the instance's values, when some
/// instance of its implementation has keys of its own (the crate is built once, with the
/// union of the instances' features, so each instance learns its own value at run time);
/// none otherwise, so a unikernel without instance keys is generated as before.
fn instance_keys(resolved: &Resolved, node: &graph::Node) -> Vec<(String, String)> {
    let differs = resolved.nodes.iter().any(|n| {
        n.implementation.package == node.implementation.package
            && resolved.keys.instances.contains_key(&n.instance)
    });
    if !differs {
        return Vec::new();
    }
    resolved
        .keys
        .for_instance(&node.instance)
        .values
        .into_iter()
        .filter(|k| k.def.owner == keys::Owner::Interface(node.interface.clone()))
        .map(|k| {
            (
                format!("{}{}", petrel_bootvar::KEY_PARAM_PREFIX, k.def.name),
                k.value,
            )
        })
        .collect()
}

/// The tables of the instances whose boot arguments are prefixed (`--storage-disk`), and
/// their constructors' `args` input replaced by their view: the implementation reads `disk`
/// as always (docs/architecture.md, "Boot arguments of several instances"). An image
/// without prefixes has none, and is as before.
fn instance_views(
    resolved: &Resolved,
    args: &[ArgSpec],
    devices: &mut [DeviceInit],
) -> Vec<InstanceArgs> {
    let mut views = Vec::new();
    for device in devices {
        let instance = &device.var;
        let own = |a: &crate::bootargs::BootArg| a.device == *instance;
        if resolved.bootargs.prefix(instance).is_empty() || !resolved.bootargs.args.iter().any(own)
        {
            continue;
        }
        let var = format!("ARGS_{}", instance.to_uppercase());
        let table = args
            .iter()
            .zip(&resolved.bootargs.args)
            .map(|(spec, arg)| ArgSpec {
                // An empty name is never read: `get` asks only for declared names.
                name: if own(arg) {
                    arg.base_name.clone()
                } else {
                    String::new()
                },
                ..spec.clone()
            })
            .collect();
        for input in device.inputs.iter_mut().filter(|i| *i == "args") {
            *input = format!("args.for_instance({var})");
        }
        views.push(InstanceArgs {
            instance: instance.clone(),
            var,
            args: table,
        });
    }
    views
}

/// The Solo5 manifest of a freestanding image: its net and block instances, sorted by name
/// (handles follow that order; on virtio, so does the PCI order `petrel run` uses).
fn manifest_plan(
    resolved: &Resolved,
    manifest: &manifest::Manifest,
) -> Result<emit::ManifestPlan, Error> {
    let platform = resolved
        .nodes
        .iter()
        .find(|n| n.interface == "platform")
        .ok_or_else(|| Error::msg("the device graph has no platform implementation"))?;
    let mut devices = Vec::new();
    for node in &resolved.nodes {
        let Some(kind) = node.solo5_device.clone() else {
            continue;
        };
        if !node.instance.chars().all(|c| c.is_ascii_alphanumeric())
            || node.instance.len() > petrel_solo5_abi::MFT_NAME_MAX
        {
            let mut d = Diagnostic::error(format!(
                "device `{}`: on {} the name goes into the Solo5 manifest, which allows only letters and digits (at most {})",
                node.instance, resolved.target, petrel_solo5_abi::MFT_NAME_MAX
            ))
            .with_help("rename it in unikernel.toml (and the main function's parameter)");
            // An implicit instance has no table of its own; a declared one is pointed at.
            if let Some(decl) = manifest.device(&node.instance) {
                d = d.at_span(
                    &manifest.file,
                    decl.name.span.clone(),
                    "not a Solo5 device name",
                );
            }
            return Err(d.into());
        }
        devices.push(emit::ManifestDevice {
            name: node.instance.clone(),
            kind,
        });
    }
    if devices.len() > petrel_solo5_abi::MFT_MAX_DEVICES {
        return Err(Error::msg(format!(
            "{} network and block devices: a Solo5 manifest holds at most {}",
            devices.len(),
            petrel_solo5_abi::MFT_MAX_DEVICES
        )));
    }
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(emit::ManifestPlan {
        lib: platform.implementation.package.replace('-', "_"),
        devices,
    })
}

/// The files of the directory named by device parameter `param`, to embed in the image
/// (the walk's rules are in [`crunch`]). Its problems point at the parameter in
/// unikernel.toml.
fn embed(
    project: &Project,
    app_dir: &Path,
    manifest: &manifest::Manifest,
    instance: &str,
    param: &str,
    params: &BTreeMap<String, String>,
    warnings: &mut Diagnostics,
) -> Result<emit::Embedded, Error> {
    let rel = params.get(param).ok_or_else(|| {
        let mut d = Diagnostic::error(format!(
            "device `{instance}` embeds a directory, but none is named"
        ))
        .with_help(format!(
            "set `{param} = \"DIR\"` in its [devices.{instance}] table"
        ));
        if let Some(decl) = manifest.device(instance) {
            d = d.at_span(
                &manifest.file,
                decl.name.span.clone(),
                format!("no `{param}` in this table"),
            );
        }
        Error::from(d)
    })?;
    let at_param = |d: Diagnostic, message: &str| match manifest
        .device(instance)
        .and_then(|dev| dev.entry(param))
    {
        Some(entry) => d.at(Label::new(
            &manifest.file,
            entry.value.span.clone(),
            message,
        )),
        None => d,
    };
    let root = project.dir.join(rel);
    let refuse = |message: String, label: &str| {
        let d = Diagnostic::error(format!("device `{instance}`: {message}"));
        Error::from(at_param(d, label))
    };
    if !root.is_dir() {
        return Err(refuse(
            format!(
                "{param} = {rel:?} is not a directory (looked in {})",
                root.display()
            ),
            "not a directory",
        ));
    }
    // Its path, like every path below it, is written into generated Rust.
    if root.to_str().is_none() {
        return Err(refuse(
            format!("the path {} is not UTF-8", root.display()),
            "not UTF-8",
        ));
    }
    let walk = crunch::walk(&root).map_err(|e| refuse(e.to_string(), "in this directory"))?;
    if !walk.skipped.is_empty() {
        let mut d = Diagnostic::warning(format!(
            "device `{instance}`: {} entr{} of {rel:?} not embedded",
            walk.skipped.len(),
            if walk.skipped.len() == 1 { "y" } else { "ies" }
        ));
        for (key, why) in &walk.skipped {
            d = d.with_note(format!("`{key}`: {why}"));
        }
        warnings.push(at_param(d, "skipped entries in this directory"));
    }
    let files = walk
        .files
        .into_iter()
        .map(|f| (f.key, relative_path(app_dir, &f.path)))
        .collect();
    Ok(emit::Embedded {
        var: format!("{}_FILES", instance.to_uppercase()),
        files,
    })
}

/// Metadata text that ends up in generated code must be what it claims to be.
fn check_rust_path(package: &str, path: &str) -> Result<(), Error> {
    syn::parse_str::<syn::Path>(path).map(|_| ()).map_err(|_| {
        Error::msg(format!("{package}: [package.metadata.petrel] constructor `{path}` is not a Rust path (like `Stack::connect`)"))
    })
}

fn check_feature(package: &str, feature: &str) -> Result<(), Error> {
    let ok = !feature.is_empty()
        && feature
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/+.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "{package}: [package.metadata.petrel] feature {feature:?} is not a valid Cargo feature name"
        )))
    }
}
