//! The whole run: check the image, attach the devices, load the guest, install the filter,
//! jump to the entry point. The guest then owns the process: its `exit_group` status is
//! the process's exit status.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;

use petrel_solo5_abi::AbiTarget;
use petrel_tender::boot::{self, Prepared};
use petrel_tender::cli::Options;
use petrel_tender::devices::Backend;

use crate::Error;
use crate::guest::{BootInfo, GuestMemory};
use crate::seccomp::{self, BlockPolicy, Policy};

/// epoll data of the timer descriptor (`~1U`); a NIC's is its manifest index.
pub const TIMERFD_EPOLL_DATA: u64 = 0xFFFF_FFFE;

/// The `--help` text.
pub fn usage() -> String {
    petrel_tender::cli::usage(
        "petrel-spt",
        "Runs the Solo5 spt unikernel KERNEL in this process under a seccomp filter.",
        "A guest killed by the seccomp filter dies of SIGSYS (shells report 159).",
    )
}

fn errno(what: &str) -> Error {
    Error::new(format!("{what}: {}", io::Error::last_os_error()))
}

fn owned(fd: i32, what: &str) -> Result<OwnedFd, Error> {
    if fd < 0 {
        return Err(errno(what));
    }
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn epoll_add(epoll: &OwnedFd, fd: i32, data: u64) -> Result<(), Error> {
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: data,
    };
    // SAFETY: both descriptors are open; `ev` lives for the call.
    let rc = unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
    if rc < 0 {
        return Err(errno("epoll_ctl"));
    }
    Ok(())
}

/// Puts the process in the state the guest expects: the default action for the signals
/// Rust's runtime handles (a guest fault must kill the process, not run host code with the
/// guest's registers), and no core dump (it would contain all of guest memory).
fn prepare_process() -> Result<(), Error> {
    for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGPIPE] {
        // SAFETY: installing SIG_DFL runs no code of ours.
        if unsafe { libc::signal(sig, libc::SIG_DFL) } == libc::SIG_ERR {
            return Err(errno("signal"));
        }
    }
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads `none` during the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
        return Err(errno("setrlimit"));
    }
    Ok(())
}

/// Jumps to the guest's entry with `rsp = stack` and `rdi = boot_info`, every other
/// general-purpose register but r11 (the entry itself) cleared.
///
/// # Safety
///
/// `entry` must be the entry point of a loaded image, `stack` the top of guest memory
/// minus 8, and the process ready to be given up to the guest (seccomp installed).
unsafe fn enter(entry: u64, stack: u64, boot_info: u64) -> ! {
    // SAFETY: the caller guarantees the addresses; the asm never returns, so clobbering
    // every register and the stack pointer is fine.
    unsafe {
        std::arch::asm!(
            "mov rsp, r10",
            "xor eax, eax",
            "xor ebx, ebx",
            "xor ecx, ecx",
            "xor edx, edx",
            "xor esi, esi",
            "xor ebp, ebp",
            "xor r8d, r8d",
            "xor r9d, r9d",
            "xor r10d, r10d",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            "cld",
            "jmp r11",
            in("r11") entry,
            in("r10") stack,
            in("rdi") boot_info,
            options(noreturn),
        )
    }
}

/// Runs an image. Returns only on error, before the guest starts.
pub fn run(o: Options) -> Result<ExitCode, Error> {
    let Prepared {
        file,
        image,
        mem_size,
        cmdline,
        attached,
        manifest: mft,
    } = boot::prepare(&o, AbiTarget::Spt, "petrel-spt")?;

    // SAFETY: plain system calls; results are checked by `owned`.
    let epoll = owned(
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
        "epoll_create1",
    )?;
    // SAFETY: as above.
    let timer = owned(
        unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        },
        "timerfd_create",
    )?;
    epoll_add(&epoll, timer.as_raw_fd(), TIMERFD_EPOLL_DATA)?;
    let mut policy = Policy {
        epollfd: epoll.as_raw_fd(),
        timerfd: timer.as_raw_fd(),
        ..Policy::default()
    };
    for a in &attached {
        match &a.backend {
            Backend::Net { fd, .. } => {
                epoll_add(&epoll, fd.as_raw_fd(), a.index as u64)?;
                policy.nets.push(fd.as_raw_fd());
            }
            Backend::Block {
                fd,
                capacity,
                block_size,
            } => policy.blocks.push(BlockPolicy {
                fd: fd.as_raw_fd(),
                capacity: *capacity,
                block_size: *block_size,
            }),
        }
    }
    let prog = seccomp::build(&policy)?;

    let mut mem = GuestMemory::map(mem_size)?;
    mem.load(&image, &file)?;
    let boot_info = mem.write_boot_info(
        BootInfo {
            mem_size,
            kernel_end: image.kernel_end,
            epollfd: policy.epollfd,
            timerfd: policy.timerfd,
        },
        &mft,
        &cmdline,
    );
    prepare_process()?;
    // The descriptors stay open for the guest; nothing is ever dropped after this point
    // (a drop could free memory, and so make a system call the filter refuses).
    std::mem::forget(attached);
    std::mem::forget(epoll);
    std::mem::forget(timer);
    seccomp::install(&prog)?;
    // SAFETY: the image was checked (entry inside guest memory) and loaded; the stack is
    // the top of guest memory minus 8 as in solo5-spt; the filter is in place.
    unsafe { enter(image.entry, mem.mem_size() - 8, boot_info) }
}
