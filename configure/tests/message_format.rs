//! `--message-format=json`: every malformed fixture of `fixtures/bad/`, configured for real
//! (the `petrel` binary, the real catalogue), prints one JSON diagnostic per problem, each
//! with its file, line, column and message, and the same problems as the human rendering.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `petrel configure` in `dir` with `extra` flags; returns exit code, stdout, stderr.
fn configure(dir: &Path, target: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .arg("-C")
        .arg(dir)
        .args(["configure", "--target", target])
        .args(extra)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("run petrel");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_bad_fixture_gives_one_json_diagnostic_per_problem() {
    let bad = support::repo().join("configure/tests/fixtures/bad");
    let mut fixtures: Vec<_> = std::fs::read_dir(&bad)
        .expect("fixtures/bad")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 20, "only {} fixtures", fixtures.len());
    let project = support::scratch("hello");
    let mut checked = 0;
    for toml in &fixtures {
        let text = std::fs::read(toml).expect("fixture");
        let target = String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("# target: ").map(str::to_owned))
            .unwrap_or_else(|| "unix".to_owned());
        std::fs::write(project.join("unikernel.toml"), &text).expect("write unikernel.toml");
        let lib = toml.with_extension("rs");
        let lib = std::fs::read_to_string(&lib)
            .unwrap_or_else(|_| "#[petrel::main]\npub async fn start() {}\n".to_owned());
        std::fs::write(project.join("src/lib.rs"), lib).expect("write lib.rs");

        let (code, human_out, human) = configure(&project, &target, &["--color=never"]);
        let (json_code, json, json_err) = configure(&project, &target, &["--message-format=json"]);
        let name = toml.file_name().unwrap_or_default().to_string_lossy();
        if code == 0 {
            // A fixture that only the test catalogue refuses (a test-only interface or
            // implementation) configures with the real one: nothing to compare.
            assert_eq!(
                json_code, 0,
                "{name}: human ok, json not:\n{json}{json_err}"
            );
            continue;
        }
        assert_eq!((code, json_code), (1, 1), "{name}:\n{human}");
        assert!(
            human_out.is_empty(),
            "{name}: human diagnostics go to stderr"
        );
        let objects: Vec<Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
            .collect();
        let errors = objects
            .iter()
            .filter(|o| o["message"]["level"] == "error")
            .count();
        let human_errors = human.lines().filter(|l| l.starts_with("error")).count();
        assert!(errors > 0, "{name}: no JSON error in {json}");
        assert_eq!(errors, human_errors, "{name}: json {json}\nhuman {human}");
        for o in &objects {
            assert_eq!(o["reason"], "petrel-diagnostic", "{name}: {o}");
            let m = &o["message"];
            assert!(
                m["message"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: {o}"
            );
            for span in m["spans"].as_array().expect("spans") {
                assert!(span["file_name"].as_str().is_some(), "{name}: {span}");
                assert!(
                    span["line_start"].as_u64().is_some_and(|l| l >= 1),
                    "{name}: {span}"
                );
                assert!(
                    span["column_start"].as_u64().is_some_and(|c| c >= 1),
                    "{name}: {span}"
                );
            }
        }
        // The problems in the user's files keep their place.
        if human.contains(" --> ") {
            assert!(
                objects
                    .iter()
                    .any(|o| !o["message"]["spans"].as_array().expect("spans").is_empty()),
                "{name}: the human rendering has a place, the JSON none: {json}"
            );
        }
        assert!(
            json_err.is_empty() || !json_err.contains("error"),
            "{name}: {json_err}"
        );
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} fixtures were refused by the real catalogue"
    );
    let _ = std::fs::remove_dir_all(&project);
}

/// The first diagnostic of configuring `toml` and `lib` for `target`, which must fail.
fn first_json_diagnostic(toml: &str, lib: &str, target: &str) -> Value {
    let project = support::scratch("hello");
    std::fs::write(project.join("unikernel.toml"), toml).expect("write unikernel.toml");
    std::fs::write(project.join("src/lib.rs"), lib).expect("write lib.rs");
    let (code, json, _) = configure(&project, target, &["--message-format=json"]);
    let _ = std::fs::remove_dir_all(&project);
    assert_eq!(code, 1, "{json}");
    let o: Value = serde_json::from_str(json.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    o["message"].clone()
}

/// Asserts that `m`'s primary span is at `line`:`column` of unikernel.toml.
fn assert_at(m: &Value, line: u64, column: u64) {
    let span = &m["spans"][0];
    assert_eq!(
        span["file_name"]
            .as_str()
            .map(|f| f.ends_with("unikernel.toml")),
        Some(true),
        "{m}"
    );
    assert_eq!(
        (&span["line_start"], &span["column_start"]),
        (&line.into(), &column.into()),
        "{m}"
    );
}

#[test]
fn plan_errors_point_at_the_device_table() {
    // A name the Solo5 manifest cannot hold.
    let m = first_json_diagnostic(
        "[unikernel]\nname = \"x\"\n\n[devices.my_disk]\ntype = \"block\"\n",
        "#[petrel::main]\npub async fn start(my_disk: petrel::Block) { let _ = my_disk; }\n",
        "spt",
    );
    assert!(
        m["message"]
            .as_str()
            .is_some_and(|s| s.contains("Solo5 manifest")),
        "{m}"
    );
    assert_at(&m, 4, 10);
    // A crunched store without its directory.
    let m = first_json_diagnostic(
        "[unikernel]\nname = \"x\"\n\n[devices.htdocs]\ntype = \"kv_ro\"\n",
        "#[petrel::main]\npub async fn start(htdocs: petrel::KvRo) { let _ = htdocs; }\n",
        "unix",
    );
    assert!(
        m["message"]
            .as_str()
            .is_some_and(|s| s.contains("embeds a directory")),
        "{m}"
    );
    assert_at(&m, 4, 10);
}

#[test]
fn inspect_reads_images_and_refuses_garbage_in_one_line() {
    let petrel = env!("CARGO_BIN_EXE_petrel");
    let inspect = |file: &Path, json: bool| {
        let mut cmd = Command::new(petrel);
        cmd.arg("inspect").arg(file);
        if json {
            cmd.arg("--json");
        }
        cmd.output().expect("run petrel inspect")
    };
    // A unix image: the petrel binary itself.
    let out = inspect(Path::new(petrel), true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(j["target"], "unix", "{j}");
    assert!(
        j["abi"].is_null() && j["devices"].as_array().is_some_and(|d| d.is_empty()),
        "{j}"
    );
    // Garbage and a truncated executable: one error line, exit 1, no panic.
    let dir = std::env::temp_dir().join(format!("petrel-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"not an image at all").expect("write");
    let truncated = dir.join("truncated");
    let head: Vec<u8> = std::fs::read(petrel)
        .expect("read petrel")
        .into_iter()
        .take(100)
        .collect();
    std::fs::write(&truncated, head).expect("write");
    for bad in [&garbage, &truncated, &dir.join("missing")] {
        let out = inspect(bad, false);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
