//! The generated crate `.petrel/app`: its `Cargo.toml`, `main.rs` and, on freestanding
//! targets, `build.rs` and the linker script.

use super::templates::{self, APP_BUILD_RS, APP_CARGO_TOML, APP_MAIN_RS};
use super::{EmitError, GeneratedFile, Plan};
use minijinja::{Environment, context};
use std::path::PathBuf;

/// Renders the files of `.petrel/app`.
pub fn render(env: &Environment<'static>, plan: &Plan) -> Result<Vec<GeneratedFile>, EmitError> {
    let ctx = context! {
        freestanding => plan.target.is_freestanding(),
        package => plan.package(),
        bin => plan.name.clone(),
        ..minijinja::Value::from(minijinja::value::Serde(plan))
    };
    let mut files = vec![
        file(env, APP_CARGO_TOML, "Cargo.toml", &ctx)?,
        file(env, APP_MAIN_RS, "main.rs", &ctx)?,
    ];
    if let Some(script) = plan.target.spec().link_script {
        files.push(file(env, APP_BUILD_RS, "build.rs", &ctx)?);
        files.push(file(
            env,
            script,
            "link.ld",
            &context! { target => plan.target.name() },
        )?);
    }
    Ok(files)
}

fn file(
    env: &Environment<'static>,
    template: &'static str,
    name: &str,
    ctx: &minijinja::Value,
) -> Result<GeneratedFile, EmitError> {
    let contents = templates::render(env, template, ctx)?;
    Ok(GeneratedFile {
        path: PathBuf::from(".petrel/app").join(name),
        contents,
    })
}
