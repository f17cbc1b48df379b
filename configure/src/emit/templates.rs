//! The minijinja environment: every template of `templates/`, embedded in the binary, with
//! strict undefined values (a missing variable is an error, never an empty string) and the
//! escaping filters generated code needs.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// Template names, as addressed by the emitters.
pub const APP_CARGO_TOML: &str = "app/Cargo.toml.j2";
/// The generated crate's `main.rs`.
pub const APP_MAIN_RS: &str = "app/main.rs.j2";
/// The generated crate's `build.rs` (freestanding targets: linker script).
pub const APP_BUILD_RS: &str = "app/build.rs.j2";
/// `.cargo/config.toml` of the project.
pub const CARGO_CONFIG: &str = "cargo-config.toml.j2";

/// The Solo5 linker script (hvt, spt).
pub const SOLO5_LINK_LD: &str = "solo5/link.ld.j2";
/// The virtio linker script.
pub const VIRTIO_LINK_LD: &str = "virtio/link.ld.j2";
/// The xen (PVH) linker script.
pub const XEN_LINK_LD: &str = "xen/link.ld.j2";
/// The xl configuration of a xen image.
pub const XEN_XL_CFG: &str = "xen/xl.cfg.j2";
/// The Solo5 manifest JSON of an hvt or spt image (`dist/NAME.manifest.json`).
pub const SOLO5_MANIFEST_JSON: &str = "solo5/manifest.json.j2";
/// The libvirt domain of a virtio image (`dist/NAME.xml`).
pub const VIRTIO_LIBVIRT_XML: &str = "virtio/libvirt.xml.j2";
/// `petrel new`: Cargo.toml.
pub const NEW_CARGO_TOML: &str = "new/Cargo.toml.j2";
/// `petrel new`: unikernel.toml.
pub const NEW_UNIKERNEL_TOML: &str = "new/unikernel.toml.j2";
/// `petrel new`: src/lib.rs.
pub const NEW_LIB_RS: &str = "new/lib.rs.j2";
/// `petrel new`: .gitignore.
pub const NEW_GITIGNORE: &str = "new/gitignore";

/// Every embedded template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        SOLO5_LINK_LD,
        include_str!("../../../templates/solo5/link.ld.j2"),
    ),
    (
        VIRTIO_LINK_LD,
        include_str!("../../../templates/virtio/link.ld.j2"),
    ),
    (
        XEN_LINK_LD,
        include_str!("../../../templates/xen/link.ld.j2"),
    ),
    (XEN_XL_CFG, include_str!("../../../templates/xen/xl.cfg.j2")),
    (
        SOLO5_MANIFEST_JSON,
        include_str!("../../../templates/solo5/manifest.json.j2"),
    ),
    (
        VIRTIO_LIBVIRT_XML,
        include_str!("../../../templates/virtio/libvirt.xml.j2"),
    ),
    (
        APP_CARGO_TOML,
        include_str!("../../../templates/app/Cargo.toml.j2"),
    ),
    (
        APP_MAIN_RS,
        include_str!("../../../templates/app/main.rs.j2"),
    ),
    (
        APP_BUILD_RS,
        include_str!("../../../templates/app/build.rs.j2"),
    ),
    (
        CARGO_CONFIG,
        include_str!("../../../templates/cargo-config.toml.j2"),
    ),
    (
        NEW_CARGO_TOML,
        include_str!("../../../templates/new/Cargo.toml.j2"),
    ),
    (
        NEW_UNIKERNEL_TOML,
        include_str!("../../../templates/new/unikernel.toml.j2"),
    ),
    (NEW_LIB_RS, include_str!("../../../templates/new/lib.rs.j2")),
    (
        NEW_GITIGNORE,
        include_str!("../../../templates/new/gitignore"),
    ),
];

/// The environment with every template loaded.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every template escapes with the filter of its own language, never minijinja's HTML
    // escaping (which it would pick for `.xml` names).
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_filter("rust_str", rust_str);
    env.add_filter("toml_str", toml_str);
    env.add_filter("xl_str", xl_str);
    env.add_filter("json_str", json_str);
    env.add_filter("xml_str", xml_str);
    env.add_filter("xml_text", xml_text);
    for (name, source) in TEMPLATES {
        // The templates ship inside the binary; a syntax error in one is caught by the unit
        // test below before any release.
        env.add_template(name, source)
            .expect("embedded templates are valid");
    }
    env
}

/// A Rust string literal for `s`: every quote, backslash and control character escaped, so
/// no text from a user's file can break out of the literal.
fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// A TOML basic string for `s`.
fn toml_str(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// An xl configuration string for `s` (libxlu's quoted strings: `\\` and `\"` escapes).
/// Control characters are refused before rendering (`emit::xl`).
fn xl_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A JSON string for `s`.
fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// XML character data for `s` (`&`, `<` and `>` escaped). Control characters, which XML 1.0
/// cannot carry at all, are refused before rendering (`emit::libvirt`).
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A double-quoted XML attribute value for `s`.
fn xml_str(s: &str) -> String {
    format!("\"{}\"", xml_text(s).replace('"', "&quot;"))
}

/// Renders `template` with `ctx`, normalised to end with exactly one newline.
pub fn render(
    env: &Environment<'static>,
    template: &'static str,
    ctx: &minijinja::Value,
) -> Result<String, super::EmitError> {
    let mut out = env
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .map_err(|source| super::EmitError { template, source })?;
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).expect("template is registered");
        }
    }

    #[test]
    fn every_targets_linker_script_is_embedded() {
        let env = environment();
        for t in crate::target::Target::ALL {
            let spec = t.spec();
            assert_eq!(spec.link_script.is_some(), spec.triple.is_some(), "{t}");
            if let Some(script) = spec.link_script {
                env.get_template(script)
                    .unwrap_or_else(|e| panic!("{t}: {script}: {e}"));
            }
        }
    }

    #[test]
    fn escapes_strings_for_generated_code() {
        assert_eq!(rust_str(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(rust_str("x\n\"); panic!(\""), r#""x\n\"); panic!(\"""#);
        assert_eq!(toml_str(r#"C:\x "y""#), r#"'C:\x "y"'"#);
        assert_eq!(
            xl_str(r#""--hello=a \"b\"""#),
            r#""\"--hello=a \\\"b\\\"\"""#
        );
        assert_eq!(json_str("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(xml_text("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(xml_str(r#"x" y='z'"#), r#""x&quot; y='z'""#);
    }
}
