#!/usr/bin/env bash
# Builds Petrel and runs the hello example on unix: "Hello world!" four times, a second
# apart. Leaves the example as it was (petrel clean), whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p petrel-cli -p petrel-spt
trap 'target/release/petrel -C examples/hello clean >/dev/null 2>&1 || true' EXIT
target/release/petrel -C examples/hello run
