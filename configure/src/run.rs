//! Booting a built image: a process on unix, Petrel's spt and hvt runners (or another
//! Solo5 tender given with `--runner`), QEMU for virtio, xl or the Xen testbed for xen ([`xen`]). The guest always sees exactly the arguments the user typed:
//! targets that receive one command-line string get each argument quoted with the
//! mirage-bootvar rules, which the guest's splitter undoes.

pub mod usernet;
pub mod xen;

use crate::error::Error;
use crate::target::{Boot, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// What backs one device of the image's manifest on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// A block device: a file.
    Disk(PathBuf),
    /// A network device: a tap interface (or `@FD`, an inherited frame socket), or `None`:
    /// a user-mode network (QEMU's on virtio, [`usernet`] on spt, hvt and unix).
    Net(Option<String>),
}

/// Host resources attached to the guest's devices, in manifest order (the order handles and,
/// on virtio, PCI slots follow).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootDevices {
    /// (manifest name, backing), in manifest order.
    pub devices: Vec<(String, Backing)>,
    /// `--publish` forwards into the (first) user-mode network.
    pub publish: Vec<petrel_usernet::Forward>,
    /// Unix: the boot argument (without `--`) that carries each device's backing, by
    /// instance: `disk` or `interface`, prefixed as the registry names them (`storage-disk`).
    pub unix_args: BTreeMap<String, String>,
    /// The instances `petrel run --disk`/`--tap` attached explicitly.
    pub attached: BTreeSet<String>,
    /// `petrel run --mem`: the guest's memory in MiB (else the target's default).
    pub mem_mib: Option<u32>,
}

impl BootDevices {
    /// Whether the user's own arguments give the boot argument that carries the backing of
    /// `instance` on unix (`--storage-disk=FILE` typed after `--`).
    pub fn given_as_argument(&self, instance: &str, args: &[String]) -> bool {
        self.unix_args.get(instance).is_some_and(|arg| {
            let flag = format!("--{arg}");
            args.iter()
                .any(|a| *a == flag || a.strip_prefix(&flag).is_some_and(|v| v.starts_with('=')))
        })
    }
}

/// Boots `image` for `target` with `args`, and returns the guest's exit status. `runner`
/// replaces Petrel's own tender on spt and hvt.
pub fn boot(
    target: &Target,
    image: &Path,
    args: &[String],
    devices: &BootDevices,
    runner: Option<&Path>,
    verbose: bool,
) -> Result<ExitCode, Error> {
    if target.spec().boot == Boot::Xen && runner.is_none() {
        return xen::boot(image, args, devices, verbose);
    }
    let (devices, nets) = usernet::attach(*target, devices, args, verbose)?;
    let mut cmd = command(*target, image, args, &devices, runner)?;
    if !nets.is_empty() {
        petrel_usernet::UserNet::end_with_this_process(&mut cmd);
    }
    if verbose {
        crate::status::status("Running", shell_words(&cmd));
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::msg(format!(
            "cannot start {}: {e}",
            cmd.get_program().to_string_lossy()
        ))
    })?;
    // The runner holds the guest ends now; each network ends when its guest does.
    drop(nets);
    let status = child
        .wait()
        .map_err(|e| Error::msg(format!("waiting for the guest: {e}")))?;
    let code = guest_exit_code(*target, status);
    Ok(ExitCode::from(code))
}

/// The host command that boots `image` (on spt and hvt with `runner` if given).
pub fn command(
    target: Target,
    image: &Path,
    args: &[String],
    devices: &BootDevices,
    runner: Option<&Path>,
) -> Result<Command, Error> {
    let tender = match target.spec().boot {
        Boot::Tender { program, env, kvm } => Some((program, env, kvm)),
        _ => None,
    };
    if runner.is_some() && tender.is_none() {
        return Err(Error::msg(format!(
            "--runner picks the Solo5 tender of spt and hvt images; {target} images do not use one"
        )));
    }
    match target.spec().boot {
        Boot::Process if devices.mem_mib.is_some() => Err(Error::msg(
            "--mem sizes a virtual machine; a unix image is a process and takes no memory size",
        )),
        Boot::Process => {
            let mut c = Command::new(image);
            c.args(unix_args(args, devices)?);
            Ok(c)
        }
        Boot::Tender { program, env, kvm } => {
            let tender = match runner {
                Some(r) => r.to_path_buf(),
                None => petrel_runner(target, program, env)?,
            };
            if kvm {
                check_kvm()?;
            }
            let mut c = Command::new(tender);
            if let Some(mib) = devices.mem_mib {
                c.arg(format!("--mem={mib}"));
            }
            solo5_device_args(&mut c, devices)?;
            c.arg("--").arg(image).args(quoted(args)?);
            Ok(c)
        }
        Boot::Qemu => {
            let qemu = which("qemu-system-x86_64").ok_or_else(|| {
                Error::msg(
                    "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)",
                )
            })?;
            virtio_command(qemu, image, args, devices)
        }
        // `boot` runs xen guests itself (a config file, then xl or the testbed).
        Boot::Xen => Err(Error::msg(
            "xen images boot through `petrel run --target xen` (xl on a dom0, else the Xen testbed)",
        )),
    }
}

