#!/usr/bin/env bash
# Runs every test of Petrel. On a fresh machine it first installs what the tests need:
# the x86_64-unknown-none standard library (Solo5 and virtio images), QEMU (virtio boots),
# for the direct-stack tests (a tap in a network namespace) iproute2, dnsmasq, ping, curl and
# OpenBSD's nc, e2fsprogs (chattr) for configure's all-or-nothing test, virt-xml-validate for
# the libvirt domains, libslirp0 for the user-mode networking tests, and for the xen test the
# Xen toolstack of its dom0. The hvt tests boot on KVM: they need read-write /dev/kvm (CI has
# it).
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx x86_64-unknown-none; then
    echo "==> rustup target add x86_64-unknown-none"
    rustup target add x86_64-unknown-none
fi
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
missing=()
if ! command -v qemu-system-x86_64 >/dev/null; then
    missing+=(qemu-system-x86)
fi
# e2fsprogs: chattr, with which a configure test makes Cargo.toml impossible to replace.
# binutils: nm and readelf, with which the boot-argument size test tells the parser's code apart.
# xen-utils-4.17, xenstore-utils, busybox-static and cpio: the dom0 of the Xen testbed
# (scripts/xen-testbed.sh, which also downloads the hypervisor and the dom0 kernel into
# target/xen-testbed).
# binutils: nm and readelf, with which the boot-argument size test reads symbols.
# libvirt-clients and libxml2-utils: virt-xml-validate (with xmllint) checks the libvirt domain
# `petrel build --target virtio` writes.
# libslirp0: the user-mode network `petrel run` gives spt, hvt and unix guests without a tap
# (loaded at run time); util-linux's setpriv runs those tests without capabilities.
for pkg in binutils libvirt-clients libxml2-utils iproute2 dnsmasq-base iputils-ping netcat-openbsd curl e2fsprogs xen-utils-4.17 xenstore-utils busybox-static cpio libslirp0 util-linux; do
    installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]} (virtio, xen and direct-stack tests)"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

status=0
echo "==> cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast "$@" || status=$?
# A release image trusts the boot-argument table `petrel configure` checked, where a debug
# build checks it again: the parser's tests in release too.
echo "==> cargo test --release -p petrel-bootvar --all-features"
cargo test --release -p petrel-bootvar --all-features --no-fail-fast || status=$?
exit $status
