//! `petrel inspect IMAGE`: what an image says about itself, read without its project and
//! without trusting it. Solo5 images (hvt, spt, virtio) carry the ABI and manifest notes,
//! xen images the PVH entry note, unix images are plain Linux executables. Images Petrel
//! built also describe themselves (docs/self-description.md): name, version, boot arguments
//! and dependencies. A truncated or hostile file is one clear error (the notes' reader is
//! fuzzed in `petrel-solo5-abi`, the sections' here).

mod sections;

use crate::error::Error;
use crate::selfdesc::{self, Argument, DEPENDENCIES_SECTION, DESCRIPTION_SECTION};
use auditable_serde::{DependencyKind, VersionInfo};
use petrel_solo5_abi::AbiTarget;
use petrel_solo5_abi::elf::{self, Notes};
use std::path::Path;

/// What `inspect` found.
#[derive(Debug, serde::Serialize)]
pub struct Inspection {
    /// The file, as given.
    pub image: String,
    /// Its size in bytes.
    pub size: u64,
    /// `hvt`, `spt`, `virtio`, `xen`, `unix`, or the Solo5 name of another ABI target.
    pub target: String,
    /// How the target was recognised.
    pub evidence: String,
    /// The Solo5 ABI note, if any.
    pub abi: Option<Abi>,
    /// For Solo5 hvt and spt images: `"ok"` if the upstream tender's load-time rules accept
    /// the image, else why not.
    pub tender_check: Option<String>,
    /// The ELF entry point.
    pub entry: u64,
    /// The manifest's devices, in handle order (handle 1 first).
    pub devices: Vec<Device>,
    /// The manifest note is present but invalid: why.
    pub manifest_error: Option<String>,
    /// The unikernel's name, from its self-description (`None`: the image has none, as
    /// images Petrel did not build).
    pub name: Option<String>,
    /// The unikernel's version, from its self-description.
    pub version: Option<String>,
    /// Its boot arguments, as `bootargs.json` lists them.
    pub arguments: Option<Vec<Argument>>,
    /// The `--help` text those arguments give, as the image prints it.
    pub help: Option<String>,
    /// Its dependencies, in cargo-auditable's format (`.dep-v0`).
    pub dependencies: Option<VersionInfo>,
}

/// The Solo5 ABI note.
#[derive(Debug, serde::Serialize)]
pub struct Abi {
    /// `abi_target`.
    pub target: u32,
    /// `abi_version`.
    pub version: u32,
}

/// One manifest entry.
#[derive(Debug, serde::Serialize)]
pub struct Device {
    /// Its handle (manifest index).
    pub handle: usize,
    /// Its name (invalid UTF-8 replaced).
    pub name: String,
    /// `NET_BASIC` or `BLOCK_BASIC`.
    pub kind: &'static str,
}

/// Reads `image` and describes it.
pub fn inspect(image: &Path) -> Result<Inspection, Error> {
    let bytes = std::fs::read(image)
        .map_err(|e| Error::msg(format!("cannot read {}: {e}", image.display())))?;
    inspect_bytes(image, &bytes)
}

/// Describes `bytes`, the contents of `image`. Never panics, whatever the bytes (fuzzed in
/// `tests`).
pub fn inspect_bytes(image: &Path, bytes: &[u8]) -> Result<Inspection, Error> {
    let notes = elf::read_notes(bytes).map_err(|e| {
        Error::msg(format!(
            "{} is not an image petrel can read: {e}",
            image.display()
        ))
    })?;
    let mut found = describe(image, bytes.len() as u64, &notes, bytes);
    read_self_description(bytes, &mut found)
        .map_err(|e| Error::msg(format!("{}: {e}", image.display())))?;
    Ok(found)
}

#[cfg(test)]
mod tests;