/// A virtio guest's memory without `--mem`, in MiB.
const VIRTIO_MEM_MIB: u32 = 128;

/// The QEMU command that boots a virtio image under TCG.
fn virtio_command(
    qemu: PathBuf,
    image: &Path,
    args: &[String],
    devices: &BootDevices,
) -> Result<Command, Error> {
    let mut c = Command::new(qemu);
    // TCG: a software KVM must not run these guests (see README, virtio).
    c.args([
        "-accel",
        "tcg",
        "-M",
        "pc",
        "-display",
        "none",
        "-nodefaults",
        "-no-reboot",
    ]);
    c.arg("-m")
        .arg(devices.mem_mib.unwrap_or(VIRTIO_MEM_MIB).to_string());
    c.args([
        "-serial",
        "stdio",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]);
    // QEMU gives PCI slots in command-line order, and the guest binds them to its manifest
    // in that order.
    let mut user_net_seen = false;
    for (i, (name, backing)) in devices.devices.iter().enumerate() {
        match backing {
            Backing::Disk(file) => {
                let file = file.display().to_string();
                if file.contains(',') {
                    return Err(Error::msg(format!(
                        "disk {name}: QEMU cannot take a file name with a comma ({file})"
                    )));
                }
                c.arg("-drive")
                    .arg(format!("id=blk{i},file={file},if=none,format=raw"));
                c.arg("-device").arg(format!("virtio-blk-pci,drive=blk{i}"));
            }
            Backing::Net(tap) => {
                let netdev = match tap {
                    Some(tap) => format!("tap,id=net{i},ifname={tap},script=no,downscript=no"),
                    None => {
                        let first = !user_net_seen;
                        user_net_seen = true;
                        usernet::qemu_netdev(i, first, devices)
                    }
                };
                c.arg("-netdev").arg(netdev);
                c.arg("-device")
                    .arg(format!("virtio-net-pci,netdev=net{i},romfile="));
            }
        }
    }
    c.arg("-kernel").arg(image);
    let line = quoted(args)?.join(" ");
    if !line.is_empty() {
        c.arg("-append").arg(line);
    }
    Ok(c)
}

/// The arguments of a unix image: a device's backing is its boot argument (petrel-net-unix's
/// `--interface`, petrel-block-unix's `--disk`, with the instance's prefix when it has one),
/// so `--tap NAME=IF` becomes `--interface=IF` and `--disk NAME=FILE` (or the default disk)
/// `--disk=FILE`, ahead of the user's arguments but after their leading `--solo5:LEVEL` ones
/// (which must come first). An argument the user typed wins over a default backing.
fn unix_args(args: &[String], devices: &BootDevices) -> Result<Vec<String>, Error> {
    let leading = args
        .iter()
        .take_while(|a| a.starts_with("--solo5:"))
        .count();
    let mut out = args[..leading].to_vec();
    for (name, backing) in &devices.devices {
        let Some(arg) = devices.unix_args.get(name) else {
            continue;
        };
        let (flag, value) = match backing {
            Backing::Net(Some(tap)) => ("tap", tap.clone()),
            Backing::Net(None) => continue,
            Backing::Disk(file) => ("disk", file.display().to_string()),
        };
        let attached = devices.attached.contains(name) || matches!(backing, Backing::Net(Some(_)));
        if devices.given_as_argument(name, args) {
            if attached {
                return Err(Error::msg(format!(
                    "--{flag} {name}={value} and the boot argument --{arg} both name the {}; give only one",
                    if flag == "tap" {
                        "tap interface"
                    } else {
                        "disk file"
                    }
                )));
            }
            continue;
        }
        out.push(format!("--{arg}={value}"));
    }
    out.extend_from_slice(&args[leading..]);
    Ok(out)
}

