//! The hypercall handler (`solo5-abi.md` §1.5, §1.6): decodes one `outl` of the guest,
//! checks every value the guest gave against guest memory and the devices, and calls the
//! [`Host`] only with checked values.
//!
//! It works on guest memory as a plain byte slice (index = guest-physical address) and on
//! the host through a trait, so it runs without KVM: the run loop gives it the vCPU's
//! memory and the real devices, the tests and the fuzzer (`tests/hypercalls.rs`) a buffer and a fake host.
//! Guest memory is only ever reached through [`GuestMem`], whose accessors check the range
//! first: no guest value can make the tender touch memory outside the guest's.

use std::ops::Range;

use petrel_solo5_abi::hvt::{
    HYPERCALL_PORT_BASE, Hypercall, RESULT_AGAIN, RESULT_EINVAL, RESULT_OK,
};

/// Why the guest stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The guest called HALT with this exit status.
    Halt(i32),
    /// The guest did something the tender refuses (a bad pointer or length, an unknown
    /// hypercall), or a host I/O failed: this message, exit status 1.
    Fatal(String),
}

/// The host side of the hypercalls. The handler calls these only with checked values:
/// `handle` is an attached device of the right kind, block ranges lie inside the device,
/// and buffers are slices of guest memory.
pub trait Host {
    /// Host `CLOCK_REALTIME`, in nanoseconds since the epoch.
    fn walltime(&mut self) -> u64;
    /// Writes guest console output.
    fn puts(&mut self, data: &[u8]);
    /// Waits at most `timeout_ns` for input on a network device; returns the ready set
    /// (bit *i* = manifest index *i*).
    fn poll(&mut self, timeout_ns: u64) -> u64;
    /// Capacity in bytes of block device `handle`, or `None` if `handle` is not one.
    fn block_capacity(&self, handle: u64) -> Option<u64>;
    /// Whether `handle` is an attached network device.
    fn is_net(&self, handle: u64) -> bool;
    /// Whether any block device is attached (BLOCK_READ/WRITE are registered).
    fn has_block(&self) -> bool;
    /// Whether any network device is attached (NET_READ/WRITE are registered).
    fn has_net(&self) -> bool;
    /// Writes `data` at `offset` of block device `handle`; all of it, or a fatal error.
    fn block_write(&mut self, handle: u64, offset: u64, data: &[u8]) -> Result<(), String>;
    /// Reads `buf.len()` bytes at `offset` of block device `handle`, or a fatal error.
    fn block_read(&mut self, handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), String>;
    /// Sends one frame on network device `handle`, or a fatal error.
    fn net_write(&mut self, handle: u64, frame: &[u8]) -> Result<(), String>;
    /// Receives one frame into `buf`: its length, or `None` if nothing is pending.
    fn net_read(&mut self, handle: u64, buf: &mut [u8]) -> Result<Option<usize>, String>;
}

/// Guest memory as the handler sees it: `[0, len)` of guest-physical addresses, some
/// ranges of which (the image's read-only segments) the host must not write.
pub struct GuestMem<'a> {
    bytes: &'a mut [u8],
    read_only: &'a [Range<u64>],
}

fn invalid_access(gpa: u64, len: u64) -> Stop {
    Stop::Fatal(format!(
        "Invalid guest access: gpa={gpa:#x}, len={len} (outside guest memory)"
    ))
}

impl<'a> GuestMem<'a> {
    /// Guest memory backed by `bytes`, all of it writable.
    pub fn new(bytes: &'a mut [u8]) -> GuestMem<'a> {
        GuestMem {
            bytes,
            read_only: &[],
        }
    }

    /// Guest memory backed by `bytes`, where the host may not write to `read_only`.
    pub fn with_read_only(bytes: &'a mut [u8], read_only: &'a [Range<u64>]) -> GuestMem<'a> {
        GuestMem { bytes, read_only }
    }

    /// The host range of `[gpa, gpa + len)`, if it lies inside guest memory.
    fn range(&self, gpa: u64, len: u64) -> Result<Range<usize>, Stop> {
        let end = gpa
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len() as u64)
            .ok_or_else(|| invalid_access(gpa, len))?;
        // Both are ≤ bytes.len(), a usize.
        Ok(gpa as usize..end as usize)
    }

    /// The bytes `[gpa, gpa + len)`.
    pub fn slice(&self, gpa: u64, len: u64) -> Result<&[u8], Stop> {
        let r = self.range(gpa, len)?;
        Ok(&self.bytes[r])
    }

    /// The host range of `[gpa, gpa + len)`, if it lies inside guest memory and outside
    /// every read-only range.
    fn writable(&self, gpa: u64, len: u64) -> Result<Range<usize>, Stop> {
        let r = self.range(gpa, len)?;
        let (start, end) = (r.start as u64, r.end as u64);
        if len > 0
            && self
                .read_only
                .iter()
                .any(|ro| start < ro.end && ro.start < end)
        {
            return Err(Stop::Fatal(format!(
                "Invalid guest access: gpa={gpa:#x}, len={len} (read-only memory)"
            )));
        }
        Ok(r)
    }

    /// The bytes `[gpa, gpa + len)`, writable.
    pub fn slice_mut(&mut self, gpa: u64, len: u64) -> Result<&mut [u8], Stop> {
        let r = self.writable(gpa, len)?;
        Ok(&mut self.bytes[r])
    }
}

