//! The self-description reader on hand-made ELF files: found, absent, damaged, and fuzzed
//! (random and mutated files never panic). tests/tests/inspect.rs reads real images.

use super::*;
use crate::catalogue::ArgDecl;
use crate::selfdesc::{Description, FORMAT, compress};

/// An x86-64 ELF64 executable with one PT_NULL program header and the sections `sections`
/// (name, bytes), plus `.shstrtab`.
fn elf(sections: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut names = vec![0u8];
    let mut data = Vec::new();
    let mut headers = vec![[0u8; 64]];
    let data_at = 64 + 56;
    let mut add = |name: &str, kind: u32, bytes: &[u8], names: &mut Vec<u8>| {
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&(names.len() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&kind.to_le_bytes());
        h[24..32].copy_from_slice(&((data_at + data.len()) as u64).to_le_bytes());
        h[32..40].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        data.extend_from_slice(bytes);
        headers.push(h);
    };
    for (name, bytes) in sections {
        add(name, 1, bytes, &mut names);
    }
    let mut table_names = names.clone();
    add(".shstrtab", 3, &[], &mut table_names);
    // .shstrtab's own bytes: every name, its own included.
    let strtab_at = (data_at + data.len()) as u64;
    data.extend_from_slice(&table_names);
    let last = headers.len() - 1;
    headers[last][24..32].copy_from_slice(&strtab_at.to_le_bytes());
    headers[last][32..40].copy_from_slice(&(table_names.len() as u64).to_le_bytes());

    let shoff = (data_at + data.len()) as u64;
    let mut out = vec![0u8; 64];
    out[0..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[24..32].copy_from_slice(&0x100000u64.to_le_bytes());
    out[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[54..56].copy_from_slice(&56u16.to_le_bytes());
    out[56..58].copy_from_slice(&1u16.to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes());
    out[60..62].copy_from_slice(&(headers.len() as u16).to_le_bytes());
    out[62..64].copy_from_slice(&(last as u16).to_le_bytes());
    out.extend_from_slice(&[0u8; 56]); // PT_NULL
    out.extend_from_slice(&data);
    for h in headers {
        out.extend_from_slice(&h);
    }
    out
}

fn description() -> Description {
    Description {
        format: FORMAT,
        name: "hello-key".into(),
        version: "0.1.0".into(),
        target: "unix".into(),
        arguments: vec![Argument {
            decl: ArgDecl {
                name: "hello".into(),
                ty: "string".into(),
                default: Some("Hello world!".into()),
                doc: "The greeting to print.".into(),
                section: "APPLICATION OPTIONS".into(),
                required: false,
                repeated: false,
            },
            device: String::new(),
        }],
    }
}

const DEPS: &str = r#"{"packages":[{"name":"hello-key-petrel-unix","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"petrel","version":"0.1.0","source":"local"}],"format":1}"#;

/// A self-describing image.
fn described() -> Vec<u8> {
    elf(&[
        (
            DESCRIPTION_SECTION,
            selfdesc::encode_description(&description()),
        ),
        (DEPENDENCIES_SECTION, compress(DEPS)),
    ])
}

fn read(bytes: &[u8]) -> Result<Inspection, String> {
    inspect_bytes(Path::new("image"), bytes).map_err(|e| e.to_string())
}

#[test]
fn a_self_description_is_read_and_shown() {
    let found = read(&described()).expect("readable");
    assert_eq!(found.name.as_deref(), Some("hello-key"));
    assert_eq!(found.arguments, Some(description().arguments));
    let help = found.help.as_deref().expect("help");
    assert!(
        help.contains("--hello=STRING  (default: Hello world!)"),
        "{help}"
    );
    let deps = found.dependencies.as_ref().expect("dependencies");
    assert_eq!(deps.packages.len(), 2);
    let text = found.text();
    assert!(text.contains("unikernel: hello-key 0.1.0\n"), "{text}");
    assert!(text.contains("  petrel 0.1.0 (local)\n"), "{text}");
}

#[test]
fn an_image_without_one_is_described_without_error() {
    let found = read(&elf(&[(".text", vec![0xc3])])).expect("readable");
    assert!(found.text().contains("no self-description"));
    assert_eq!((found.name, found.dependencies), (None, None));
}

#[test]
fn damaged_self_descriptions_are_one_line_errors() {
    let garbage = elf(&[(DESCRIPTION_SECTION, b"not zlib".to_vec())]);
    let e = read(&garbage).expect_err("garbage");
    assert!(e.contains("self-description is damaged: .petrel-v0"), "{e}");
    let bad_deps = elf(&[(
        DEPENDENCIES_SECTION,
        compress(r#"{"packages":[{"name":"a","version":"one","source":"local"}]}"#),
    )]);
    let e = read(&bad_deps).expect_err("not a version");
    assert!(e.contains(".dep-v0"), "{e}");
    let mut cut = described();
    cut.truncate(cut.len() - 3 * 64); // Only the null section header is left.
    let e = read(&cut).expect_err("truncated table");
    assert!(e.contains("section"), "{e}");
    assert!(!e.trim_end().contains('\n'), "one line: {e}");
}

/// Random and mutated files never make the reader panic. 1000 cases per `cargo test`;
/// `PETREL_FUZZ_ITERATIONS=N` runs N (the run recorded in docs/self-description.md).
#[test]
fn the_reader_never_panics() {
    let valid = described();
    let iterations = std::env::var("PETREL_FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    bolero::check!()
        .with_iterations(iterations)
        .with_type::<(Vec<u8>, Vec<(u16, u8)>, u16, bool)>()
        .for_each(|(raw, flips, cut, use_raw)| {
            let mut bytes = if *use_raw { raw.clone() } else { valid.clone() };
            for (at, value) in flips {
                let len = bytes.len().max(1);
                if let Some(b) = bytes.get_mut(usize::from(*at) % len) {
                    *b = *value;
                }
            }
            bytes.truncate(usize::from(*cut).max(1));
            if let Ok(found) = read(&bytes) {
                let _ = found.text();
            }
        });
}
