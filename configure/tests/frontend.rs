//! Front-end tests: `unikernel.toml` + `src/lib.rs` → resolved device graph, diagnostics and
//! `describe` renderings, against an in-memory catalogue shaped like the real one.
//!
//! Fixtures: `fixtures/bad/NAME.toml` is a `unikernel.toml` that must be rejected; its
//! rendered diagnostics are the snapshot `snapshots/bad@NAME.toml.snap`. The lib.rs
//! used is `fixtures/bad/NAME.rs` if it exists, else [`DEFAULT_LIB`]. Header comments choose
//! the target (`# target: hvt`, default unix) and command-line keys (`# args: --net=socket`).

use petrel_cli::catalogue::{
    ArgDecl, Catalogue, Implementation, Interface, InterfaceKind, KeyDecl, ValueLimit,
};
use petrel_cli::diagnostic::SourceFile;
use petrel_cli::graph::{self, MainParam, Origin, Resolved};
use petrel_cli::keys::{self, KeyOverrides, KeySource};
use petrel_cli::target::Target;
use petrel_cli::{bootargs, describe};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DEFAULT_LIB: &str = "#[petrel::main]\npub async fn start() {}\n";

fn interface(
    name: &str,
    kind: InterfaceKind,
    handle: Option<&str>,
    default: Option<&str>,
) -> Interface {
    Interface {
        name: name.into(),
        package: format!("petrel-{name}"),
        kind,
        handle: handle.map(String::from),
        default_instance: default.map(String::from),
        solo5_device: match name {
            "net" => Some("NET_BASIC".into()),
            "block" => Some("BLOCK_BASIC".into()),
            _ => None,
        },
        keys: BTreeMap::new(),
    }
}

/// A key declaration, as an interface's `[package.metadata.petrel.keys.NAME]` says it.
/// `values` empty: a boolean key.
fn key(
    doc: &str,
    values: &[&str],
    default: &str,
    defaults: &[(Target, &str)],
    limits: &[(&str, &str, &str)],
) -> KeyDecl {
    KeyDecl {
        doc: doc.into(),
        boolean: values.is_empty(),
        values: if values.is_empty() {
            vec!["true".into(), "false".into()]
        } else {
            values.iter().map(|v| v.to_string()).collect()
        },
        default: default.into(),
        defaults: defaults.iter().map(|(t, v)| (*t, v.to_string())).collect(),
        limits: limits
            .iter()
            .map(|(v, what, why)| {
                let limit = ValueLimit {
                    what: what.to_string(),
                    why: why.to_string(),
                };
                (v.to_string(), limit)
            })
            .collect(),
    }
}

fn imp(
    package: &str,
    implements: &str,
    targets: &[Target],
    when: &[(&str, &str)],
    needs: &[(&str, &str)],
) -> Implementation {
    Implementation {
        package: package.into(),
        version: "0.1.0".into(),
        dir: PathBuf::from(format!("/catalogue/{package}")),
        implements: implements.into(),
        targets: targets.to_vec(),
        when: when
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        needs: needs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        features: Default::default(),
        target_features: BTreeMap::new(),
        constructor: None,
        params: Vec::new(),
        embed: None,
        bootargs: Vec::new(),
    }
}

fn arg(name: &str, ty: &str, default: Option<&str>, doc: &str) -> ArgDecl {
    ArgDecl {
        name: name.into(),
        ty: ty.into(),
        default: default.map(String::from),
        doc: doc.into(),
        section: "NETWORK OPTIONS".into(),
        required: false,
        repeated: false,
    }
}