/// The section `name`'s bytes decoded by `decode`, if the image has it.
fn section<T>(
    bytes: &[u8],
    name: &str,
    decode: impl Fn(&[u8]) -> Result<T, selfdesc::DecodeError>,
) -> Result<Option<T>, String> {
    match sections::find(bytes, name) {
        Ok(Some(data)) => decode(data)
            .map(Some)
            .map_err(|e| format!("its self-description is damaged: {name}: {e}")),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Fills in what the image's self-description says. Its absence is no error (a Solo5 image
/// from another toolchain); a damaged one is.
fn read_self_description(bytes: &[u8], found: &mut Inspection) -> Result<(), String> {
    if let Some(d) = section(bytes, DESCRIPTION_SECTION, selfdesc::decode_description)? {
        found.help = Some(help(&d)?);
        found.name = Some(d.name);
        found.version = Some(d.version);
        found.arguments = Some(d.arguments);
    }
    found.dependencies = section(bytes, DEPENDENCIES_SECTION, selfdesc::decode_dependencies)?;
    Ok(())
}

/// The `--help` text of `d`'s arguments, rendered by the code that rendered the image's.
fn help(d: &selfdesc::Description) -> Result<String, String> {
    let mut args = Vec::new();
    for a in d.arguments.iter().map(|a| &a.decl) {
        let kind = petrel_bootvar::Kind::parse_name(&a.ty).ok_or_else(|| {
            format!(
                "its self-description gives --{} an unknown type `{}`",
                a.name, a.ty
            )
        })?;
        args.push(petrel_bootvar::HelpArg {
            name: &a.name,
            kind,
            default: a.default.as_deref(),
            doc: &a.doc,
            section: &a.section,
            required: a.required,
            repeated: a.repeated,
        });
    }
    Ok(petrel_bootvar::help(&d.name, &d.version, &args))
}

fn describe(image: &Path, size: u64, notes: &Notes, bytes: &[u8]) -> Inspection {
    let solo5 = notes.abi.map(|a| AbiTarget::from_number(a.target));
    let (target, evidence) = match (solo5, notes.xen_pvh_entry) {
        (Some(Some(t)), _) => (
            t.name().to_string(),
            format!(
                "Solo5 ABI note: target {} ({t}), version {}",
                t.number(),
                notes.abi.map_or(0, |a| a.version)
            ),
        ),
        (Some(None), _) => (
            "unknown".to_string(),
            format!(
                "a Solo5 ABI note with an unknown target {}",
                notes.abi.map_or(0, |a| a.target)
            ),
        ),
        (None, Some(entry)) => (
            "xen".to_string(),
            format!("Xen PVH entry note (entry {entry:#x})"),
        ),
        (None, None) => (
            "unix".to_string(),
            format!(
                "no Solo5 or Xen note: a Linux executable ({}{})",
                if notes.e_type == 3 {
                    "position-independent"
                } else {
                    "fixed-address"
                },
                if notes.interpreter {
                    ", dynamically linked"
                } else {
                    ", static"
                }
            ),
        ),
    };
    let tender_check = match solo5 {
        Some(Some(t @ (AbiTarget::Hvt | AbiTarget::Spt))) => Some(match elf::check(bytes, t) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        }),
        _ => None,
    };
    let (devices, manifest_error) = match &notes.manifest {
        Some(Ok(m)) => (
            m.entries
                .iter()
                .enumerate()
                .skip(1)
                .map(|(handle, e)| Device {
                    handle,
                    name: e.name_str().into_owned(),
                    kind: e.device_type.name(),
                })
                .collect(),
            None,
        ),
        Some(Err(e)) => (Vec::new(), Some(e.to_string())),
        None => (Vec::new(), None),
    };
    Inspection {
        image: image.display().to_string(),
        size,
        target,
        evidence,
        abi: notes.abi.map(|a| Abi {
            target: a.target,
            version: a.version,
        }),
        tender_check,
        entry: notes.entry,
        devices,
        manifest_error,
        name: None,
        version: None,
        arguments: None,
        help: None,
        dependencies: None,
    }
}

impl Inspection {
    /// The text `petrel inspect` prints.
    pub fn text(&self) -> String {
        let mut out = format!(
            "image:    {} ({} bytes)\ntarget:   {} ({})\nentry:    {:#x}\n",
            self.image, self.size, self.target, self.evidence, self.entry
        );
        if let Some(check) = &self.tender_check {
            let verdict = if check == "ok" {
                format!("accepted by solo5-{}'s load-time checks", self.target)
            } else {
                format!(
                    "refused by solo5-{}'s load-time checks: {check}",
                    self.target
                )
            };
            out.push_str(&format!("checks:   {verdict}\n"));
        }
        match (&self.manifest_error, self.devices.is_empty()) {
            (Some(e), _) => out.push_str(&format!("devices:  invalid manifest: {e}\n")),
            (None, true) if self.abi.is_some() => out.push_str("devices:  none\n"),
            (None, true) => {}
            (None, false) => {
                out.push_str("devices:\n");
                for d in &self.devices {
                    out.push_str(&format!("  {:>2}. {:<20} {}\n", d.handle, d.name, d.kind));
                }
            }
        }
        match (&self.name, &self.version) {
            (Some(name), Some(version)) => {
                out.push_str(&format!("unikernel: {name} {version}\n"));
            }
            _ => out.push_str(
                "unikernel: no self-description (not built by petrel): name, boot arguments and dependencies unknown\n",
            ),
        }
        if let Some(help) = &self.help {
            out.push_str("boot arguments, as --help prints them:\n");
            out.push_str(&indent(help));
        }
        if let Some(deps) = &self.dependencies {
            let build = deps
                .packages
                .iter()
                .filter(|p| p.kind == DependencyKind::Build)
                .count();
            out.push_str(&format!(
                "dependencies ({DEPENDENCIES_SECTION}, cargo-auditable's format): {} packages, {build} of them build-time only\n",
                deps.packages.len()
            ));
            for p in &deps.packages {
                let mut notes = vec![String::from(p.source.clone())];
                if p.kind == DependencyKind::Build {
                    notes.push("build".to_string());
                }
                if p.root {
                    notes.push("root".to_string());
                }
                out.push_str(&format!(
                    "  {} {} ({})\n",
                    p.name,
                    p.version,
                    notes.join(", ")
                ));
            }
        }
        out
    }
}

/// `text` with each non-empty line indented by two spaces.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}
