//! Finding Xen and calling it: the CPUID leaves, the hypercall page and the hypercalls this
//! runtime uses (numbers and argument layouts from Xen's public headers, `xen/include/public`).
//!
//! Xen announces itself in CPUID leaves `0x40000000 + k * 0x100` with the signature
//! "XenVMMXenVMM"; leaf `base + 2` gives, in EBX, the MSR to which the guest writes the
//! physical address of a page. Xen fills that page with one 32-byte stub per hypercall
//! (`vmmcall` under SVM, `vmcall` under VMX): hypercall `n` is `call page + 32 * n`, with
//! the arguments in rdi, rsi, rdx, r10, r8 and the result in rax.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::cpu;

/// `HYPERVISOR_set_timer_op(timeout_abs_ns)`.
pub const SET_TIMER_OP: usize = 15;
/// `HYPERVISOR_memory_op(cmd, arg)`.
pub const MEMORY_OP: usize = 12;
/// `HYPERVISOR_vcpu_op(cmd, vcpu, arg)`.
pub const VCPU_OP: usize = 24;
/// `HYPERVISOR_sched_op(cmd, arg)`.
pub const SCHED_OP: usize = 29;
/// `HYPERVISOR_event_channel_op(cmd, arg)`.
pub const EVENT_CHANNEL_OP: usize = 32;
/// `HYPERVISOR_hvm_op(cmd, arg)`.
pub const HVM_OP: usize = 34;

/// `domid_t` of the calling domain.
pub const DOMID_SELF: u16 = 0x7FF0;

// The hypercall page (filled by Xen) and the page `shared_info` is mapped over, both
// page-aligned in `.bss` so that they are inside the image's one loaded range.
core::arch::global_asm!(
    r#"
    .section .bss.petrel_xen_pages, "aw", @nobits
    .balign 4096
    .global __petrel_hypercall_page
__petrel_hypercall_page:
    .skip 4096
    .global __petrel_shared_info
__petrel_shared_info:
    .skip 4096
"#,
    options(att_syntax)
);

unsafe extern "C" {
    /// Xen writes the hypercall stubs here (see [`init`]).
    static __petrel_hypercall_page: u8;
    /// The guest frame that `shared_info` replaces (see [`crate::clock`]).
    pub static __petrel_shared_info: u8;
}

/// Whether [`init`] found Xen and installed the hypercall page.
static READY: AtomicBool = AtomicBool::new(false);

/// The signature Xen puts in EBX, ECX, EDX of its first CPUID leaf.
const SIGNATURE: &[u8; 12] = b"XenVMMXenVMM";

/// The first Xen CPUID leaf, if this CPU is a Xen guest.
pub fn xen_cpuid_base() -> Option<u32> {
    (0..0x100u32)
        .map(|k| 0x4000_0000 + k * 0x100)
        .find(|&leaf| {
            let (eax, ebx, ecx, edx) = cpu::cpuid(leaf);
            let mut sig = [0u8; 12];
            sig[..4].copy_from_slice(&ebx.to_le_bytes());
            sig[4..8].copy_from_slice(&ecx.to_le_bytes());
            sig[8..].copy_from_slice(&edx.to_le_bytes());
            &sig == SIGNATURE && eax >= leaf + 2
        })
}

/// Finds Xen and has it fill the hypercall page. `false` outside Xen.
pub fn init() -> bool {
    let Some(base) = xen_cpuid_base() else {
        return false;
    };
    let (_pages, msr, _, _) = cpu::cpuid(base + 2);
    let page = (&raw const __petrel_hypercall_page) as u64;
    // SAFETY: Xen documents this MSR (CPUID base + 2, EBX) as the hypercall-page MSR; the
    // page is ours, page-aligned and identity-mapped.
    unsafe { cpu::wrmsr(msr, page) };
    READY.store(true, Ordering::Release);
    true
}

/// Whether hypercalls can be made ([`init`] found Xen).
pub fn ready() -> bool {
    READY.load(Ordering::Acquire)
}

/// Hypercall `nr` with three arguments; Xen's result (negative: `-errno`).
///
/// # Safety
///
/// [`init`] must have returned `true`, and the arguments must be what hypercall `nr`
/// expects: pointers to live, correctly laid-out structures that Xen may read or write.
pub unsafe fn call3(nr: usize, a1: u64, a2: u64, a3: u64) -> i64 {
    let ret: i64;
    let stub = (&raw const __petrel_hypercall_page) as usize + 32 * nr;
    // SAFETY: the caller's contract; the stub is Xen's and returns with `ret`. Xen may
    // clobber the argument registers, so they are all outputs too.
    unsafe {
        asm!("call {stub}", stub = in(reg) stub,
            inlateout("rdi") a1 => _, inlateout("rsi") a2 => _, inlateout("rdx") a3 => _,
            lateout("rax") ret, lateout("r10") _, lateout("r8") _, lateout("rcx") _,
            lateout("r11") _)
    };
    ret
}

