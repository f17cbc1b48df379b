//! [`petrel_dns`] over UDP: the device constructor of a `type = "dns"` instance. It reads
//! `--dns-servers` and installs the [`resolver`] that `Stack::resolve` calls, on whichever
//! stack a lookup is made.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod resolver;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;
use petrel_dns::Resolver;
use petrel_stack::Stack;

/// The device constructor the generated crate calls for each `type = "dns"` instance: the
/// resolver on `stack`, asking `--dns-servers` if given. A malformed server prints one line
/// and exits 64, as any malformed boot argument.
pub async fn connect(
    name: &'static str,
    params: &[(&str, &str)],
    args: &'static petrel_bootvar::Values,
    stack: &Stack,
) -> Resolver {
    // The prefix of this instance's boot arguments (`--public-dns-servers`), for messages.
    let prefix = petrel_bootvar::instance_prefix(params);
    let given: Vec<String> = args.get("dns-servers");
    let mut servers: Vec<SocketAddr> = Vec::with_capacity(given.len());
    for text in &given {
        match resolver::parse_server(text) {
            Ok(server) => servers.push(server),
            Err(why) => {
                // The console cannot fail; there is nothing else to report to.
                let _ = fmt::write(
                    &mut petrel_console::Writer,
                    format_args!("dns `{name}`: --{prefix}dns-servers={text}: {why}\n"),
                );
                petrel_platform::exit(64)
            }
        }
    }
    resolver::set_servers(&servers);
    petrel_stack::dns::set_resolver(resolver::lookup);
    Resolver::new(Stack::acquire_or_exit(stack.name()))
}
