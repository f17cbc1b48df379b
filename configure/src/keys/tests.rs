//! The keys' registry and resolution, against a catalogue shaped like the real one.

use super::*;
use crate::catalogue::test_package as package;
use serde_json::json;

/// The built-in keys' shape: `stack` owns `net` and `dhcp`, `kv_ro` owns `kv`.
fn catalogue() -> Catalogue {
    crate::catalogue::from_packages(&[
        package("petrel-stack", json!({"interface": "stack", "kind": "device", "handle": "Stack", "keys": {
            "net": {"doc": "The network stack.", "values": ["socket", "direct"], "default": "direct", "defaults": {"unix": "socket"},
                    "limits": {"socket": {"what": "the socket stack", "why": "it uses the host's sockets"}}},
            "dhcp": {"doc": "DHCP.", "default": true}}})),
        package("petrel-kv-ro", json!({"interface": "kv_ro", "kind": "device", "handle": "KvRo", "keys": {
            "kv": {"doc": "Stores.", "values": ["crunch", "direct"], "default": "crunch"}}})),
        package("petrel-stack-socket", json!({"implements": "stack", "targets": ["unix"], "when": {"net": "socket"}})),
        package("petrel-stack-direct", json!({"implements": "stack", "targets": ["unix", "hvt", "spt", "virtio", "xen"], "when": {"net": "direct"},
            "features": {"dhcp": {"dhcp": "true"}}, "target-features": {"spt": ["spt"]}})),
        package("petrel-kv-ro-direct", json!({"implements": "kv_ro", "targets": ["unix"], "when": {"kv": "direct"}})),
    ])
    .expect("valid test catalogue")
}

fn table(keys: &str) -> KeyTable {
    let text = format!("[unikernel]\nname = \"k\"\n[keys]\n{keys}");
    crate::manifest::parse(SourceFile::new("unikernel.toml", text))
        .expect("valid manifest")
        .keys
}

fn resolve_err(keys: &str, target: Target, o: &KeyOverrides) -> String {
    resolve(&catalogue(), &table(keys), target, o)
        .expect_err("an error")
        .render()
}

#[test]
fn defaults_per_target() {
    let c = catalogue();
    let k = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new()).unwrap();
    assert_eq!(k.value("net"), Some("socket"));
    let k = resolve(&c, &table(""), Target::Hvt, &KeyOverrides::new()).unwrap();
    assert_eq!(k.value("net"), Some("direct"));
    assert_eq!(k.get("dhcp").unwrap().describe(), "dhcp = true (default)");
}

#[test]
fn command_line_wins() {
    let mut o = KeyOverrides::new();
    o.alias("net", "socket").unwrap();
    let k = resolve(
        &catalogue(),
        &table("net = \"direct\"\ndhcp = false"),
        Target::Unix,
        &o,
    )
    .unwrap();
    assert_eq!(k.get("net").unwrap().source, KeySource::CommandLine);
    assert_eq!(
        k.get("dhcp").unwrap().describe(),
        "dhcp = false (unikernel.toml)"
    );
}

#[test]
fn values_missing_on_a_target_are_derived_from_the_implementations() {
    let e = resolve_err("net = \"socket\"", Target::Hvt, &KeyOverrides::new());
    assert!(
        e.contains("the socket stack exists only on unix: it uses the host's sockets"),
        "{e}"
    );
    assert!(e.contains("unikernel.toml:4:7"), "{e}");
    assert!(e.contains("use `net = \"direct\"`"), "{e}");
    let mut o = KeyOverrides::new();
    o.alias("kv", "direct").unwrap();
    o.alias("net", "sockt").unwrap();
    let e = resolve_err("", Target::Xen, &o);
    assert!(e.contains("<command line>:1:7"), "{e}");
    assert!(e.contains("did you mean `--net=socket`?"), "{e}");
    // No `limits` wording for kv: the reason names the implementation.
    assert!(
        e.contains("`kv = direct` exists only on unix (it chooses petrel-kv-ro-direct)"),
        "{e}"
    );
    assert!(e.contains("use `--kv=crunch`"), "{e}");
}

#[test]
fn keys_table_is_checked_even_when_overridden() {
    let mut o = KeyOverrides::new();
    o.alias("net", "socket").unwrap();
    let e = resolve_err("net = \"bogus\"", Target::Unix, &o);
    assert!(e.contains("invalid value `bogus` for the key `net`"), "{e}");
    assert!(e.contains("unikernel.toml:4:7"), "{e}");
}