/// The test catalogue: the real one's shape, plus a few test-only interfaces.
fn catalogue() -> Catalogue {
    use InterfaceKind::*;
    use Target::*;
    let free = [Hvt, Spt, Virtio, Xen];
    let mut interfaces = BTreeMap::new();
    for s in ["time", "clock", "random", "console", "platform"] {
        interfaces.insert(s.to_string(), interface(s, Service, None, None));
    }
    for i in [
        interface("net", Device, Some("Net"), Some("service")),
        interface("block", Device, Some("Block"), Some("storage")),
        interface("kv_ro", Device, Some("KvRo"), None),
        interface("stack", Device, Some("Stack"), None),
        interface("monitor", Device, Some("Monitor"), None),
        interface("tunnel", Device, Some("Tunnel"), None),
    ] {
        interfaces.insert(i.name.clone(), i);
    }
    // The keys, owned by their interfaces as in the real catalogue.
    let stack_keys = &mut interfaces.get_mut("stack").expect("declared above").keys;
    stack_keys.insert(
        "net".into(),
        key(
            "The network stack: `socket` uses the host's sockets (unix only), `direct` is the unikernel's own TCP/IP stack on a network device.",
            &["socket", "direct"],
            "direct",
            &[(Unix, "socket")],
            &[("socket", "the socket stack", "it uses the host's sockets")],
        ),
    );
    stack_keys.insert(
        "dhcp".into(),
        key("With the direct stack, get the IPv4 configuration by DHCP instead of the --ipv4 boot arguments.", &[], "true", &[], &[]),
    );
    interfaces.get_mut("kv_ro").expect("declared above").keys.insert(
        "kv".into(),
        key(
            "Read-only key-value stores: `crunch` embeds the files in the image, `direct` reads the host's directory at run time (unix only).",
            &["crunch", "direct"],
            "crunch",
            &[],
            &[("direct", "the direct key-value store", "it reads the host's files at run time")],
        ),
    );
    let mut implementations = Vec::new();
    for s in ["time", "clock", "random", "console", "platform"] {
        implementations.push(imp(&format!("petrel-{s}-unix"), s, &[Unix], &[], &[]));
        implementations.push(imp(&format!("petrel-{s}-solo5"), s, &free, &[], &[]));
    }
    implementations.push(imp("petrel-net-unix", "net", &[Unix], &[], &[]));
    implementations.push(imp("petrel-net-solo5", "net", &[Hvt, Spt], &[], &[]));
    let mut block_unix = imp("petrel-block-unix", "block", &[Unix], &[], &[]);
    block_unix.bootargs = vec![ArgDecl {
        required: true,
        section: "BLOCK OPTIONS".into(),
        ..arg(
            "disk",
            "string",
            None,
            "The host file that backs the block device.",
        )
    }];
    implementations.push(block_unix);
    implementations.push(imp("petrel-block-solo5", "block", &[Hvt, Spt], &[], &[]));
    implementations.push(imp("petrel-block-extra", "block", &[Hvt], &[], &[]));
    implementations.push(imp(
        "petrel-stack-socket",
        "stack",
        &[Unix],
        &[("net", "socket")],
        &[],
    ));
    let mut direct = imp(
        "petrel-stack-direct",
        "stack",
        &Target::ALL,
        &[("net", "direct")],
        &[("net", "net")],
    );
    direct.bootargs = vec![
        arg(
            "ipv4",
            "ipv4-prefix",
            Some("10.0.0.2/24"),
            "The IPv4 address and network of the unikernel.",
        ),
        arg("ipv4-gateway", "ipv4", None, "The IPv4 gateway."),
    ];
    implementations.push(direct);
    let mut crunch = imp(
        "petrel-kv_ro-crunch",
        "kv_ro",
        &Target::ALL,
        &[("kv", "crunch")],
        &[],
    );
    crunch.params = vec!["dir".into()];
    implementations.push(crunch);
    let mut kv_direct = imp(
        "petrel-kv_ro-direct",
        "kv_ro",
        &[Unix],
        &[("kv", "direct")],
        &[],
    );
    kv_direct.params = vec!["dir".into()];
    implementations.push(kv_direct);
    implementations.push(imp(
        "petrel-monitor-any",
        "monitor",
        &Target::ALL,
        &[],
        &[("net", "net")],
    ));
    implementations.push(imp(
        "petrel-tunnel-relay",
        "tunnel",
        &Target::ALL,
        &[],
        &[("via", "tunnel")],
    ));
    implementations.sort_by(|a, b| a.package.cmp(&b.package));
    Catalogue {
        interfaces,
        implementations,
    }
}

fn check(
    toml: &str,
    lib: &str,
    target: Target,
    overrides: &KeyOverrides,
) -> Result<Resolved, String> {
    graph::check_files(
        SourceFile::new("unikernel.toml", toml),
        SourceFile::new("src/lib.rs", lib),
        &catalogue(),
        target,
        overrides,
    )
    .map_err(|d| d.render())
}

fn ok(toml: &str, lib: &str, target: Target) -> Resolved {
    match check(toml, lib, target, &KeyOverrides::default()) {
        Ok(r) => r,
        Err(e) => panic!("expected success, got:\n{e}"),
    }
}

