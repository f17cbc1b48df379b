//! Petrel's resolver: asks DNS servers for a name's A and AAAA records over UDP, through the
//! stack the lookup is called on, so it works the same on every stack and target.
//!
//! Servers, first found wins:
//! 1. `--dns-servers` (mirage's name; repeatable), read by the device constructor;
//! 2. the stack's own: the direct stack's DHCP lease, the socket stack's host
//!    (`/etc/resolv.conf`).
//!
//! Each server is asked twice, [`TRY_TIMEOUT`] apart, before the next one; a name that does
//! not exist (NXDOMAIN) ends the search. Messages are built and parsed by `simple-dns`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use petrel_stack::dns::{DnsError, Lookup};
use petrel_stack::{Stack, StackError, UdpSocket};
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, PacketFlag, QTYPE, Question, RCODE, TYPE};

/// How long one query waits for its answer before it is sent again (or the next server is
/// asked).
pub const TRY_TIMEOUT: Duration = Duration::from_secs(2);
/// How often each server is asked.
pub const TRIES: usize = 2;
/// The DNS port.
pub const PORT: u16 = 53;
/// At most this many servers are taken from a stack's own configuration.
const MAX_STACK_SERVERS: usize = 4;
/// The largest DNS message over UDP without EDNS (RFC 1035 §4.2.1).
const MAX_MESSAGE: usize = 512;

/// Servers given at boot, for every stack.
struct Configured(RefCell<Vec<SocketAddr>>);
// SAFETY: the executor and every task run on one thread (as for petrel-time's queue).
unsafe impl Sync for Configured {}
static CONFIGURED: Configured = Configured(RefCell::new(Vec::new()));

/// Sets the DNS servers every lookup asks, instead of the stacks' own: what the device
/// constructor does with `--dns-servers`. An empty list goes back to the stacks' own.
pub fn set_servers(servers: &[SocketAddr]) {
    *CONFIGURED.0.borrow_mut() = servers.to_vec();
}

/// Parses one `--dns-servers` value: `IP`, `IP:PORT`, `[IPv6]:PORT`, each optionally after
/// `udp:` (mirage's form).
pub fn parse_server(text: &str) -> Result<SocketAddr, &'static str> {
    let text = text.strip_prefix("udp:").unwrap_or(text);
    if text.starts_with("tcp:") || text.starts_with("tls:") {
        return Err("only UDP DNS servers are supported (udp:IP[:PORT] or IP[:PORT])");
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, PORT));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| "expected IP, IP:PORT or [IPv6]:PORT, optionally after udp:")
}

/// The resolver [`petrel_stack::dns::set_resolver`] installs: [`resolve`], boxed.
pub fn lookup<'a>(stack: &'a Stack, name: &'a str) -> Lookup<'a> {
    Box::pin(resolve(stack, name))
}

/// The IPv4 and IPv6 addresses of `name` (IPv4 first), asked of the DNS servers through
/// `stack` (see the module docs).
pub async fn resolve(stack: &Stack, name: &str) -> Result<Vec<IpAddr>, DnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if !valid_name(name) || Name::new(name).is_err() {
        return Err(DnsError::InvalidName);
    }
    let servers = servers(stack);
    if servers.is_empty() {
        return Err(DnsError::NoServer);
    }
    // The most telling failure wins if no server gives an answer.
    let mut failure = DnsError::TimedOut;
    for server in servers {
        for _ in 0..TRIES {
            match ask(stack, name, server).await {
                Ok(Answer::Addresses(addrs)) if addrs.is_empty() => {
                    return Err(DnsError::NoAddress);
                }
                Ok(Answer::Addresses(addrs)) => return Ok(addrs),
                Ok(Answer::NxDomain) => return Err(DnsError::NxDomain),
                Ok(Answer::Failed) => {
                    failure = DnsError::ServerFailure;
                    break;
                }
                Err(Asked::TimedOut) => {}
                Err(Asked::Network(e)) => {
                    if failure == DnsError::TimedOut {
                        failure = DnsError::Network(e);
                    }
                    break;
                }
            }
        }
    }
    Err(failure)
}

/// The servers to ask: the configured ones, else `stack`'s own.
fn servers(stack: &Stack) -> Vec<SocketAddr> {
    let configured = CONFIGURED.0.borrow().clone();
    if !configured.is_empty() {
        return configured;
    }
    let mut own = [IpAddr::V4(Ipv4Addr::UNSPECIFIED); MAX_STACK_SERVERS];
    let n = stack.own_dns_servers(&mut own);
    own[..n]
        .iter()
        .map(|&ip| SocketAddr::new(ip, PORT))
        .collect()
}

/// Sends the A and AAAA queries for `name` to `server` once and waits for both answers.
async fn ask(stack: &Stack, name: &str, server: SocketAddr) -> Result<Answer, Asked> {
    let local = match server {
        SocketAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        SocketAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    };
    let socket = stack.bind_udp(local).await.map_err(Asked::Network)?;
    // Random IDs (and the stack's random port) make forged answers hard to land.
    let ids = [petrel_random::u64() as u16, petrel_random::u64() as u16];
    for (id, ty) in ids.into_iter().zip([TYPE::A, TYPE::AAAA]) {
        let query = query(id, name, ty).map_err(|_| Asked::Network(StackError::InvalidInput))?;
        socket
            .send_to(&query, server)
            .await
            .map_err(Asked::Network)?;
    }
    match petrel_time::timeout(TRY_TIMEOUT, answers(&socket, server, name, ids)).await {
        Ok(result) => result,
        Err(petrel_time::Elapsed) => Err(Asked::TimedOut),
    }
}

