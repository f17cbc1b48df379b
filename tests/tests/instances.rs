//! Several devices of one kind in one unikernel (issue 19), with `tests/fixtures/many-devices`:
//! two read-only stores built differently by their own configure keys (one crunched into the
//! image, one read from the host), three block devices each on its own disk, and a store that
//! shares its boot-argument prefix with a block device. Configured and run on unix and spt.

use petrel_e2e::{Scratch, build_lock, expect, petrel};
use std::process::Command;

/// What every run of the fixture prints with fresh files.
fn reads_both_stores_and_copies(ran: &petrel_e2e::Ran) {
    for line in [
        "bundled: bundled v1",
        "live: live v1",
        "many_devices: OK copied 8 sectors to 2 disks",
    ] {
        assert!(ran.all().contains(line), "{line}: {}", ran.all());
    }
}

#[test]
fn many_devices_on_unix() {
    let _lock = build_lock();
    let p = Scratch::fixture("many-devices");
    let ran = expect(petrel(&p.dir, "unix").args(["run", "--target", "unix"]), 0);
    reads_both_stores_and_copies(&ran);
    for disk in ["data", "log", "spare"] {
        let img = std::fs::read(p.dir.join(format!("dist/{disk}.img"))).expect("disk");
        assert!(img.iter().any(|&b| b != 0), "{disk}.img was written");
    }

    // `bundled` is in the image, `live` is read at run time: after an edit of both, the
    // image (run by hand, without a rebuild) shows the old bundled file and the new live one.
    std::fs::write(p.dir.join("bundled/hello.txt"), "bundled v2\n").expect("write");
    std::fs::write(p.dir.join("live/hello.txt"), "live v2\n").expect("write");
    let mut image = Command::new(p.dir.join("dist/many-devices"));
    image.current_dir(&p.dir).args([
        "--data-disk=dist/data.img",
        "--log-disk=dist/log.img",
        "--spare-disk=dist/spare.img",
    ]);
    let ran = expect(&mut image, 0);
    assert!(ran.all().contains("bundled: bundled v1"), "{}", ran.all());
    assert!(ran.all().contains("live: live v2"), "{}", ran.all());

    // describe shows each instance's own key and boot-argument prefix.
    let ran = expect(petrel(&p.dir, "unix").arg("describe"), 0);
    let live = ran
        .stdout
        .lines()
        .find(|l| l.contains("live : kv_ro"))
        .unwrap_or_else(|| panic!("no live line: {}", ran.stdout));
    for part in [
        "petrel-kv-ro-direct",
        "key kv = direct (unikernel.toml)",
        "prefix --data-",
    ] {
        assert!(live.contains(part), "{part}: {live}");
    }
    assert!(ran.stdout.contains("--spare-disk=string"), "{}", ran.stdout);
    let ran = expect(petrel(&p.dir, "unix").args(["describe", "--json"]), 0);
    let doc: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON");
    let node = |name: &str| {
        doc["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|x| x["instance"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no node {name}: {}", ran.stdout))
    };
    let live = node("live");
    assert_eq!(live["prefix"], "data-", "{live}");
    assert_eq!(live["keys"][0]["name"], "kv", "{live}");
    assert_eq!(live["keys"][0]["value"], "direct", "{live}");
    assert_eq!(live["keys"][0]["source"], "manifest", "{live}");
    assert!(node("bundled").get("keys").is_none(), "{}", ran.stdout);

    // The plain key still means every instance; an instance key for a missing device or a
    // key the device's interface does not have is a one-place configure error.
    let ran = expect(petrel(&p.dir, "unix").args(["describe", "--kv=crunch"]), 0);
    assert!(
        !ran.stdout.contains("petrel-kv-ro-direct"),
        "{}",
        ran.stdout
    );
    for (key, error) in [
        ("lvie.kv=crunch", "no device `lvie` in unikernel.toml"),
        (
            "data.kv=direct",
            "the device `data` (type `block`) has no key `kv`",
        ),
    ] {
        let ran = expect(
            petrel(&p.dir, "unix").args(["configure", "--target", "unix", "--key", key]),
            1,
        );
        assert!(ran.stderr.contains(error), "{key}: {}", ran.stderr);
    }
}

#[test]
fn many_devices_on_spt() {
    let _lock = build_lock();
    let p = Scratch::fixture("many-devices");
    // `live` is `direct` in its device table, which exists only on unix: configure says so
    // at that table, and the instance key on the command line makes it crunch.
    let ran = expect(
        petrel(&p.dir, "spt").args(["configure", "--target", "spt"]),
        1,
    );
    assert!(
        ran.stderr.contains("`kv = direct` is not available on spt")
            && ran.stderr.contains("keys = { kv = \"direct\" }"),
        "{}",
        ran.stderr
    );
    let ran = expect(
        petrel(&p.dir, "spt").args(["run", "--target", "spt", "--key", "live.kv=crunch"]),
        0,
    );
    reads_both_stores_and_copies(&ran);
}
