//! The hypercall handler against a plain buffer of guest memory and a fake host, without
//! KVM: one test per rule, and a bolero fuzz target over random guest memory and random
//! hypercall arguments.
//!
//! `cargo test` runs the fuzz target for a moment with random inputs. A long run (see the
//! README for a 1,000,000-input result):
//!
//! ```text
//! BOLERO_RANDOM_ITERATIONS=1000000 cargo test --release -p petrel-hvt --test hypercalls -- --nocapture
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use petrel_hvt::hypercall::{GuestMem, Host, Stop, handle};

/// Handle of the fake block device.
const BLOCK: u64 = 1;
/// Handle of the fake network device.
const NET: u64 = 2;

/// A host with one block device (handle 1) and one NIC (handle 2), each optional, which
/// checks that the handler only ever gives it checked values.
#[derive(Default)]
struct FakeHost {
    block_capacity: Option<u64>,
    net: bool,
    /// A frame waiting on the NIC.
    pending: Option<Vec<u8>>,
    console: Vec<u8>,
    disk: Vec<u8>,
    sent: Vec<Vec<u8>>,
}

impl FakeHost {
    fn with_block(capacity: u64) -> FakeHost {
        FakeHost {
            block_capacity: Some(capacity),
            disk: vec![0; capacity as usize],
            ..FakeHost::default()
        }
    }

    fn checked_block(&self, handle: u64, offset: u64, len: usize) -> std::ops::Range<usize> {
        let cap = self
            .block_capacity
            .expect("block I/O only with a block device");
        assert_eq!(
            handle, BLOCK,
            "block I/O on a handle that is not a block device"
        );
        assert!(
            offset < cap && offset + len as u64 <= cap,
            "unchecked block range"
        );
        offset as usize..offset as usize + len
    }
}

impl Host for FakeHost {
    fn walltime(&mut self) -> u64 {
        1_700_000_000_000_000_000
    }

    fn puts(&mut self, data: &[u8]) {
        self.console.extend_from_slice(&data[..data.len().min(64)]);
    }

    fn poll(&mut self, _timeout_ns: u64) -> u64 {
        if self.net && self.pending.is_some() {
            1 << NET
        } else {
            0
        }
    }

    fn block_capacity(&self, handle: u64) -> Option<u64> {
        (handle == BLOCK).then_some(self.block_capacity).flatten()
    }

    fn is_net(&self, handle: u64) -> bool {
        self.net && handle == NET
    }

    fn has_block(&self) -> bool {
        self.block_capacity.is_some()
    }

    fn has_net(&self) -> bool {
        self.net
    }

    fn block_write(&mut self, handle: u64, offset: u64, data: &[u8]) -> Result<(), String> {
        let r = self.checked_block(handle, offset, data.len());
        self.disk[r].copy_from_slice(data);
        Ok(())
    }

    fn block_read(&mut self, handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let r = self.checked_block(handle, offset, buf.len());
        buf.copy_from_slice(&self.disk[r]);
        Ok(())
    }

    fn net_write(&mut self, handle: u64, frame: &[u8]) -> Result<(), String> {
        assert!(
            self.net && handle == NET,
            "net write on an unchecked handle"
        );
        self.sent.push(frame[..frame.len().min(64)].to_vec());
        Ok(())
    }

    fn net_read(&mut self, handle: u64, buf: &mut [u8]) -> Result<Option<usize>, String> {
        assert!(self.net && handle == NET, "net read on an unchecked handle");
        Ok(self.pending.take().map(|f| {
            let n = f.len().min(buf.len());
            buf[..n].copy_from_slice(&f[..n]);
            n
        }))
    }
}

