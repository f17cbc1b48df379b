//! `petrel run --target xen`: on a Xen dom0, `xl create -F -c` with the image's xl
//! configuration; anywhere else, the project's Xen-in-QEMU testbed (`scripts/xen-testbed.sh`:
//! a real Xen and a Linux dom0 under QEMU TCG). Either way the guest's console goes to
//! stdout and its exit status comes back from the `petrel: exit status N` line the runtime
//! prints last (Xen itself keeps only poweroff or crash).

use super::{Backing, BootDevices, quoted, shell_words, which};
use crate::emit::xl::{self, XlGuest};
use crate::error::Error;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Where a xen guest boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// This machine is a Xen dom0: `xl` boots the guest.
    Dom0 {
        /// The `xl` program.
        xl: PathBuf,
    },
    /// Anything else: the testbed script.
    Testbed {
        /// `scripts/xen-testbed.sh`.
        script: PathBuf,
    },
}

/// The bridge a network device joins when `--tap NAME=BRIDGE` names none (xl's default).
pub const DEFAULT_BRIDGE: &str = "xenbr0";

/// The xl configuration of `image` booted with `args` and `devices`, written by `command`
/// (`build` or `run`) to `file`.
pub fn config(
    name: &str,
    image: &Path,
    file: &Path,
    args: &[String],
    devices: &BootDevices,
    command: &'static str,
) -> Result<String, Error> {
    let image =
        std::path::absolute(image).map_err(|e| Error::msg(format!("{}: {e}", image.display())))?;
    let mut guest = XlGuest {
        name: name.to_string(),
        file: file.display().to_string(),
        kernel: image.display().to_string(),
        memory: devices.mem_mib.unwrap_or(xl::MEMORY_MIB),
        cmdline: quoted(args)?.join(" "),
        bridges: vec![],
        disks: vec![],
        command,
    };
    for (_, backing) in &devices.devices {
        match backing {
            Backing::Net(bridge) => guest
                .bridges
                .push(bridge.clone().unwrap_or_else(|| DEFAULT_BRIDGE.into())),
            Backing::Disk(path) => guest.disks.push(
                std::path::absolute(path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
                    .to_string(),
            ),
        }
    }
    xl::render(&guest).map_err(Error::msg)
}

/// Finds where to boot: a dom0 (`/proc/xen/capabilities` says `control_d` and `xl` is on
/// PATH), else the testbed, else one line on what is missing.
pub fn host() -> Result<Host, Error> {
    if is_dom0_at(Path::new("/proc/xen/capabilities"))
        && let Some(xl) = which("xl")
    {
        return Ok(Host::Dom0 { xl });
    }
    let script = testbed_script().ok_or_else(|| {
        Error::msg(
            "this machine is not a Xen dom0 and Petrel's Xen testbed (scripts/xen-testbed.sh) was not found; set PETREL_XEN_TESTBED to it, or PETREL_HOME to the Petrel repository",
        )
    })?;
    let check = Command::new(&script)
        .arg("check")
        .output()
        .map_err(|e| Error::msg(format!("cannot start {}: {e}", script.display())))?;
    if !check.status.success() {
        let why = String::from_utf8_lossy(&check.stderr);
        let why = why
            .lines()
            .last()
            .unwrap_or("not ready")
            .trim_start_matches("xen-testbed: ")
            .trim_start_matches("cannot set up the testbed: ");
        return Err(Error::msg(format!(
            "this machine is not a Xen dom0, and the Xen testbed is not ready ({why}); `{} setup` installs the Xen 4.17 toolstack and QEMU (Debian 12) and downloads Xen and a dom0 kernel, once",
            script.display()
        )));
    }
    Ok(Host::Testbed { script })
}

/// Whether the capabilities file (`/proc/xen/capabilities`) says this is the control domain.
fn is_dom0_at(capabilities: &Path) -> bool {
    std::fs::read_to_string(capabilities).is_ok_and(|c| c.contains("control_d"))
}

/// `$PETREL_XEN_TESTBED`, else `scripts/xen-testbed.sh` of the Petrel repository
/// (`$PETREL_HOME`, else the sources this binary was built from).
fn testbed_script() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PETREL_XEN_TESTBED") {
        return Some(PathBuf::from(p));
    }
    let repo = crate::project::petrel_facade_dir()?.parent()?.to_path_buf();
    Some(repo.join("scripts/xen-testbed.sh")).filter(|p| p.is_file())
}

