//! Deploy files: what a hypervisor's own tools take to boot an image, written by
//! `petrel build` beside the image in `dist/` (as mirage writes them): the Solo5 manifest
//! JSON for hvt and spt, a libvirt domain for virtio, an `xl` configuration for xen. Which
//! one a target gets is data ([`crate::target::TargetSpec::deploy`]).

use crate::emit::{libvirt, solo5_manifest};
use crate::error::Error;
use crate::pipeline::Configured;
use crate::project::{self, Project};
use crate::run::{self, Backing};
use crate::status::status;
use crate::target::DeployFile;
use std::path::{Path, PathBuf};

/// A deploy file, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Which one.
    pub kind: DeployFile,
    /// Its name in `dist/`.
    pub file_name: String,
    /// Its text.
    pub text: String,
}

/// The deploy file of `configured`'s target for `image`, whose own path in `dist/` is
/// written as `dist_file` in its comments; `None` for targets that need none (unix).
pub fn render(
    configured: &Configured,
    image: &Path,
    dist_file: impl FnOnce(&str) -> PathBuf,
) -> Result<Option<Rendered>, Error> {
    let plan = &configured.plan;
    let Some(kind) = plan.target.spec().deploy else {
        return Ok(None);
    };
    let file_name = kind.file_name(&plan.name);
    let text = match kind {
        DeployFile::Solo5Manifest => {
            let devices = plan.manifest.as_ref().map(|m| m.devices.as_slice());
            solo5_manifest::render(devices.unwrap_or_default()).map_err(Error::msg)?
        }
        DeployFile::Libvirt => libvirt::render(&domain(configured, image)?).map_err(Error::msg)?,
        // `petrel build` passes no boot arguments: `cmdline` is empty for the operator.
        DeployFile::Xl => run::xen::config(
            &plan.name,
            image,
            &dist_file(&file_name),
            &[],
            &configured.boot,
            "build",
        )?,
    };
    Ok(Some(Rendered {
        kind,
        file_name,
        text,
    }))
}

/// Writes the deploy file of `configured`'s target beside `image` (in the project's
/// `dist/`) and says so.
pub fn write(
    project: &Project,
    configured: &Configured,
    image: &Path,
) -> Result<Option<PathBuf>, Error> {
    let dist = image.parent().unwrap_or(Path::new("."));
    let relative =
        |name: &str| PathBuf::from(project::relative_path(&project.dir, &dist.join(name)));
    let Some(rendered) = render(configured, image, relative)? else {
        return Ok(None);
    };
    let path = dist.join(&rendered.file_name);
    std::fs::write(&path, &rendered.text)
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    let what = match rendered.kind {
        DeployFile::Solo5Manifest => "Solo5 manifest",
        DeployFile::Libvirt => "virsh create",
        DeployFile::Xl => "xl create -c",
    };
    status(
        "Deploy",
        format!("{} ({what})", relative(&rendered.file_name).display()),
    );
    Ok(Some(path))
}

/// The libvirt domain of a virtio image: its devices with the backings `petrel run` gives
/// by default (`dist/NAME.img` for a disk, user networking there, libvirt's network here).
fn domain(configured: &Configured, image: &Path) -> Result<libvirt::Domain, Error> {
    let absolute =
        |p: &Path| std::path::absolute(p).map_err(|e| Error::msg(format!("{}: {e}", p.display())));
    let devices = configured
        .boot
        .devices
        .iter()
        .map(|(name, backing)| {
            Ok(match backing {
                Backing::Net(_) => libvirt::Device::Net { name: name.clone() },
                Backing::Disk(file) => libvirt::Device::Block {
                    name: name.clone(),
                    file: absolute(file)?.display().to_string(),
                },
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(libvirt::Domain {
        name: configured.plan.name.clone(),
        kernel: absolute(image)?.display().to_string(),
        cmdline: String::new(),
        devices,
        command: "build",
    })
}
