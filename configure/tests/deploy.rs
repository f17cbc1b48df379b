//! The deploy files `petrel build` writes beside an image, for examples with devices: the
//! libvirt domain of a virtio image (snapshot, and libvirt's own schema through
//! `virt-xml-validate`) and the Solo5 manifest JSON of an hvt image (snapshot, and the same
//! devices as the manifest note the image is built with).

use petrel_cli::cli::Selection;
use petrel_cli::project::Project;
use petrel_cli::target::Target;
use petrel_cli::{deploy, pipeline};
use std::path::PathBuf;
use std::process::Command;

mod support;
use support::{scratch, skip};

/// The deploy file of `example` for `target`, with the scratch directory's path replaced by
/// `/project`.
fn rendered(example: &str, target: Target) -> (pipeline::Configured, String) {
    let dir = scratch(example);
    let project = Project::open(&dir).expect("a project");
    let selection = Selection {
        target: Some(target),
        ..Selection::default()
    };
    let configured =
        pipeline::resolve(&project, &selection).unwrap_or_else(|e| panic!("{example}: {e}"));
    let image = dir
        .join("dist")
        .join(target.image_name(&configured.plan.name));
    let file = deploy::render(&configured, &image, |name| PathBuf::from("dist").join(name))
        .expect("renders")
        .expect("the target has a deploy file");
    let _ = std::fs::remove_dir_all(&dir);
    let text = file.text.replace(&dir.display().to_string(), "/project");
    (configured, text)
}

/// `virt-xml-validate FILE domain`: libvirt's RelaxNG schema of domains. `None` if the tool
/// is missing (Debian: libvirt-clients and libxml2-utils, which scripts/test.sh installs).
fn validate(xml: &str, name: &str) -> Option<std::process::Output> {
    let file = std::env::temp_dir().join(format!("petrel-{name}-{}.xml", std::process::id()));
    std::fs::write(&file, xml).expect("write the domain");
    let out = Command::new("virt-xml-validate")
        .arg(&file)
        .arg("domain")
        .output()
        .ok();
    let _ = std::fs::remove_file(&file);
    // virt-xml-validate is a shell script: without xmllint it exits 127.
    out.filter(|o| o.status.code() != Some(127))
}

#[test]
fn libvirt_domains_of_virtio_images_are_valid() {
    for example in ["two_disks", "network", "hello"] {
        let (configured, xml) = rendered(example, Target::Virtio);
        insta::assert_snapshot!(format!("libvirt__{example}"), xml);
        // Devices in manifest order: the nth `<address>` is the nth manifest device's.
        let manifest = configured.plan.manifest.expect("virtio has a manifest");
        assert_eq!(
            xml.matches("<address type=\"pci\"").count(),
            manifest.devices.len()
        );
        let Some(out) = validate(&xml, example) else {
            skip(
                "libvirt_domains_of_virtio_images_are_valid",
                "virt-xml-validate is not installed (apt-get install libvirt-clients libxml2-utils)",
            );
            return;
        };
        assert!(
            out.status.success(),
            "{example}: libvirt refuses the domain:\n{}{}\n{xml}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn virt_xml_validate_refuses_a_broken_domain() {
    // The check above can fail: the same tool on a domain of a type libvirt does not know.
    let (_, xml) = rendered("hello", Target::Virtio);
    let broken = xml.replacen("<domain type=\"kvm\"", "<domain type=\"banana\"", 1);
    assert_ne!(broken, xml);
    let Some(out) = validate(&broken, "broken") else {
        skip(
            "virt_xml_validate_refuses_a_broken_domain",
            "virt-xml-validate is not installed (apt-get install libvirt-clients libxml2-utils)",
        );
        return;
    };
    assert!(!out.status.success(), "{broken}");
}

#[test]
fn solo5_manifest_json_lists_the_manifest_devices() {
    for target in [Target::Hvt, Target::Spt] {
        let (configured, json) = rendered("two_disks", target);
        insta::assert_snapshot!(format!("manifest__two_disks_{target}"), json);
        let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let names: Vec<&str> = doc["devices"]
            .as_array()
            .expect("devices")
            .iter()
            .map(|d| d["name"].as_str().expect("a name"))
            .collect();
        let planned: Vec<String> = configured
            .plan
            .manifest
            .expect("a manifest")
            .devices
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, planned);
    }
}
