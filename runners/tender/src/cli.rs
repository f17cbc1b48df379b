//! The command line, as `solo5-spt` and `solo5-hvt` take it (`solo5-abi.md` §5):
//! `TENDER [--mem=MiB] [--block:NAME=PATH] [--block-sector-size:NAME=N]
//! [--net:NAME=TAP|@FD] [--net-mac:NAME=MAC] [--] KERNEL [ARGS...]`.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use crate::{Error, lossy};

/// The `--help` text of tender `program` (`petrel-spt`, `petrel-hvt`): `summary` says how
/// it runs the guest, `exit` (a sentence that fits on one line) its other exit status.
pub fn usage(program: &str, summary: &str, exit: &str) -> String {
    format!(
        "\
usage: {program} [OPTIONS] [--] KERNEL [ARGS...]

{summary}
ARGS, joined by single spaces, become the guest's command line (at most 8191 bytes,
no empty argument: otherwise exit 64).

Options:
  --mem=MiB                      guest memory in MiB (default 512, min 2, max 4096,
                                 rounded down to a multiple of 2)
  --block:NAME=PATH              attach the file PATH as block device NAME
  --block-sector-size:NAME=N     block size of NAME (power of 2, >= 512; default 512)
  --net:NAME=TAP                 attach the existing tap interface TAP as NAME
  --net:NAME=@FD                 attach the already open tap file descriptor FD as NAME,
                                 or an AF_UNIX SOCK_SEQPACKET/SOCK_DGRAM socket that
                                 carries one Ethernet frame per record (a user-mode
                                 network's end, as `petrel run` passes)
  --net-mac:NAME=xx:xx:xx:xx:xx:xx
                                 MAC address of NAME (default: random, locally administered)
  --help                         print this text
  --version                      print the version

NAME is the device's name in the image's manifest. Every device the manifest declares
must be attached.

Exit status: the guest's own; 1 for a runner error; 64 for a command line the guest
cannot be given.
{exit}"
    )
}

/// Where a network device comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetSource {
    /// An existing tap interface, by name.
    Tap(OsString),
    /// A tap file descriptor, or a frame socket, the caller opened (`@FD`).
    Fd(i32),
}

/// A parsed `run` command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--mem`, in MiB.
    pub mem_mib: Option<u64>,
    /// `--block:NAME=PATH`, in order.
    pub blocks: Vec<(Vec<u8>, PathBuf)>,
    /// `--block-sector-size:NAME=N`, in order (the value is checked at attach time).
    pub block_sizes: Vec<(Vec<u8>, OsString)>,
    /// `--net:NAME=...`, in order.
    pub nets: Vec<(Vec<u8>, NetSource)>,
    /// `--net-mac:NAME=MAC`, parsed.
    pub macs: Vec<(Vec<u8>, [u8; 6])>,
    /// The image.
    pub kernel: PathBuf,
    /// The guest's arguments.
    pub args: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run an image.
    Run(Options),
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

fn split_name_value<'a>(rest: &'a [u8], opt: &str) -> Result<(&'a [u8], &'a [u8]), Error> {
    let eq = rest
        .iter()
        .position(|&c| c == b'=')
        .ok_or_else(|| Error::new(format!("{opt}NAME=VALUE: missing `='")))?;
    let (name, value) = (&rest[..eq], &rest[eq + 1..]);
    if name.is_empty() {
        return Err(Error::new(format!("{opt}NAME=VALUE: empty device name")));
    }
    Ok((name, value))
}

