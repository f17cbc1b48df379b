//! The filter the tender runs under once the guest is set up (as `solo5-hvt` does on Linux):
//! only what the run loop needs, with descriptor arguments pinned. Anything else kills the
//! process (SIGSYS).

use kvm_ioctls::VcpuFd;
use petrel_tender::devices::{Attached, Backend};
use petrel_tender::seccomp::{Op, Rules, arg_is, compile, cond, fd_value, rule};
use seccompiler::{BpfProgram, SeccompRule};
use std::os::fd::AsRawFd;

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

/// Builds the filter for a guest on `vcpu` with devices `attached`:
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
pub fn build(vcpu: &VcpuFd, attached: &[Attached]) -> Result<BpfProgram, Error> {
    let mut rules = Rules::new();
    let mut add = |nr: libc::c_long, r: SeccompRule| rules.entry(nr).or_default().push(r);
    let vcpu = fd_value(vcpu.as_raw_fd());
    for req in VCPU_IOCTLS {
        add(
            libc::SYS_ioctl,
            rule(vec![cond(0, Op::Eq, vcpu)?, cond(1, Op::Eq, req)?])?,
        );
    }
    add(libc::SYS_write, arg_is(0, 1)?);
    add(libc::SYS_write, arg_is(0, 2)?);
    for a in attached {
        match &a.backend {
            Backend::Net { fd, .. } => {
                add(libc::SYS_read, arg_is(0, fd_value(fd.as_raw_fd()))?);
                add(libc::SYS_write, arg_is(0, fd_value(fd.as_raw_fd()))?);
            }
            Backend::Block { fd, .. } => {
                add(libc::SYS_pread64, arg_is(0, fd_value(fd.as_raw_fd()))?);
                add(libc::SYS_pwrite64, arg_is(0, fd_value(fd.as_raw_fd()))?);
            }
        }
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

    #[test]
    fn request_numbers_are_linuxs() {
        assert_eq!(VCPU_IOCTLS, [0xAE80, 0x8090_AE81, 0x8138_AE83]);
    }
}
