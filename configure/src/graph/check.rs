//! Checking a project in one call: both files, the keys, then the graph.

use super::*;

/// Checks a project in one go: reads `unikernel.toml` and `src/lib.rs` in `project_dir`
/// (shown with those relative names), resolves the keys and the graph. Problems in both
/// files are reported together.
pub fn check(
    project_dir: &std::path::Path,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let manifest =
        crate::manifest::read_path(&project_dir.join("unikernel.toml"), "unikernel.toml");
    let source = crate::source::scan_as(&project_dir.join("src").join("lib.rs"), "src/lib.rs");
    check_parsed(manifest, source, catalogue, target, overrides)
}

/// [`check`] on texts already in memory (tests, editors).
pub fn check_files(
    manifest: std::sync::Arc<crate::diagnostic::SourceFile>,
    lib_rs: std::sync::Arc<crate::diagnostic::SourceFile>,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let manifest = crate::manifest::read(manifest);
    let source = crate::source::scan_str(lib_rs);
    check_parsed(manifest, source, catalogue, target, overrides)
}

fn check_parsed(
    reading: crate::manifest::Reading,
    source: Result<SourceInfo, Diagnostics>,
    catalogue: &Catalogue,
    target: Target,
    overrides: &crate::keys::KeyOverrides,
) -> Result<Resolved, Diagnostics> {
    let mut diags = Diagnostics::new();
    let read = crate::keys::resolve_reading(reading, catalogue, target, overrides)
        .map_err(|d| diags.extend(d))
        .ok();
    let source = source.map_err(|d| diags.extend(d)).ok();
    match (read, source) {
        (Some((m, k)), Some(s)) if !diags.has_errors() => resolve(&m, catalogue, target, &k, &s),
        _ => Err(diags),
    }
}
