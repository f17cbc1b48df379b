//! The seccomp filter: the only boundary between the guest and the host (`solo5-abi.md` §4.1).
//!
//! The guest runs in this process and issues raw Linux system calls; the filter allows
//! exactly the calls the spt bindings need, with their descriptor (and, for block I/O,
//! count and offset) arguments pinned, and kills the process on anything else. Arguments
//! are compared as full 64-bit values, so garbage in the upper half of a register is
//! refused too.

use petrel_tender::seccomp::{Op, Rules, arg_is, compile, cond, fd_value, rule};
use seccompiler::{BpfProgram, SeccompRule};

use crate::Error;

/// `arch_prctl` code the guest may use.
pub const ARCH_SET_FS: u64 = 0x1002;

/// What the guest may touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The epoll descriptor (`epoll_pwait`).
    pub epollfd: i32,
    /// The timer descriptor (`timerfd_settime`).
    pub timerfd: i32,
    /// Tap descriptors (`read`, `write`).
    pub nets: Vec<i32>,
    /// Block devices (`pread64`, `pwrite64`).
    pub blocks: Vec<BlockPolicy>,
}

/// One block device in the [`Policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPolicy {
    /// The backing file descriptor.
    pub fd: i32,
    /// Capacity in bytes (≥ `block_size`).
    pub capacity: u64,
    /// Block size: the only count allowed.
    pub block_size: u64,
}

/// Builds the filter for `policy`. The rule table, one line per allowed call
/// (a call with several rules is allowed when any rule matches; a rule matches when all
/// its conditions hold):
///
/// | call | rule |
/// |---|---|
/// | `write` | fd == 1; or fd == a tap fd |
/// | `read` | fd == a tap fd |
/// | `pread64`, `pwrite64` | fd == disk fd ∧ count == block_size ∧ offset ≤ capacity − block_size (unsigned) |
/// | `epoll_pwait` | fd == epollfd |
/// | `timerfd_settime` | fd == timerfd |
/// | `clock_gettime` | clock == CLOCK_MONOTONIC; or clock == CLOCK_REALTIME |
/// | `arch_prctl` | code == ARCH_SET_FS |
/// | `exit_group` | always |
///
/// Anything else, or a call with another architecture's ABI, kills the process
/// (`SECCOMP_RET_KILL_PROCESS`: it dies of SIGSYS, status 159 in a shell).
pub fn build(policy: &Policy) -> Result<BpfProgram, Error> {
    let mut rules = Rules::new();
    let mut add = |nr: libc::c_long, r: SeccompRule| rules.entry(nr).or_default().push(r);

    add(libc::SYS_write, arg_is(0, 1)?);
    for &fd in &policy.nets {
        add(libc::SYS_read, arg_is(0, fd_value(fd))?);
        add(libc::SYS_write, arg_is(0, fd_value(fd))?);
    }
    for b in &policy.blocks {
        let last = b.capacity.checked_sub(b.block_size).ok_or_else(|| {
            Error::new("seccomp: block capacity below the block size".to_string())
        })?;
        for nr in [libc::SYS_pread64, libc::SYS_pwrite64] {
            add(
                nr,
                rule(vec![
                    cond(0, Op::Eq, fd_value(b.fd))?,
                    cond(2, Op::Eq, b.block_size)?,
                    cond(3, Op::Le, last)?,
                ])?,
            );
        }
    }
    add(libc::SYS_epoll_pwait, arg_is(0, fd_value(policy.epollfd))?);
    add(
        libc::SYS_timerfd_settime,
        arg_is(0, fd_value(policy.timerfd))?,
    );
    add(
        libc::SYS_clock_gettime,
        arg_is(0, libc::CLOCK_MONOTONIC as u64)?,
    );
    add(
        libc::SYS_clock_gettime,
        arg_is(0, libc::CLOCK_REALTIME as u64)?,
    );
    add(libc::SYS_arch_prctl, arg_is(0, ARCH_SET_FS)?);
    // An empty rule list allows the call unconditionally; only exit_group gets one.
    rules.insert(libc::SYS_exit_group, Vec::new());

    compile(rules)
}