/// Whether `name` (without its final dot) can be asked: 1 to 253 bytes of visible ASCII in
/// dot-separated labels of 1 to 63 bytes (RFC 1035 §2.3.4).
fn valid_name(name: &str) -> bool {
    name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_graphic())
        && name.split('.').all(|label| (1..=63).contains(&label.len()))
}

/// What one server said.
enum Answer {
    /// The addresses of both answers (maybe none).
    Addresses(Vec<IpAddr>),
    /// The name does not exist.
    NxDomain,
    /// The server failed (SERVFAIL, REFUSED, a malformed reply...).
    Failed,
}

/// Why a server said nothing.
enum Asked {
    TimedOut,
    Network(StackError),
}

/// The query message for `name`'s records of type `ty`.
fn query(id: u16, name: &str, ty: TYPE) -> Result<Vec<u8>, simple_dns::SimpleDnsError> {
    let mut packet = Packet::new_query(id);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    packet.questions.push(Question::new(
        Name::new(name)?,
        QTYPE::TYPE(ty),
        CLASS::IN.into(),
        false,
    ));
    packet.build_bytes_vec()
}

/// Reads datagrams from `socket` until `server` has answered both queries `ids` about
/// `name`; anything else (other senders, other IDs, other questions) is ignored.
async fn answers(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    ids: [u16; 2],
) -> Result<Answer, Asked> {
    let mut buf = [0u8; MAX_MESSAGE];
    let mut pending = ids.map(Some);
    let mut addrs = Vec::new();
    let (mut nx, mut failed) = (false, false);
    while pending.iter().any(Option::is_some) {
        let (n, from) = socket.recv_from(&mut buf).await.map_err(Asked::Network)?;
        if from != server {
            continue;
        }
        let Ok(reply) = Packet::parse(&buf[..n]) else {
            continue;
        };
        let Some(slot) = pending.iter_mut().find(|id| **id == Some(reply.id())) else {
            continue;
        };
        if !reply.has_flags(PacketFlag::RESPONSE)
            || !reply
                .questions
                .iter()
                .any(|q| q.qname == Name::new_unchecked(name))
        {
            continue;
        }
        *slot = None;
        match reply.rcode() {
            RCODE::NoError => {}
            RCODE::NameError => nx = true,
            _ => failed = true,
        }
        for record in &reply.answers {
            match &record.rdata {
                RData::A(a) => addrs.push(IpAddr::V4(Ipv4Addr::from(a.address))),
                RData::AAAA(a) => addrs.push(IpAddr::V6(Ipv6Addr::from(a.address))),
                _ => {}
            }
        }
    }
    // Addresses of either answer count, even if the other failed.
    if addrs.is_empty() && nx {
        return Ok(Answer::NxDomain);
    }
    if addrs.is_empty() && failed {
        return Ok(Answer::Failed);
    }
    // IPv4 first: it is the family every Petrel stack is sure to route.
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.dedup();
    Ok(Answer::Addresses(addrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn server_arguments_parse_in_mirage_and_socket_forms() {
        let v4: SocketAddr = "10.0.0.1:53".parse().unwrap();
        assert_eq!(parse_server("10.0.0.1"), Ok(v4));
        assert_eq!(parse_server("udp:10.0.0.1"), Ok(v4));
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Ok("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(parse_server("fd00::1"), Ok("[fd00::1]:53".parse().unwrap()));
        assert_eq!(
            parse_server("udp:[fd00::1]:54"),
            Ok("[fd00::1]:54".parse().unwrap())
        );
        assert!(
            parse_server("tls:1.1.1.1")
                .unwrap_err()
                .contains("only UDP")
        );
        assert!(parse_server("example.com").is_err());
    }

    #[test]
    fn names_are_checked_before_asking() {
        assert!(valid_name("example.com"));
        assert!(valid_name("a-b_c.example"));
        assert!(!valid_name(""));
        assert!(!valid_name("a..b"));
        assert!(!valid_name(".a"));
        assert!(!valid_name("has space.example"));
        assert!(!valid_name(&"x".repeat(64)));
        assert!(!valid_name(&["abc"; 70].join(".")));
    }

    #[test]
    fn queries_ask_one_question_with_recursion() {
        let bytes = query(0x1234, "example.com", TYPE::AAAA).unwrap();
        let packet = Packet::parse(&bytes).unwrap();
        assert_eq!(packet.id(), 0x1234);
        assert!(packet.has_flags(PacketFlag::RECURSION_DESIRED));
        assert_eq!(packet.questions.len(), 1);
        assert_eq!(packet.questions[0].qname.to_string(), "example.com");
        assert_eq!(packet.questions[0].qtype, QTYPE::TYPE(TYPE::AAAA));
    }
}