fn order(r: &Resolved) -> Vec<String> {
    r.nodes.iter().map(|n| n.instance.clone()).collect()
}

/// Reads `# target: T` and `# args: ...` header comments.
fn header(text: &str) -> (Target, KeyOverrides) {
    let mut target = Target::Unix;
    let mut o = KeyOverrides::default();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("# target: ") {
            target = Target::from_name(t.trim()).expect("fixture target");
        }
        if let Some(args) = line.strip_prefix("# args: ") {
            for a in args.split_whitespace() {
                match a.split_once('=') {
                    Some(("--net", v)) => o.alias("net", v),
                    Some(("--kv", v)) => o.alias("kv", v),
                    Some(("--key", v)) => o.key_flag(v),
                    _ if a == "--dhcp" => o.alias("dhcp", "true"),
                    _ if a == "--no-dhcp" => o.alias("dhcp", "false"),
                    _ => panic!("unknown fixture argument {a}"),
                }
                .expect("fixture arguments are valid");
            }
        }
    }
    (target, o)
}

fn run_fixture(path: &Path) -> Result<Resolved, String> {
    let bytes = std::fs::read(path).expect("fixture");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (target, overrides) = header(&text);
    let lib = std::fs::read_to_string(path.with_extension("rs"))
        .unwrap_or_else(|_| DEFAULT_LIB.to_string());
    let reading = petrel_cli::manifest::read_bytes("unikernel.toml", &bytes);
    match &reading.manifest {
        Ok(m) => graph::check_files(
            m.file.clone(),
            SourceFile::new("src/lib.rs", lib),
            &catalogue(),
            target,
            &overrides,
        )
        .map_err(|d| d.render()),
        // The file has problems: its keys are still checked, as `petrel configure` does.
        Err(_) => Err(
            keys::resolve_reading(reading, &catalogue(), target, &overrides)
                .expect_err("a manifest with problems stays an error")
                .render(),
        ),
    }
}

