//! The Solo5 manifest of an hvt or spt image as JSON (`dist/NAME.manifest.json`): the format
//! `solo5-elftool gen-manifest` reads, byte for byte what `solo5-elftool query-manifest`
//! prints for the image, so that deploy tools (albatross) and people see the device names
//! without reading the ELF note.

use super::{ManifestDevice, templates};

/// Renders the manifest of `devices` (in handle order, without Solo5's reserved entry 0).
pub fn render(devices: &[ManifestDevice]) -> Result<String, super::EmitError> {
    let env = templates::environment();
    let ctx =
        minijinja::context! { devices => minijinja::Value::from(minijinja::value::Serde(devices)) };
    templates::render(&env, templates::SOLO5_MANIFEST_JSON, &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, kind: &str) -> ManifestDevice {
        ManifestDevice {
            name: name.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn is_the_json_elftool_reads() {
        let text = render(&[
            device("service", "NET_BASIC"),
            device("storage", "BLOCK_BASIC"),
        ])
        .expect("renders");
        insta::assert_snapshot!(text);
        let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(json["type"], "solo5.manifest");
        assert_eq!(json["devices"][1]["name"], "storage");
    }

    #[test]
    fn without_devices_is_still_a_manifest() {
        let text = render(&[]).expect("renders");
        let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(json["devices"], serde_json::json!([]));
        // As `solo5-elftool query-manifest` prints an empty list.
        assert!(text.contains("\"devices\": [\n  ]\n"), "{text}");
    }
}
