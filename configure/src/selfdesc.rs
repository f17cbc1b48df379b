//! The self-description every image carries (docs/self-description.md): two ELF sections
//! that no loader reads, written by `petrel configure` into the generated crate and read back
//! by `petrel inspect`.
//!
//! - `.petrel-v0`: zlib-compressed JSON, a [`Description`]: the unikernel's name, version,
//!   target and boot arguments (the entries of `bootargs.json`).
//! - `.dep-v0`: zlib-compressed JSON in cargo-auditable's format (an
//!   [`auditable_serde::VersionInfo`]), so that `cargo audit bin` and the other
//!   cargo-auditable readers scan a unikernel as they scan any Rust binary.
//!
//! Both are plain data with no paths and no times: the image stays reproducible.

use crate::catalogue::ArgDecl;
use auditable_serde::VersionInfo;
use serde::{Deserialize, Serialize};

/// The section holding the [`Description`].
pub const DESCRIPTION_SECTION: &str = ".petrel-v0";
/// The section holding the dependency list, named as cargo-auditable names it.
pub const DEPENDENCIES_SECTION: &str = ".dep-v0";
/// The [`Description::format`] this Petrel writes and reads.
pub const FORMAT: u32 = 1;

/// Largest compressed section a reader takes: far above what any unikernel needs (hello's
/// are a few hundred bytes), far below what could hurt.
pub const MAX_COMPRESSED: usize = 1 << 20;
/// Largest JSON a compressed section may expand to (a zlib bomb stops here).
pub const MAX_JSON: usize = 8 << 20;

/// What `.petrel-v0` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// The version of this layout, [`FORMAT`].
    pub format: u32,
    /// `[unikernel] name`.
    pub name: String,
    /// The user's crate version.
    pub version: String,
    /// `unix`, `hvt`, `spt`, `virtio` or `xen`.
    pub target: String,
    /// Every boot argument, as `bootargs.json` lists them (same order, same fields).
    pub arguments: Vec<Argument>,
}

/// One boot argument: an entry of `bootargs.json` (docs/bootargs-json.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argument {
    /// Its declaration: name, type, default, doc, section, required, repeated.
    #[serde(flatten)]
    pub decl: ArgDecl,
    /// The device instance that declares it; empty for the application's own.
    pub device: String,
}

/// Compresses a section's JSON as cargo-auditable does (zlib), at a fixed level so that the
/// same JSON always gives the same bytes.
pub fn compress(json: &str) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(json.as_bytes(), 10)
}

/// `.petrel-v0`'s bytes for `description`.
pub fn encode_description(description: &Description) -> Vec<u8> {
    // Serializing strings and booleans cannot fail.
    compress(&serde_json::to_string(description).unwrap_or_default())
}

/// `.dep-v0`'s bytes for `dependencies`.
pub fn encode_dependencies(dependencies: &VersionInfo) -> Vec<u8> {
    // Serializing strings, versions and indices cannot fail.
    compress(&serde_json::to_string(dependencies).unwrap_or_default())
}

/// Why a section could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Larger than [`MAX_COMPRESSED`].
    #[error("{0} bytes, more than a self-description ever takes")]
    TooLarge(usize),
    /// Not a zlib stream, or one expanding past [`MAX_JSON`].
    #[error("not zlib data: {0}")]
    Zlib(String),
    /// Not the JSON expected.
    #[error("not the expected JSON: {0}")]
    Json(String),
    /// A `.petrel-v0` of a later layout.
    #[error("format {0}, this petrel reads format {FORMAT}")]
    Format(u32),
}

fn inflate(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if bytes.len() > MAX_COMPRESSED {
        return Err(DecodeError::TooLarge(bytes.len()));
    }
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, MAX_JSON)
        .map_err(|e| DecodeError::Zlib(e.to_string()))
}

/// Reads `.petrel-v0`'s bytes, trusting nothing.
pub fn decode_description(bytes: &[u8]) -> Result<Description, DecodeError> {
    let json = inflate(bytes)?;
    // The format first, so that a later layout says so instead of failing on a field.
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format: Format =
        serde_json::from_slice(&json).map_err(|e| DecodeError::Json(e.to_string()))?;
    if format.format != FORMAT {
        return Err(DecodeError::Format(format.format));
    }
    serde_json::from_slice(&json).map_err(|e| DecodeError::Json(e.to_string()))
}

/// Reads `.dep-v0`'s bytes, trusting nothing (auditable-serde checks that there is one root
/// and no cycle).
pub fn decode_dependencies(bytes: &[u8]) -> Result<VersionInfo, DecodeError> {
    let json = inflate(bytes)?;
    serde_json::from_slice(&json).map_err(|e| DecodeError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Description {
        Description {
            format: FORMAT,
            name: "hello".into(),
            version: "0.1.0".into(),
            target: "hvt".into(),
            arguments: vec![Argument {
                decl: ArgDecl {
                    name: "hello".into(),
                    ty: "string".into(),
                    default: Some("Hello world!".into()),
                    doc: "The greeting.".into(),
                    section: "APPLICATION OPTIONS".into(),
                    required: false,
                    repeated: false,
                },
                device: String::new(),
            }],
        }
    }

    #[test]
    fn a_description_round_trips_and_encodes_the_same_bytes_twice() {
        let bytes = encode_description(&hello());
        assert_eq!(bytes, encode_description(&hello()));
        assert_eq!(decode_description(&bytes), Ok(hello()));
    }

    #[test]
    fn a_later_format_and_a_zlib_bomb_are_refused() {
        let later = compress(r#"{"format":2,"anything":"else"}"#);
        assert_eq!(decode_description(&later), Err(DecodeError::Format(2)));
        let bomb = compress(&" ".repeat(MAX_JSON + 1));
        assert!(matches!(
            decode_description(&bomb),
            Err(DecodeError::Zlib(_))
        ));
        assert!(matches!(
            decode_dependencies(b"garbage"),
            Err(DecodeError::Zlib(_))
        ));
    }
}
