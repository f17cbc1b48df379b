//! The virtual machine: KVM through rust-vmm's `kvm-ioctls`, one memory slot over all of
//! guest memory, one vCPU in 64-bit long mode as `solo5-abi.md` §1.3 describes, and the
//! host's supported CPUID passed through.

use std::io;

use kvm_bindings::{KVM_MAX_CPUID_ENTRIES, kvm_segment, kvm_userspace_memory_region};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use petrel_solo5_abi::hvt::{
    BOOT_INFO_ADDR, CODE_SELECTOR, CR0, CR4, DATA_SELECTOR, EFER, GDT, GDT_ADDR, PML4_ADDR, RFLAGS,
};

use crate::Error;
use crate::memory::GuestRam;

/// Where `/dev/kvm` is.
pub const KVM_PATH: &str = "/dev/kvm";

/// A VM with its one vCPU, ready to run.
pub struct Machine {
    /// The VM (kept open for the vCPU's lifetime).
    _vm: VmFd,
    /// The vCPU.
    pub vcpu: VcpuFd,
    /// The TSC frequency the guest is told, in Hz.
    pub tsc_hz: u64,
}

/// Opens `/dev/kvm`, with a one-line error that says why hvt cannot run without it.
pub fn open_kvm() -> Result<Kvm, Error> {
    Kvm::new().map_err(|e| {
        let e = io::Error::from_raw_os_error(e.errno());
        Error::new(format!(
            "cannot use KVM ({KVM_PATH}: {e}): hvt guests need KVM; run where {KVM_PATH} exists and is accessible, or use --target spt"
        ))
    })
}

fn kvm_err(what: &str) -> impl Fn(kvm_ioctls::Error) -> Error + '_ {
    move |e| {
        Error::new(format!(
            "KVM: {what}: {}",
            io::Error::from_raw_os_error(e.errno())
        ))
    }
}

/// A 64-bit flat segment as the tender's boot GDT describes it: code (`code`) or data.
fn segment(code: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xFFFF_FFFF,
        selector: if code { CODE_SELECTOR } else { DATA_SELECTOR },
        // Execute/read, accessed; or read/write, accessed.
        type_: if code { 0xB } else { 0x3 },
        present: 1,
        dpl: 0,
        db: u8::from(!code),
        s: 1,
        l: u8::from(code),
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Creates the VM over `ram` and its vCPU at `entry`, in the state §1.3 gives.
pub fn create(kvm: &Kvm, ram: &GuestRam, entry: u64) -> Result<Machine, Error> {
    let vm = kvm.create_vm().map_err(kvm_err("create the VM"))?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: ram.len() as u64,
        userspace_addr: ram.host_address(),
    };
    // SAFETY: the region is `ram`'s live mapping, which outlives the VM: `run` keeps both
    // until the process exits, and drops the machine first.
    unsafe { vm.set_user_memory_region(region) }.map_err(kvm_err("set the memory"))?;
    let vcpu = vm.create_vcpu(0).map_err(kvm_err("create the vCPU"))?;

    let cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(kvm_err("get the supported CPUID"))?;
    vcpu.set_cpuid2(&cpuid).map_err(kvm_err("set the CPUID"))?;

    let mut sregs = vcpu.get_sregs().map_err(kvm_err("get the registers"))?;
    sregs.cr0 = CR0;
    sregs.cr3 = PML4_ADDR;
    sregs.cr4 = CR4;
    sregs.efer = EFER;
    sregs.cs = segment(true);
    for s in [
        &mut sregs.ss,
        &mut sregs.ds,
        &mut sregs.es,
        &mut sregs.fs,
        &mut sregs.gs,
    ] {
        *s = segment(false);
    }
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = (GDT.len() * 8 - 1) as u16;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    // A busy 64-bit TSS of size 0, and no LDT.
    sregs.tr = kvm_segment {
        selector: 0,
        type_: 0xB,
        present: 1,
        s: 0,
        l: 0,
        db: 0,
        g: 0,
        ..segment(false)
    };
    sregs.tr.limit = 0;
    sregs.ldt = kvm_segment {
        selector: 0,
        type_: 0x2,
        present: 1,
        s: 0,
        unusable: 1,
        ..segment(false)
    };
    vcpu.set_sregs(&sregs)
        .map_err(kvm_err("set the registers"))?;

    // Every other general-purpose register is 0.
    let regs = kvm_bindings::kvm_regs {
        rip: entry,
        rsp: ram.len() as u64 - 8,
        rdi: BOOT_INFO_ADDR,
        rflags: RFLAGS,
        ..Default::default()
    };
    vcpu.set_regs(&regs).map_err(kvm_err("set the registers"))?;

    let tsc_hz = match vcpu.get_tsc_khz() {
        Ok(khz) if khz > 0 => u64::from(khz) * 1000,
        _ => measure_tsc_hz(),
    };
    Ok(Machine {
        _vm: vm,
        vcpu,
        tsc_hz,
    })
}

/// The TSC frequency, measured against `CLOCK_MONOTONIC` over 20 ms, when KVM does not
/// say it.
fn measure_tsc_hz() -> u64 {
    let start = std::time::Instant::now();
    // SAFETY: rdtsc has no preconditions on x86_64.
    let t0 = unsafe { core::arch::x86_64::_rdtsc() };
    std::thread::sleep(std::time::Duration::from_millis(20));
    // SAFETY: as above.
    let t1 = unsafe { core::arch::x86_64::_rdtsc() };
    let ns = start.elapsed().as_nanos().max(1);
    (u128::from(t1.wrapping_sub(t0)) * 1_000_000_000 / ns) as u64
}