/// `--block:NAME=FILE` and `--net:NAME=TAP` (or `@FD`) for the Solo5 tenders, which need a
/// backing for every network device ([`usernet::attach`] gives one to each device without a
/// tap).
fn solo5_device_args(c: &mut Command, devices: &BootDevices) -> Result<(), Error> {
    for (name, backing) in &devices.devices {
        match backing {
            Backing::Disk(file) => c.arg(format!("--block:{name}={}", file.display())),
            Backing::Net(Some(tap)) => c.arg(format!("--net:{name}={tap}")),
            Backing::Net(None) => {
                return Err(Error::msg(format!(
                    "network device `{name}` needs a tap interface on this target: pass --tap {name}=IFACE"
                )));
            }
        };
    }
    Ok(())
}

/// Each argument quoted so that the guest's mirage-bootvar split gives it back exactly.
fn quoted(args: &[String]) -> Result<Vec<String>, Error> {
    args.iter()
        .map(|a| {
            if a.contains('\0') {
                Err(Error::msg(format!(
                    "boot argument {a:?} contains a NUL byte, which no target can pass"
                )))
            } else if a.is_empty() {
                Err(Error::msg(
                    "an empty boot argument cannot reach this target: its command line is split at spaces and empty words are dropped",
                ))
            } else {
                Ok(petrel_bootvar::quote(a))
            }
        })
        .collect()
}

/// The guest's own exit status from the host command's status.
fn guest_exit_code(target: Target, status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (target.spec().boot, status.code()) {
        (Boot::Qemu, Some(c)) => match virtio_guest_code(c) {
            Some(code) => code,
            None => {
                crate::status::warning(format!(
                    "QEMU exited with status {c}, which is not a guest exit (the guest stopped without exiting, or QEMU failed)"
                ));
                1
            }
        },
        (_, Some(c)) => c as u8,
        // Killed by a signal: the shell's convention (SIGSYS from spt's seccomp gives 159).
        (_, None) => 128u8.wrapping_add(status.signal().unwrap_or(0) as u8),
    }
}

/// Undoes the virtio runtime's exit encoding (`variants/platform/platform-virtio/src/exit.rs`): the
/// guest writes `code + 1` (0..=125) or 127 to isa-debug-exit, and QEMU exits with
/// `(value << 1) | 1`. So 0, 63, 64 and 255 come back exactly; codes 126..=254 read as 255.
fn virtio_guest_code(status: i32) -> Option<u8> {
    match status {
        255 => Some(255),
        3..=253 if status % 2 == 1 => Some(((status - 3) / 2) as u8),
        _ => None,
    }
}

/// Petrel's own tender for `target` (spt or hvt): `$PETREL_SPT` / `$PETREL_HVT` (`var`), else
/// `petrel-spt` / `petrel-hvt` (`program`) beside this executable, else on PATH.
fn petrel_runner(target: Target, program: &str, var: &str) -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os(var) {
        return Ok(PathBuf::from(p));
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(program)));
    beside
        .filter(|p| p.is_file())
        .or_else(|| which(program))
        .ok_or_else(|| {
            Error::msg(format!(
                "{program} (Petrel's {target} runner) not found; `cargo install --path runners/{target}` from the Petrel repository, or set {var}"
            ))
        })
}

/// hvt guests run in a KVM virtual machine: says so in one line when `/dev/kvm` is missing
/// or not accessible, before a tender fails less clearly.
fn check_kvm() -> Result<(), Error> {
    check_kvm_at(Path::new("/dev/kvm"))
}

