//! Building blocks of the tenders' seccomp filters (rust-vmm's `seccompiler`): rules whose
//! arguments are compared as full 64-bit values, and installing a filter.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::Error;

pub use seccompiler::SeccompCmpOp as Op;

/// Allowed system calls: number → rules (the call is allowed when any rule matches; an
/// empty list allows it unconditionally).
pub type Rules = BTreeMap<i64, Vec<SeccompRule>>;

/// `arg OP value`, on the whole 64-bit argument.
pub fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, Error> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| Error::new(format!("seccomp: {e}")))
}

/// A rule matching when all `conds` hold.
pub fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule, Error> {
    SeccompRule::new(conds).map_err(|e| Error::new(format!("seccomp: {e}")))
}

/// `arg == value`.
pub fn arg_is(arg: u8, value: u64) -> Result<SeccompRule, Error> {
    rule(vec![cond(arg, SeccompCmpOp::Eq, value)?])
}

/// A file descriptor as the 64-bit value a caller must pass.
pub fn fd_value(fd: i32) -> u64 {
    u64::from(fd as u32)
}

/// Compiles `rules` into a filter that kills the process on anything else (including
/// another architecture's system calls): `SECCOMP_RET_KILL_PROCESS`, SIGSYS.
pub fn compile(rules: Rules) -> Result<BpfProgram, Error> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| Error::new(format!("seccomp: {e}")))?;
    BpfProgram::try_from(filter).map_err(|e| Error::new(format!("seccomp: {e}")))
}

/// Installs `prog` on this thread (after `PR_SET_NO_NEW_PRIVS`). From here on, every
/// system call this thread makes is filtered.
pub fn install(prog: &BpfProgram) -> Result<(), Error> {
    seccompiler::apply_filter(prog).map_err(|e| Error::new(format!("seccomp: {e}")))
}
