#!/usr/bin/env bash
# Measures what petrel-bootvar adds to a release unikernel image: builds the size probe
# (variants/runtime/bootvar/size-probe) for x86_64-unknown-none and prints the loaded sizes (sum of
# the PT_LOAD segments) and their differences, for three tables of arguments (src/args.rs:
# hello-key's, static_website's on the direct stack, and one argument of every kind family):
#   base   the probe alone (it allocates, and reports a panic with its location and message
#          as petrel-rt-core does);
#   table  plus the application's table, unused: its `App`, whose `help` is the `--help` text
#          (rendered on the host by the probe's build.rs, as `petrel configure` renders it),
#          and its `Spec` table, which points to the value checker and the message texts of
#          each kind it declares (only those are in the image);
#   with   plus calls to split + parse_cmdline + one Values::get per argument + the --help
#          path.
# "added" (with - base) is checked against the 8 KiB budget (exit 1 if a table is over);
# "table" (table - base: the help text, printed apart, and the specs with their kinds'
# checkers and texts) and "parser" (with - table: the splitter, the parse loop, the messages,
# `get` and the value parsers it calls) split it. Both depend on the table.
#
# Images are built as Petrel builds them (templates/cargo-config.toml.j2): release,
# opt-level "s", LTO, panic = "abort", and `-C relocation-model=static`, a fixed-address
# ET_EXEC (the tenders and petrel-spt refuse static PIE). `--pie` measures the target's default
# static PIE instead, as this script did before: every pointer in the `Spec` table then also
# costs a 24-byte R_X86_64_RELATIVE relocation that no Petrel image carries.
#
# Usage: variants/runtime/bootvar/scripts/size.sh [--pie]   (needs: rustup target add x86_64-unknown-none)
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

# Sum of the loadable segments (text, rodata, data...), from the ELF program headers.
loaded() {
    python3 "$here/scripts/loaded.py" "$1"
}

build() {
    cargo build --quiet --release --manifest-path "$manifest" --target x86_64-unknown-none \
        --target-dir "$target_dir" ${reloc[@]+"${reloc[@]}"} "$@"
    loaded "$bin"
}

# The length of the `--help` text that build.rs rendered for these features: its OUT_DIR, from
# cargo's JSON messages (the build is fresh, so this only reads them).
help_len() {
    cargo build --quiet --release --manifest-path "$manifest" --target x86_64-unknown-none \
        --target-dir "$target_dir" ${reloc[@]+"${reloc[@]}"} --message-format=json "$@" |
        python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "build-script-executed" and "petrel-bootvar-size-probe" in m["package_id"]:
        print(os.path.getsize(os.path.join(m["out_dir"], "help.txt")))
'
}

# One table of arguments: prints its line and returns whether it is within the budget.
limit=8192
over=0
measure() {
    local label="$1" feature="$2" table with help_txt help_len
    table=$(build --features "table $feature")
    with=$(build --features "with $feature")
    help_len=$(help_len --features "with $feature")
    printf '%-9s added %6d bytes = parser %6d + table %5d (--help text %5d, specs with their kinds'"'"' checkers and texts %4d)%s\n' \
        "$label" $((with - base)) $((with - table)) $((table - base)) "$help_len" \
        $((table - base - help_len)) "$( ((with - base > limit)) && echo "  OVER $limit" || true)"
    if ((with - base > limit)); then over=1; fi
}

base=$(build)
echo "loaded bytes ($flavour) of the probe alone: $base; budget: $limit bytes added"
measure "hello" "hello"        # examples/hello-key: one string
measure "network" "network"    # examples/static_website on the direct stack: u16, IPv4/IPv6 addresses and prefixes
measure "all" ""               # ten arguments, one of every kind family
exit $over
