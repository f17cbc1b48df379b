//! `petrel inspect IMAGE`: what an image says about itself, read without its project and
//! without trusting it. Solo5 images (hvt, spt, virtio) carry the ABI and manifest notes,
//! xen images the PVH entry note, unix images are plain Linux executables. A truncated or
//! hostile file is one clear error (the reader is fuzzed in `petrel-solo5-abi`).

use crate::error::Error;
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
    let notes = elf::read_notes(&bytes).map_err(|e| {
        Error::msg(format!(
            "{} is not an image petrel can read: {e}",
            image.display()
        ))
    })?;
    Ok(describe(image, bytes.len() as u64, &notes, &bytes))
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
        out.push_str(
            "boot arguments and dependencies: not recorded in the image (a self-description note is not written yet)\n",
        );
        out
    }
}
