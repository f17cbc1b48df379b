#!/usr/bin/env bash
# Measures what the boot-argument parser adds to real release images: configures an example
# for a target with `petrel configure`, builds its image twice, as is and with
# `--cfg petrel_bootvar_baseline` (petrel-bootvar's `parse` then reads nothing and `get`
# returns opaque values: the image without the parser, its table and its `--help` text; see
# `Values::baseline`). The baseline image is only measured, never run.
#
# The budget (8 KiB) holds for what the parser itself brings (parser_size.py): the growth of
# petrel-bootvar's own functions and data (symbols: both images are built keeping them), of
# the boot glue that calls it (petrel::__private::boot, __petrel_main) and of the read-only
# data section (the generated argument table, the `--help` text and the parser's messages
# have no symbols of their own). The whole-image difference is printed beside it as
# information: it also moves by a few hundred bytes with unrelated code that the compiler
# lays out differently in the two builds (block_on, Vec growth, inlining choices).
#
# Usage: variants/runtime/bootvar/scripts/size-image.sh [TARGET [EXAMPLE...]]
#   TARGET: hvt (default), spt, virtio or xen; EXAMPLE: directories of examples/, by default
#   hello-key static_website.
#   Needs: rustup target add x86_64-unknown-none; nm and readelf (binutils).
# Exit status 1 if the parser is over the budget in an image.
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
# Both images keep their symbols (which are not loaded), so that the parser's own code can be
# told apart from the rest.
export CARGO_PROFILE_RELEASE_STRIP=false

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
    with=$(cd "$dir" && image "$tgt/size-image/$example-$target")
    without=$(cd "$dir" && env "$var=$flags --cfg petrel_bootvar_baseline" \
        bash -c "$(declare -f image); image '$tgt/size-image/$example-$target-baseline'")
    # bootvar B glue G rodata R parser P
    read -r _ own _ glue _ data _ parser < <(python3 "$repo/variants/runtime/bootvar/scripts/parser_size.py" "$with" "$without")
    printf '%-16s %-6s the parser itself %6d bytes (petrel-bootvar %d, boot glue %d, read-only data %d), budget %d%s\n' \
        "$example" "$target" "$parser" "$own" "$glue" "$data" "$limit" \
        "$( ((parser > limit)) && echo "  OVER" || true)"
    size_with=$(loaded "$with")
    size_without=$(loaded "$without")
    printf '%-16s %-6s whole image %7d bytes, without the parser %7d: %d more (information only: this moves by a few hundred bytes with unrelated code)\n' \
        "$example" "$target" "$size_with" "$size_without" "$((size_with - size_without))"
    if ((parser > limit)); then over=1; fi
done
exit $over