/// Guest memory of `len` bytes with the little-endian words `words` at `at`.
fn memory(len: usize, at: usize, words: &[u64]) -> Vec<u8> {
    let mut m = vec![0u8; len];
    for (i, w) in words.iter().enumerate() {
        m[at + 8 * i..at + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    m
}

fn word(m: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(m[at..at + 8].try_into().expect("8 bytes"))
}

fn call(nr: u16, gpa: u32, mem: &mut [u8], host: &mut FakeHost) -> Result<(), Stop> {
    handle(
        0x500 + nr,
        &gpa.to_le_bytes(),
        &mut GuestMem::new(mem),
        host,
    )
}

fn fatal(r: Result<(), Stop>) -> String {
    match r {
        Err(Stop::Fatal(m)) => m,
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

#[test]
fn walltime_puts_and_halt() {
    let mut host = FakeHost::default();
    let mut m = memory(4096, 0x100, &[]);
    call(1, 0x100, &mut m, &mut host).expect("walltime");
    assert_eq!(word(&m, 0x100), 1_700_000_000_000_000_000);

    m[0x800..0x805].copy_from_slice(b"hello");
    m[0x200..0x210].copy_from_slice(&[0x800u64.to_le_bytes(), 5u64.to_le_bytes()].concat());
    call(2, 0x200, &mut m, &mut host).expect("puts");
    assert_eq!(host.console, b"hello");

    let mut m = memory(4096, 0x300, &[0, 0xFFFF_FF00_0000_0040]);
    assert_eq!(call(8, 0x300, &mut m, &mut host), Err(Stop::Halt(0x40)));
    let mut m = memory(4096, 0x300, &[0, 255]);
    assert_eq!(call(8, 0x300, &mut m, &mut host), Err(Stop::Halt(255)));
}

#[test]
fn pointers_and_lengths_outside_memory_are_fatal() {
    let mut host = FakeHost::default();
    // The structure itself crosses the end.
    let mut m = memory(4096, 0, &[]);
    assert!(
        fatal(call(2, 4096 - 8, &mut m, &mut host))
            .starts_with("Invalid guest access: gpa=0xff8, len=16")
    );
    assert!(fatal(call(1, 0xFFFF_FFFF, &mut m, &mut host)).starts_with("Invalid guest access"));
    // The data it points to crosses the end, or its length overflows.
    for (data, len) in [(4090, 7), (0, 4097), (8, u64::MAX), (u64::MAX, 2)] {
        let mut m = memory(4096, 0x100, &[data, len]);
        let msg = fatal(call(2, 0x100, &mut m, &mut host));
        assert!(msg.starts_with("Invalid guest access"), "{msg}");
    }
    // Right up to the end is fine.
    let mut m = memory(4096, 0x100, &[4090, 6]);
    call(2, 0x100, &mut m, &mut host).expect("last bytes");
}

#[test]
fn read_only_memory_is_never_written() {
    let mut host = FakeHost::with_block(1024);
    let ro = [std::ops::Range {
        start: 0x1000,
        end: 0x2000,
    }];
    // WALLTIME's result structure in read-only memory.
    let mut m = memory(0x3000, 0, &[]);
    let msg = fatal(handle(
        0x501,
        &0x1800u32.to_le_bytes(),
        &mut GuestMem::with_read_only(&mut m, &ro),
        &mut host,
    ));
    assert_eq!(
        msg,
        "Invalid guest access: gpa=0x1800, len=8 (read-only memory)"
    );
    // BLOCK_READ into a buffer that ends in it.
    let mut m = memory(0x3000, 0x100, &[BLOCK, 0, 0xF00, 512, 99]);
    let msg = fatal(handle(
        0x505,
        &0x100u32.to_le_bytes(),
        &mut GuestMem::with_read_only(&mut m, &ro),
        &mut host,
    ));
    assert!(msg.ends_with("(read-only memory)"), "{msg}");
    // PUTS only reads: fine from read-only memory, and BLOCK_WRITE from it too.
    let mut m = memory(0x3000, 0x100, &[0x1000, 4]);
    handle(
        0x502,
        &0x100u32.to_le_bytes(),
        &mut GuestMem::with_read_only(&mut m, &ro),
        &mut host,
    )
    .expect("puts from read-only memory");
}

#[test]
fn ports_and_registration() {
    let mut host = FakeHost::default();
    let mut m = memory(4096, 0, &[]);
    for port in [0x4FF, 0x500, 0x509, 0x600] {
        let msg = fatal(handle(port, &[0; 4], &mut GuestMem::new(&mut m), &mut host));
        assert_eq!(msg, format!("Invalid guest port access: port={port:#x}"));
    }
    for data in [&[0u8; 1][..], &[0; 2], &[0; 8], &[]] {
        let msg = fatal(handle(0x501, data, &mut GuestMem::new(&mut m), &mut host));
        assert_eq!(msg, "Invalid guest port access: port=0x501");
    }
    for nr in 4..=7 {
        let msg = fatal(call(nr, 0, &mut m, &mut host));
        assert_eq!(
            msg,
            format!("Invalid guest hypercall: num={nr} (no such device attached)")
        );
    }
}

#[test]
fn block_checks_handle_and_range() {
    let mut host = FakeHost::with_block(2048);
    // handle, offset, data, len, ret
    let io = |host: &mut FakeHost, nr, handle, offset, len| {
        let mut m = memory(8192, 0x100, &[handle, offset, 0x1000, len, 99]);
        m[0x1000] = 0xAB;
        call(nr, 0x100, &mut m, host).map(|()| (word(&m, 0x120) & 0xFFFF_FFFF, m[0x1000]))
    };
    assert_eq!(io(&mut host, 4, BLOCK, 512, 512), Ok((0, 0xAB)));
    assert_eq!(host.disk[512], 0xAB);
    assert_eq!(io(&mut host, 5, BLOCK, 0, 512), Ok((0, 0)));
    for (handle, offset, len) in [
        (BLOCK, 2048, 512),
        (BLOCK, 1536 + 1, 512),
        (BLOCK, u64::MAX, 512),
        (0, 0, 512),
        (NET, 0, 512),
        (u64::MAX, 0, 512),
    ] {
        assert_eq!(io(&mut host, 5, handle, offset, len).map(|r| r.0), Ok(2));
    }
    // A buffer outside guest memory is fatal, whatever the device says.
    let msg = fatal(io(&mut host, 5, BLOCK, 512, u64::MAX - 100).map(drop));
    assert!(msg.starts_with("Invalid guest access: gpa=0x1000"), "{msg}");
}

#[test]
fn net_read_write_and_poll() {
    let mut host = FakeHost {
        net: true,
        pending: Some(b"frame!".to_vec()),
        ..FakeHost::default()
    };
    let mut m = memory(4096, 0x100, &[10_000, 7, 7]);
    call(3, 0x100, &mut m, &mut host).expect("poll");
    assert_eq!(
        (word(&m, 0x108), word(&m, 0x110) & 0xFFFF_FFFF),
        (1 << NET, 1)
    );
    let mut m = memory(4096, 0x100, &[NET, 0x800, 1514, 99]);
    call(7, 0x100, &mut m, &mut host).expect("read");
    assert_eq!((word(&m, 0x110), word(&m, 0x118) & 0xFFFF_FFFF), (6, 0));
    assert_eq!(&m[0x800..0x806], b"frame!");
    call(7, 0x100, &mut m, &mut host).expect("read again");
    assert_eq!(word(&m, 0x118) & 0xFFFF_FFFF, 1, "AGAIN");
    let mut m = memory(4096, 0x100, &[NET, 0x800, 60, 99]);
    call(6, 0x100, &mut m, &mut host).expect("write");
    assert_eq!(host.sent.len(), 1);
    let mut m = memory(4096, 0x100, &[BLOCK, 0x800, 60, 99]);
    call(6, 0x100, &mut m, &mut host).expect("bad handle");
    assert_eq!(word(&m, 0x118) & 0xFFFF_FFFF, 2, "EINVAL");
}

/// Little-endian reader over the fuzzer's bytes (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let n = self.0.len().min(8);
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u64::from_le_bytes(b)
    }
}

/// One fuzz input: guest memory size and contents, the port, what was written to it, the
/// devices, and either random or plausible argument structures. The handler must not
/// panic (which includes any slice access outside guest memory), must never give the host
/// an unchecked value (FakeHost asserts), and must leave guest memory outside the argument
/// structure and the buffer it names as it was.
fn fuzz_one(data: &[u8]) {
    let mut b = Bytes(data);
    let shape = b.u64();
    let mem_len = 64 + (shape & 0x1FFF) as usize;
    let port = 0x4FE + ((shape >> 16) % 12) as u16;
    let out_len = [4, 4, 4, 4, 1, 2, 8, 0][((shape >> 24) % 8) as usize];
    let plausible = shape >> 27 & 1 == 1;
    let mut host = if shape >> 28 & 1 == 1 {
        FakeHost::with_block(512 * (1 + (shape >> 32) % 8))
    } else {
        FakeHost::default()
    };
    host.net = shape >> 29 & 1 == 1;
    if shape >> 30 & 1 == 1 {
        host.pending = Some(vec![0xEE; ((shape >> 40) % 1600) as usize]);
    }
    let gpa_raw = b.u64();
    let gpa = if gpa_raw & 1 == 0 {
        ((gpa_raw >> 1) % (mem_len as u64 + 48)) as u32
    } else {
        (gpa_raw >> 1) as u32
    };

    let mut mem = vec![0u8; mem_len];
    let rest = b.0;
    let n = rest.len().min(mem_len);
    mem[..n].copy_from_slice(&rest[..n]);
    if plausible {
        // Fields that are mostly valid: a handle 0..4, small offsets, lengths and pointers
        // inside memory, so the checks past the first ones are reached too.
        let mut r = Bytes(rest);
        let words = [
            r.u64() % 4,
            r.u64() % 4096,
            r.u64() % mem_len as u64,
            r.u64() % 1024,
            r.u64(),
        ];
        for (i, w) in words.iter().enumerate() {
            let at = gpa as usize + 8 * i;
            if let Some(s) = mem.get_mut(at..at + 8) {
                s.copy_from_slice(&w.to_le_bytes());
            }
        }
    }
    // Sometimes a read-only range (an image's text), which the handler must never write.
    let start = (shape >> 44) % mem_len as u64;
    let read_only: Vec<std::ops::Range<u64>> = (shape >> 31 & 1 == 1)
        .then_some(start..start + 1 + (shape >> 56) * 16)
        .into_iter()
        .collect();
    let before = mem.clone();
    let written = [
        gpa as u8,
        (gpa >> 8) as u8,
        (gpa >> 16) as u8,
        (gpa >> 24) as u8,
        0,
        0,
        0,
        0,
    ];
    let result = handle(
        port,
        &written[..out_len],
        &mut GuestMem::with_read_only(&mut mem, &read_only),
        &mut host,
    );
    let outcome = match &result {
        Ok(()) => 0,
        Err(Stop::Halt(_)) => 1,
        Err(Stop::Fatal(msg)) => {
            assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
            2
        }
    };
    OUTCOMES[outcome].fetch_add(1, Ordering::Relaxed);
    // Only the argument structure (≤ 40 bytes at gpa) and the buffer it names may change.
    let data_ptr = |off: usize| -> Option<(usize, usize)> {
        let at = gpa as usize + off;
        let p = u64::from_le_bytes(before.get(at..at + 8)?.try_into().ok()?);
        let l = u64::from_le_bytes(before.get(at + 8..at + 16)?.try_into().ok()?);
        Some((p as usize, p.saturating_add(l) as usize))
    };
    let buffer = match port.wrapping_sub(0x500) {
        5 => data_ptr(16),
        7 => data_ptr(8),
        _ => None,
    };
    for (i, (a, b)) in before.iter().zip(&mem).enumerate() {
        if a != b {
            let in_struct = i >= gpa as usize && i < gpa as usize + 40;
            let in_buffer = buffer.is_some_and(|(s, e)| i >= s && i < e);
            assert!(
                in_struct || in_buffer,
                "byte {i:#x} changed outside the call's memory"
            );
            assert!(
                !read_only.iter().any(|r| r.contains(&(i as u64))),
                "byte {i:#x} changed in read-only memory"
            );
        }
    }
}

/// How many inputs the guest continued after, halted, or was stopped by a fatal error.
static OUTCOMES: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

#[test]
fn fuzz_hypercalls() {
    bolero::check!().for_each(fuzz_one);
    let [ok, halt, fatal] = OUTCOMES.each_ref().map(|c| c.load(Ordering::Relaxed));
    eprintln!("hypercall outcomes: continued {ok}, halted {halt}, fatal {fatal}");
}
