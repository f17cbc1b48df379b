//! Network namespaces for the direct-stack tests: a fresh namespace holding one tap
//! interface (the host side of the unikernel's link), commands run inside it, and the host
//! tools the tests drive (`dnsmasq`, `ping`, `curl`, `nc`).
//!
//! Every namespace is named `petrel-<pid>-<n>`, so parallel tests and parallel test binaries
//! never share one, and is deleted when its [`Netns`] is dropped, also when a test panics.
//! No address outside the namespace (or 127.0.0.1) is ever a target.

use crate::skip;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The host side of the link, inside the namespace.
pub const HOST_V4: &str = "10.0.0.1/24";
/// The host side of the link, IPv6.
pub const HOST_V6: &str = "fd00::1/64";

/// A host tool by name: on `PATH`, else in `/usr/sbin` or `/sbin` (where `dnsmasq` and `ip`
/// live, which a non-root `PATH` may leave out).
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Every tool of `names` is installed. Otherwise the test prints a loud SKIPPED line, or
/// fails under CI (`CI` set), where `scripts/test.sh` installs them.
pub fn have_tools(test: &str, names: &[&str]) -> bool {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| tool(n).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip(
        test,
        &format!(
            "{} not installed (apt-get install dnsmasq-base iputils-ping netcat-openbsd curl iproute2)",
            missing.join(", ")
        ),
    );
    false
}

/// A network namespace with a tap interface `tap` whose host side is [`HOST_V4`] and
/// [`HOST_V6`]. Dropping it deletes the namespace (and with it the tap).
pub struct Netns {
    name: String,
    /// The tap interface inside the namespace.
    pub tap: String,
}

impl Netns {
    /// Creates a fresh namespace with a tap named `tap`, or says why it cannot (not root, no
    /// `ip`, no `/dev/net/tun`): then the test is skipped loudly (a failure under CI).
    pub fn create(test: &str, tap: &str) -> Option<Netns> {
        match Self::try_create(tap) {
            Ok(ns) => Some(ns),
            Err(reason) => {
                skip(test, &reason);
                None
            }
        }
    }

    fn try_create(tap: &str) -> Result<Netns, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        if !Path::new("/dev/net/tun").exists() {
            return Err("/dev/net/tun does not exist (no tap devices here)".into());
        }
        let ip = tool("ip").ok_or("`ip` is not installed (apt-get install iproute2)")?;
        let name = format!(
            "petrel-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let quiet = |args: &[&str]| -> Result<(), String> {
            let out = Command::new(&ip)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run ip: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "`ip {}` failed ({}): {}",
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        quiet(&["netns", "add", &name]).map_err(|e| format!("{e} (tests with a tap need root)"))?;
        // From here on the guard deletes the namespace, whatever fails next.
        let ns = Netns {
            name,
            tap: tap.to_string(),
        };
        let n = ns.name.as_str();
        quiet(&["-n", n, "link", "set", "lo", "up"])?;
        quiet(&["-n", n, "tuntap", "add", tap, "mode", "tap"])?;
        quiet(&["-n", n, "addr", "add", HOST_V4, "dev", tap])?;
        // nodad: usable at once, not after duplicate address detection.
        quiet(&["-n", n, "addr", "add", HOST_V6, "dev", tap, "nodad"])?;
        quiet(&["-n", n, "link", "set", tap, "up"])?;
        Ok(ns)
    }

