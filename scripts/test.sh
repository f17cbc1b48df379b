#!/usr/bin/env bash
# Runs every test of Petrel. On a fresh machine it first installs what the tests need:
# the x86_64-unknown-none standard library (Solo5 and virtio images) and QEMU (virtio boots).
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx x86_64-unknown-none; then
    echo "==> rustup target add x86_64-unknown-none"
    rustup target add x86_64-unknown-none
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
    echo "==> installing QEMU (qemu-system-x86) for the virtio tests"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86
fi

echo "==> cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast "$@"
