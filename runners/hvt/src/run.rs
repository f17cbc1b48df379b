//! The whole run: check the image and the command line, attach the devices, build the VM,
//! install the filter, then run the vCPU and answer its hypercalls until it halts.

use std::process::ExitCode;

use kvm_ioctls::VcpuExit;
use petrel_solo5_abi::AbiTarget;
use petrel_tender::boot::{self, Prepared};
use petrel_tender::cli::Options;
use petrel_tender::devices::Backend;
use std::ops::Range;
use std::os::fd::AsRawFd;

use crate::Error;
use crate::host::RealHost;
use crate::hypercall::{self, GuestMem, Stop};
use crate::memory::{self, BootInfo, GuestRam};
use crate::{seccomp, vcpu};

/// Exit status of a guest fault (a triple fault, an access outside guest memory, an exit
/// the tender does not handle): the abort status.
pub const EXIT_GUEST_FAULT: i32 = 255;

/// The `--help` text.
pub fn usage() -> String {
    petrel_tender::cli::usage(
        "petrel-hvt",
        "Runs the Solo5 hvt unikernel KERNEL in a KVM virtual machine (/dev/kvm).",
        "A guest fault gives 255 and one line: the KVM exit, RIP and fault address.",
    )
}

/// Runs an image. Returns only on an error before the guest starts; a running guest ends
/// the process with its exit status.
pub fn run(o: Options) -> Result<ExitCode, Error> {
    let Prepared {
        file,
        image,
        mem_size,
        cmdline,
        attached,
        manifest: mft,
    } = boot::prepare(&o, AbiTarget::Hvt, "petrel-hvt")?;

    let kvm = vcpu::open_kvm()?;
    let mut ram = GuestRam::new(mem_size)?;
    memory::load(ram.bytes(), &image, &file)?;
    memory::write_page_tables(ram.bytes())?;
    let mut machine = vcpu::create(&kvm, &ram, image.entry)?;
    let bi = BootInfo {
        mem_size,
        kernel_end: image.kernel_end,
        tsc_hz: machine.tsc_hz,
    };
    memory::write_boot_info(ram.bytes(), bi, &mft, &cmdline)?;
    let read_only = ram.protect(&image)?;
    let mut host = RealHost::new(&attached);
    let mut policy = seccomp::Policy {
        vcpu: machine.vcpu.as_raw_fd(),
        ..Default::default()
    };
    for a in &attached {
        match &a.backend {
            Backend::Net { fd, .. } => policy.taps.push(fd.as_raw_fd()),
            Backend::Block { fd, .. } => policy.disks.push(fd.as_raw_fd()),
        }
    }
    let filter = seccomp::build(&policy)?;
    drop(file);
    petrel_tender::seccomp::install(&filter)?;
    // `attached` keeps the descriptors open: the loop never returns.
    run_loop(&mut machine.vcpu, &mut ram, &read_only, &mut host)
}

/// Runs the vCPU and answers its hypercalls until the guest halts or faults, then ends the
/// process.
fn run_loop(
    vcpu: &mut kvm_ioctls::VcpuFd,
    ram: &mut GuestRam,
    read_only: &[Range<u64>],
    host: &mut RealHost,
) -> ! {
    let mem_size = ram.len() as u64;
    loop {
        // A hypercall is a 4-byte `out`; anything else is refused by `handle` as a bad
        // port access, so only the 4-byte case is copied out of the vCPU's run area.
        let mut data = [0u8; 4];
        let (port, len) = match vcpu.run() {
            Ok(VcpuExit::IoOut(port, bytes)) => {
                if let Ok(word) = <[u8; 4]>::try_from(bytes) {
                    data = word;
                }
                (port, bytes.len())
            }
            Ok(exit) => {
                let what = describe(&exit, mem_size);
                guest_fault(vcpu, &what)
            }
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => continue,
            // KVM could not map the page the guest touched for it: a write to a read-only
            // segment (the host mapping is read-only there).
            Err(e) if e.errno() == libc::EFAULT => {
                guest_fault(vcpu, "write to read-only memory (KVM_RUN: EFAULT)")
            }
            Err(e) => fatal(&format!(
                "KVM_RUN: {}",
                std::io::Error::from_raw_os_error(e.errno())
            )),
        };
        let bytes: &[u8] = if len == 4 { &data } else { &[] };
        let mut mem = GuestMem::with_read_only(ram.bytes(), read_only);
        match hypercall::handle(port, bytes, &mut mem, host) {
            Ok(()) => {}
            Err(Stop::Halt(status)) => exit_now(status),
            Err(Stop::Fatal(msg)) => fatal(&msg),
        }
    }
}

/// One line naming a vCPU exit the tender does not handle, in a guest of `mem_size` bytes.
fn describe(exit: &VcpuExit<'_>, mem_size: u64) -> String {
    // Below mem_size, an MMIO exit is an access KVM could not do on the host mapping: a
    // write to a read-only segment.
    let place = |addr: u64| {
        if addr < mem_size {
            "to read-only memory"
        } else {
            "outside guest memory"
        }
    };
    match exit {
        VcpuExit::Shutdown => "triple fault (KVM exit SHUTDOWN)".to_string(),
        VcpuExit::Hlt => "hlt with interrupts off (KVM exit HLT)".to_string(),
        VcpuExit::MmioRead(addr, d) => format!(
            "read of {} bytes {} at gpa={addr:#x} (KVM exit MMIO)",
            d.len(),
            place(*addr)
        ),
        VcpuExit::MmioWrite(addr, d) => format!(
            "write of {} bytes {} at gpa={addr:#x} (KVM exit MMIO)",
            d.len(),
            place(*addr)
        ),
        VcpuExit::IoIn(port, _) => format!("read of I/O port {port:#x} (KVM exit IO)"),
        VcpuExit::FailEntry(reason, _) => {
            format!("VM entry failed, hardware reason {reason:#x} (KVM exit FAIL_ENTRY)")
        }
        VcpuExit::InternalError => "KVM internal error (KVM exit INTERNAL_ERROR)".to_string(),
        other => format!("unhandled KVM exit {other:?}"),
    }
}

/// Reports a guest fault in one line (what, RIP, CR2 where it is a page fault's address)
/// and ends the process with 255.
fn guest_fault(vcpu: &kvm_ioctls::VcpuFd, what: &str) -> ! {
    let rip = vcpu
        .get_regs()
        .map(|r| format!("{:#x}", r.rip))
        .unwrap_or_else(|_| "?".into());
    let cr2 = vcpu
        .get_sregs()
        .map(|s| format!("{:#x}", s.cr2))
        .unwrap_or_else(|_| "?".into());
    eprintln!("petrel-hvt: guest fault: {what}, rip={rip}, cr2={cr2}");
    exit_now(EXIT_GUEST_FAULT)
}

/// Reports a tender error and ends the process with 1.
fn fatal(msg: &str) -> ! {
    eprintln!("petrel-hvt: error: {msg}");
    exit_now(1)
}

/// Ends the process with `status` (as a shell sees it: the low 8 bits) at once: after the
/// filter is installed nothing is dropped or closed.
fn exit_now(status: i32) -> ! {
    // SAFETY: _exit ends the process; nothing of ours runs after it.
    unsafe { libc::_exit(status) }
}
