#!/usr/bin/env bash
# Measures what the boot-argument parser adds to real release images: configures an example
# for a target with `petrel configure`, builds its image twice, as is and with
# `--cfg petrel_bootvar_baseline` (petrel-bootvar's `parse` then reads nothing and `get`
# returns opaque values: the image without the parser, its table and its `--help` text; see
# `Values::baseline`), and prints the loaded sizes (sum of the PT_LOAD segments) and their
# difference against the 8 KiB budget. The baseline image is only measured, never run.
#
# Usage: variants/runtime/bootvar/scripts/size-image.sh [TARGET [EXAMPLE...]]
#   TARGET: hvt (default), spt, virtio or xen; EXAMPLE: directories of examples/, by default
#   hello-key static_website (on these targets, static_website runs on the direct stack).
#   Needs: rustup target add x86_64-unknown-none.
# Exit status 1 if an image is over the budget.
set -euo pipefail
shopt -s inherit_errexit
repo="$(cd "$(dirname "$0")/../../../.." && pwd)"
target="${1:-hvt}"
shift || true
examples=("$@")
if [[ ${#examples[@]} -eq 0 ]]; then
    examples=(hello-key static_website)
fi
limit=8192
tgt="${CARGO_TARGET_DIR:-$repo/target}"

cargo build --quiet --manifest-path "$repo/Cargo.toml" -p petrel-cli --bin petrel --target-dir "$tgt"
petrel="$tgt/debug/petrel"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Sum of the loadable segments (text, rodata, data...), from the ELF program headers.
loaded() {
    python3 "$repo/variants/runtime/bootvar/scripts/loaded.py" "$1"
}

# Builds the configured project in the current directory into $1 and prints the image's path.
image() {
    cargo build --quiet --release --target-dir "$1" --message-format=json |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        exe = m["executable"]
print(exe)
'
}

over=0
for example in "${examples[@]}"; do
    dir="$scratch/$example"
    cp -r "$repo/examples/$example" "$dir"
    rm -rf "$dir/target" "$dir/.petrel" "$dir/.cargo"
    # The example's path to the facade, made absolute (the copy lives elsewhere).
    sed -i "s#\"\\.\\./\\.\\./petrel\"#\"$repo/petrel\"#" "$dir/Cargo.toml"
    (cd "$dir" && "$petrel" configure --target "$target" >/dev/null 2>&1) || { echo "petrel configure failed for $example" >&2; exit 2; }
    # The generated .cargo/config.toml sets the image's rustflags for the target triple; the
    # baseline adds the cfg to the same flags (an environment variable overrides the file).
    triple=$(sed -n 's/^target = "\(.*\)"/\1/p' "$dir/.cargo/config.toml")
    if [[ -z "$triple" ]]; then
        echo "size-image.sh measures freestanding images (hvt, spt, virtio, xen), not '$target'" >&2
        exit 2
    fi
    var="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
    flags=$(python3 - "$dir/.cargo/config.toml" "$triple" <<'PY'
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
print(" ".join(c.get("target", {}).get(sys.argv[2], {}).get("rustflags", [])))
PY
)
    with=$(cd "$dir" && loaded "$(image "$tgt/size-image/$example-$target")")
    without=$(cd "$dir" && env "$var=$flags --cfg petrel_bootvar_baseline" \
        bash -c "$(declare -f image); image '$tgt/size-image/$example-$target-baseline'")
    without=$(loaded "$without")
    added=$((with - without))
    printf '%-16s %-6s image %7d bytes, without the parser %7d: added %6d%s\n' \
        "$example" "$target" "$with" "$without" "$added" \
        "$( ((added > limit)) && echo "  OVER $limit" || true)"
    if ((added > limit)); then over=1; fi
done
exit $over
