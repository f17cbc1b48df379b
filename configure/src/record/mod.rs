//! Build records: what `petrel build --record` writes beside an image
//! (`dist/NAME.TARGET.record.json`) so that anyone can rebuild it from the same sources and
//! compare hashes ([`rebuild`]), as orb and builds.robur.coop do for MirageOS: where the
//! sources are (a git commit, and whether the tree had changes), the Cargo.lock's sha256,
//! the compiler (`rustc -vV`), the target, the configure keys, the implementations'
//! features, and the image's sha256.

pub mod rebuild;
mod source;

use crate::error::Error;
use crate::pipeline::Configured;
use crate::project::{self, Project};
use crate::status::status;
use crate::target::Target;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use source::Source;

/// The `type` of a record, so that tools (and `rebuild`) know what a JSON file is.
pub const RECORD_TYPE: &str = "petrel.build-record";

/// The record format's version; `rebuild` refuses others.
pub const RECORD_VERSION: u32 = 1;

/// Cargo's profile of the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// `cargo build --release` (petrel's default).
    Release,
    /// `petrel build --debug`.
    Debug,
}

/// One build record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always [`RECORD_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Always [`RECORD_VERSION`].
    pub version: u32,
    /// The version of the `petrel` that built the image.
    pub petrel: String,
    /// The unikernel's name.
    pub name: String,
    /// The target.
    pub target: Target,
    /// The cargo profile.
    pub profile: Profile,
    /// The image's file name in `dist/`.
    pub image: String,
    /// The image's sha256, in lowercase hex.
    pub sha256: String,
    /// Where the sources were.
    pub source: Source,
    /// The project's Cargo.lock's sha256 (lowercase hex).
    pub cargo_lock_sha256: String,
    /// `rustc -vV` as the project's toolchain printed it.
    pub rustc: String,
    /// Every configure key with its value.
    pub keys: BTreeMap<String, String>,
    /// The features of each implementation crate linked in, by package.
    pub features: BTreeMap<String, Vec<String>>,
}

impl Record {
    /// Reads and checks the record at `path`: one line on what is wrong otherwise.
    pub fn read(path: &Path) -> Result<Record, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::msg(format!("{}: cannot read the record: {e}", path.display())))?;
        Record::parse(&text).map_err(|why| {
            Error::msg(format!(
                "{}: not a valid petrel build record: {why}",
                path.display()
            ))
        })
    }

    /// Parses and checks a record's text.
    pub fn parse(text: &str) -> Result<Record, String> {
        let record: Record = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if record.kind != RECORD_TYPE {
            return Err(format!(
                "its type is {:?}, not {RECORD_TYPE:?}",
                record.kind
            ));
        }
        if record.version != RECORD_VERSION {
            return Err(format!(
                "format version {} (this petrel reads version {RECORD_VERSION})",
                record.version
            ));
        }
        for (what, hash) in [
            ("sha256", &record.sha256),
            ("cargo_lock_sha256", &record.cargo_lock_sha256),
        ] {
            if !is_sha256(hash) {
                return Err(format!("{what} {hash:?} is not 64 lowercase hex digits"));
            }
        }
        crate::manifest::check_unikernel_name(&record.name)
            .map_err(|why| format!("name {:?}: {why}", record.name))?;
        if record.image != record.target.image_name(&record.name) {
            return Err(format!(
                "image {:?} is not the {} image of {:?}",
                record.image, record.target, record.name
            ));
        }
        record.source.check()?;
        Ok(record)
    }

    /// The record's JSON, pretty-printed, ending with a newline.
    pub fn to_json(&self) -> String {
        // Plain data (strings, maps, a unit enum) always serializes.
        let mut text = serde_json::to_string_pretty(self).expect("a record serializes");
        text.push('\n');
        text
    }
}

/// The record's file name for an image of `name` built for `target`.
pub fn file_name(name: &str, target: Target) -> String {
    format!("{name}.{target}.record.json")
}

/// Whether `s` is a sha256 in lowercase hex.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The sha256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sha256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    Ok(sha256_hex(&bytes))
}

