//! The host's DNS servers: the `nameserver` lines of `/etc/resolv.conf`, what the socket
//! stack gives `Stack::resolve` when no `--dns-servers` is given (the host's addresses and
//! routes are this stack's configuration, and so are its DNS servers).

use std::net::IpAddr;

/// Where the host lists its DNS servers.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The DNS servers of `/etc/resolv.conf`, in order; none if it cannot be read.
pub fn host_dns_servers() -> Vec<IpAddr> {
    std::fs::read_to_string(RESOLV_CONF)
        .map(|text| nameservers(&text))
        .unwrap_or_default()
}

/// The addresses of the `nameserver` lines of a resolv.conf text (scoped IPv6 addresses,
/// `fe80::1%eth0`, are skipped: a socket address here has no scope).
fn nameservers(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse().ok(),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_lines_in_order_and_nothing_else() {
        let text = "# generated\nsearch example.org\nnameserver 10.0.0.1\nnameserver fd00::53\n\
                    nameserver fe80::1%eth0\noptions edns0\n nameserver 192.0.2.9\nnameserver";
        let want: Vec<IpAddr> = vec![
            "10.0.0.1".parse().unwrap(),
            "fd00::53".parse().unwrap(),
            "192.0.2.9".parse().unwrap(),
        ];
        assert_eq!(nameservers(text), want);
    }
}
