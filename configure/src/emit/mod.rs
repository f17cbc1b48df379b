//! Emitters: turn a [`Plan`] into the files of the generated workspace. Each file has one
//! module here and one template in `templates/` (embedded at build time).
//!
//! Everything is rendered in memory first; the `workspace` module writes the result atomically.

mod app;
mod cargo_config;
pub mod libvirt;
mod plan;
pub mod solo5_manifest;
mod templates;
pub mod templates_new;
pub mod user_manifest;
pub mod xl;

pub use plan::{
    ArgSpec, DeviceInit, Embedded, EmbeddedSection, ImplUse, InstanceArgs, ManifestDevice,
    ManifestPlan, PetrelLink, Plan, package_name,
};

use std::path::PathBuf;

/// A file of the generated workspace, rendered but not written yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the project directory.
    pub path: PathBuf,
    /// The exact bytes to write.
    pub contents: String,
}

/// An emitter failed. Templates are part of Petrel, so this is a bug in Petrel, never in the
/// user's files: say so.
#[derive(Debug, thiserror::Error)]
#[error(
    "internal error while rendering {template} (this is a bug in petrel, please report it): {source}"
)]
pub struct EmitError {
    /// The template that failed.
    pub template: &'static str,
    /// What minijinja said.
    #[source]
    pub source: minijinja::Error,
}

/// Renders every file Petrel owns inside `.petrel/` and `.cargo/`, for `plan`.
/// The user's `Cargo.toml` is edited separately ([`user_manifest`]).
pub fn render(plan: &Plan) -> Result<Vec<GeneratedFile>, EmitError> {
    let env = templates::environment();
    let mut files = app::render(&env, plan)?;
    files.push(cargo_config::render(&env, plan)?);
    files.push(GeneratedFile {
        path: PathBuf::from(".petrel/bootargs.json"),
        contents: plan.bootargs_json.clone(),
    });
    files.push(GeneratedFile {
        path: PathBuf::from(".petrel/state.json"),
        contents: plan.state_json(),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