/// A hypercall's argument structure, checked to lie inside guest memory.
struct Args {
    gpa: u64,
    size: u64,
}

impl Args {
    fn u64(&self, mem: &GuestMem<'_>, off: u64) -> u64 {
        let mut b = [0u8; 8];
        // `new` checked the whole structure; off + 8 ≤ size for every field read.
        if let Ok(s) = mem.slice(self.gpa + off, 8) {
            b.copy_from_slice(s);
        }
        u64::from_le_bytes(b)
    }

    fn i32(&self, mem: &GuestMem<'_>, off: u64) -> i32 {
        (self.u64(mem, off) & 0xFFFF_FFFF) as u32 as i32
    }

    fn put(&self, mem: &mut GuestMem<'_>, off: u64, value: &[u8]) {
        debug_assert!(off + value.len() as u64 <= self.size);
        if let Ok(s) = mem.slice_mut(self.gpa + off, value.len() as u64) {
            s.copy_from_slice(value);
        }
    }

    fn put_u64(&self, mem: &mut GuestMem<'_>, off: u64, v: u64) {
        self.put(mem, off, &v.to_le_bytes())
    }

    fn put_u32(&self, mem: &mut GuestMem<'_>, off: u64, v: u32) {
        self.put(mem, off, &v.to_le_bytes())
    }
}

/// Handles one I/O port write of the guest: `port` and the bytes written (`data`).
/// Returns `Ok(())` when the guest may continue.
pub fn handle(
    port: u16,
    data: &[u8],
    mem: &mut GuestMem<'_>,
    host: &mut impl Host,
) -> Result<(), Stop> {
    let call = Hypercall::from_port(port)
        .filter(|_| data.len() == 4)
        .ok_or_else(|| Stop::Fatal(format!("Invalid guest port access: port={port:#x}")))?;
    let registered = match call {
        Hypercall::BlockRead | Hypercall::BlockWrite => host.has_block(),
        Hypercall::NetRead | Hypercall::NetWrite => host.has_net(),
        _ => true,
    };
    if !registered {
        return Err(Stop::Fatal(format!(
            "Invalid guest hypercall: num={} (no such device attached)",
            port - HYPERCALL_PORT_BASE
        )));
    }
    // data.len() == 4 was checked above.
    let gpa = u64::from(u32::from_le_bytes([data[0], data[1], data[2], data[3]]));
    let args = Args {
        gpa,
        size: call.struct_size(),
    };
    // The structure must be readable, and writable when the call has results.
    match call {
        Hypercall::Puts | Hypercall::Halt => mem.range(args.gpa, args.size)?,
        _ => mem.writable(args.gpa, args.size)?,
    };
    match call {
        Hypercall::Walltime => {
            let now = host.walltime();
            args.put_u64(mem, 0, now);
        }
        Hypercall::Puts => {
            let (data, len) = (args.u64(mem, 0), args.u64(mem, 8));
            host.puts(mem.slice(data, len)?);
        }
        Hypercall::Poll => {
            let ready = host.poll(args.u64(mem, 0));
            args.put_u64(mem, 8, ready);
            args.put_u32(mem, 16, ready.count_ones());
        }
        Hypercall::BlockWrite | Hypercall::BlockRead => {
            let (handle, offset) = (args.u64(mem, 0), args.u64(mem, 8));
            let (data, len) = (args.u64(mem, 16), args.u64(mem, 24));
            if call == Hypercall::BlockRead {
                mem.writable(data, len)?;
            } else {
                mem.range(data, len)?;
            }
            let inside = host.block_capacity(handle).is_some_and(|cap| {
                offset < cap && offset.checked_add(len).is_some_and(|e| e <= cap)
            });
            let ret = if !inside {
                RESULT_EINVAL
            } else if call == Hypercall::BlockWrite {
                host.block_write(handle, offset, mem.slice(data, len)?)
                    .map_err(Stop::Fatal)?;
                RESULT_OK
            } else {
                host.block_read(handle, offset, mem.slice_mut(data, len)?)
                    .map_err(Stop::Fatal)?;
                RESULT_OK
            };
            args.put_u32(mem, 32, ret);
        }
        Hypercall::NetWrite => {
            let (handle, data, len) = (args.u64(mem, 0), args.u64(mem, 8), args.u64(mem, 16));
            mem.range(data, len)?;
            let ret = if host.is_net(handle) {
                host.net_write(handle, mem.slice(data, len)?)
                    .map_err(Stop::Fatal)?;
                RESULT_OK
            } else {
                RESULT_EINVAL
            };
            args.put_u32(mem, 24, ret);
        }
        Hypercall::NetRead => {
            let (handle, data, len) = (args.u64(mem, 0), args.u64(mem, 8), args.u64(mem, 16));
            mem.writable(data, len)?;
            let (ret, got) = if host.is_net(handle) {
                match host
                    .net_read(handle, mem.slice_mut(data, len)?)
                    .map_err(Stop::Fatal)?
                {
                    Some(n) => (RESULT_OK, n as u64),
                    None => (RESULT_AGAIN, 0),
                }
            } else {
                (RESULT_EINVAL, 0)
            };
            args.put_u64(mem, 16, got);
            args.put_u32(mem, 24, ret);
        }
        Hypercall::Halt => return Err(Stop::Halt(args.i32(mem, 8))),
    }
    Ok(())
}
