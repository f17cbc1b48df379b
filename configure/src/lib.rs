//! The `petrel` command as a library: configuration, device graph, catalogue and emitters.
//! `main.rs` is the command line on top of it.

pub mod bootargs;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod crunch;
pub mod dependencies;
pub mod deploy;
pub mod describe;
pub mod diagnostic;
pub mod ecosystem;
pub mod emit;
pub mod error;
pub mod graph;
pub mod inspect;
pub mod keys;
pub mod manifest;
pub mod pipeline;
pub mod project;
pub mod record;
pub mod remap;
pub mod report;
pub mod run;
pub mod selfdesc;
pub mod source;
pub mod status;
pub mod target;
pub mod transaction;
pub mod workspace;