/// Installs `prog` on this thread (after `PR_SET_NO_NEW_PRIVS`). From here on, every
/// system call this thread makes is filtered: the caller must not return to code that
/// allocates, frees or prints.
pub fn install(prog: &BpfProgram) -> Result<(), Error> {
    petrel_tender::seccomp::install(prog)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOLL: i32 = 40;
    const TIMER: i32 = 41;
    const TAP: i32 = 42;
    const DISK: i32 = 43;
    const CAP: u64 = 16 * 4096;
    const BS: u64 = 4096;

    fn policy() -> Policy {
        Policy {
            epollfd: EPOLL,
            timerfd: TIMER,
            nets: vec![TAP],
            blocks: vec![BlockPolicy {
                fd: DISK,
                capacity: CAP,
                block_size: BS,
            }],
        }
    }

    fn allowed(nr: libc::c_long, args: [u64; 4]) -> bool {
        let prog = build(&policy()).expect("filter");
        petrel_tender::testing::allowed_in_child(&prog, nr, args)
    }

    #[test]
    fn write_only_to_stdout_and_taps() {
        let empty = b"".as_ptr() as u64;
        assert!(allowed(libc::SYS_write, [1, empty, 0, 0]));
        assert!(allowed(libc::SYS_write, [TAP as u64, empty, 0, 0]));
        assert!(!allowed(libc::SYS_write, [2, empty, 0, 0]));
        assert!(!allowed(libc::SYS_write, [DISK as u64, empty, 0, 0]));
        // The upper half of the register counts.
        assert!(!allowed(libc::SYS_write, [1 | 1 << 32, empty, 0, 0]));
        assert!(allowed(libc::SYS_read, [TAP as u64, empty, 0, 0]));
        assert!(!allowed(libc::SYS_read, [0, empty, 0, 0]));
    }

    #[test]
    fn block_io_count_and_offset_are_pinned() {
        for nr in [libc::SYS_pread64, libc::SYS_pwrite64] {
            let d = DISK as u64;
            assert!(allowed(nr, [d, 0, BS, 0]));
            assert!(allowed(nr, [d, 0, BS, CAP - BS]));
            assert!(!allowed(nr, [d, 0, BS, CAP - BS + 1]));
            assert!(!allowed(nr, [d, 0, BS, CAP]));
            assert!(!allowed(nr, [d, 0, BS, 1 << 32]));
            assert!(!allowed(nr, [d, 0, BS, u64::MAX]));
            assert!(!allowed(nr, [d, 0, BS - 1, 0]));
            assert!(!allowed(nr, [d, 0, BS + 1, 0]));
            assert!(!allowed(nr, [d, 0, BS | 1 << 32, 0]));
            assert!(!allowed(nr, [TAP as u64, 0, BS, 0]));
        }
    }

    #[test]
    fn timers_clocks_and_tls() {
        assert!(allowed(libc::SYS_epoll_pwait, [EPOLL as u64, 0, 0, 0]));
        assert!(!allowed(libc::SYS_epoll_pwait, [TIMER as u64, 0, 0, 0]));
        assert!(allowed(libc::SYS_timerfd_settime, [TIMER as u64, 0, 0, 0]));
        assert!(!allowed(libc::SYS_timerfd_settime, [EPOLL as u64, 0, 0, 0]));
        assert!(allowed(
            libc::SYS_clock_gettime,
            [libc::CLOCK_MONOTONIC as u64, 0, 0, 0]
        ));
        assert!(allowed(
            libc::SYS_clock_gettime,
            [libc::CLOCK_REALTIME as u64, 0, 0, 0]
        ));
        assert!(!allowed(
            libc::SYS_clock_gettime,
            [libc::CLOCK_BOOTTIME as u64, 0, 0, 0]
        ));
        // ARCH_GET_FS is refused; ARCH_SET_FS is not tried here, as it would change the
        // child's own TLS base.
        assert!(!allowed(libc::SYS_arch_prctl, [0x1003, 0, 0, 0]));
    }

    #[test]
    fn everything_else_is_killed() {
        for nr in [
            libc::SYS_getpid,
            libc::SYS_openat,
            libc::SYS_mmap,
            libc::SYS_mprotect,
            libc::SYS_exit,
            libc::SYS_rt_sigaction,
            libc::SYS_ioctl,
            libc::SYS_epoll_wait,
            libc::SYS_epoll_ctl,
        ] {
            assert!(!allowed(nr, [0, 0, 0, 0]), "syscall {nr}");
        }
        // An x32 system call number (bit 30) is another number, so it is refused too.
        assert!(!allowed(libc::SYS_write | 0x4000_0000, [1, 0, 0, 0]));
    }

    #[test]
    fn exit_group_status_passes_through() {
        let prog = build(&policy()).expect("filter");
        let st = petrel_tender::testing::run_in_child(&prog, libc::SYS_exit_group, [7, 0, 0, 0]);
        assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 7);
    }
}