/// The fixtures `fixtures/DIR/*.toml`, sorted.
fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Snapshot name suffix of a fixture: its file name.
fn suffix(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn bad() {
    let all = fixtures("bad");
    assert!(all.len() >= 20, "only {} bad fixtures", all.len());
    for path in all {
        match run_fixture(&path) {
            Ok(r) => panic!("{} was accepted: {:?}", path.display(), order(&r)),
            Err(rendered) => {
                insta::with_settings!({snapshot_suffix => suffix(&path), prepend_module_to_snapshot => false}, {
                    insta::assert_snapshot!("bad", rendered);
                })
            }
        }
    }
}

#[test]
fn good() {
    for path in fixtures("good") {
        let r =
            run_fixture(&path).unwrap_or_else(|e| panic!("{} was rejected:\n{e}", path.display()));
        insta::with_settings!({snapshot_suffix => suffix(&path), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("good", describe::text(&r));
        });
    }
}

const HELLO_KEY: &str = r#"
[unikernel]
name = "hello-key"

[devices.stack]
type = "stack"

[devices.htdocs]
type = "kv_ro"
dir = "htdocs"

[args.hello]
type = "string"
default = "Hello world!"
doc = "The greeting."
"#;

const HELLO_KEY_LIB: &str = r#"
use petrel::{BootArgs, KvRo, Stack};

#[derive(BootArgs)]
pub struct Args {
    hello: String,
}

#[petrel::main]
pub async fn start(stack: Stack, htdocs: petrel::KvRo, args: Args) {}
"#;

#[test]
fn resolves_hello_key_on_unix_and_hvt() {
    let r = ok(HELLO_KEY, HELLO_KEY_LIB, Target::Unix);
    assert_eq!(
        order(&r),
        [
            "clock", "console", "platform", "random", "time", "htdocs", "stack"
        ]
    );
    assert_eq!(
        r.node("stack").unwrap().implementation.package,
        "petrel-stack-socket"
    );
    assert_eq!(
        r.node("htdocs")
            .unwrap()
            .params
            .get("dir")
            .map(String::as_str),
        Some("htdocs")
    );
    assert!(r.warnings.is_empty(), "{}", r.warnings);
    assert_eq!(r.bootargs.args.len(), 1);

    let r = ok(HELLO_KEY, HELLO_KEY_LIB, Target::Hvt);
    assert_eq!(
        order(&r),
        [
            "clock", "console", "platform", "random", "time", "htdocs", "service", "stack"
        ]
    );
    let stack = r.node("stack").unwrap();
    assert_eq!(stack.implementation.package, "petrel-stack-direct");
    assert_eq!(stack.wiring[0].instance, "service");
    assert_eq!(r.nodes[stack.wiring[0].node].interface, "net");
    assert_eq!(r.node("service").unwrap().origin, Origin::Implicit);
    assert_eq!(
        r.params,
        [
            MainParam::Device {
                name: "stack".into(),
                node: 7
            },
            MainParam::Device {
                name: "htdocs".into(),
                node: 5
            },
            MainParam::BootArgs {
                name: "args".into(),
                type_name: "Args".into()
            },
        ]
    );
    // Application options first, then the others; names sorted within a section.
    let names: Vec<&str> = r
        .bootargs
        .args
        .iter()
        .map(|a| a.decl.name.as_str())
        .collect();
    assert_eq!(names, ["hello", "ipv4", "ipv4-gateway"]);
    assert_eq!(r.bootargs.get("ipv4").unwrap().device, "stack");
}

#[test]
fn every_dependency_comes_first() {
    let r = ok(HELLO_KEY, HELLO_KEY_LIB, Target::Spt);
    for (i, n) in r.nodes.iter().enumerate() {
        for w in &n.wiring {
            assert!(
                w.node < i,
                "{} needs {} which comes later",
                n.instance,
                w.instance
            );
        }
    }
}

const SHARED: &str = r#"
[unikernel]
name = "shared"
[keys]
net = "direct"
[devices.stack]
type = "stack"
[devices.watch]
type = "monitor"
[devices.watch2]
type = "monitor"
net = "service"
"#;

#[test]
fn one_default_instance_for_all_consumers() {
    let lib =
        "#[petrel::main] pub async fn start(stack: Stack, watch: Monitor, watch2: Monitor) {}";
    let r = ok(SHARED, lib, Target::Hvt);
    let services: Vec<&str> = r
        .nodes
        .iter()
        .filter(|n| n.interface == "net")
        .map(|n| n.instance.as_str())
        .collect();
    assert_eq!(services, ["service"], "one net node");
    let net = r
        .nodes
        .iter()
        .position(|n| n.instance == "service")
        .unwrap();
    for c in ["stack", "watch", "watch2"] {
        assert_eq!(r.node(c).unwrap().wiring[0].node, net);
    }
    assert_eq!(order(&r)[5..], ["service", "stack", "watch", "watch2"]);
}

#[test]
fn order_follows_needs_before_names() {
    // `astack` sorts before `znet` by name, but needs it, so `znet` is initialised first.
    let text = "[unikernel]\nname = \"o\"\n[keys]\nnet = \"direct\"\n\
                [devices.astack]\ntype = \"stack\"\nnet = \"znet\"\n\
                [devices.znet]\ntype = \"net\"\n";
    let lib = "#[petrel::main] pub async fn start(astack: Stack) {}";
    let r = ok(text, lib, Target::Spt);
    assert_eq!(
        order(&r),
        [
            "clock", "console", "platform", "random", "time", "znet", "astack"
        ]
    );
}

#[test]
fn order_does_not_depend_on_declaration_order() {
    let lib = "#[petrel::main] pub async fn start(stack: Stack, watch: Monitor, watch2: Monitor, disk: Block, aa: KvRo) {}";
    let tables = [
        "[devices.stack]\ntype = \"stack\"\n",
        "[devices.watch]\ntype = \"monitor\"\n",
        "[devices.watch2]\ntype = \"monitor\"\nnet = \"service\"\n",
        "[devices.disk]\ntype = \"block\"\n",
        "[devices.aa]\ntype = \"kv_ro\"\n",
    ];
    let mut expected = None;
    // Every rotation and its reverse.
    for rot in 0..tables.len() {
        for rev in [false, true] {
            let mut t: Vec<&str> = tables
                .iter()
                .cycle()
                .skip(rot)
                .take(tables.len())
                .copied()
                .collect();
            if rev {
                t.reverse();
            }
            let text = format!(
                "[unikernel]\nname = \"o\"\n[keys]\nnet = \"direct\"\n{}",
                t.concat()
            );
            let r = ok(&text, lib, Target::Spt);
            let o = order(&r);
            match &expected {
                None => expected = Some(o),
                Some(e) => assert_eq!(&o, e),
            }
            assert_eq!(
                describe::json(&r),
                describe::json(&ok(&text, lib, Target::Spt))
            );
        }
    }
    assert_eq!(
        expected.unwrap(),
        [
            "clock", "console", "platform", "random", "time", "aa", "disk", "service", "stack",
            "watch", "watch2"
        ]
    );
}

#[test]
fn unused_device_is_a_warning_and_left_out() {
    let text = "[unikernel]\nname = \"u\"\n[devices.disk]\ntype = \"block\"\n[devices.htdocs]\ntype = \"kv_ro\"\n";
    let r = ok(
        text,
        "#[petrel::main] pub async fn start(htdocs: KvRo) {}",
        Target::Unix,
    );
    assert!(r.node("disk").is_none());
    assert_eq!(r.warnings.len(), 1);
    insta::assert_snapshot!(r.warnings.render());
}

/// Issue 13 item 3: a third-party interface declares its own key and two implementations
/// choose by it; `[keys]` and `--key` set it like the built-in keys.
#[test]
fn third_party_key() {
    let mut c = catalogue();
    let mut tls = interface("tls", InterfaceKind::Service, None, None);
    tls.keys.insert(
        "tls".into(),
        key("The TLS library.", &["rustls", "none"], "rustls", &[], &[]),
    );
    c.interfaces.insert("tls".into(), tls);
    for v in ["rustls", "none"] {
        let package = format!("tls-{v}");
        c.implementations
            .push(imp(&package, "tls", &[Target::Unix], &[("tls", v)], &[]));
    }
    let resolve = |toml: &str, o: &KeyOverrides| {
        graph::check_files(
            SourceFile::new("unikernel.toml", toml),
            SourceFile::new("src/lib.rs", DEFAULT_LIB),
            &c,
            Target::Unix,
            o,
        )
        .map_err(|d| d.render())
    };
    let chosen = |r: &Resolved| {
        r.node("tls")
            .expect("tls node")
            .implementation
            .package
            .clone()
    };
    let toml = "[unikernel]\nname = \"t\"\n[keys]\ntls = \"none\"\n";
    let r = resolve(toml, &KeyOverrides::new()).expect("configures");
    assert_eq!(chosen(&r), "tls-none");
    assert_eq!(r.keys.get("tls").unwrap().source, KeySource::Manifest);
    let mut o = KeyOverrides::new();
    o.key_flag("tls=rustls").expect("NAME=VALUE");
    let r = resolve(toml, &o).expect("configures");
    assert_eq!(chosen(&r), "tls-rustls");
    assert_eq!(r.keys.get("tls").unwrap().source, KeySource::CommandLine);
    let e = resolve("[unikernel]\nname = \"t\"\n[keys]\ntls = \"openssl\"\n", &o).unwrap_err();
    assert!(e.contains("expected one of: rustls, none"), "{e}");
    // Without the interface, the key does not exist.
    let e = graph::check_files(
        SourceFile::new("unikernel.toml", toml),
        SourceFile::new("src/lib.rs", DEFAULT_LIB),
        &catalogue(),
        Target::Unix,
        &KeyOverrides::new(),
    )
    .unwrap_err()
    .render();
    assert!(e.contains("unknown key `tls` in `[keys]`"), "{e}");
}

#[test]
fn command_line_overrides_and_sources() {
    let mut o = KeyOverrides::new();
    o.alias("net", "direct").unwrap();
    o.alias("dhcp", "false").unwrap();
    let r = check(HELLO_KEY, HELLO_KEY_LIB, Target::Unix, &o).unwrap();
    assert_eq!(
        r.node("stack").unwrap().implementation.package,
        "petrel-stack-direct"
    );
    assert_eq!(
        r.node("service").unwrap().implementation.package,
        "petrel-net-unix"
    );
    assert_eq!(r.keys.get("net").unwrap().source, KeySource::CommandLine);
    assert_eq!(r.keys.get("kv").unwrap().source, KeySource::Default);
}

#[test]
fn errors_in_both_files_are_reported_together() {
    let e = check(
        "[unikernel]\nname = \"x\"\n[devices.s]\ntype = 3\n",
        "fn main( {}",
        Target::Unix,
        &KeyOverrides::default(),
    )
    .unwrap_err();
    assert!(e.contains("unikernel.toml:4:8"), "{e}");
    assert!(e.contains("src/lib.rs:1:"), "{e}");
}

#[test]
fn describe_renderings() {
    let r = ok(HELLO_KEY, HELLO_KEY_LIB, Target::Hvt);
    insta::assert_snapshot!("describe_text", describe::text(&r));
    insta::assert_snapshot!("describe_dot", describe::dot(&r));
    insta::assert_snapshot!("describe_json", describe::json(&r));
    insta::assert_snapshot!("bootargs_json", r.bootargs_json());
    let v: serde_json::Value = serde_json::from_str(&r.bootargs_json()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["arguments"][1]["device"], "stack");
}

#[test]
fn boot_struct_cross_check() {
    let lib = r#"
#[derive(petrel::BootArgs)]
pub struct Args { hello: u32, missing: Option<String>, #[arg(name = "ipv4")] addr: String }
#[petrel::main] pub async fn start(args: Args) {}
"#;
    let text = "[unikernel]\nname = \"b\"\n[args.hello]\ntype = \"string\"\ndefault = \"hi\"\ndoc = \"Greeting.\"\n";
    let e = check(text, lib, Target::Unix, &KeyOverrides::default()).unwrap_err();
    insta::assert_snapshot!(e);
}

/// Inputs that must not panic: empty, garbage, deep nesting, huge strings, odd unicode.
#[test]
fn hostile_inputs_do_not_panic() {
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\xff\xfe\x00garbage".to_vec(),
        format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        format!("a = {}1{}", "{b=".repeat(20_000), "}".repeat(20_000)).into_bytes(),
        format!("[{}b]", "a.".repeat(50_000)).into_bytes(),
        format!("[unikernel]\nname = \"{}\"", "x".repeat(1 << 20)).into_bytes(),
        format!(
            "[unikernel]\nname = \"ok\"\n[devices.{}]\ntype = \"é\u{0}\"",
            "z".repeat(10_000)
        )
        .into_bytes(),
        "[unikernel]\nname = \"ok\"\n[args.\"\u{202e}x\"]\ntype = \"\t\"\ndoc = \"\r\"\n".into(),
        "\u{feff}[unikernel]\nname = 'a'\r\n[keys]\nnet = 1\nkv = []\ndhcp = {}\n".into(),
        "[[unikernel]]\n[[devices]]\n[args]\nx = 1\n".into(),
        "unikernel = 1\ndevices = \"\"\nargs = []\nkeys = 2\n".into(),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let mut v = HELLO_KEY.as_bytes().to_vec();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % v.len();
            v[at] = (seed >> 32) as u8;
        }
        inputs.push(v);
    }
    for input in &inputs {
        if let Ok(m) = petrel_cli::manifest::parse_bytes("unikernel.toml", input) {
            for target in Target::ALL {
                let _ = graph::check_files(
                    m.file.clone(),
                    SourceFile::new("src/lib.rs", HELLO_KEY_LIB),
                    &catalogue(),
                    target,
                    &KeyOverrides::default(),
                )
                .map(|r| (describe::text(&r), describe::dot(&r), describe::json(&r)));
            }
        } else if let Err(d) = petrel_cli::manifest::parse_bytes("unikernel.toml", input) {
            let _ = d.render();
        }
    }
    let libs = [
        String::new(),
        "\u{0}\u{1}".into(),
        format!("fn f() {{ {}1{} }}", "(".repeat(5_000), ")".repeat(5_000)),
        "#[petrel::main] pub async fn start(self) {}".into(),
        "#[petrel::main] pub async fn start((a, b): (Stack, Net), &x: &Stack) {}".into(),
        "#[derive(BootArgs)] struct A(u8); #[derive(BootArgs)] struct B { #[arg(name = 3)] x: u8 } #[main] pub async fn s() {}".into(),
    ];
    for lib in libs {
        if let Err(d) = petrel_cli::source::scan_str(SourceFile::new("src/lib.rs", lib)) {
            let _ = d.render();
        }
    }
}

#[test]
fn bootvar_kinds_are_listed() {
    assert!(bootargs::KIND_NAMES.contains(&"ipv6-prefix"));
}
