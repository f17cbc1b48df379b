#!/usr/bin/env bash
# `petrel configure` on a unikernel with many boot arguments: 6,000 and 20,000 `[args.*]`
# tables, each read by a field of one `#[derive(BootArgs)]` struct. Prints the median wall
# time of each and the time per argument at 20,000 over that at 6,000 (about 1 when configure
# is linear in the number of arguments; issue 14 measured 1.4 s and 13.8 s before the fix).
# A benchmark, not a test: it asserts nothing. scripts/bench.sh runs it.
#
# Usage: scripts/bench-many-args.sh [PETREL] [RUNS]   (default: target/release/petrel, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
tgt=${CARGO_TARGET_DIR:-target}
case $tgt in /*) ;; *) tgt=$PWD/$tgt ;; esac
petrel=${1:-}
if [ -z "$petrel" ]; then
    cargo build -q --release -p petrel-cli
    petrel=$tgt/release/petrel
fi
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$PWD" "$work" "$petrel" "$runs" <<'PY'
import os, shutil, statistics, subprocess, sys, time
repo, work, petrel, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def project(n):
    d = os.path.join(work, f"args{n}")
    shutil.copytree(os.path.join(repo, "examples", "hello"), d,
                    ignore=shutil.ignore_patterns(".petrel", ".cargo", "target", "dist"))
    cargo = open(os.path.join(d, "Cargo.toml")).read()
    open(os.path.join(d, "Cargo.toml"), "w").write(
        cargo.replace('"../../petrel"', '"%s"' % os.path.join(repo, "petrel")))
    with open(os.path.join(d, "unikernel.toml"), "a") as f:
        for i in range(n):
            f.write(f'\n[args.arg{i}]\ntype = "u32"\ndefault = "{i}"\ndoc = "Argument {i}."\n')
    fields = "".join(f"    arg{i}: u32,\n" for i in range(n))
    open(os.path.join(d, "src", "lib.rs"), "w").write(
        "#![no_std]\n#[derive(petrel::BootArgs)]\npub struct Args {\n" + fields + "}\n"
        "#[petrel::main]\npub async fn start(_args: Args) {}\n")
    return d

def median_configure(d):
    subprocess.run([petrel, "-C", d, "configure"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm: Cargo.lock
    times = []
    for _ in range(runs):
        shutil.rmtree(os.path.join(d, ".petrel"), ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([petrel, "-C", d, "configure"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)

small, large = 6000, 20000
ts, tl = median_configure(project(small)), median_configure(project(large))
print(f"configure with many boot arguments ({runs} runs, median):")
print(f"  {small:6d} arguments  {ts:7.2f} s")
print(f"  {large:6d} arguments  {tl:7.2f} s")
print(f"  time per argument, {large} over {small}: {(tl / large) / (ts / small):.2f}x   (1 = linear)")
PY
