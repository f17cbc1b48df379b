//! The libvirt domain of a virtio image (`dist/NAME.xml`): direct kernel boot of the image
//! with its command line, its devices in manifest order on fixed PCI slots (the guest binds
//! virtio devices to its manifest in PCI order), and a serial console.

use super::templates;
use serde::Serialize;

/// The memory of a domain, in MiB (what `petrel run` gives QEMU).
pub const MEMORY_MIB: u32 = 128;

/// The domain type: `kvm` for production hosts. Hosts without hardware KVM take `qemu`
/// (TCG), as docs/deploy.md says.
pub const DOMAIN_TYPE: &str = "kvm";

/// The PCI slot of the first device; slots 0 to 2 hold the host bridge, the PIIX3 and the
/// display libvirt adds on `pc` machines.
pub const FIRST_SLOT: usize = 3;

/// The last PCI slot of bus 0.
const LAST_SLOT: usize = 0x1f;

/// One device of the domain, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A virtio-net interface on libvirt's `default` network.
    Net {
        /// The manifest name.
        name: String,
    },
    /// A virtio-blk disk backed by a raw file.
    Block {
        /// The manifest name.
        name: String,
        /// The backing file (absolute).
        file: String,
    },
}

/// One virtio image, as its libvirt domain describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The domain name (the unikernel's name).
    pub name: String,
    /// The image (`<kernel>`), absolute.
    pub kernel: String,
    /// The whole command line, already quoted for the guest's bootvar splitter.
    pub cmdline: String,
    /// Devices in manifest order.
    pub devices: Vec<Device>,
    /// `build` or `run`: the command that wrote the file.
    pub command: &'static str,
}

/// A device as the template lays it out.
#[derive(Serialize)]
struct Slot<'a> {
    name: &'a str,
    block: bool,
    source: &'a str,
    dev: String,
    slot: String,
}

/// Renders the domain XML of `domain`. Fails on text XML cannot carry (a control character)
/// and on more devices than PCI bus 0 has slots for.
pub fn render(domain: &Domain) -> Result<String, String> {
    let texts = [&domain.name, &domain.kernel, &domain.cmdline]
        .into_iter()
        .chain(domain.devices.iter().filter_map(|d| match d {
            Device::Block { file, .. } => Some(file),
            Device::Net { .. } => None,
        }));
    for text in texts {
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(format!(
                "{text:?}: a libvirt domain cannot carry the control character {c:?}"
            ));
        }
    }
    let free = LAST_SLOT + 1 - FIRST_SLOT;
    if domain.devices.len() > free {
        return Err(format!(
            "a libvirt domain on one PCI bus takes at most {free} devices; this image has {}",
            domain.devices.len()
        ));
    }
    let mut disks = 0;
    let slots: Vec<Slot> = domain
        .devices
        .iter()
        .enumerate()
        .map(|(n, device)| {
            let slot = format!("{:#04x}", FIRST_SLOT + n);
            match device {
                Device::Net { name } => Slot {
                    name,
                    block: false,
                    source: "",
                    dev: String::new(),
                    slot,
                },
                Device::Block { name, file } => {
                    disks += 1;
                    Slot {
                        name,
                        block: true,
                        source: file,
                        dev: disk_name(disks - 1),
                        slot,
                    }
                }
            }
        })
        .collect();
    let env = templates::environment();
    let ctx = minijinja::context! {
        command => domain.command,
        domain_type => DOMAIN_TYPE,
        name => &domain.name,
        memory => MEMORY_MIB,
        kernel => &domain.kernel,
        cmdline => &domain.cmdline,
        first_slot => FIRST_SLOT,
        devices => minijinja::Value::from(minijinja::value::Serde(&slots)),
    };
    templates::render(&env, templates::VIRTIO_LIBVIRT_XML, &ctx).map_err(|e| e.to_string())
}

/// The guest-visible name libvirt wants for the `n`th virtio disk: vda .. vdz, then vdaa ..
/// (as the Linux kernel names them; at most 29 devices fit on the bus anyway).
fn disk_name(n: usize) -> String {
    let letter = |i: usize| char::from(b'a' + (i % 26) as u8);
    if n < 26 {
        format!("vd{}", letter(n))
    } else {
        format!("vd{}{}", letter(n / 26 - 1), letter(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(devices: Vec<Device>) -> Domain {
        Domain {
            name: "two-disks".into(),
            kernel: "/srv/unikernels/dist/two-disks.virtio".into(),
            cmdline: r#"--hello="a & <b>""#.into(),
            devices,
            command: "build",
        }
    }

    #[test]
    fn lays_devices_out_in_manifest_order() {
        let text = render(&domain(vec![
            Device::Block {
                name: "backup".into(),
                file: "/srv/unikernels/dist/backup.img".into(),
            },
            Device::Net {
                name: "service".into(),
            },
            Device::Block {
                name: "storage".into(),
                file: "/srv/unikernels/dist/storage.img".into(),
            },
        ]))
        .expect("renders");
        insta::assert_snapshot!(text);
        // XML comments cannot hold `--`: only the template's own words go in them.
        for comment in text.split("<!--").skip(1) {
            let body = comment.split("-->").next().unwrap_or_default();
            assert!(!body.contains("--"), "{body}");
        }
    }

    #[test]
    fn names_disks_and_refuses_what_xml_cannot_carry() {
        assert_eq!(disk_name(0), "vda");
        assert_eq!(disk_name(25), "vdz");
        assert_eq!(disk_name(26), "vdaa");
        let mut bad = domain(vec![]);
        bad.cmdline = "a\u{1}b".into();
        let err = render(&bad).expect_err("a control character");
        assert!(err.contains("control character '\\u{1}'"), "{err}");
        let many = (0..30)
            .map(|n| Device::Net {
                name: format!("n{n}"),
            })
            .collect();
        let err = render(&domain(many)).expect_err("too many devices");
        assert!(err.contains("at most 29 devices"), "{err}");
    }
}
