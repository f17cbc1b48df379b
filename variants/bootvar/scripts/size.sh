#!/usr/bin/env bash
# Measures what petrel-bootvar adds to a release unikernel image: builds the size probe
# (variants/bootvar/size-probe) for x86_64-unknown-none with and without a call to
# split + parse + Values::get + help, and prints the sizes and their difference.
#
# Usage: variants/bootvar/scripts/size.sh   (needs: rustup target add x86_64-unknown-none)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$here/target}/size-probe"
manifest="$here/size-probe/Cargo.toml"
bin="$target_dir/x86_64-unknown-none/release/petrel-bootvar-size-probe"

# Sum of the loadable sections (text, rodata, data...), from the ELF program headers.
loaded() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", d, 0x20)
phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
total = 0
for i in range(phnum):
    p_type, _, _, _, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
    if p_type == 1:  # PT_LOAD
        total += filesz
print(total)
PY
}

build() {
    cargo build --quiet --release --manifest-path "$manifest" --target x86_64-unknown-none \
        --target-dir "$target_dir" "$@"
    echo "$(stat -c %s "$bin") $(loaded "$bin")"
}

read -r base_file base_load < <(build)
read -r with_file with_load < <(build --features with)
echo "without petrel-bootvar: file $base_file bytes, loaded $base_load bytes"
echo "with    petrel-bootvar: file $with_file bytes, loaded $with_load bytes"
echo "difference:             file $((with_file - base_file)) bytes, loaded $((with_load - base_load)) bytes"
limit=8192
if (( with_load - base_load > limit )); then
    echo "over the budget of $limit bytes" >&2
    exit 1
fi
