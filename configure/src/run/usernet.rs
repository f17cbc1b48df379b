//! Rootless networking for spt, hvt and unix (direct stack): a network device with no tap
//! gets a user-mode network (`petrel-usernet`, libslirp) served by this process, and its
//! guest end is handed to the runner as `--net:NAME=@FD` (spt, hvt) or to the unikernel as
//! `--interface=@FD` (unix). virtio gets QEMU's own user networking instead ([`qemu_netdev`]).
//! `--publish` forwards go to the first device on a user-mode network.

use super::{Backing, BootDevices};
use crate::error::Error;
use crate::status::status;
use crate::target::{Boot, Target};
use petrel_usernet::{Forward, UserNet};

/// The devices with every tap-less network device backed by a fresh user-mode network (as
/// `@FD`, inheritable by the runner), and the networks, which must stay open until the
/// runner has started. Targets without such devices, and unix devices whose backing the
/// user typed as a boot argument, are left as they are.
pub fn attach(
    target: Target,
    devices: &BootDevices,
    args: &[String],
    verbose: bool,
) -> Result<(BootDevices, Vec<UserNet>), Error> {
    let mut out = devices.clone();
    let mut nets = Vec::new();
    let serves = matches!(target.spec().boot, Boot::Tender { .. } | Boot::Process);
    if serves {
        for (name, backing) in &mut out.devices {
            if *backing != Backing::Net(None) || devices.given_as_argument(name, args) {
                continue;
            }
            // On unix only a device with a backing boot argument (net-unix) takes a socket.
            if target.spec().boot == Boot::Process && !devices.unix_args.contains_key(name) {
                continue;
            }
            let forwards: &[Forward] = if nets.is_empty() {
                &devices.publish
            } else {
                &[]
            };
            let net = UserNet::start(forwards).map_err(Error::msg)?;
            let fd = net.inheritable().map_err(Error::msg)?;
            if verbose {
                status("Network", format!("`{name}`: {}", net.describe(forwards)));
            }
            *backing = Backing::Net(Some(format!("@{fd}")));
            nets.push(net);
        }
    }
    let user_mode = nets.len()
        + usize::from(target.spec().boot == Boot::Qemu && has_user_net(devices).is_some());
    if !devices.publish.is_empty() && user_mode == 0 {
        return Err(Error::msg(publish_without_user_net(devices)));
    }
    if verbose && target.spec().boot == Boot::Qemu && has_user_net(devices).is_some() {
        let forwards: Vec<String> = devices.publish.iter().map(|f| f.to_string()).collect();
        status(
            "Network",
            format!(
                "QEMU user networking: 10.0.2.0/24, guest 10.0.2.15 by DHCP, gateway 10.0.2.2 (the host), DNS 10.0.2.3{}{}",
                if forwards.is_empty() { "" } else { "; " },
                forwards.join("; ")
            ),
        );
    }
    Ok((out, nets))
}

/// The first network device without a tap.
fn has_user_net(devices: &BootDevices) -> Option<&str> {
    devices
        .devices
        .iter()
        .find(|(_, b)| *b == Backing::Net(None))
        .map(|(n, _)| n.as_str())
}

/// Why `--publish` cannot be honoured, in one line.
fn publish_without_user_net(devices: &BootDevices) -> String {
    let first = devices
        .publish
        .first()
        .map(|f| f.to_string())
        .unwrap_or_default();
    if devices
        .devices
        .iter()
        .any(|(_, b)| matches!(b, Backing::Net(_)))
    {
        format!(
            "--publish {first}: forwards reach a user-mode network, and every network device of this image is on a tap (or named by a boot argument)"
        )
    } else {
        format!("--publish {first}: this image has no network device")
    }
}

/// QEMU's `-netdev user` for device `i`, with the `--publish` forwards on the first one.
pub fn qemu_netdev(i: usize, first: bool, devices: &BootDevices) -> String {
    let forwards: String = if first {
        devices
            .publish
            .iter()
            .map(|f| format!(",hostfwd={}", f.qemu_hostfwd()))
            .collect()
    } else {
        String::new()
    };
    format!("user,id=net{i}{forwards}")
}

/// Parses `--publish` values and checks each host port is free now (one line each).
pub fn parse_publish(specs: &[String]) -> Result<Vec<Forward>, Error> {
    let forwards = specs
        .iter()
        .map(|s| Forward::parse(s).map_err(Error::msg))
        .collect::<Result<Vec<_>, _>>()?;
    for f in &forwards {
        f.check_free().map_err(Error::msg)?;
    }
    Ok(forwards)
}