/// `rustc -vV` as cargo would run it in `dir` (`$RUSTC`, else `rustc`, under the project's
/// toolchain file if it has one).
pub fn rustc_version(dir: &Path) -> Result<String, Error> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(&rustc)
        .arg("-vV")
        .current_dir(dir)
        .output()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", rustc.to_string_lossy())))?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "{} -vV failed: {}",
            rustc.to_string_lossy(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `configured` builds, with the image's hash and where its sources are: everything but
/// the toolchain and the lock file.
pub fn of_build(
    project: &Project,
    configured: &Configured,
    image: &Path,
    profile: Profile,
) -> Result<Record, Error> {
    let plan = &configured.plan;
    let lock = project.dir.join("Cargo.lock");
    Ok(Record {
        kind: RECORD_TYPE.into(),
        version: RECORD_VERSION,
        petrel: env!("CARGO_PKG_VERSION").into(),
        name: plan.name.clone(),
        target: plan.target,
        profile,
        image: plan.target.image_name(&plan.name),
        sha256: sha256_file(image)?,
        source: Source::of_project(&project.dir)?,
        cargo_lock_sha256: sha256_file(&lock)?,
        rustc: rustc_version(&project.dir)?,
        keys: configured
            .resolved
            .keys
            .values
            .iter()
            .map(|k| (k.def.name.clone(), k.value.clone()))
            .collect(),
        features: plan
            .impls
            .iter()
            .map(|i| (i.package.clone(), i.features.clone()))
            .collect(),
    })
}

/// `petrel build --record`: writes the record of the image just built beside it.
pub fn write(
    project: &Project,
    configured: &Configured,
    image: &Path,
    profile: Profile,
) -> Result<PathBuf, Error> {
    let record = of_build(project, configured, image, profile)?;
    let dist = image.parent().unwrap_or(Path::new("."));
    let path = dist.join(file_name(&record.name, record.target));
    std::fs::write(&path, record.to_json())
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    if let Source::Git { dirty: true, .. } = record.source {
        crate::status::warning(
            "the tree has uncommitted changes: `petrel rebuild` builds the commit, not them",
        );
    }
    status(
        "Record",
        format!(
            "{} (sha256 {})",
            project::relative_path(&project.dir, &path),
            record.sha256
        ),
    );
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            kind: RECORD_TYPE.into(),
            version: RECORD_VERSION,
            petrel: "0.1.0".into(),
            name: "hello".into(),
            target: Target::Spt,
            profile: Profile::Release,
            image: "hello.spt".into(),
            sha256: "a".repeat(64),
            source: Source::Git {
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                dirty: false,
                path: "examples/hello".into(),
            },
            cargo_lock_sha256: "b".repeat(64),
            rustc: "rustc 1.95.0\n".into(),
            keys: [("net".to_string(), "direct".to_string())].into(),
            features: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trips_and_hashes() {
        let r = record();
        assert_eq!(Record::parse(&r.to_json()), Ok(r));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bad_records_are_one_clear_line() {
        let good = record().to_json();
        let cases = [
            ("", "EOF while parsing"),
            ("[]", "expected struct Record"),
            (
                &good.replace("\"version\": 1", "\"version\": 7"),
                "format version 7",
            ),
            (
                &good.replace(&"a".repeat(64), "abc"),
                "sha256 \"abc\" is not",
            ),
            (
                &good.replace("hello.spt", "other.spt"),
                "image \"other.spt\"",
            ),
            (&good.replace("\"spt\"", "\"vax\""), "unknown variant `vax`"),
            (
                &good.replace("petrel.build-record", "x"),
                "its type is \"x\"",
            ),
            (&good.replace("\"name\"", "\"nom\""), "unknown field `nom`"),
            (&good.replace("0123456789abcdef0123", "zz"), "commit"),
            (&good.replace("examples/hello", "../../etc"), "path"),
        ];
        for (text, want) in cases {
            let err = Record::parse(text).expect_err(want);
            assert!(err.contains(want), "{want}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