/// `xl create -F -c CONFIG`: the guest in the foreground with its console attached.
pub fn dom0_command(xl: &Path, config: &Path) -> Command {
    let mut c = Command::new(xl);
    c.args(["create", "-F", "-c"]).arg(config);
    c
}

/// The bridges inside the testbed's dom0 (`xenbr0` has 10.0.0.1/24 and DHCP, `xenbr1`
/// 10.0.1.1/24).
pub const TESTBED_BRIDGES: [&str; 2] = [DEFAULT_BRIDGE, "xenbr1"];

/// The testbed's `run OUTDIR NAME IMAGE CMDLINE`, with the guest's devices in manifest order
/// (each vif on its bridge, each disk a copy of its file in dom0), its memory and its
/// `--publish` forwards (127.0.0.1:HOST to the guest's port, through dom0). The guest's
/// console streams to stdout while it runs, with no time limit unless
/// `XEN_TESTBED_GUEST_TIMEOUT` sets one (a server runs until Ctrl-C).
pub fn testbed_command(
    script: &Path,
    out: &Path,
    name: &str,
    image: &Path,
    args: &[String],
    devices: &BootDevices,
) -> Result<Command, Error> {
    let mut c = Command::new(script);
    let mut bridges = vec![];
    let mut disks = vec![];
    for (device, backing) in &devices.devices {
        match backing {
            Backing::Net(bridge) => {
                let bridge = bridge.as_deref().unwrap_or(DEFAULT_BRIDGE);
                if !TESTBED_BRIDGES.contains(&bridge) {
                    return Err(Error::msg(format!(
                        "--tap {device}={bridge}: the Xen testbed's dom0 has the bridges {} only",
                        TESTBED_BRIDGES.join(" and ")
                    )));
                }
                bridges.push(bridge);
            }
            Backing::Disk(file) => {
                let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
                if file.to_string_lossy().contains(char::is_whitespace) {
                    return Err(Error::msg(format!(
                        "the Xen testbed cannot take a disk file whose name has a space ({})",
                        file.display()
                    )));
                }
                disks.push(format!("{name}={}", file.display()));
            }
        }
    }
    if !bridges.is_empty() {
        c.env("XEN_TESTBED_VIF", format!("{name}={}", bridges.join(",")));
    }
    if !disks.is_empty() {
        c.env("XEN_TESTBED_DISK", disks.join(" "));
    }
    if let Some(mib) = devices.mem_mib {
        c.env("XEN_TESTBED_MEMORY", format!("{name}={mib}"));
    }
    if !devices.publish.is_empty() {
        let mut forwards = Vec::new();
        for f in &devices.publish {
            // The testbed forwards TCP from the host's loopback only (QEMU's user network
            // to dom0, then nc to the guest).
            if f.proto != petrel_usernet::publish::Proto::Tcp
                || f.host_addr != std::net::Ipv4Addr::LOCALHOST
            {
                return Err(Error::msg(format!(
                    "--publish {}:{}:{}/{} on xen: the testbed forwards TCP on 127.0.0.1 only (--publish HOST:GUEST)",
                    f.host_addr,
                    f.host_port,
                    f.guest_port,
                    f.proto.name()
                )));
            }
            forwards.push(format!("{}:{}", f.host_port, f.guest_port));
        }
        c.env("XEN_TESTBED_PUBLISH", forwards.join(" "));
    }
    // No time limit unless the user set one.
    if std::env::var_os("XEN_TESTBED_GUEST_TIMEOUT").is_none() {
        c.env("XEN_TESTBED_GUEST_TIMEOUT", "0");
    }
    c.env("XEN_TESTBED_LIVE", "1")
        .arg("run")
        .arg(out)
        .arg(name)
        .arg(image)
        .arg(quoted(args)?.join(" "));
    Ok(c)
}