    /// Adds a second tap interface `tap`, up, with the host address `host` (`10.0.1.1/24`),
    /// for a unikernel with two network devices.
    pub fn add_tap(&self, tap: &str, host: &str) -> Result<(), String> {
        for args in [
            &["tuntap", "add", tap, "mode", "tap"][..],
            &["addr", "add", host, "dev", tap],
            &["link", "set", tap, "up"],
        ] {
            let out = self
                .tool("ip")
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run ip: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "`ip {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(())
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `program` run inside the namespace (`ip netns exec NAME program`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(tool("ip").expect("ip was found when the namespace was made"));
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// `cmd` (program, arguments, environment, directory) run inside the namespace.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut c = self.command(cmd.get_program());
        crate::copy_setup(cmd, &mut c);
        c
    }

    /// A host tool by name run inside the namespace (see [`tool`]).
    pub fn tool(&self, name: &str) -> Command {
        self.command(tool(name).unwrap_or_else(|| PathBuf::from(name)))
    }

    /// `dnsmasq` serving DHCP on the tap from `first` to `last` (in 10.0.0.0/24), in the
    /// background, its log and lease file in `dir`. Returns once it is ready to answer.
    pub fn dnsmasq(&self, dir: &Path, first: &str, last: &str) -> crate::Background {
        self.dnsmasq_with_names(dir, first, last, &[])
    }

    /// [`Netns::dnsmasq`] that also serves DNS on the tap's host side ([`HOST_V4`], port 53,
    /// given to DHCP clients as their DNS server) with the `(name, address)` records of
    /// `names`, which must end in `.test`: other `.test` names are NXDOMAIN (it forwards
    /// nowhere). No DNS when `names` is empty.
    pub fn dnsmasq_with_names(
        &self,
        dir: &Path,
        first: &str,
        last: &str,
        names: &[(&str, &str)],
    ) -> crate::Background {
        let mut cmd = self.tool("dnsmasq");
        cmd.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            if names.is_empty() {
                "--port=0"
            } else {
                "--port=53"
            },
            "--bind-interfaces",
            "--log-facility=-",
            "--log-dhcp",
            "--dhcp-authoritative",
        ])
        .arg(format!("--interface={}", self.tap))
        .arg(format!("--dhcp-range={first},{last},255.255.255.0,1h"))
        .arg(format!(
            "--dhcp-leasefile={}",
            dir.join("dnsmasq.leases").display()
        ))
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .args(
            names
                .iter()
                .map(|(name, addr)| format!("--host-record={name},{addr}")),
        )
        // Answered here, NXDOMAIN included (without it, unknown names are REFUSED).
        .args((!names.is_empty()).then_some("--local=/test/"));
        let mut server = crate::Background::spawn(&mut cmd, dir.join("dnsmasq.log"));
        crate::wait_for(
            "dnsmasq to start",
            Duration::from_secs(20),
            &mut server,
            |server| {
                let log = server.log();
                if log.contains("DHCP, IP range") {
                    Ok(())
                } else {
                    Err(log)
                }
            },
        );
        server
    }

    /// `ping -c1` of `addr` from the namespace, retried until `within` has passed (the
    /// first one may wait for ARP or neighbour discovery). Returns the last attempt's output
    /// on failure.
    pub fn ping(&self, addr: &str, within: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let out = self
                .tool("ping")
                .args(["-n", "-c1", "-W2", addr])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run ping: {e}"))?;
            if out.status.success() {
                return Ok(());
            }
            if start.elapsed() >= within {
                return Err(format!(
                    "ping -c1 {addr} failed for {within:?} ({}):\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends `data` to `addr` port `port` with `nc` from the namespace, closes the sending
    /// side at the end of the data (`-N`) and returns everything received until the peer
    /// closed.
    pub fn nc(&self, dir: &Path, addr: &str, port: u16, data: &[u8]) -> Result<Vec<u8>, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let input = dir.join(format!(
            "nc-input-{}",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&input, data).map_err(|e| format!("{}: {e}", input.display()))?;
        let file = std::fs::File::open(&input).map_err(|e| format!("{}: {e}", input.display()))?;
        let out = self
            .tool("nc")
            .args(["-N", "-w", "10", addr, &port.to_string()])
            .stdin(file)
            .output()
            .map_err(|e| format!("cannot run nc: {e}"));
        let _ = std::fs::remove_file(&input);
        let out = out?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "nc {addr} {port} exited {} after {} bytes back: {}",
                out.status,
                out.stdout.len(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(ip) = tool("ip") {
            let _ = Command::new(ip)
                .args(["netns", "delete", &self.name])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// One HTTP response, as `curl` saw it.
#[derive(Debug)]
pub struct Http {
    /// The status code.
    pub status: u16,
    /// The Content-Type header (empty if none).
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// `curl` GET of `url` (run inside `ns`, or on the host), at most 10 seconds.
pub fn curl(ns: Option<&Netns>, url: &str) -> Result<Http, String> {
    let mut cmd = match ns {
        Some(ns) => ns.tool("curl"),
        None => Command::new(tool("curl").unwrap_or_else(|| PathBuf::from("curl"))),
    };
    // The body, then one line of our own: the status and the content type.
    cmd.args([
        "-sS",
        "-g",
        "--noproxy",
        "*",
        "--max-time",
        "10",
        "-o",
        "-",
        "-w",
        "\n%{http_code} %{content_type}",
        url,
    ])
    .stdin(Stdio::null());
    let out = cmd.output().map_err(|e| format!("cannot run curl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "curl {url} exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let at = out
        .stdout
        .iter()
        .rposition(|&b| b == b'\n')
        .ok_or_else(|| format!("curl {url}: no status line in {:?}", out.stdout))?;
    let tail = String::from_utf8_lossy(&out.stdout[at + 1..]).into_owned();
    let (code, content_type) = tail.split_once(' ').unwrap_or((&tail, ""));
    Ok(Http {
        status: code
            .parse()
            .map_err(|_| format!("curl {url}: bad status {code:?}"))?,
        content_type: content_type.to_string(),
        body: out.stdout[..at].to_vec(),
    })
}
