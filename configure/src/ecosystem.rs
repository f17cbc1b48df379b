//! Features of ecosystem crates that cannot work in a Petrel image: refused when configuring,
//! in one line that gives the way out, instead of a compile error deep inside a dependency
//! on some targets only.

use cargo_metadata::Metadata;

/// A crate feature Petrel refuses, and what to do instead.
struct Refused {
    package: &'static str,
    feature: &'static str,
    why: &'static str,
}

const REFUSED: &[Refused] = &[Refused {
    package: "picoserve",
    feature: "embassy",
    // embassy-net 0.9 takes smoltcp 0.13, which fails to build once Petrel's smoltcp 0.14
    // turns on the `alloc` feature of `managed`, which both share.
    why: "it is for embassy-net's sockets, whose smoltcp 0.13 does not build beside Petrel's \
          direct stack; turn it off and serve each accepted `TcpStream` with \
          `picoserve::Server::custom(&app, petrel::stack::picoserve::Timer, &config, &mut buf)` \
          (README: \"Using crates from the embedded Rust ecosystem\")",
}];

/// Checks the project's resolved dependencies: the first refused feature turned on, as one
/// line.
pub fn check(metadata: &Metadata) -> Result<(), String> {
    let Some(resolve) = &metadata.resolve else {
        return Ok(());
    };
    for node in &resolve.nodes {
        let Some(package) = metadata.packages.iter().find(|p| p.id == node.id) else {
            continue;
        };
        let refused = REFUSED.iter().find(|r| {
            package.name.as_str() == r.package && node.features.iter().any(|f| *f == r.feature)
        });
        if let Some(r) = refused {
            return Err(format!(
                "{} {}: its `{}` feature is on, but {}",
                r.package, package.version, r.feature, r.why
            ));
        }
    }
    Ok(())
}