#[test]
fn unknown_keys_are_spanned_with_a_suggestion() {
    let e = resolve_err("nte = \"direct\"", Target::Unix, &KeyOverrides::new());
    assert!(e.contains("unknown key `nte` in `[keys]`"), "{e}");
    assert!(e.contains("expected one of: dhcp, kv, net"), "{e}");
    assert!(e.contains("did you mean `net`?"), "{e}");
    let mut o = KeyOverrides::new();
    o.key_flag("dhcpp=true").unwrap();
    let e = resolve_err("", Target::Unix, &o);
    assert!(e.contains("<command line>:1:7"), "{e}");
    assert!(e.contains("did you mean `--key=dhcp=true`?"), "{e}");
    assert!(o.key_flag("net").is_err());
    assert!(
        o.key_flag("dhcpp=true").is_ok(),
        "the same value twice is fine"
    );
    let e = o.key_flag("dhcpp=false").unwrap_err();
    assert!(
        e.contains("`--key=dhcpp=true` and `--key=dhcpp=false`"),
        "{e}"
    );
    // A key remembered from an older configure that no longer exists is dropped.
    let mut o = KeyOverrides::new();
    o.replay("colour", "red");
    assert!(resolve(&catalogue(), &table(""), Target::Unix, &o).is_ok());
}

#[test]
fn type_mismatches_say_how_to_write_the_value() {
    let e = resolve_err("dhcp = \"false\"", Target::Unix, &KeyOverrides::new());
    assert!(e.contains("the key `dhcp` must be a boolean"), "{e}");
    assert!(e.contains("write `false` without quotes"), "{e}");
    let e = resolve_err("net = true", Target::Unix, &KeyOverrides::new());
    assert!(e.contains("the key `net` must be a string"), "{e}");
}

#[test]
fn unikernel_keys() {
    let t = table(
        "flavour = \"fancy\"\n[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n",
    );
    // `flavour` is set but declared nowhere.
    let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
        .unwrap_err()
        .render();
    assert!(e.contains("unknown key `flavour`"), "{e}");
    let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n");
    let mut o = KeyOverrides::new();
    o.key_flag("mode=b").unwrap();
    let k = resolve(&catalogue(), &t, Target::Hvt, &o).unwrap();
    assert_eq!(k.get("mode").unwrap().describe(), "mode = b (command line)");
    let t = table("[keys.net]\ndoc = \"Mine.\"\ndefault = false\n");
    let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
        .unwrap_err()
        .render();
    assert!(
        e.contains("already declared by the interface `stack`"),
        "{e}"
    );
    let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\"]\ndefault = \"c\"\n");
    let e = resolve(&catalogue(), &t, Target::Unix, &KeyOverrides::new())
        .unwrap_err()
        .render();
    assert!(
        e.contains("the default `c` of the key `mode` is not one of its values"),
        "{e}"
    );
}

#[test]
fn a_key_belongs_to_one_interface() {
    let mut c = catalogue();
    let other = crate::catalogue::from_packages(&[package(
        "petrel-other",
        json!({"interface": "other", "kind": "service", "keys": {"net": {"doc": "Mine.", "default": false}}}),
    )])
    .unwrap();
    c.interfaces.extend(other.interfaces);
    let e = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new())
        .unwrap_err()
        .render();
    assert!(
        e.contains("the key `net` is declared by two interfaces: `other` and `stack`"),
        "{e}"
    );
}

#[test]
fn features_follow_the_keys() {
    let c = catalogue();
    let imp = c
        .implementations
        .iter()
        .find(|i| i.package == "petrel-stack-direct")
        .unwrap();
    let keys = |dhcp: &str| {
        let mut o = KeyOverrides::new();
        o.alias("dhcp", dhcp).unwrap();
        resolve(&c, &table(""), Target::Spt, &o).expect("valid keys")
    };
    assert_eq!(keys("true").features_for(imp, Target::Spt), ["spt", "dhcp"]);
    assert_eq!(keys("false").features_for(imp, Target::Spt), ["spt"]);
    assert!(keys("false").features_for(imp, Target::Unix).is_empty());
}