/// Parses `xx:xx:xx:xx:xx:xx` (hex digits, one or two per byte).
pub fn parse_mac(s: &[u8]) -> Option<[u8; 6]> {
    let text = std::str::from_utf8(s).ok()?;
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, Error> {
    let mut args = args.into_iter();
    let mut o = Options::default();
    let kernel = loop {
        let Some(arg) = args.next() else {
            return Err(Error::new("missing KERNEL argument (try --help)"));
        };
        let a = arg.as_bytes();
        if a == b"--" {
            match args.next() {
                Some(k) => break k,
                None => return Err(Error::new("missing KERNEL argument (try --help)")),
            }
        }
        if !a.starts_with(b"-") {
            break arg;
        }
        if a == b"--help" {
            return Ok(Command::Help);
        } else if a == b"--version" {
            return Ok(Command::Version);
        } else if let Some(v) = a.strip_prefix(b"--mem=") {
            let n = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| Error::new(format!("--mem={}: not a number of MiB", lossy(v))))?;
            o.mem_mib = Some(n);
        } else if let Some(rest) = a.strip_prefix(b"--block-sector-size:") {
            let (name, value) = split_name_value(rest, "--block-sector-size:")?;
            o.block_sizes
                .push((name.to_vec(), OsString::from_vec(value.to_vec())));
        } else if let Some(rest) = a.strip_prefix(b"--block:") {
            let (name, value) = split_name_value(rest, "--block:")?;
            if value.is_empty() {
                return Err(Error::new(format!("--block:{}=: empty path", lossy(name))));
            }
            o.blocks.push((
                name.to_vec(),
                PathBuf::from(OsString::from_vec(value.to_vec())),
            ));
        } else if let Some(rest) = a.strip_prefix(b"--net-mac:") {
            let (name, value) = split_name_value(rest, "--net-mac:")?;
            let mac = parse_mac(value).ok_or_else(|| {
                Error::new(format!(
                    "--net-mac:{}={}: Malformed MAC address (expected xx:xx:xx:xx:xx:xx)",
                    lossy(name),
                    lossy(value)
                ))
            })?;
            o.macs.push((name.to_vec(), mac));
        } else if let Some(rest) = a.strip_prefix(b"--net:") {
            let (name, value) = split_name_value(rest, "--net:")?;
            let source = if let Some(fd) = value.strip_prefix(b"@") {
                let fd = std::str::from_utf8(fd)
                    .ok()
                    .and_then(|s| s.parse::<i32>().ok())
                    .filter(|&fd| fd >= 0)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "--net:{}={}: not a file descriptor number",
                            lossy(name),
                            lossy(value)
                        ))
                    })?;
                NetSource::Fd(fd)
            } else {
                if value.is_empty() {
                    return Err(Error::new(format!(
                        "--net:{}=: empty interface name",
                        lossy(name)
                    )));
                }
                NetSource::Tap(OsString::from_vec(value.to_vec()))
            };
            o.nets.push((name.to_vec(), source));
        } else {
            return Err(Error::new(format!(
                "Invalid option: `{}' (try --help)",
                arg.to_string_lossy()
            )));
        }
    };
    o.kernel = PathBuf::from(kernel);
    o.args = args.collect();
    Ok(Command::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, Error> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn full_command_line() {
        let c = p(&[
            "--mem=64",
            "--block:disk=/tmp/d.img",
            "--block-sector-size:disk=4096",
            "--net:service=tap0",
            "--net:other=@5",
            "--net-mac:service=02:00:00:0a:b:FF",
            "--",
            "k.spt",
            "--ipv4=10.0.0.2/24",
            "x",
        ]);
        let Ok(Command::Run(o)) = c else {
            panic!("{c:?}")
        };
        assert_eq!(o.mem_mib, Some(64));
        assert_eq!(o.blocks, [(b"disk".to_vec(), PathBuf::from("/tmp/d.img"))]);
        assert_eq!(o.block_sizes, [(b"disk".to_vec(), OsString::from("4096"))]);
        assert_eq!(
            o.nets,
            [
                (b"service".to_vec(), NetSource::Tap("tap0".into())),
                (b"other".to_vec(), NetSource::Fd(5))
            ]
        );
        assert_eq!(o.macs, [(b"service".to_vec(), [2, 0, 0, 0x0a, 0x0b, 0xff])]);
        assert_eq!(o.kernel, PathBuf::from("k.spt"));
        assert_eq!(o.args, ["--ipv4=10.0.0.2/24", "x"]);
    }

    #[test]
    fn kernel_without_double_dash_and_options_after_it_are_args() {
        let Ok(Command::Run(o)) = p(&["k.spt", "--mem=4"]) else {
            panic!()
        };
        assert_eq!(o.mem_mib, None);
        assert_eq!(o.args, ["--mem=4"]);
    }

    #[test]
    fn errors() {
        let msg = |a: &[&str]| p(a).unwrap_err().to_string();
        assert_eq!(msg(&[]), "missing KERNEL argument (try --help)");
        assert_eq!(msg(&["--"]), "missing KERNEL argument (try --help)");
        assert_eq!(
            msg(&["--bogus", "k"]),
            "Invalid option: `--bogus' (try --help)"
        );
        assert_eq!(msg(&["--mem=x", "k"]), "--mem=x: not a number of MiB");
        assert_eq!(
            msg(&["--block:disk", "k"]),
            "--block:NAME=VALUE: missing `='"
        );
        assert_eq!(
            msg(&["--block:=f", "k"]),
            "--block:NAME=VALUE: empty device name"
        );
        assert_eq!(
            msg(&["--net:n=@x", "k"]),
            "--net:n=@x: not a file descriptor number"
        );
        assert_eq!(
            msg(&["--net-mac:n=01:02", "k"]),
            "--net-mac:n=01:02: Malformed MAC address (expected xx:xx:xx:xx:xx:xx)"
        );
        assert_eq!(p(&["--help"]), Ok(Command::Help));
        assert_eq!(p(&["--version", "k"]), Ok(Command::Version));
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(
            parse_mac(b"aa:bb:cc:dd:ee:ff"),
            Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(parse_mac(b"aa:bb:cc:dd:ee:ff:00"), None);
        assert_eq!(parse_mac(b"aa:bb:cc:dd:ee:"), None);
        assert_eq!(parse_mac(b"aaa:bb:cc:dd:ee:ff"), None);
        assert_eq!(parse_mac(b"+a:bb:cc:dd:ee:ff"), None);
    }
}
