//! [`petrel_dns`] over UDP: the device constructor of a `type = "dns"` instance. It reads
//! `--dns-servers` and hands the servers to [`petrel_stack::dns::set_servers`]; the lookups
//! are [`petrel_stack::Stack::resolve`], on whichever stack the device needs.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

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
    _params: &[(&str, &str)],
    args: &'static petrel_bootvar::Values,
    stack: &Stack,
) -> Resolver {
    let given: Vec<String> = args.get("dns-servers");
    let mut servers: Vec<SocketAddr> = Vec::with_capacity(given.len());
    for text in &given {
        match petrel_stack::dns::parse_server(text) {
            Ok(server) => servers.push(server),
            Err(why) => {
                // The console cannot fail; there is nothing else to report to.
                let _ = fmt::write(
                    &mut petrel_console::Writer,
                    format_args!("dns `{name}`: --dns-servers={text}: {why}\n"),
                );
                petrel_platform::exit(64)
            }
        }
    }
    petrel_stack::dns::set_servers(&servers);
    Resolver::new(Stack::acquire_or_exit(stack.name()))
}
