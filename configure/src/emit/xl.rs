//! The `xl` configuration of a xen image (`dist/NAME.xl`): what `xl create` needs to boot it
//! as a PVH guest, with the boot arguments on its `cmdline` and its devices as `vif` and
//! `disk` lines in manifest order.

use super::templates;
use serde::Serialize;

/// The memory of a guest without `petrel run --mem`, in MiB: the heap is the rest of it
/// after the image.
pub const MEMORY_MIB: u32 = 32;

/// One xen guest, as its xl configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XlGuest {
    /// The domain name (the unikernel's name).
    pub name: String,
    /// The config file's own path, as the comment tells the user to pass it to `xl create`.
    pub file: String,
    /// The image (`kernel =`).
    pub kernel: String,
    /// The guest's memory in MiB (`memory =`).
    pub memory: u32,
    /// The whole command line, already quoted for the guest's bootvar splitter.
    pub cmdline: String,
    /// Network devices in manifest order: each a dom0 bridge.
    pub bridges: Vec<String>,
    /// Block devices in manifest order: each a raw image file in dom0.
    pub disks: Vec<String>,
    /// `build` or `run`: the command that wrote the file.
    pub command: &'static str,
}

/// The `xvd` name of the `n`th block device: xvda, xvdb, ... (Xen's vbd id 51712 + 16 n).
pub fn vdev(n: usize) -> Result<String, String> {
    u8::try_from(n)
        .ok()
        .filter(|n| *n < 26)
        .map(|n| format!("xvd{}", char::from(b'a' + n)))
        .ok_or_else(|| {
            format!(
                "xl takes at most 26 disks (xvda..xvdz); this image has {}",
                n + 1
            )
        })
}

/// Renders the xl configuration of `guest`. Fails on text xl's strings cannot carry (a
/// control character such as a newline).
pub fn render(guest: &XlGuest) -> Result<String, String> {
    let texts = [&guest.name, &guest.kernel, &guest.cmdline]
        .into_iter()
        .chain(&guest.bridges)
        .chain(&guest.disks);
    for text in texts {
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(format!(
                "{text:?}: an xl configuration cannot carry the control character {c:?}"
            ));
        }
    }
    let vifs: Vec<String> = guest
        .bridges
        .iter()
        .map(|b| format!("bridge={b}"))
        .collect();
    let disks = guest
        .disks
        .iter()
        .enumerate()
        .map(|(n, file)| {
            Ok(format!(
                "format=raw,vdev={},access=rw,target={file}",
                vdev(n)?
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let env = templates::environment();
    let ctx = minijinja::context! {
        command => guest.command,
        name => &guest.name,
        file => &guest.file,
        kernel => &guest.kernel,
        memory => guest.memory,
        cmdline => &guest.cmdline,
        vifs => vifs,
        disks => disks,
    };
    templates::render(&env, templates::XEN_XL_CFG, &ctx).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_disks_and_refuses_control_characters() {
        assert_eq!(vdev(0).as_deref(), Ok("xvda"));
        assert_eq!(vdev(25).as_deref(), Ok("xvdz"));
        assert!(vdev(26).is_err());
        let guest = XlGuest {
            name: "hello".into(),
            file: "dist/hello.xl".into(),
            kernel: "/p/dist/hello.xen".into(),
            memory: MEMORY_MIB,
            cmdline: "a\nb".into(),
            bridges: vec![],
            disks: vec![],
            command: "build",
        };
        let err = render(&guest).expect_err("a newline");
        assert!(err.contains("control character '\\n'"), "{err}");
    }
}
