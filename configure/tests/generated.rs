//! Snapshots of every file `petrel configure` generates for examples/hello-key, on each
//! target, and of the command line's help. Paths that depend on where the checkout lives
//! are replaced by placeholders before rendering.

use petrel_cli::cli::Selection;
use petrel_cli::project::Project;
use petrel_cli::target::Target;
use petrel_cli::{emit, pipeline};
use std::process::Command;

mod support;
use support::scratch;

#[test]
fn generated_files_per_target() {
    let dir = scratch("hello-key");
    let project = Project::open(&dir).expect("a project");
    for target in Target::ALL {
        let selection = Selection {
            target: Some(target),
            ..Selection::default()
        };
        let mut configured =
            pipeline::resolve(&project, &selection).unwrap_or_else(|e| panic!("{target}: {e}"));
        let plan = &mut configured.plan;
        plan.petrel_path = "<petrel>".into();
        plan.petrel_exe = "<petrel-exe>".into();
        // This machine's paths; the remap module's unit tests check how they are found.
        plan.remap_flags = vec!["--remap-path-prefix=<project>=/project".into()];
        if let Some(link) = &mut plan.petrel_link {
            link.checkout = "<checkout>".into();
            link.facade_url = "file://<checkout>/petrel".into();
        }
        // The self-description's bytes follow every dependency bump; the e2e tests read them
        // back from built images (tests/tests/inspect.rs).
        for section in &mut plan.self_description {
            section.lines = vec!["<compressed JSON>".into()];
        }
        for i in &mut plan.impls {
            i.path = format!("<variants>/{}", i.package.trim_start_matches("petrel-"));
        }
        let files = emit::render(plan).expect("renders");
        for file in files {
            let name = format!(
                "{target}__{}",
                file.path.display().to_string().replace(['/', '.'], "_")
            );
            insta::assert_snapshot!(name, file.contents);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The xl configuration `petrel build --target xen` writes beside the image (no boot
/// arguments) and the one `petrel run --target xen` boots (arguments quoted for the guest's
/// bootvar splitter, then for xl; devices in manifest order).
#[test]
fn xl_configs() {
    use petrel_cli::run::{Backing, BootDevices, xen};
    use std::path::{Path, PathBuf};
    let built = xen::config(
        "hello-key",
        Path::new("/p/dist/hello-key.xen"),
        Path::new("dist/hello-key.xl"),
        &[],
        &BootDevices::default(),
        "build",
    )
    .expect("renders");
    insta::assert_snapshot!("xen__dist_hello-key_xl", built);
    let devices = BootDevices {
        devices: vec![
            ("service".into(), Backing::Net(None)),
            (
                "storage".into(),
                Backing::Disk(PathBuf::from("/p/disk.img")),
            ),
        ],
        publish: vec![],
        ..BootDevices::default()
    };
    let args = [r#"--hello=Hi "there""#.to_string(), "--port=80".to_string()];
    let ran = xen::config(
        "web",
        Path::new("/p/dist/web.xen"),
        Path::new("/tmp/petrel-xen-1/web.xl"),
        &args,
        &devices,
        "run",
    )
    .expect("renders");
    insta::assert_snapshot!("xen__run_web_xl", ran);
}

/// The project configured for `selection`, and its generated main.rs.
fn configured_main(project: &Project, selection: &Selection) -> (pipeline::Configured, String) {
    let configured = pipeline::resolve(project, selection).expect("resolves");
    let files = emit::render(&configured.plan).expect("renders");
    let main = files
        .into_iter()
        .find(|f| f.path.ends_with("main.rs"))
        .expect("a main.rs");
    (configured, main.contents)
}

/// examples/two_disks: each of the two block devices reads `disk` through its own view of
/// the values (`--storage-disk`, `--backup-disk`), and learns its prefix for its messages;
/// examples/block, with one disk, has neither (its snapshots above are unchanged).
#[test]
fn prefixed_instances_get_their_own_argument_tables() {
    for (example, views) in [("two_disks", true), ("block", false)] {
        let dir = scratch(example);
        let project = Project::open(&dir).expect("a project");
        let selection = Selection {
            target: Some(Target::Unix),
            ..Selection::default()
        };
        let (configured, text) = configured_main(&project, &selection);
        let text = &text;
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("ARGS_") || l.contains("connect(") || l.contains("Spec::new"))
            .collect();
        if views {
            insta::assert_snapshot!("two_disks_unix_tables", lines.join("\n"));
            // bootargs.json names each argument's instance and its section.
            let json: serde_json::Value =
                serde_json::from_str(&configured.plan.bootargs_json).expect("JSON");
            let of = |name: &str| {
                json["arguments"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["name"] == name))
                    .map(|x| (x["device"].clone(), x["section"].clone()))
            };
            assert_eq!(
                of("storage-disk"),
                Some(("storage".into(), "BLOCK OPTIONS (storage)".into()))
            );
            assert_eq!(
                of("backup-disk"),
                Some(("backup".into(), "BLOCK OPTIONS (backup)".into()))
            );
            assert_eq!(of("disk"), None);
        } else {
            assert!(
                !text.contains("for_instance") && !text.contains("@bootargs-prefix"),
                "{text}"
            );
            assert!(text.contains("Spec::new(\"disk\""), "{text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn help_texts() {
    for args in [
        &["--help"][..],
        &["configure", "--help"],
        &["run", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_petrel"))
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}");
        insta::assert_snapshot!(
            format!("help_{}", args.join("_").replace("--", "")),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The boot-time `Spec` table: integer kinds by their Rust type, and the default of a
/// repeated argument split into its items by configure (the image never splits a default).
#[test]
fn spec_table_splits_repeated_defaults() {
    let dir = scratch("hello-key");
    let mut toml = std::fs::read_to_string(dir.join("unikernel.toml")).expect("read");
    toml.push_str(
        r#"
[args.dns]
type = "ipv4"
repeated = true
default = "8.8.8.8 \"1.1.1.1\""
doc = "Resolvers."

[args.count]
type = "u16"
default = "3"
doc = "How many."

[args.tags]
type = "string"
repeated = true
doc = "Tags, none by default."
"#,
    );
    std::fs::write(dir.join("unikernel.toml"), toml).expect("write");
    let project = Project::open(&dir).expect("a project");
    let selection = Selection {
        target: Some(Target::Hvt),
        ..Selection::default()
    };
    let configured = pipeline::resolve(&project, &selection).unwrap_or_else(|e| panic!("{e}"));
    let spec = |name: &str| {
        let a = configured.plan.args.iter().find(|a| a.name == name);
        a.unwrap_or_else(|| panic!("no --{name}")).clone()
    };
    assert_eq!(spec("dns").default, ["8.8.8.8", "1.1.1.1"]);
    assert_eq!(spec("dns").kind, "Kind::Ipv4");
    assert_eq!(spec("count").default, ["3"]);
    assert_eq!(spec("count").kind, "Kind::U16");
    assert!(spec("tags").default.is_empty());
    let main = emit::render(&configured.plan)
        .expect("renders")
        .into_iter()
        .find(|f| f.path.ends_with("main.rs"))
        .expect("a main.rs");
    assert!(
        main.contents.contains(
            r#"Spec::new("dns", Kind::Ipv4).default(&["8.8.8.8", "1.1.1.1"]).repeated(),"#
        ),
        "{}",
        main.contents
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Paths reach the generated Cargo.toml as TOML strings, whatever characters a checkout's
/// directories have (issue 14 item 2: no name may break a generated file).
#[test]
fn odd_paths_stay_strings_in_the_generated_manifest() {
    let dir = scratch("hello");
    let project = Project::open(&dir).expect("a project");
    let mut configured =
        pipeline::resolve(&project, &Selection::default()).unwrap_or_else(|e| panic!("{e}"));
    let odd = r#"../we"ird\dir/é'x"#;
    configured.plan.petrel_path = odd.into();
    for i in &mut configured.plan.impls {
        i.path = odd.into();
    }
    let manifest = emit::render(&configured.plan)
        .expect("renders")
        .into_iter()
        .find(|f| f.path.ends_with("app/Cargo.toml"))
        .expect("the generated Cargo.toml");
    let parsed: toml::Table =
        toml::from_str(&manifest.contents).unwrap_or_else(|e| panic!("{e}\n{}", manifest.contents));
    let deps = parsed["dependencies"].as_table().expect("[dependencies]");
    assert_eq!(deps["petrel"]["path"].as_str(), Some(odd));
    let _ = std::fs::remove_dir_all(&dir);
}

/// examples/two_stacks with `--key public.dhcp=false`: the direct stack is built once, with
/// the `dhcp` feature the private stack needs, and each constructor learns its own `dhcp`;
/// without instance keys the constructors get no such parameter.
#[test]
fn instances_configured_differently_learn_their_own_keys() {
    let dir = scratch("two_stacks");
    let project = Project::open(&dir).expect("a project");
    for (keys, expected) in [
        (
            vec!["public.dhcp=false".to_string()],
            Some(("(\"@key:dhcp\", \"false\")", "(\"@key:dhcp\", \"true\")")),
        ),
        (vec![], None),
    ] {
        let selection = Selection {
            target: Some(Target::Spt),
            keys,
            ..Selection::default()
        };
        let (configured, main) = configured_main(&project, &selection);
        let connect = |instance: &str| {
            main.lines()
                .find(|l| l.contains("connect(") && l.contains(&format!("(\"{instance}\"")))
                .unwrap_or_else(|| panic!("no constructor of {instance}:\n{main}"))
                .to_string()
        };
        let stack = configured
            .plan
            .impls
            .iter()
            .find(|i| i.package == "petrel-stack-direct")
            .expect("the direct stack");
        assert!(stack.features.contains(&"dhcp".to_string()), "{stack:?}");
        match expected {
            Some((public, private)) => {
                assert!(connect("public").contains(public), "{}", connect("public"));
                assert!(
                    connect("private").contains(private),
                    "{}",
                    connect("private")
                );
            }
            None => assert!(!main.contains("@key:"), "{main}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
