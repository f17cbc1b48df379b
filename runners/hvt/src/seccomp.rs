//! The filter the tender runs under once the guest is set up (as `solo5-hvt` does on Linux):
//! only what the run loop needs, with descriptor arguments pinned. Anything else kills the
//! process (SIGSYS).

use petrel_tender::seccomp::{Op, Rules, arg_is, compile, cond, fd_value, rule};
use seccompiler::{BpfProgram, SeccompRule};

use crate::Error;

/// Linux's `_IOR(KVMIO, nr, T)` for a `T` of `size` bytes (`_IO` when `size` is 0).
const fn kvm_ioctl(nr: u64, size: usize) -> u64 {
    let read = if size > 0 { 2 << 30 } else { 0 };
    read | (size as u64) << 16 | 0xAE << 8 | nr
}

/// `KVM_RUN`, `KVM_GET_REGS` and `KVM_GET_SREGS`, the only vCPU requests after setup (the
/// last two for the fault report).
const VCPU_IOCTLS: [u64; 3] = [
    kvm_ioctl(0x80, 0),
    kvm_ioctl(0x81, std::mem::size_of::<kvm_bindings::kvm_regs>()),
    kvm_ioctl(0x83, std::mem::size_of::<kvm_bindings::kvm_sregs>()),
];

/// The descriptors the run loop uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The vCPU.
    pub vcpu: i32,
    /// The taps.
    pub taps: Vec<i32>,
    /// The disks.
    pub disks: Vec<i32>,
}

/// Builds the filter for `policy`:
///
/// | call | rule |
/// |---|---|
/// | `ioctl` | fd == the vCPU ∧ request ∈ {KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS} |
/// | `write` | fd == 1 (PUTS), 2 (the tender's messages), or a tap |
/// | `read` | fd == a tap |
/// | `pread64`, `pwrite64` | fd == a disk (the handler checked offset and length) |
/// | `ppoll` | always (POLL; it only reads the descriptors it is given) |
/// | `clock_gettime` | CLOCK_REALTIME (WALLTIME) or CLOCK_MONOTONIC |
/// | `mmap` | without PROT_EXEC; `munmap`, `brk`: the allocator, for error messages |
/// | `exit_group` | always |
pub fn build(policy: &Policy) -> Result<BpfProgram, Error> {
    let mut rules = Rules::new();
    let mut add = |nr: libc::c_long, r: SeccompRule| rules.entry(nr).or_default().push(r);
    let vcpu = fd_value(policy.vcpu);
    for req in VCPU_IOCTLS {
        add(
            libc::SYS_ioctl,
            rule(vec![cond(0, Op::Eq, vcpu)?, cond(1, Op::Eq, req)?])?,
        );
    }
    add(libc::SYS_write, arg_is(0, 1)?);
    add(libc::SYS_write, arg_is(0, 2)?);
    for &fd in &policy.taps {
        add(libc::SYS_read, arg_is(0, fd_value(fd))?);
        add(libc::SYS_write, arg_is(0, fd_value(fd))?);
    }
    for &fd in &policy.disks {
        add(libc::SYS_pread64, arg_is(0, fd_value(fd))?);
        add(libc::SYS_pwrite64, arg_is(0, fd_value(fd))?);
    }
    add(
        libc::SYS_clock_gettime,
        arg_is(0, libc::CLOCK_REALTIME as u64)?,
    );
    add(
        libc::SYS_clock_gettime,
        arg_is(0, libc::CLOCK_MONOTONIC as u64)?,
    );
    add(
        libc::SYS_mmap,
        rule(vec![cond(2, Op::MaskedEq(libc::PROT_EXEC as u64), 0)?])?,
    );
    for nr in [
        libc::SYS_ppoll,
        libc::SYS_munmap,
        libc::SYS_brk,
        libc::SYS_exit_group,
    ] {
        rules.insert(nr, Vec::new());
    }
    compile(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrel_tender::testing::allowed_in_child;

    const VCPU: i32 = 40;
    const TAP: i32 = 41;
    const DISK: i32 = 42;

    fn allowed(nr: libc::c_long, args: [u64; 4]) -> bool {
        let prog = build(&Policy {
            vcpu: VCPU,
            taps: vec![TAP],
            disks: vec![DISK],
        })
        .expect("filter");
        allowed_in_child(&prog, nr, args)
    }

    #[test]
    fn request_numbers_are_linuxs() {
        assert_eq!(VCPU_IOCTLS, [0xAE80, 0x8090_AE81, 0x8138_AE83]);
    }

    #[test]
    fn only_the_vcpus_run_and_register_requests() {
        for req in VCPU_IOCTLS {
            assert!(allowed(libc::SYS_ioctl, [VCPU as u64, req, 0, 0]));
            assert!(!allowed(libc::SYS_ioctl, [TAP as u64, req, 0, 0]));
        }
        // KVM_SET_REGS, KVM_SET_USER_MEMORY_REGION's number on the vCPU, TUNSETIFF.
        for req in [0x4090_AE82, 0x4020_AE46, 0x4004_54CA] {
            assert!(!allowed(libc::SYS_ioctl, [VCPU as u64, req, 0, 0]));
        }
    }

    #[test]
    fn devices_and_console() {
        let empty = b"".as_ptr() as u64;
        for fd in [1, 2, TAP as u64] {
            assert!(allowed(libc::SYS_write, [fd, empty, 0, 0]));
        }
        assert!(!allowed(libc::SYS_write, [DISK as u64, empty, 0, 0]));
        assert!(!allowed(libc::SYS_write, [1 | 1 << 32, empty, 0, 0]));
        assert!(allowed(libc::SYS_read, [TAP as u64, empty, 0, 0]));
        assert!(!allowed(libc::SYS_read, [0, empty, 0, 0]));
        assert!(allowed(libc::SYS_pread64, [DISK as u64, empty, 0, 0]));
        assert!(!allowed(libc::SYS_pwrite64, [TAP as u64, empty, 0, 0]));
        assert!(!allowed(
            libc::SYS_clock_gettime,
            [libc::CLOCK_BOOTTIME as u64, 0, 0, 0]
        ));
        let exec = libc::PROT_READ | libc::PROT_EXEC;
        assert!(!allowed(libc::SYS_mmap, [0, 4096, exec as u64, 0]));
    }

    #[test]
    fn everything_else_is_killed() {
        for nr in [
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_mprotect,
            libc::SYS_socket,
            libc::SYS_getpid,
            libc::SYS_close,
        ] {
            assert!(!allowed(nr, [0, 0, 0, 0]), "syscall {nr}");
        }
    }
}
