//! Fetches `--uri` with reqwless and prints `http-fetch: URI: status S, N bytes`; exits 1 with
//! one line when the host has no address or the request fails.
#![no_std]

use embedded_io_async::Read;
use petrel::dns::Resolver;
use petrel::log::{error, info};
use petrel::prelude::*;
use petrel::stack::Stack;
use reqwless::client::HttpClient;
use reqwless::request::Method;

/// The boot arguments declared in unikernel.toml.
#[derive(petrel::BootArgs)]
pub struct Args {
    /// `--uri=http://HOST[:PORT]/PATH`.
    uri: String,
}

/// The host of an `http://` URI (an IPv6 address without its brackets).
fn host(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// GETs `uri`: its status code and body length.
async fn fetch(stack: &Stack, uri: &str) -> Result<(u16, usize), reqwless::Error> {
    let mut client = HttpClient::new(stack, stack);
    let mut headers = vec![0u8; 16 * 1024];
    let mut request = client.request(Method::GET, uri).await?;
    let response = request.send(&mut headers).await?;
    let status = response.status.0;
    let mut body = response.body().reader();
    let (mut chunk, mut len) = (vec![0u8; 4096], 0);
    loop {
        match body.read(&mut chunk).await? {
            0 => return Ok((status, len)),
            n => len += n,
        }
    }
}

/// Fetches `--uri`.
#[petrel::main]
pub async fn start(stack: Stack, dns: Resolver, args: Args) {
    let uri = args.uri.as_str();
    let Some(host) = host(uri) else {
        error!("http-fetch: {uri}: not an http:// URI with a host");
        petrel::exit(1)
    };
    // Looked up here for a clear error; reqwless looks it up again through the stack.
    if let Err(e) = dns.resolve(host).await {
        error!("http-fetch: {uri}: {host}: {e}");
        petrel::exit(1)
    }
    match fetch(&stack, uri).await {
        Ok((status, len)) => info!("http-fetch: {uri}: status {status}, {len} bytes"),
        Err(e) => {
            error!("http-fetch: {uri}: {e}");
            petrel::exit(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host;

    #[test]
    fn hosts_of_uris() {
        assert_eq!(host("http://example.test/a"), Some("example.test"));
        assert_eq!(host("http://10.0.0.1:8080"), Some("10.0.0.1"));
        assert_eq!(host("http://[fd00::1]:80/x"), Some("fd00::1"));
        assert_eq!(host("http://h?q"), Some("h"));
        assert_eq!(host("https://example.test/"), None);
        assert_eq!(host("http:///path"), None);
    }
}