fn check_kvm_at(kvm: &Path) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(kvm)
        .map(drop)
        .map_err(|e| {
            Error::msg(format!(
                "hvt images run under KVM, and {} cannot be used here ({e}); try --target spt",
                kvm.display()
            ))
        })
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// `cmd` as a shell would type it, for `--verbose`.
fn shell_words(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let s = a.to_string_lossy();
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
            {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attaches_devices_in_manifest_order() {
        let devices = BootDevices {
            devices: vec![
                ("service".into(), Backing::Net(None)),
                (
                    "storage".into(),
                    Backing::Disk(PathBuf::from("/d/disk.img")),
                ),
            ],
            publish: vec![petrel_usernet::Forward::parse("8080:80").expect("valid")],
            ..BootDevices::default()
        };
        let qemu =
            virtio_command(PathBuf::from("qemu"), Path::new("img"), &[], &devices).expect("builds");
        {
            let args: Vec<String> = qemu
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let line = args.join(" ");
            let net = line.find("virtio-net-pci").expect("net device");
            let blk = line.find("virtio-blk-pci").expect("block device");
            assert!(net < blk, "PCI order follows the manifest: {line}");
            assert!(
                line.contains("-netdev user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80"),
                "{line}"
            );
            assert!(
                line.contains("-drive id=blk1,file=/d/disk.img,if=none,format=raw"),
                "{line}"
            );
        }
        let mut spt = Command::new("petrel-spt");
        let err = solo5_device_args(&mut spt, &devices).expect_err("spt needs a tap");
        assert!(err.to_string().contains("--tap service=IFACE"), "{err}");
        let mut spt = Command::new("petrel-spt");
        let only_disk = BootDevices {
            devices: vec![devices.devices[1].clone()],
            ..BootDevices::default()
        };
        solo5_device_args(&mut spt, &only_disk).expect("disk only");
        assert_eq!(
            spt.get_args().collect::<Vec<_>>(),
            ["--block:storage=/d/disk.img"]
        );
    }

    #[test]
    fn tap_on_unix_is_the_interface_boot_argument() {
        let words = |c: &Command| -> Vec<String> {
            c.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let user = vec!["--port=80".to_string(), "--ipv4=10.0.0.2/24".to_string()];
        let mut devices = BootDevices {
            devices: vec![("service".into(), Backing::Net(None))],
            unix_args: [("service".to_string(), "interface".to_string())].into(),
            ..BootDevices::default()
        };
        // No --tap: the unikernel's own default (tap0), nothing added.
        let c = command(Target::Unix, Path::new("img"), &user, &devices, None).expect("builds");
        assert_eq!(words(&c), user);
        devices.devices[0].1 = Backing::Net(Some("tap7".into()));
        let c = command(Target::Unix, Path::new("img"), &user, &devices, None).expect("builds");
        assert_eq!(
            words(&c),
            ["--interface=tap7", "--port=80", "--ipv4=10.0.0.2/24"]
        );
        assert_eq!(c.get_program(), "img");
        // Leading --solo5:LEVEL arguments stay first.
        let with_level = vec!["--solo5:debug".to_string(), "--port=80".to_string()];
        let c =
            command(Target::Unix, Path::new("img"), &with_level, &devices, None).expect("builds");
        assert_eq!(
            words(&c),
            ["--solo5:debug", "--interface=tap7", "--port=80"]
        );
        // Both --tap and --interface: refused, rather than a guest error about a repeat.
        for twice in ["--interface=tap8", "--interface"] {
            let err = command(
                Target::Unix,
                Path::new("img"),
                &[twice.to_string()],
                &devices,
                None,
            )
            .expect_err("two tap names");
            assert!(err.to_string().contains("--tap service=tap7"), "{err}");
        }
        // Other targets keep their device flags; the guest's arguments are unchanged.
        let mut spt = Command::new("petrel-spt");
        solo5_device_args(&mut spt, &devices).expect("tap given");
        assert_eq!(words(&spt), ["--net:service=tap7"]);
        let qemu = virtio_command(PathBuf::from("qemu"), Path::new("img"), &user, &devices)
            .expect("builds");
        let line = words(&qemu).join(" ");
        assert!(
            line.contains("-netdev tap,id=net0,ifname=tap7,script=no,downscript=no"),
            "{line}"
        );
        assert!(!line.contains("--interface"), "{line}");
    }

    #[test]
    fn each_unix_instance_gets_its_own_boot_argument() {
        let words = |c: &Command| -> Vec<String> {
            c.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let devices = BootDevices {
            devices: vec![
                ("private".into(), Backing::Net(Some("tap2".into()))),
                ("public".into(), Backing::Net(Some("tap1".into()))),
                ("storage".into(), Backing::Disk(PathBuf::from("/d/s.img"))),
            ],
            unix_args: [
                ("private", "private-interface"),
                ("public", "public-interface"),
                ("storage", "disk"),
            ]
            .map(|(i, a)| (i.to_string(), a.to_string()))
            .into(),
            ..BootDevices::default()
        };
        let c = command(Target::Unix, Path::new("img"), &[], &devices, None).expect("builds");
        assert_eq!(
            words(&c),
            [
                "--private-interface=tap2",
                "--public-interface=tap1",
                "--disk=/d/s.img"
            ]
        );
        // A typed --disk wins over the default disk; an attached one and a typed one clash.
        let typed = ["--disk=/mine.img".to_string()];
        assert!(devices.given_as_argument("storage", &typed));
        assert!(!devices.given_as_argument("storage", &["--disk-x=1".to_string()]));
        let c = command(Target::Unix, Path::new("img"), &typed, &devices, None).expect("builds");
        assert_eq!(
            words(&c),
            [
                "--private-interface=tap2",
                "--public-interface=tap1",
                "--disk=/mine.img"
            ]
        );
        let mut attached = devices.clone();
        attached.attached.insert("storage".into());
        let err = command(Target::Unix, Path::new("img"), &typed, &attached, None)
            .expect_err("two disk files");
        assert!(err.to_string().contains("--disk storage=/d/s.img"), "{err}");
    }

    #[test]
    fn decodes_virtio_exit_statuses() {
        // (guest code, QEMU status) pairs from the runtime's encoding.
        for (code, status) in [(0, 3), (1, 5), (63, 129), (64, 131), (125, 253), (255, 255)] {
            assert_eq!(virtio_guest_code(status), Some(code), "status {status}");
        }
        assert_eq!(virtio_guest_code(0), None, "no exit through the port");
        assert_eq!(virtio_guest_code(1), None, "QEMU's own error");
        assert_eq!(virtio_guest_code(4), None, "even: not from the guest");
    }

    #[test]
    fn quotes_arguments_for_one_string_targets() {
        let args = vec!["--hello=Hello, world".to_string(), r#"a"b\c"#.to_string()];
        let line = quoted(&args).expect("no NUL").join(" ");
        assert_eq!(petrel_bootvar::split(&line).expect("splits"), args);
        assert!(quoted(&["a\0b".to_string()]).is_err());
        assert!(
            quoted(&[String::new()]).is_err(),
            "an empty argument would be dropped by the split"
        );
    }

    #[test]
    fn mem_sizes_each_kind_of_guest() {
        let words = |c: &Command| -> Vec<String> {
            c.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let mut devices = BootDevices::default();
        let qemu =
            virtio_command(PathBuf::from("qemu"), Path::new("k"), &[], &devices).expect("builds");
        assert!(words(&qemu).join(" ").contains("-m 128 "), "the default");
        devices.mem_mib = Some(256);
        let qemu =
            virtio_command(PathBuf::from("qemu"), Path::new("k"), &[], &devices).expect("builds");
        assert!(words(&qemu).join(" ").contains("-m 256 "));
        let spt = command(
            Target::Spt,
            Path::new("k.spt"),
            &[],
            &devices,
            Some(Path::new("/opt/solo5-spt")),
        )
        .expect("builds");
        assert_eq!(words(&spt), ["--mem=256", "--", "k.spt"]);
        let err =
            command(Target::Unix, Path::new("k"), &[], &devices, None).expect_err("a process");
        assert!(err.to_string().contains("takes no memory size"), "{err}");
    }

    #[test]
    fn runner_replaces_petrels_tender_on_solo5_targets_only() {
        let devices = BootDevices::default();
        let args = ["--hello=a b".to_string()];
        let c = command(
            Target::Spt,
            Path::new("k.spt"),
            &args,
            &devices,
            Some(Path::new("/opt/solo5-spt")),
        )
        .expect("builds");
        assert_eq!(c.get_program(), "/opt/solo5-spt");
        let words: Vec<_> = c.get_args().collect();
        assert_eq!(words, ["--", "k.spt", r#""--hello=a b""#]);
        let err = command(
            Target::Virtio,
            Path::new("k"),
            &[],
            &devices,
            Some(Path::new("/opt/x")),
        )
        .expect_err("virtio has no tender");
        assert!(err.to_string().contains("--runner"), "{err}");
    }

    #[test]
    fn no_kvm_is_one_line() {
        let err = check_kvm_at(Path::new("/nonexistent/kvm")).expect_err("no such device");
        let msg = err.to_string();
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(
            msg.starts_with(
                "error: hvt images run under KVM, and /nonexistent/kvm cannot be used here"
            ),
            "{msg}"
        );
    }
}
