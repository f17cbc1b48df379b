#!/usr/bin/env bash
# Measures what petrel-bootvar adds to a release unikernel image: builds the size probe
# (variants/bootvar/size-probe) for x86_64-unknown-none three times and prints the loaded
# sizes (sum of the PT_LOAD segments) and their differences:
#   base   the probe alone (it allocates and formats panics, as every Petrel runtime does);
#   table  plus the application's data, unused: its `App`, whose `help` is the `--help` text
#          (rendered on the host by the probe's build.rs, as `petrel configure` renders it),
#          and its ten-argument `Spec` table;
#   with   plus calls to split + parse + ten Values::get + the --help path.
# "added" (with - base) is checked against the 8 KiB budget; "app data" (table - base, of
# which the help text is printed apart) and "code" (with - table) split it.
#
# Images are built as Petrel builds them (templates/cargo-config.toml.j2): release,
# opt-level "s", LTO, panic = "abort", and `-C relocation-model=static`, a fixed-address
# ET_EXEC (the tenders and petrel-spt refuse static PIE). `--pie` measures the target's default
# static PIE instead, as this script did before: every pointer in the `Spec` table then also
# costs a 24-byte R_X86_64_RELATIVE relocation that no Petrel image carries.
#
# Usage: variants/bootvar/scripts/size.sh [--pie]   (needs: rustup target add x86_64-unknown-none)
set -euo pipefail
# A failed build inside $(build) must stop the script, not measure a stale binary.
shopt -s inherit_errexit
here="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$here/size-probe/Cargo.toml"
reloc=(--config 'target.x86_64-unknown-none.rustflags = ["-C", "relocation-model=static"]')
flavour=static
if [[ "${1:-}" == "--pie" ]]; then
    reloc=()
    flavour=pie
fi
target_dir="${CARGO_TARGET_DIR:-$here/target}/size-probe-$flavour"
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
        --target-dir "$target_dir" ${reloc[@]+"${reloc[@]}"} "$@"
    loaded "$bin"
}

base=$(build)
table=$(build --features table)
with=$(build --features with)
help_txt=$(ls -t "$target_dir"/x86_64-unknown-none/release/build/petrel-bootvar-size-probe-*/out/help.txt | head -n 1)
help_len=$(wc -c < "$help_txt")
echo "loaded bytes ($flavour): base $base, with the app's data $table, with petrel-bootvar $with"
echo "app data (10 arguments): $((table - base)) bytes, of which the --help text $help_len" \
    "and the Spec table $((table - base - help_len)); code and text of petrel-bootvar: $((with - table)) bytes"
echo "added by petrel-bootvar: $((with - base)) bytes (budget 8192)"
limit=8192
if (( with - base > limit )); then
    echo "over the budget of $limit bytes" >&2
    exit 1
fi
