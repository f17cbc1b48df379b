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

#[cfg(test)]
mod tests {
    use super::*;

    fn one_net(backing: Backing, publish: &[&str]) -> BootDevices {
        BootDevices {
            devices: vec![("service".into(), backing)],
            publish: publish
                .iter()
                .map(|p| Forward::parse(p).expect("valid"))
                .collect(),
            ..BootDevices::default()
        }
    }

    #[test]
    fn a_device_without_a_tap_gets_a_socket_on_solo5_targets() {
        let devices = one_net(Backing::Net(None), &[]);
        let (out, nets) = attach(Target::Spt, &devices, &[], false).expect("libslirp0");
        assert_eq!(nets.len(), 1);
        let Backing::Net(Some(fd)) = &out.devices[0].1 else {
            panic!("{out:?}")
        };
        assert!(fd.starts_with('@'), "{fd}");
        // A tap is left alone, and virtio keeps QEMU's own network.
        let tap = one_net(Backing::Net(Some("tap0".into())), &[]);
        assert!(
            attach(Target::Spt, &tap, &[], false)
                .expect("tap")
                .1
                .is_empty()
        );
        let (out, nets) = attach(Target::Virtio, &devices, &[], false).expect("virtio");
        assert!(nets.is_empty());
        assert_eq!(out.devices[0].1, Backing::Net(None));
    }

    #[test]
    fn unix_keeps_an_interface_the_user_typed() {
        let mut devices = one_net(Backing::Net(None), &[]);
        devices
            .unix_args
            .insert("service".into(), "interface".into());
        let typed = ["--interface=tap3".to_string()];
        let (out, nets) = attach(Target::Unix, &devices, &typed, false).expect("typed");
        assert!(nets.is_empty());
        assert_eq!(out.devices[0].1, Backing::Net(None));
        let (_, nets) = attach(Target::Unix, &devices, &[], false).expect("user-mode");
        assert_eq!(nets.len(), 1);
    }

    #[test]
    fn publish_needs_a_user_mode_network() {
        let on_tap = one_net(Backing::Net(Some("tap0".into())), &["8080:80"]);
        let err = attach(Target::Spt, &on_tap, &[], false).expect_err("every device on a tap");
        assert!(
            err.to_string()
                .contains("--publish 127.0.0.1:8080:80/tcp: forwards reach a user-mode network"),
            "{err}"
        );
        let none = BootDevices {
            publish: on_tap.publish.clone(),
            ..BootDevices::default()
        };
        let err = attach(Target::Hvt, &none, &[], false).expect_err("no device");
        assert!(
            err.to_string().contains("this image has no network device"),
            "{err}"
        );
    }

    #[test]
    fn qemu_gets_the_forwards_on_the_first_user_network() {
        let devices = one_net(Backing::Net(None), &["8080:80", "0.0.0.0:5353:53/udp"]);
        assert_eq!(
            qemu_netdev(0, true, &devices),
            "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53"
        );
        assert_eq!(qemu_netdev(1, false, &devices), "user,id=net1");
    }
}