/// Hypercall `nr` with a command and a pointer to its argument structure.
///
/// # Safety
///
/// As [`call3`]: `arg` must point to the structure command `cmd` of hypercall `nr` takes.
pub unsafe fn call_ptr<T>(nr: usize, cmd: u64, arg: *mut T) -> i64 {
    // SAFETY: the caller's contract.
    unsafe { call3(nr, cmd, arg as u64, 0) }
}

/// `SCHEDOP_yield`: lets other vCPUs (xenconsoled's dom0) run.
pub fn sched_yield() {
    // SAFETY: SCHEDOP_yield takes no argument.
    unsafe { call3(SCHED_OP, 0, 0, 0) };
}

/// Why the domain shuts down (`SHUTDOWN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ShutdownReason {
    /// `SHUTDOWN_poweroff`: a normal exit (xl: "reason code 0").
    Poweroff = 0,
    /// `SHUTDOWN_crash`: an abnormal exit (xl: "reason code 3").
    Crash = 3,
}

/// `SCHEDOP_shutdown`: ends the domain. Returns only if Xen refused.
pub fn shutdown(reason: ShutdownReason) {
    let mut arg = reason as u32;
    // SAFETY: SCHEDOP_shutdown (2) takes a `struct sched_shutdown { uint32_t reason; }`.
    unsafe { call_ptr(SCHED_OP, 2, &mut arg) };
}

/// `struct xen_hvm_param`.
#[repr(C)]
struct HvmParam {
    domid: u16,
    index: u32,
    value: u64,
}

/// `HVM_PARAM_CALLBACK_IRQ`: how event-channel upcalls reach the guest.
pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
/// `HVM_PARAM_STORE_PFN`: the xenstore ring's frame.
pub const HVM_PARAM_STORE_PFN: u32 = 1;
/// `HVM_PARAM_STORE_EVTCHN`: the xenstore ring's event channel.
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
/// `HVM_PARAM_CONSOLE_PFN`: the console ring's frame.
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
/// `HVM_PARAM_CONSOLE_EVTCHN`: the console ring's event channel.
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;

/// `HVMOP_get_param` for this domain.
pub fn hvm_get_param(index: u32) -> Result<u64, i64> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        index,
        value: 0,
    };
    // SAFETY: HVMOP_get_param (1) takes a `struct xen_hvm_param`.
    let rc = unsafe { call_ptr(HVM_OP, 1, &mut p) };
    if rc < 0 { Err(rc) } else { Ok(p.value) }
}

/// `HVMOP_set_param` for this domain.
pub fn hvm_set_param(index: u32, value: u64) -> Result<(), i64> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        index,
        value,
    };
    // SAFETY: HVMOP_set_param (0) takes a `struct xen_hvm_param`.
    let rc = unsafe { call_ptr(HVM_OP, 0, &mut p) };
    if rc < 0 { Err(rc) } else { Ok(()) }
}

/// `EVTCHNOP_send`: notifies the other end of event channel `port`.
pub fn evtchn_send(port: u32) {
    let mut p = port;
    // SAFETY: EVTCHNOP_send (4) takes a `struct evtchn_send { evtchn_port_t port; }`.
    unsafe { call_ptr(EVENT_CHANNEL_OP, 4, &mut p) };
}

/// `struct xen_add_to_physmap`.
#[repr(C)]
struct AddToPhysmap {
    domid: u16,
    size: u16,
    space: u32,
    idx: u64,
    gpfn: u64,
}

/// `XENMAPSPACE_shared_info`.
pub const MAPSPACE_SHARED_INFO: u32 = 0;
/// `XENMAPSPACE_grant_table`.
pub const MAPSPACE_GRANT_TABLE: u32 = 1;

/// `XENMEM_add_to_physmap`: puts page `idx` of Xen's `space` at guest frame `gpfn`, in
/// place of the RAM that was there.
///
/// # Safety
///
/// `gpfn` must be a page of this guest that nothing else uses from now on: it becomes
/// Xen's page.
pub unsafe fn add_to_physmap(space: u32, idx: u64, gpfn: u64) -> Result<(), i64> {
    let mut arg = AddToPhysmap {
        domid: DOMID_SELF,
        size: 0,
        space,
        idx,
        gpfn,
    };
    // SAFETY: XENMEM_add_to_physmap (7) takes a `struct xen_add_to_physmap`; the frame is
    // the caller's to give.
    let rc = unsafe { call_ptr(MEMORY_OP, 7, &mut arg) };
    if rc < 0 { Err(rc) } else { Ok(()) }
}
