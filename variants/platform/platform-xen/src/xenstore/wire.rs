//! The xenstore wire format (`xs_wire.h`): a 16-byte header (`type`, `req_id`, `tx_id`,
//! `len`, little-endian u32s) and `len` bytes of payload, at most 4096. Paths and values are
//! NUL-terminated strings in the payload; a write is the path's string and then the value
//! without a terminator; an error reply (`XS_ERROR`) carries the errno name (`"ENOENT"`).

use alloc::vec::Vec;

/// Message types this client uses (`enum xsd_sockmsg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// List a directory: NUL-separated child names.
    Directory = 1,
    /// Read a value.
    Read = 2,
    /// Watch a path (path, token).
    Watch = 4,
    /// Stop watching.
    Unwatch = 5,
    /// Write a value (path NUL value).
    Write = 11,
    /// Remove a node.
    Rm = 13,
    /// An event from a watch (path, token).
    WatchEvent = 15,
    /// An error reply.
    Error = 16,
}

impl Op {
    /// The type for a header value, if this client knows it.
    pub fn from_u32(v: u32) -> Option<Op> {
        Some(match v {
            1 => Op::Directory,
            2 => Op::Read,
            4 => Op::Watch,
            5 => Op::Unwatch,
            11 => Op::Write,
            13 => Op::Rm,
            15 => Op::WatchEvent,
            16 => Op::Error,
            _ => return None,
        })
    }
}

/// The header size.
pub const HEADER: usize = 16;
/// The largest payload xenstored accepts.
pub const MAX_PAYLOAD: usize = 4096;

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its type (a raw value: replies to unknown requests are kept).
    pub ty: u32,
    /// The request id the reply echoes.
    pub req_id: u32,
    /// The transaction (0: none).
    pub tx_id: u32,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Encodes a request of type `op` whose payload is `parts`, each NUL-terminated except
/// the value of a write (the last part when `op` is [`Op::Write`]). `None` if too long.
pub fn encode(op: Op, req_id: u32, parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut payload = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        payload.extend_from_slice(part);
        if !(op == Op::Write && i == parts.len() - 1) {
            payload.push(0);
        }
    }
    if payload.len() > MAX_PAYLOAD {
        return None;
    }
    let mut out = Vec::with_capacity(HEADER + payload.len());
    for v in [op as u32, req_id, 0, payload.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&payload);
    Some(out)
}

/// Collects bytes read from the response ring into whole messages.
#[derive(Default)]
pub struct Reassembler {
    buf: Vec<u8>,
}

/// The response stream is not xenstore's (a length over [`MAX_PAYLOAD`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

impl Reassembler {
    /// Appends bytes from the ring.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, if one has arrived.
    pub fn next_message(&mut self) -> Result<Option<Message>, Corrupt> {
        if self.buf.len() < HEADER {
            return Ok(None);
        }
        let word = |i: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&self.buf[4 * i..4 * i + 4]);
            u32::from_le_bytes(w)
        };
        let len = word(3) as usize;
        if len > MAX_PAYLOAD {
            return Err(Corrupt);
        }
        if self.buf.len() < HEADER + len {
            return Ok(None);
        }
        let msg = Message {
            ty: word(0),
            req_id: word(1),
            tx_id: word(2),
            payload: self.buf[HEADER..HEADER + len].to_vec(),
        };
        self.buf.drain(..HEADER + len);
        Ok(Some(msg))
    }
}

/// The strings of a NUL-separated payload (a directory listing, a watch event).
pub fn strings(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    payload
        .strip_suffix(&[0])
        .unwrap_or(payload)
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_requests_as_xenstored_reads_them() {
        let m = encode(Op::Read, 7, &[b"name"]).expect("short");
        assert_eq!(&m[..16], &[2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&m[16..], b"name\0");
        let w = encode(Op::Write, 8, &[b"data/x", b"1"]).expect("short");
        assert_eq!(&w[16..], b"data/x\x001");
        assert_eq!(w[12], 8);
        let watch = encode(Op::Watch, 9, &[b"backend", b"tok"]).expect("short");
        assert_eq!(&watch[16..], b"backend\0tok\0");
        assert!(encode(Op::Write, 1, &[b"p", &[b'v'; 4096]]).is_none());
    }

    #[test]
    fn reassembles_messages_split_anyhow() {
        let mut bytes = Vec::new();
        for (id, payload) in [(1u32, &b"a\0b\0"[..]), (2, b""), (3, b"ENOENT\0")] {
            for v in [2u32, id, 0, payload.len() as u32] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(payload);
        }
        let mut r = Reassembler::default();
        let mut got = Vec::new();
        for chunk in bytes.chunks(5) {
            r.push(chunk);
            while let Some(m) = r.next_message().expect("well-formed") {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].req_id, 1);
        assert_eq!(strings(&got[0].payload).collect::<Vec<_>>(), [b"a", b"b"]);
        assert!(got[1].payload.is_empty());
        assert_eq!(got[2].payload, b"ENOENT\0");
        r.push(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0]);
        assert_eq!(r.next_message(), Err(Corrupt));
    }
}
