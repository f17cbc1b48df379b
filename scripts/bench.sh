#!/usr/bin/env bash
# Petrel's benchmarks (not tests: they print numbers, they assert nothing).
#
#   configure   median wall time of `petrel configure` on examples/hello, beside the median
#               of `cargo metadata` on the same project (the floor: configure runs it once),
#               and their ratio. Target: at most 1.5x.
#   sizes       on-disk size of hello for each target (target for hvt: at most 64 KiB).
#   spt boot    median boot-to-exit time of noop on Petrel's spt runner.
#
# Usage: scripts/bench.sh [RUNS]   (default 15 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build -q --release -p petrel-cli -p petrel-spt
petrel=$PWD/target/release/petrel
export PETREL_SPT=$PWD/target/release/petrel-spt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ex in hello noop; do
    cp -r "examples/$ex" "$work/$ex"
    sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$work/$ex/Cargo.toml"
done

# Median of the wall times (seconds) of running "$@" $runs times.
median() {
    python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}")
PY
}

"$petrel" -C "$work/hello" configure >/dev/null 2>&1   # warm: lock file, caches
meta=$(median cargo metadata --format-version 1 --manifest-path "$work/hello/Cargo.toml")
conf=$(median "$petrel" -C "$work/hello" configure)
echo "configure (hello, $runs runs, median):"
python3 -c "m,c=$meta,$conf; print(f'  cargo metadata    {m*1000:8.1f} ms   (baseline)'); print(f'  petrel configure  {c*1000:8.1f} ms'); print(f'  ratio             {c/m:8.2f}x   (target <= 1.5x)')"

echo "image sizes (hello, release):"
for t in unix hvt spt virtio; do
    "$petrel" -C "$work/hello" build --target "$t" >/dev/null 2>&1
    f="$work/hello/dist/hello"; [ "$t" = unix ] || f="$f.$t"
    printf '  %-7s %8d bytes\n' "$t" "$(stat -c %s "$f")"
done

"$petrel" -C "$work/noop" build --target spt >/dev/null 2>&1
boot=$(median "$PETREL_SPT" --mem=64 -- "$work/noop/dist/noop.spt")
python3 -c "print(f'spt boot-to-exit (noop, $runs runs, median): {$boot*1000:.1f} ms')"
