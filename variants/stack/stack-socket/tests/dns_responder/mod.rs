//! A DNS server for tests on 127.0.0.1, on a thread: a handful of fixed names that cover
//! every kind of answer `Stack::resolve` handles.
//!
//! - `petrel.test`: A 127.0.0.1 and AAAA ::1;
//! - `v6only.test`: AAAA fd00::5 only;
//! - `empty.test`: exists, no addresses;
//! - `missing.test` (and any other name): NXDOMAIN;
//! - `broken.test`: SERVFAIL;
//! - `silent.test`: never answered.

use simple_dns::rdata::{A, AAAA, RData};
use simple_dns::{CLASS, Name, Packet, PacketFlag, QTYPE, RCODE, ResourceRecord, TYPE};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// The running server; it stops with the test process.
pub struct Responder {
    addr: SocketAddr,
}

impl Responder {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> Responder {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the DNS responder");
        let addr = socket.local_addr().expect("its address");
        std::thread::spawn(move || serve(&socket));
        Responder { addr }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn serve(socket: &UdpSocket) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            return;
        };
        if let Some(reply) = answer(&buf[..n]) {
            let _ = socket.send_to(&reply, from);
        }
    }
}

/// The reply to one query, or `None` to stay silent.
fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let query = Packet::parse(query).ok()?;
    let question = query.questions.first()?.clone();
    let name = question.qname.to_string().to_ascii_lowercase();
    let mut reply = Packet::new_reply(query.id());
    reply.set_flags(PacketFlag::RECURSION_AVAILABLE);
    reply.questions.push(question.clone());
    let record = |rdata| ResourceRecord::new(question.qname.clone(), CLASS::IN, 60, rdata);
    match name.as_str() {
        "silent.test" => return None,
        "broken.test" => *reply.rcode_mut() = RCODE::ServerFailure,
        "petrel.test" | "v6only.test" | "empty.test" => {
            let v4 = (name == "petrel.test").then_some(Ipv4Addr::LOCALHOST);
            let v6 = match name.as_str() {
                "petrel.test" => Some(Ipv6Addr::LOCALHOST),
                "v6only.test" => Some("fd00::5".parse().expect("an IPv6 address")),
                _ => None,
            };
            if question.qtype == QTYPE::TYPE(TYPE::A)
                && let Some(ip) = v4
            {
                reply.answers.push(record(RData::A(A::from(ip))));
            }
            if question.qtype == QTYPE::TYPE(TYPE::AAAA)
                && let Some(ip) = v6
            {
                reply.answers.push(record(RData::AAAA(AAAA::from(ip))));
            }
        }
        _ => *reply.rcode_mut() = RCODE::NameError,
    }
    let _: Option<Name> = None;
    reply.build_bytes_vec().ok()
}
