//! The real [`Host`] of the hypercalls: the tender's stdout, the host clock, and the block
//! files and taps attached to the manifest. It makes no allocation and opens nothing, so it
//! runs under the seccomp filter.

use std::io;
use std::os::fd::AsRawFd;

use petrel_tender::devices::{Attached, Backend};

use crate::hypercall::Host;

/// One attached device, by manifest index.
enum Device {
    Block { fd: i32, capacity: u64 },
    Net { fd: i32 },
}

/// The host side of a running guest.
pub struct RealHost {
    /// Indexed by manifest index; `None` for the reserved entry.
    devices: Vec<Option<Device>>,
    /// One `pollfd` per network device, with its manifest index, reused by every POLL.
    polls: Vec<libc::pollfd>,
    poll_index: Vec<u64>,
    has_block: bool,
}

impl RealHost {
    /// The host side for `attached` (which keeps owning the descriptors).
    pub fn new(attached: &[Attached]) -> RealHost {
        let n = attached.iter().map(|a| a.index + 1).max().unwrap_or(0);
        let mut host = RealHost {
            devices: (0..n).map(|_| None).collect(),
            polls: Vec::new(),
            poll_index: Vec::new(),
            has_block: false,
        };
        for a in attached {
            host.devices[a.index] = Some(match &a.backend {
                Backend::Block { fd, capacity, .. } => {
                    host.has_block = true;
                    Device::Block {
                        fd: fd.as_raw_fd(),
                        capacity: *capacity,
                    }
                }
                Backend::Net { fd, .. } => {
                    host.polls.push(libc::pollfd {
                        fd: fd.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    host.poll_index.push(a.index as u64);
                    Device::Net { fd: fd.as_raw_fd() }
                }
            });
        }
        host
    }

    fn device(&self, handle: u64) -> Option<&Device> {
        self.devices.get(usize::try_from(handle).ok()?)?.as_ref()
    }

    fn net_fd(&self, handle: u64) -> Result<i32, String> {
        match self.device(handle) {
            Some(Device::Net { fd }) => Ok(*fd),
            _ => Err(format!("handle {handle} is not a network device")),
        }
    }

    fn block_fd(&self, handle: u64) -> Result<i32, String> {
        match self.device(handle) {
            Some(Device::Block { fd, .. }) => Ok(*fd),
            _ => Err(format!("handle {handle} is not a block device")),
        }
    }
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

fn retry(mut f: impl FnMut() -> isize) -> isize {
    loop {
        let r = f();
        if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return r;
        }
    }
}

impl Host for RealHost {
    fn walltime(&mut self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes `ts`, which lives for the call.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        (ts.tv_sec as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec as u64)
    }

    fn puts(&mut self, mut data: &[u8]) {
        // Best effort, as the console is: a failed write drops the rest.
        while !data.is_empty() {
            // SAFETY: writes from `data`, valid for its length.
            let n = retry(|| unsafe { libc::write(1, data.as_ptr().cast(), data.len()) });
            if n <= 0 {
                return;
            }
            data = &data[n as usize..];
        }
    }

    fn poll(&mut self, timeout_ns: u64) -> u64 {
        let ts = libc::timespec {
            tv_sec: (timeout_ns / 1_000_000_000).min(i64::MAX as u64) as i64,
            tv_nsec: (timeout_ns % 1_000_000_000) as i64,
        };
        for p in &mut self.polls {
            p.revents = 0;
        }
        // SAFETY: `polls` is a valid array of its length; `ts` lives for the call; no
        // signal mask is given.
        let n = unsafe {
            libc::ppoll(
                self.polls.as_mut_ptr(),
                self.polls.len() as libc::nfds_t,
                &ts,
                std::ptr::null(),
            )
        };
        if n <= 0 {
            return 0;
        }
        self.polls
            .iter()
            .zip(&self.poll_index)
            .filter(|(p, _)| p.revents & libc::POLLIN != 0)
            .fold(0, |set, (_, &i)| {
                set | 1u64.checked_shl(i as u32).unwrap_or(0)
            })
    }

    fn block_capacity(&self, handle: u64) -> Option<u64> {
        match self.device(handle)? {
            Device::Block { capacity, .. } => Some(*capacity),
            Device::Net { .. } => None,
        }
    }

    fn is_net(&self, handle: u64) -> bool {
        matches!(self.device(handle), Some(Device::Net { .. }))
    }

    fn has_block(&self) -> bool {
        self.has_block
    }

    fn has_net(&self) -> bool {
        !self.polls.is_empty()
    }

    fn block_write(&mut self, handle: u64, offset: u64, data: &[u8]) -> Result<(), String> {
        let fd = self.block_fd(handle)?;
        // SAFETY: writes from `data`, valid for its length.
        let n = retry(|| unsafe {
            libc::pwrite(fd, data.as_ptr().cast(), data.len(), offset as libc::off_t)
        });
        if n < 0 || n as usize != data.len() {
            return Err(os_error("Fatal error: block write"));
        }
        Ok(())
    }

    fn block_read(&mut self, handle: u64, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let fd = self.block_fd(handle)?;
        // SAFETY: reads into `buf`, valid for its length.
        let n = retry(|| unsafe {
            libc::pread(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                offset as libc::off_t,
            )
        });
        if n < 0 || n as usize != buf.len() {
            return Err(os_error("Fatal error: block read"));
        }
        Ok(())
    }

    fn net_write(&mut self, handle: u64, frame: &[u8]) -> Result<(), String> {
        let fd = self.net_fd(handle)?;
        // SAFETY: writes from `frame`, valid for its length.
        let n = retry(|| unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) });
        // A full socketpair (user-mode network) drops the frame, as a busy link would.
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock {
            return Ok(());
        }
        if n < 0 || n as usize != frame.len() {
            return Err(os_error("Fatal error: net write"));
        }
        Ok(())
    }

    fn net_read(&mut self, handle: u64, buf: &mut [u8]) -> Result<Option<usize>, String> {
        let fd = self.net_fd(handle)?;
        // SAFETY: reads into `buf`, valid for its length.
        let n = retry(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) });
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        if io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock {
            return Ok(None);
        }
        Err(os_error("Fatal error: net read"))
    }
}
