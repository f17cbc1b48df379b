//! The user's `Cargo.toml`: Petrel owns one table, `[workspace]`, appended at the end with a
//! marker comment. Every other byte stays as the user wrote it, and [`remove`] gives back the
//! file exactly as it was before the first configure.

use toml_edit::{DocumentMut, Item};

/// The comment that marks Petrel's table. `remove` only touches a table that carries it.
pub const MARKER: &str = "# Added by `petrel configure`";

/// Added to the marker when the user's file did not end with a newline.
const NO_FINAL_NEWLINE: &str = " (this file had no final newline)";

/// Where the link to a Petrel checkout outside the project lives (see
/// [`super::PetrelLink`]). Excluded from the workspace, so that cargo takes Petrel's own
/// workspace for the crates behind it.
pub const PETREL_LINK: &str = ".petrel/petrel-src";

/// Where the generated crate lives, relative to the project.
pub const APP_DIR: &str = ".petrel/app";

/// Why the user's `Cargo.toml` cannot be edited.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    /// Not valid TOML.
    #[error("Cargo.toml is not valid TOML: {0}")]
    Parse(String),
    /// The user already has a `[workspace]` table that Petrel did not write.
    #[error(
        "Cargo.toml already has a [workspace] table that petrel did not write; petrel needs it to add the generated crate (.petrel/app). Move the project out of that workspace, or remove the table"
    )]
    ForeignWorkspace,
}

/// `contents` with Petrel's `[workspace]` table in place (added, or replaced if present).
pub fn apply(contents: &str) -> Result<String, ManifestError> {
    let doc = parse(contents)?;
    if let Some(existing) = doc.get("workspace") {
        if !is_ours(existing) {
            return Err(ManifestError::ForeignWorkspace);
        }
        // Rebuild from what the user had, so the result never depends on an older table.
        return apply(&remove(contents)?);
    }
    // Appended as text, not through toml_edit, which would normalise the user's line endings.
    // A file without a final newline gets one, and the marker says so, so that `remove` can
    // take it away again.
    let (separator, note) = if contents.is_empty() {
        ("", "")
    } else if contents.ends_with('\n') {
        ("\n", "")
    } else {
        ("\n\n", NO_FINAL_NEWLINE)
    };
    Ok(format!("{contents}{separator}{}", block(note)))
}

/// `contents` without Petrel's table: byte for byte what it was before [`apply`].
/// A file without Petrel's table is returned unchanged.
pub fn remove(contents: &str) -> Result<String, ManifestError> {
    let mut doc = parse(contents)?;
    match doc.get("workspace") {
        Some(item) if is_ours(item) => {}
        _ => return Ok(contents.to_string()),
    }
    // The usual case: our block is still the end of the file, exactly as written.
    for (note, separator) in [(NO_FINAL_NEWLINE, "\n\n"), ("", "\n")] {
        if let Some(before) = contents.strip_suffix(&block(note)) {
            let had_separator =
                before.ends_with(separator) && (note.is_empty() || !before.ends_with("\n\n\n"));
            return Ok(if had_separator {
                &before[..before.len() - separator.len()]
            } else {
                before
            }
            .to_string());
        }
    }
    // The user edited our table or wrote after it: remove the table structurally.
    doc.remove("workspace");
    Ok(doc.to_string())
}

/// Petrel's block as `apply` appends it.
fn block(note: &str) -> String {
    format!(
        "{MARKER}{note}: `cargo build` builds the unikernel through the generated crate.\n\
         # Edit unikernel.toml rather than this table; `petrel clean` removes it.\n\
         [workspace]\n\
         members = [\"{APP_DIR}\"]\n\
         default-members = [\"{APP_DIR}\"]\n\
         exclude = [\"{PETREL_LINK}\"]\n"
    )
}

/// True if `contents` has Petrel's table.
pub fn has_petrel_table(contents: &str) -> bool {
    parse(contents).is_ok_and(|doc| doc.get("workspace").is_some_and(is_ours))
}

fn parse(contents: &str) -> Result<DocumentMut, ManifestError> {
    contents
        .parse::<DocumentMut>()
        .map_err(|e| ManifestError::Parse(e.to_string()))
}

fn is_ours(item: &Item) -> bool {
    item.as_table()
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .is_some_and(|p| p.contains(MARKER))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTED: &str = "# My unikernel.\n[package]\nname = \"hello\"   # the name\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n# The facade.\npetrel = { path = \"../../petrel\" }\n";

    fn round_trip(original: &str) {
        let applied = apply(original).expect("apply");
        assert!(has_petrel_table(&applied), "{applied}");
        assert!(applied.contains("members = [\".petrel/app\"]"), "{applied}");
        assert_eq!(
            apply(&applied).expect("apply twice"),
            applied,
            "apply is idempotent"
        );
        assert_eq!(
            remove(&applied).expect("remove"),
            original,
            "remove restores every byte"
        );
    }

    #[test]
    fn round_trips_byte_for_byte() {
        round_trip(COMMENTED);
        round_trip("[package]\nname = \"x\"\nversion = \"0.1.0\"");
        round_trip("[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n");
        round_trip("[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n\n");
        round_trip("[package]\r\nname = \"x\"\r\nversion = \"0.1.0\"\r\n");
        round_trip("");
        round_trip("\n");
        round_trip("[package]\nname = \"x\"\n\n\n\n");
    }

    #[test]
    fn removes_an_edited_table_structurally() {
        let applied = apply(COMMENTED).expect("apply");
        let edited = applied.replace(
            "default-members = [\".petrel/app\"]",
            "default-members = [\".petrel/app\", \"x\"]",
        );
        let removed = remove(&edited).expect("remove");
        assert!(!removed.contains("[workspace]"), "{removed}");
        assert!(removed.starts_with(COMMENTED.trim_end()), "{removed}");
    }

    #[test]
    fn appends_at_the_end_with_the_marker() {
        let applied = apply(COMMENTED).expect("apply");
        assert!(applied.starts_with(COMMENTED));
        let tail = &applied[COMMENTED.len()..];
        assert!(
            tail.starts_with("\n# Added by `petrel configure`"),
            "{tail}"
        );
    }

    #[test]
    fn refuses_a_workspace_it_did_not_write() {
        let user = "[package]\nname = \"x\"\n\n[workspace]\nmembers = [\"a\"]\n";
        assert_eq!(apply(user), Err(ManifestError::ForeignWorkspace));
        assert_eq!(
            remove(user).expect("remove"),
            user,
            "a foreign table is left alone"
        );
    }

    #[test]
    fn reports_invalid_toml() {
        assert!(matches!(apply("[package"), Err(ManifestError::Parse(_))));
    }
}