#[test]
fn implementations_name_declared_keys_and_values() {
    for (petrel, wanted) in [
        (
            json!({"implements": "stack", "targets": ["unix"], "features": {"dhcp": {"colour": "red"}}}),
            "features: `colour = red` names the key `colour`, which no interface or unikernel declares",
        ),
        (
            json!({"implements": "stack", "targets": ["unix"], "features": {"dhcp": {"dhcp": "yes"}}}),
            "features: `dhcp = yes`, but `dhcp` is one of true, false",
        ),
        (
            json!({"implements": "stack", "targets": ["unix"], "when": {"nte": "x"}}),
            "(did you mean `net`?)",
        ),
    ] {
        let mut c = catalogue();
        let extra = crate::catalogue::from_packages(&[package("bad", petrel)]).unwrap();
        c.implementations.extend(extra.implementations);
        let e = resolve(&c, &table(""), Target::Unix, &KeyOverrides::new())
            .unwrap_err()
            .render();
        assert!(e.contains(wanted), "{e}");
        assert!(e.contains("bad: [package.metadata.petrel]"), "{e}");
        assert!(e.contains("--> /x/bad/Cargo.toml"), "{e}");
    }
    // A key the unikernel declares may be named too.
    let mut c = catalogue();
    let extra = crate::catalogue::from_packages(&[package(
        "mine",
        json!({"implements": "stack", "targets": ["unix"], "when": {"mode": "b"}}),
    )])
    .unwrap();
    c.implementations.extend(extra.implementations);
    let t = table("[keys.mode]\ndoc = \"Mode.\"\nvalues = [\"a\", \"b\"]\ndefault = \"a\"\n");
    assert!(resolve(&c, &t, Target::Unix, &KeyOverrides::new()).is_ok());
}

/// Two stores and a stack, for the keys of one instance.
fn devices() -> Vec<crate::manifest::DeviceDecl> {
    let text = "[unikernel]\nname = \"k\"\n[devices.live]\ntype = \"kv_ro\"\nkeys = { kv = \"direct\" }\n[devices.bundled]\ntype = \"kv_ro\"\n[devices.stack]\ntype = \"stack\"\n";
    crate::manifest::parse(SourceFile::new("unikernel.toml", text))
        .expect("valid manifest")
        .devices
}

fn resolve_devices(o: &KeyOverrides) -> Result<Keys, String> {
    resolve_with_devices(&catalogue(), &table(""), Some(&devices()), Target::Unix, o)
        .map_err(|d| d.render())
}

#[test]
fn an_instance_has_its_own_keys() {
    let k = resolve_devices(&KeyOverrides::new()).unwrap();
    assert_eq!(k.value("kv"), Some("crunch"));
    assert_eq!(k.for_instance("live").value("kv"), Some("direct"));
    assert_eq!(k.for_instance("bundled").value("kv"), Some("crunch"));
    assert!(k.command_line().is_empty());
    // The command line's instance key wins over the device table; its plain key means every
    // instance, the device table's too.
    let mut o = KeyOverrides::new();
    o.key_flag("live.kv=crunch").unwrap();
    o.key_flag("bundled.kv=direct").unwrap();
    o.key_flag("stack.dhcp=false").unwrap();
    let k = resolve_devices(&o).unwrap();
    assert_eq!(k.for_instance("live").value("kv"), Some("crunch"));
    assert_eq!(k.for_instance("bundled").value("kv"), Some("direct"));
    assert_eq!(k.for_instance("stack").value("dhcp"), Some("false"));
    assert_eq!(
        k.command_line().into_iter().collect::<Vec<_>>(),
        [
            ("bundled.kv".to_string(), "direct".to_string()),
            ("stack.dhcp".to_string(), "false".to_string())
        ],
        "the instance keys that differ from the unikernel's are remembered"
    );
    let mut o = KeyOverrides::new();
    o.alias("kv", "crunch").unwrap();
    let k = resolve_devices(&o).unwrap();
    assert_eq!(k.for_instance("live").value("kv"), Some("crunch"));
}

#[test]
fn instance_keys_are_checked() {
    for bad in [".kv=direct", "live.=direct", "=direct", "live.kv"] {
        let e = KeyOverrides::new().key_flag(bad).unwrap_err();
        assert!(e.contains("INSTANCE.NAME=VALUE"), "{bad}: {e}");
    }
    let mut o = KeyOverrides::new();
    o.key_flag("stack.kv=direct").unwrap();
    let e = resolve_devices(&o).unwrap_err();
    assert!(
        e.contains("the device `stack` (type `stack`) has no key `kv`"),
        "{e}"
    );
    assert!(e.contains("expected one of: dhcp, net"), "{e}");
    // Without devices (a unikernel.toml with errors) instance keys are not judged.
    assert!(resolve_with_devices(&catalogue(), &table(""), None, Target::Unix, &o).is_ok());
    // A remembered instance key whose device is gone is dropped.
    let mut o = KeyOverrides::new();
    o.replay("gone.kv", "direct");
    assert!(resolve_devices(&o).is_ok());
}