/// A domain name from the image's file name: its stem, other characters than
/// `[A-Za-z0-9_-]` replaced (the testbed's rule; xl is less strict).
pub fn domain_name(image: &Path) -> String {
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "petrel".into()
    } else {
        name
    }
}

/// The status in the last `petrel: exit status N` line of a console.
pub fn printed_status(console: &str) -> Option<u8> {
    console
        .lines()
        .rev()
        .find_map(|l| {
            l.trim_end_matches('\r')
                .strip_prefix("petrel: exit status ")
        })
        .and_then(|n| n.trim().parse().ok())
}

/// Boots `image` with `args` on this machine's Xen or on the testbed.
pub fn boot(
    image: &Path,
    args: &[String],
    devices: &BootDevices,
    verbose: bool,
) -> Result<ExitCode, Error> {
    let name = domain_name(image);
    let host = host()?;
    // A run stopped with Ctrl-C ends before it can remove its directory: the next one does.
    remove_stale_scratch(&std::env::temp_dir(), Path::new("/proc"));
    let scratch = std::env::temp_dir().join(format!("{SCRATCH_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| Error::msg(format!("{}: {e}", scratch.display())))?;
    // Every error below still removes the scratch directory.
    let result = (|| match host {
        Host::Dom0 { xl } => {
            let file = scratch.join(format!("{name}.xl"));
            let text = config(&name, image, &file, args, devices, "run")?;
            std::fs::write(&file, text)
                .map_err(|e| Error::msg(format!("{}: {e}", file.display())))?;
            on_dom0(dom0_command(&xl, &file), verbose)
        }
        Host::Testbed { script } => {
            let cmd = testbed_command(&script, &scratch, &name, image, args, devices)?;
            on_testbed(cmd, &scratch, &name, verbose)
        }
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The scratch directory of a run is this prefix and petrel's process id.
const SCRATCH_PREFIX: &str = "petrel-xen-";

/// Removes the scratch directories in `tmp` of runs whose process is gone (no
/// `proc/PID`), e.g. one stopped with Ctrl-C while the testbed ran. Without a `proc`
/// (not Linux) nothing can be told gone, so nothing is removed.
fn remove_stale_scratch(tmp: &Path, proc: &Path) {
    if !proc.is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SCRATCH_PREFIX))
            .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if !proc.join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `xl create -F -c`, passing the console through and reading the printed status.
fn on_dom0(mut cmd: Command, verbose: bool) -> Result<ExitCode, Error> {
    if verbose {
        crate::status::status("Running", shell_words(&cmd));
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::msg(format!("cannot start xl: {e}")))?;
    let mut last = None;
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout().lock();
        for line in std::io::BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line);
            if let Some(n) = printed_status(&text) {
                last = Some(n);
            }
            let _ = stdout.write_all(&line);
            let _ = stdout.write_all(b"\n");
            let _ = stdout.flush();
        }
    }
    let status = child.wait().map_err(|e| Error::msg(format!("xl: {e}")))?;
    Ok(ExitCode::from(match last {
        Some(n) => n,
        None => {
            crate::status::warning(format!(
                "the guest printed no `petrel: exit status` line (xl: {status}); reporting 255"
            ));
            255
        }
    }))
}

/// Runs the testbed (the guest's console goes straight to stdout), then returns the guest's
/// mapped status.
fn on_testbed(mut cmd: Command, out: &Path, name: &str, verbose: bool) -> Result<ExitCode, Error> {
    if verbose {
        crate::status::status("Running", shell_words(&cmd));
    }
    crate::status::status(
        "Booting",
        "a Xen 4.17 dom0 under QEMU (the Xen testbed), then the guest (Ctrl-C stops both)",
    );
    // stderr holds the testbed's summary and its reasons when it fails.
    let ran = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            Error::msg(format!(
                "cannot start {}: {e}",
                cmd.get_program().to_string_lossy()
            ))
        })?;
    if verbose || !ran.status.success() {
        let _ = std::io::stderr().write_all(&ran.stderr);
    }
    if ran.status.code() == Some(130) {
        return Ok(ExitCode::from(130));
    }
    if !ran.status.success() {
        return Err(Error::msg(format!(
            "the Xen testbed failed ({}): {}",
            ran.status,
            String::from_utf8_lossy(&ran.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )));
    }
    let path = out.join(format!("{name}.status"));
    let status = std::fs::read_to_string(&path)
        .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    match status.trim().parse::<u8>() {
        Ok(n) => Ok(ExitCode::from(n)),
        Err(_) => {
            crate::status::warning(format!(
                "the guest did not exit ({}: {})",
                status.trim(),
                match status.trim() {
                    "none" => "xl ended without the guest shutting down",
                    _ => "an unexpected shutdown reason",
                }
            ));
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(c: &Command) -> Vec<String> {
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// The testbed command for guest `g` with no boot arguments and these devices.
    fn testbed_for(devices: &BootDevices) -> Result<Command, Error> {
        testbed_command(
            Path::new("t"),
            Path::new("o"),
            "g",
            Path::new("i"),
            &[],
            devices,
        )
    }

    #[test]
    fn dom0_boots_the_config_in_the_foreground() {
        let c = dom0_command(Path::new("/usr/sbin/xl"), Path::new("/tmp/p/hello.xl"));
        assert_eq!(c.get_program(), "/usr/sbin/xl");
        assert_eq!(words(&c), ["create", "-F", "-c", "/tmp/p/hello.xl"]);
    }

    #[test]
    fn testbed_gets_the_quoted_command_line_and_the_devices() {
        let args = vec!["--hello=Hi there".to_string(), r#"a"b"#.to_string()];
        let none = BootDevices::default();
        let c = testbed_command(
            Path::new("/r/scripts/xen-testbed.sh"),
            Path::new("/tmp/out"),
            "hello-key",
            Path::new("dist/hello-key.xen"),
            &args,
            &none,
        )
        .expect("builds");
        assert_eq!(
            words(&c),
            [
                "run",
                "/tmp/out",
                "hello-key",
                "dist/hello-key.xen",
                r#""--hello=Hi there" a\"b"#
            ]
        );
        let envs = |c: &Command| -> Vec<(String, String)> {
            c.get_envs()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.map(|v| v.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        };
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        // Live, with no time limit: a server runs until Ctrl-C.
        assert_eq!(
            envs(&c),
            [
                pair("XEN_TESTBED_GUEST_TIMEOUT", "0"),
                pair("XEN_TESTBED_LIVE", "1")
            ]
        );
        // Several devices of each kind, in manifest order, and the memory.
        let disk = |f: &str| Backing::Disk(PathBuf::from(f));
        let devices = BootDevices {
            devices: vec![
                ("backup".into(), disk("/d/b.img")),
                ("pubnet".into(), Backing::Net(None)),
                ("privnet".into(), Backing::Net(Some("xenbr1".into()))),
                ("storage".into(), disk("/d/s.img")),
            ],
            mem_mib: Some(64),
            publish: ["8080:80", "2222:22"]
                .iter()
                .map(|spec| petrel_usernet::publish::Forward::parse(spec).expect("valid"))
                .collect(),
            ..BootDevices::default()
        };
        let c = testbed_for(&devices).expect("builds");
        let envs = envs(&c);
        for expected in [
            pair("XEN_TESTBED_VIF", "g=xenbr0,xenbr1"),
            pair("XEN_TESTBED_DISK", "g=/d/b.img g=/d/s.img"),
            pair("XEN_TESTBED_MEMORY", "g=64"),
            pair("XEN_TESTBED_PUBLISH", "8080:80 2222:22"),
        ] {
            assert!(envs.contains(&expected), "{envs:?}");
        }
        // A bridge the testbed's dom0 does not have: one line.
        let elsewhere = BootDevices {
            devices: vec![("pubnet".into(), Backing::Net(Some("br9".into())))],
            ..BootDevices::default()
        };
        let err = testbed_for(&elsewhere).expect_err("no br9").to_string();
        assert!(
            err.contains(
                "--tap pubnet=br9: the Xen testbed's dom0 has the bridges xenbr0 and xenbr1 only"
            ),
            "{err}"
        );
        // UDP, or another host address: the testbed cannot, so one line before it starts.
        for spec in ["5353:53/udp", "0.0.0.0:8080:80"] {
            let devices = BootDevices {
                devices: vec![("service".into(), Backing::Net(None))],
                publish: vec![petrel_usernet::publish::Forward::parse(spec).expect("valid")],
                ..BootDevices::default()
            };
            let err = testbed_for(&devices).expect_err(spec).to_string();
            assert!(
                err.contains("forwards TCP on 127.0.0.1 only"),
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn config_quotes_twice_and_lists_devices_in_manifest_order() {
        let devices = BootDevices {
            devices: vec![
                ("service".into(), Backing::Net(None)),
                (
                    "storage".into(),
                    Backing::Disk(PathBuf::from("/d/disk.img")),
                ),
                ("backup".into(), Backing::Net(Some("br1".into()))),
            ],
            publish: vec![],
            ..BootDevices::default()
        };
        let args = vec![r#"--hello=Hi "you""#.to_string()];
        let devices = BootDevices {
            mem_mib: Some(48),
            ..devices
        };
        let text = config(
            "k",
            Path::new("/p/dist/k.xen"),
            Path::new("/p/dist/k.xl"),
            &args,
            &devices,
            "run",
        )
        .expect("renders");
        assert!(
            text.contains(r#"cmdline = "\"--hello=Hi \\\"you\\\"\"""#),
            "{text}"
        );
        assert!(
            text.contains(r#"vif = [ "bridge=xenbr0", "bridge=br1" ]"#),
            "{text}"
        );
        assert!(
            text.contains(r#"disk = [ "format=raw,vdev=xvda,access=rw,target=/d/disk.img" ]"#),
            "{text}"
        );
        assert!(text.contains("kernel = \"/p/dist/k.xen\""), "{text}");
        assert!(text.contains("memory = 48\n"), "{text}");
    }

    #[test]
    fn removes_only_the_scratch_of_runs_that_are_gone() {
        let root = std::env::temp_dir().join(format!("petrel-stale-{}", std::process::id()));
        let (tmp, proc) = (root.join("tmp"), root.join("proc"));
        for dir in ["petrel-xen-11", "petrel-xen-22", "petrel-xen-x", "other-33"] {
            std::fs::create_dir_all(tmp.join(dir)).expect("mkdir");
        }
        std::fs::create_dir_all(proc.join("22")).expect("mkdir");
        remove_stale_scratch(&tmp, &proc);
        let mut left: Vec<String> = std::fs::read_dir(&tmp)
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["other-33", "petrel-xen-22", "petrel-xen-x"]);
        // No proc: nothing is removed.
        remove_stale_scratch(&tmp, &root.join("none"));
        assert!(tmp.join("petrel-xen-22").is_dir());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn names_domains_and_reads_statuses() {
        assert_eq!(domain_name(Path::new("dist/hello-key.xen")), "hello-key");
        assert_eq!(domain_name(Path::new("x/my app.xen")), "my-app");
        assert_eq!(printed_status("hi\r\npetrel: exit status 64\r\n"), Some(64));
        assert_eq!(
            printed_status("petrel: exit status 1\npetrel: exit status 0\n"),
            Some(0)
        );
        assert_eq!(printed_status("no line"), None);
        let dir = std::env::temp_dir().join(format!("petrel-caps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let caps = dir.join("capabilities");
        std::fs::write(&caps, "control_d\n").expect("write");
        assert!(is_dom0_at(&caps));
        std::fs::write(&caps, "").expect("write");
        assert!(!is_dom0_at(&caps), "a domU");
        assert!(!is_dom0_at(&dir.join("none")), "no Xen");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
