//! `.cargo/config.toml` of the project: the per-target target directory, build target,
//! rustflags, profiles and runner.

use super::templates::{self, CARGO_CONFIG};
use super::{EmitError, GeneratedFile, Plan};
use minijinja::{Environment, context};
use std::path::PathBuf;

/// The path Petrel owns.
pub const PATH: &str = ".cargo/config.toml";

/// Renders `.cargo/config.toml`.
pub fn render(env: &Environment<'static>, plan: &Plan) -> Result<GeneratedFile, EmitError> {
    let ctx = context! {
        target => plan.target.name(),
        freestanding => plan.target.is_freestanding(),
        triple => plan.target.spec().triple,
        petrel_exe => plan.petrel_exe.clone(),
        remap => plan.remap_flags.clone(),
        link => plan.petrel_link.as_ref().map(|l| l.link.clone()),
        checkout => plan.petrel_link.as_ref().map(|l| l.checkout.clone()),
        facade_url => plan.petrel_link.as_ref().map(|l| l.facade_url.clone()),
    };
    Ok(GeneratedFile {
        path: PathBuf::from(PATH),
        contents: templates::render(env, CARGO_CONFIG, &ctx)?,
    })
}
