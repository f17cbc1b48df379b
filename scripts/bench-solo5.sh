#!/usr/bin/env bash
# Boot-to-exit of the Solo5 targets (not a test: it prints numbers, it asserts nothing).
#
#   boot-to-exit  median wall time of `RUNNER --mem=64 -- noop.TARGET` (examples/noop, release)
#                 on petrel-spt and on petrel-hvt (KVM), interleaved in the same run, and, when
#                 the upstream tender `solo5-hvt` is on PATH, on it too with the ratio
#                 petrel-hvt / solo5-hvt (target: at most 1.2x).
#   hvt sizes     on-disk size of the hvt images of noop, hello and static_website.
#
# Builds go to $CARGO_TARGET_DIR when it is set (else target/). scripts/bench.sh runs this.
#
# Usage: scripts/bench-solo5.sh [RUNS]   (default 15 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build -q --release -p petrel-cli -p petrel-spt -p petrel-hvt
tgt=${CARGO_TARGET_DIR:-target}
case $tgt in /*) ;; *) tgt=$PWD/$tgt ;; esac
petrel=$tgt/release/petrel
export PETREL_SPT=$tgt/release/petrel-spt PETREL_HVT=$tgt/release/petrel-hvt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ex in noop hello static_website; do
    cp -r "examples/$ex" "$work/$ex"
    sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$work/$ex/Cargo.toml"
done
for t in spt hvt; do
    "$petrel" -C "$work/noop" build --target "$t" >/dev/null 2>&1
done

runners=("petrel-spt:$PETREL_SPT:$work/noop/dist/noop.spt")
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    runners+=("petrel-hvt:$PETREL_HVT:$work/noop/dist/noop.hvt")
    upstream=$(command -v solo5-hvt || true)
    [ -z "$upstream" ] || runners+=("solo5-hvt:$upstream:$work/noop/dist/noop.hvt")
else
    echo "(no usable /dev/kvm: hvt boot-to-exit SKIPPED)"
fi
python3 - "$runs" "${runners[@]}" <<'PY'
import subprocess, sys, time, statistics
runs, runners = int(sys.argv[1]), [r.split(":", 2) for r in sys.argv[2:]]
def once(exe, image):
    t = time.perf_counter()
    p = subprocess.run([exe, "--mem=64", "--", image], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"{exe} {image}: exit {p.returncode}: {p.stderr.decode().strip()}")
    return time.perf_counter() - t
for _, exe, image in runners:
    once(exe, image)                      # warm: page cache
# Interleaved, so that every runner sees the same load on shared cores.
times = {name: [] for name, _, _ in runners}
for _ in range(runs):
    for name, exe, image in runners:
        times[name].append(once(exe, image))
print(f"Solo5 boot-to-exit (noop, --mem=64, {runs} runs interleaved, median):")
med = {n: statistics.median(t) for n, t in times.items()}
for n, m in med.items():
    print(f"  {n:11s} {m*1000:8.2f} ms   (min {min(times[n])*1000:.2f} ms)")
if "petrel-hvt" in med and "solo5-hvt" in med:
    print(f"  ratio       {med['petrel-hvt']/med['solo5-hvt']:8.2f}x   petrel-hvt / solo5-hvt (target <= 1.2x)")
if "petrel-hvt" in med:
    print(f"  hvt / spt   {med['petrel-hvt']/med['petrel-spt']:8.2f}x")
PY

echo "hvt image sizes (release):"
for ex in noop hello static_website; do
    "$petrel" -C "$work/$ex" build --target hvt >/dev/null 2>&1
    f=$(ls "$work/$ex"/dist/*.hvt)
    printf '  %-19s %8d bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
