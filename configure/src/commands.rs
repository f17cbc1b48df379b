//! What each command does. The pipeline from files to a plan is in `pipeline`; this module
//! adds the user-facing steps around it: progress, cargo, dist/, booting.

use crate::cli::{Command, Format, Selection};
use crate::emit::templates_new;
pub use crate::error::Error;
use crate::pipeline::{self, Configured};
use crate::project::{self, Project};
use crate::report;
use crate::run;
use crate::status::status;
use crate::target::Target;
use crate::workspace::{self, Change};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `command` in `dir`.
pub fn execute(dir: &Path, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Configure { selection, check } => {
            let project = Project::open(dir).map_err(Error::msg)?;
            if check {
                return check_configuration(&project, &selection);
            }
            configure(&project, &selection)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Build {
            selection,
            debug,
            record,
            mem,
        } => {
            let project = Project::open(dir).map_err(Error::msg)?;
            let mut configured = configure(&project, &selection)?;
            if mem.is_some() && configured.plan.target.spec().boot != crate::target::Boot::Xen {
                return Err(Error::msg(format!(
                    "--mem on build sizes xen's dist/NAME.xl; a {} image takes it when it boots (petrel run --mem)",
                    configured.plan.target
                )));
            }
            configured.boot.mem_mib = mem;
            let image = build(&project, &configured, !debug)?;
            if record {
                let profile = if debug {
                    crate::record::Profile::Debug
                } else {
                    crate::record::Profile::Release
                };
                crate::record::write(&project, &configured, &image, profile)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rebuild { record } => {
            let rebuild = crate::record::rebuild::prepare(&record, dir)?;
            let project = Project::open(rebuild.project_dir()).map_err(Error::msg)?;
            let configured = configure(&project, &rebuild.selection())?;
            rebuild.check_configuration(&configured)?;
            let image = build(&project, &configured, rebuild.release())?;
            rebuild.verdict(&image)
        }
        Command::Run {
            selection,
            debug,
            verbose,
            disk,
            tap,
            publish,
            mem,
            runner,
            args,
        } => {
            let project = Project::open(dir).map_err(Error::msg)?;
            let mut configured = configure(&project, &selection)?;
            // dist/NAME.xl (xen) says the same memory as the boot.
            configured.boot.mem_mib = mem;
            let mut devices = configured.boot.clone();
            attach(&mut devices, &disk, &tap, &publish)?;
            let image = build(&project, &configured, !debug)?;
            create_missing_disks(&devices, &args)?;
            run::boot(
                &configured.plan.target,
                &image,
                &args,
                &devices,
                runner.as_deref(),
                verbose,
            )
        }
        Command::Describe {
            selection,
            format,
            dot,
            json,
        } => {
            let project = Project::open(dir).map_err(Error::msg)?;
            let configured = resolve(&project, &selection)?;
            let format = if dot {
                Format::Dot
            } else if json {
                Format::Json
            } else {
                format
            };
            let out = match format {
                Format::Text => crate::describe::text(&configured.resolved),
                Format::Dot => crate::describe::dot(&configured.resolved),
                Format::Json => crate::describe::json(&configured.resolved),
            };
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clean => {
            let project = Project::open(dir).map_err(Error::msg)?;
            let removed = workspace::clean(&project.dir).map_err(Error::msg)?;
            if removed.is_empty() {
                status("Clean", "nothing to remove");
            }
            for path in removed {
                status("Removed", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { image, json } => {
            let found = crate::inspect::inspect(&image)?;
            if json {
                let text = serde_json::to_string_pretty(&found).map_err(Error::msg)?;
                println!("{text}");
            } else {
                print!("{}", found.text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::New { name } => {
            new_project(dir, &name)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::RunImage {
            target,
            image,
            args,
        } => {
            let project = find_project_of(&image);
            let boot = match project {
                Some(p) => {
                    resolve(
                        &p,
                        &Selection {
                            target: Some(target),
                            ..Selection::default()
                        },
                    )?
                    .boot
                }
                None => run::BootDevices::default(),
            };
            run::boot(&target, &image, &args, &boot, None, false)
        }
    }
}

/// Resolves the configuration and reports its warnings.
fn resolve(project: &Project, selection: &Selection) -> Result<Configured, Error> {
    let configured = pipeline::resolve(project, selection)?;
    report::emit(&configured.warnings);
    Ok(configured)
}

/// Applies `run`'s `--disk`, `--tap` and `--publish` to the devices of the image.
fn attach(
    devices: &mut run::BootDevices,
    disks: &[String],
    taps: &[String],
    publish: &[String],
) -> Result<(), Error> {
    let names: Vec<String> = devices.devices.iter().map(|(n, _)| n.clone()).collect();
    let mut set = |flag: &str, spec: &str, block: bool| -> Result<(), Error> {
        let (name, value) = spec
            .split_once('=')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .ok_or_else(|| {
                Error::msg(format!(
                    "--{flag} {spec}: expected NAME={}",
                    if block { "FILE" } else { "IF" }
                ))
            })?;
        let slot = devices
            .devices
            .iter_mut()
            .find(|(n, _)| n == name)
            .ok_or_else(|| {
                Error::msg(format!(
                    "--{flag} {spec}: the image has no device `{name}` (its devices: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ))
            })?;
        slot.1 = match (&slot.1, block) {
            (run::Backing::Disk(_), true) => run::Backing::Disk(PathBuf::from(value)),
            (run::Backing::Net(_), false) => run::Backing::Net(Some(value.to_string())),
            _ => {
                return Err(Error::msg(format!(
                    "--{flag} {spec}: `{name}` is a {} device",
                    if block { "network" } else { "block" }
                )));
            }
        };
        devices.attached.insert(name.to_string());
        Ok(())
    };
    for d in disks {
        set("disk", d, true)?;
    }
    for t in taps {
        set("tap", t, false)?;
    }
    devices.publish = run::usernet::parse_publish(publish)?;
    if let Some(first) = devices.publish.first()
        && !devices
            .devices
            .iter()
            .any(|(_, b)| matches!(b, run::Backing::Net(_)))
    {
        return Err(Error::msg(format!(
            "--publish {first}: this image has no network device"
        )));
    }
    Ok(())
}

/// Creates an empty 1 MiB file for each block device whose backing file does not exist yet
/// (unless, on unix, the user's own boot argument names the file).
fn create_missing_disks(devices: &run::BootDevices, args: &[String]) -> Result<(), Error> {
    for (name, backing) in &devices.devices {
        if let run::Backing::Disk(path) = backing
            && !path.exists()
            && !devices.given_as_argument(name, args)
        {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| Error::msg(format!("{}: {e}", parent.display())))?;
            }
            let file = fs::File::create(path)
                .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
            file.set_len(1 << 20)
                .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
            status(
                "Created",
                format!("disk `{name}`: {} (1 MiB, empty)", path.display()),
            );
        }
    }
    Ok(())
}

/// Resolves and writes the configuration, printing what changed.
pub fn configure(project: &Project, selection: &Selection) -> Result<Configured, Error> {
    let mut configured = resolve(project, selection)?;
    let config = pipeline::render(project, &configured)?;
    let mut changes = workspace::write(&project.dir, &config).map_err(Error::msg)?;
    if !configured.plan.dependencies_resolved {
        // The image's dependency list needs the generated crate on disk: now it is.
        configured = resolve(project, selection)?;
        let config = pipeline::render(project, &configured)?;
        let path = |c: &Change| match c {
            Change::Created(p) | Change::Updated(p) | Change::Removed(p) => p.clone(),
        };
        for change in workspace::write(&project.dir, &config).map_err(Error::msg)? {
            if !changes.iter().any(|c| path(c) == path(&change)) {
                changes.push(change);
            }
        }
    }
    let plan = &configured.plan;
    if changes.is_empty() {
        status(
            "Fresh",
            format!("{} for {} (nothing changed)", plan.name, plan.target),
        );
    } else {
        for change in &changes {
            match change {
                Change::Created(p) => status("Created", p.display()),
                Change::Updated(p) => status("Updated", p.display()),
                Change::Removed(p) => status("Removed", p.display()),
            }
        }
        status("Configured", format!("{} for {}", plan.name, plan.target));
    }
    Ok(configured)
}

/// `configure --check`: exit 0 if the generated files are up to date, 1 if not, naming each
/// stale file and printing its unified diff (disk → what configure would write).
fn check_configuration(project: &Project, selection: &Selection) -> Result<ExitCode, Error> {
    let configured = resolve(project, selection)?;
    let config = pipeline::render(project, &configured)?;
    let stale = workspace::stale(&project.dir, &config).map_err(Error::msg)?;
    if stale.is_empty() {
        status(
            "Fresh",
            format!("{} for {}", configured.plan.name, configured.plan.target),
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The diffs are the command's output (a tool can apply or show them); the verdict goes
    // to stderr with the other diagnostics.
    for file in &stale {
        eprintln!("stale: {}", file.path.display());
        print!("{}", file.unified_diff());
    }
    Err(Error::msg(format!(
        "{} generated file(s) are missing or out of date; run `petrel configure{}`",
        stale.len(),
        if configured.plan.target == Target::Unix {
            String::new()
        } else {
            format!(" --target {}", configured.plan.target)
        }
    )))
}

/// Builds the configured project with cargo, copies the image to `dist/` with its deploy
/// file, and returns the image's path.
fn build(project: &Project, configured: &Configured, release: bool) -> Result<PathBuf, Error> {
    let plan = &configured.plan;
    status(
        "Building",
        format!(
            "{} for {} ({})",
            plan.name,
            plan.target,
            if release { "release" } else { "debug" }
        ),
    );
    let mut cargo =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // cargo reads .cargo/config.toml from its working directory: run it in the project.
    // The image's path comes from cargo's own report, so CARGO_TARGET_DIR is honoured.
    cargo
        .current_dir(&project.dir)
        .args(["build", "--message-format=json-render-diagnostics"])
        .stdout(std::process::Stdio::piped());
    if release {
        cargo.arg("--release");
    }
    let mut child = cargo
        .spawn()
        .map_err(|e| Error::msg(format!("cannot run cargo: {e}")))?;
    let mut built = None;
    if let Some(stdout) = child.stdout.take() {
        for message in cargo_metadata::Message::parse_stream(std::io::BufReader::new(stdout)) {
            if let Ok(cargo_metadata::Message::CompilerArtifact(artifact)) = message
                && artifact.target.is_bin()
                && artifact.target.name == plan.name
            {
                built = artifact.executable.map(|p| p.into_std_path_buf());
            }
        }
    }
    let status_code = child
        .wait()
        .map_err(|e| Error::msg(format!("cargo: {e}")))?;
    if !status_code.success() {
        return Err(Error::Subprocess {
            what: "cargo build".into(),
            status: status_code,
        });
    }
    let built = built.ok_or_else(|| {
        Error::msg(format!(
            "cargo built no `{}` executable (is the generated crate up to date?)",
            plan.name
        ))
    })?;
    let dist = project.dir.join(workspace::DIST_DIR);
    fs::create_dir_all(&dist).map_err(|e| Error::msg(format!("{}: {e}", dist.display())))?;
    let image = dist.join(plan.target.image_name(&plan.name));
    fs::copy(&built, &image).map_err(|e| {
        Error::msg(format!(
            "copying {} to {}: {e}",
            built.display(),
            image.display()
        ))
    })?;
    let size = fs::metadata(&image).map(|m| m.len()).unwrap_or(0);
    status(
        "Image",
        format!(
            "{} ({})",
            project::relative_path(&project.dir, &image),
            human_size(size)
        ),
    );
    crate::deploy::write(project, configured, &image)?;
    Ok(image)
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The project an image under `<project>/target/...` or `<project>/dist/` belongs to.
fn find_project_of(image: &Path) -> Option<Project> {
    let abs = std::path::absolute(image).ok()?;
    abs.ancestors().skip(1).find_map(|d| Project::open(d).ok())
}

/// `petrel new NAME`: a project that builds as it is, outside any workspace.
fn new_project(dir: &Path, name: &str) -> Result<(), Error> {
    crate::manifest::check_unikernel_name(name)
        .map_err(|why| Error::msg(format!("invalid unikernel name `{name}`: {why}")))?;
    let root = dir.join(name);
    if root.exists() {
        return Err(Error::msg(format!(
            "{} already exists; choose another name or remove it",
            root.display()
        )));
    }
    let facade = project::petrel_facade_dir().ok_or_else(|| {
        Error::msg("cannot find Petrel's sources for the `petrel` dependency; set PETREL_HOME to the Petrel repository")
    })?;
    let files = templates_new::render(name, &facade.to_string_lossy()).map_err(Error::msg)?;
    for (rel, contents) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::msg(format!("{}: {e}", parent.display())))?;
        }
        fs::write(&path, contents).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    }
    status(
        "Created",
        format!("unikernel `{name}` in {}", root.display()),
    );
    eprintln!(
        "\nNext:\n    cd {name}\n    petrel run              # build and boot it on unix\n    petrel run -- --help    # its boot arguments"
    );
    Ok(())
}
