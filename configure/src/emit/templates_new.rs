//! The files of `petrel new`.

use super::EmitError;
use super::templates::{self, NEW_CARGO_TOML, NEW_GITIGNORE, NEW_LIB_RS, NEW_UNIKERNEL_TOML};
use minijinja::context;

/// The files of a new project called `name` depending on the facade at `petrel_path`, as
/// (path relative to the project, contents).
pub fn render(name: &str, petrel_path: &str) -> Result<Vec<(&'static str, String)>, EmitError> {
    let env = templates::environment();
    let ctx = context! { name => name, petrel_path => petrel_path };
    Ok(vec![
        ("Cargo.toml", templates::render(&env, NEW_CARGO_TOML, &ctx)?),
        (
            "unikernel.toml",
            templates::render(&env, NEW_UNIKERNEL_TOML, &ctx)?,
        ),
        ("src/lib.rs", templates::render(&env, NEW_LIB_RS, &ctx)?),
        (".gitignore", templates::render(&env, NEW_GITIGNORE, &ctx)?),
    ])
}
