#!/usr/bin/env bash
# The Xen testbed: a real Xen 4.17 hypervisor with a Debian Linux dom0, booted under QEMU
# (TCG, never KVM), that runs PVH guests with `xl create -F -c` and reports, for each guest,
# its console output and how it shut down. Used by the xen end-to-end test
# (tests/tests/xen.rs); usable by hand to try a xen image on a machine without Xen.
#
# Usage:
#   xen-testbed.sh setup
#       Installs and downloads what the testbed needs (saying what), once; later calls only
#       check. Exit 0 = ready, 2 = cannot be set up here (the reason on one line).
#   xen-testbed.sh check
#       Exit 0 when `setup` has been done (nothing is installed or downloaded), else 2 with
#       what is missing on one line (`petrel run --target xen` asks this first).
#   xen-testbed.sh run OUTDIR NAME IMAGE CMDLINE [NAME IMAGE CMDLINE]...
#       Boots ONE dom0 and runs the guests in order, each `xl create -F -c` with its own
#       timeout. NAME: [A-Za-z0-9_-]+, unique; IMAGE: a PVH ELF; CMDLINE: the guest's command
#       line (one argument, may be empty; `"` and `\` are escaped for xl, so a line quoted
#       for Petrel's bootvar splitter reaches the guest as it is). Writes into OUTDIR:
#         serial.log        everything QEMU printed (Xen, dom0, the live guest consoles)
#         NAME.console      the guest's console output (xenconsoled's log of it, \r removed)
#         NAME.reason       Xen's shutdown reason code (0 poweroff, 1 reboot, 2 suspend,
#                           3 crash, 4 watchdog, 5 soft_reset), or `timeout`, or `none`
#                           (xl ended without the guest shutting down)
#         NAME.status       the guest's exit status as a runner should report it (see below)
#       and prints each guest's console (indented, after `--- guest NAME console:`; with
#       XEN_TESTBED_LIVE=1 the consoles stream instead), then one line per guest:
#       `guest NAME: reason R, status S, T s`. Exit 0 when the
#       dom0 ran every guest (whatever their statuses), 1 when the testbed itself failed.
#
# Exit status mapping. Xen keeps only the shutdown reason, so a Petrel guest prints
# `petrel: exit status N` as its last console line before SCHEDOP_shutdown (poweroff for 0,
# crash otherwise). NAME.status is N when that line is present and agrees with the reason
# (N = 0 with poweroff, N != 0 with crash); otherwise 0 for poweroff, 255 for crash, and
# `timeout` / `none` / `reason-R` for anything else.
#
# Environment:
#   XEN_TESTBED_CACHE    where the downloads and the unpacked packages live
#                        (default: target/xen-testbed in the repository)
#   XEN_TESTBED_GUEST_TIMEOUT   seconds per guest (default 30; 0: no limit)
#   XEN_TESTBED_XEN_ARGS        extra Xen command-line words (e.g. `loglvl=all guest_loglvl=all`
#                               to see a guest's port 0xE9 output as `(d1) ...`)
#   XEN_TESTBED_VIF      the guests that get PV network interfaces (`vif`): `NAME` (one vif on
#                        the bridge xenbr0) or `NAME=BRIDGE,BRIDGE...` (one vif per bridge, in
#                        order: the guest finds them under device/vif/0, 1, ...). dom0 has
#                        two bridges, only inside the QEMU machine: xenbr0 with 10.0.0.1/24 and
#                        xenbr1 with 10.0.1.1/24; netback's end joins the bridge.
#   XEN_TESTBED_DISK     the guests that get PV disks: `NAME` (a fresh 1 MiB of zeros in dom0's
#                        memory, behind blkback and a loop device) or `NAME=FILE` (a copy of
#                        FILE; writes stay in dom0's copy). A name given N times gets N disks
#                        in that order: xvda, xvdb, ... (device/vbd/51712, 51728, ...).
#   XEN_TESTBED_MEMORY   `NAME=MIB` words: guest NAME's memory (default 32 MiB).
#   XEN_TESTBED_TOOLS    host executables (paths) copied into dom0's /usr/local/bin, with the
#                        libraries `ldd` lists (the host's glibc: dom0 runs on it too).
#   XEN_TESTBED_COMMAND  `NAME=FILE` words: dom0 boots guest NAME by running the shell script
#                        FILE instead of `xl create -F -c` (its arguments: the guest's image and
#                        xl configuration in dom0, /guests/NAME.xen and /guests/NAME.cfg; PATH
#                        has /usr/local/bin and the Xen tools; e.g. a `petrel` given in
#                        XEN_TESTBED_TOOLS, to try its dom0 path on a real dom0). Its output
#                        goes to NAME.command, its exit status to NAME.command-status.
#   XEN_TESTBED_PUBLISH  `HOST:GUEST` words: 127.0.0.1:HOST on this machine reaches TCP port GUEST
#                        of the running guest (QEMU user networking forwards HOST to dom0's
#                        e1000 NIC, where busybox `nc` relays each connection to the address
#                        the guest's console reported last, `: 10.0.x.y/N` as Petrel's
#                        direct stack logs its static address or DHCP lease).
#   XEN_TESTBED_LIVE     1: print the guests' consoles on stdout while they run (each line as
#                        the console gives it, without Xen's and xl's own lines), and the
#                        summary on stderr. With XEN_TESTBED_GUEST_TIMEOUT=0 a guest runs
#                        until it exits or the testbed is stopped (Ctrl-C, SIGTERM: QEMU,
#                        with dom0 and the guest, is stopped; exit 130).
#   XEN_TESTBED_PROBE    `NAME=FILE` words: guest NAME is a server. dom0 starts it in the
#                        background (`xl create -F`), runs the shell script FILE (copied
#                        into dom0; busybox `ping`, `wget`, `nc` are there; its argument is
#                        NAME, the guest's console is being logged to
#                        /var/log/xen/console/guest-NAME.log) with a timeout, then destroys
#                        the guest. The script's output goes to NAME.probe,
#                        its exit status to NAME.probe-status. dom0 also serves DHCP on
#                        xenbr0 (busybox udhcpd: 10.0.0.50-10.0.0.60, router 10.0.0.1).
#   XEN_TESTBED_XL_CHECK xl configuration files (space-separated host paths): after the
#                        guests, dom0 parses each with `xl -N create` (a dry run: the
#                        domain's configuration as libxl reads it, in JSON, nothing created)
#                        and writes its output to OUTDIR/xl-check-N.out and its exit status to
#                        OUTDIR/xl-check-N.status (N from 1, in the given order).
#   QEMU                 the QEMU binary (default qemu-system-x86_64)
#
# The choices behind the QEMU and Xen options (all measured on QEMU 7.2 TCG):
#   -cpu max,-smap   with SMAP exposed, QEMU's TCG makes the 64-bit PV dom0 fault at once;
#   -smp 2           with one CPU the first guest after dom0 boot hangs;
#   the generic linux-image-*-amd64 kernel: the -cloud flavour cannot be dom0;
#   libgcc_s.so.1 in the initramfs: xl loads it with dlopen (ldd does not list it) and aborts
#                    without it when the console detaches.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${XEN_TESTBED_CACHE:-$repo/target/xen-testbed}
qemu=${QEMU:-qemu-system-x86_64}
guest_timeout=${XEN_TESTBED_GUEST_TIMEOUT:-30}
xen_version=4.17
xen_bin=/usr/lib/xen-$xen_version/bin
# The dom0 kernel modules the toolstack needs (xenfs depends on xen-privcmd: loaded after
# it), then the network backend and the bridge (bridge depends on stp, stp on llc).
# e1000 drives dom0's NIC for XEN_TESTBED_PUBLISH.
modules=(xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs llc stp bridge xen-netback loop xen-blkback e1000)

say() { echo "xen-testbed: $*" >&2; }
cannot() {
    say "cannot set up the testbed: $*"
    exit 2
}
need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# Whether the cache holds the hypervisor, the kernel and every module.
cache_complete() {
    [ -f "$cache/xen" ] && [ -f "$cache/vmlinuz" ] || return 1
    local mod
    for mod in "${modules[@]}"; do
        [ -f "$cache/modules/$mod.ko" ] || return 1
    done
}

# Installs the host tools, downloads the hypervisor and the dom0 kernel into the cache.
setup() {
    command -v apt-get >/dev/null || cannot "no apt-get (the testbed uses Debian 12's Xen $xen_version packages)"
    local missing=()
    for pkg in xen-utils-$xen_version xenstore-utils busybox-static cpio; do
        installed "$pkg" || missing+=("$pkg")
    done
    command -v "$qemu" >/dev/null || missing+=(qemu-system-x86)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]} (Xen toolstack for the dom0, busybox for its initramfs, QEMU)"
        need_root apt-get update -qq || cannot "apt-get update failed"
        # xen-utils' postinst complains that it finds no hypervisor: harmless, we are not on Xen.
        need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || cannot "apt-get install ${missing[*]} failed"
    fi
    if ! cache_complete; then
        # Only what this script writes is removed (the directory may be the user's).
        rm -rf "$cache/debs" "$cache/root" "$cache/modules" "$cache/vmlinuz" "$cache/xen"
        mkdir -p "$cache/debs" "$cache/root"
        # The kernel linux-image-amd64 points to now: the generic flavour (dom0-capable).
        local kernel
        dom0_kernel() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9.]*-[0-9]*-amd64\)$/\1/p' | head -1; }
        kernel=$(dom0_kernel)
        if [ -z "$kernel" ]; then
            say "apt-get update (no package lists to find the dom0 kernel in)"
            need_root apt-get update -qq || cannot "apt-get update failed"
            kernel=$(dom0_kernel)
        fi
        [ -n "$kernel" ] || cannot "apt-cache knows no linux-image-amd64 (not a Debian 12 package source?)"
        say "downloading xen-hypervisor-$xen_version-amd64 and $kernel into $cache (unpacked, not installed)"
        (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "xen-hypervisor-$xen_version-amd64" "$kernel" >/dev/null) ||
            cannot "apt-get download xen-hypervisor-$xen_version-amd64 $kernel failed"
        for deb in "$cache"/debs/*.deb; do dpkg -x "$deb" "$cache/root"; done
        local vmlinuz gz
        vmlinuz=$(find "$cache/root/boot" -name 'vmlinuz-*-amd64' | sort | tail -1)
        gz=$(find "$cache/root/boot" -name "xen-$xen_version-amd64.gz" | head -1)
        [ -n "$vmlinuz" ] && [ -n "$gz" ] || cannot "the downloaded packages hold no vmlinuz or xen-$xen_version-amd64.gz"
        cp "$vmlinuz" "$cache/vmlinuz"
        # Only the dom0's modules are kept (the whole package is about 400 MB).
        mkdir -p "$cache/modules"
        local mod f
        for mod in "${modules[@]}"; do
            f=$(find "$cache/root/lib/modules" -name "$mod.ko*" | head -1)
            [ -n "$f" ] || cannot "module $mod is not in the kernel package"
            case $f in
            *.xz) xz -dc "$f" >"$cache/modules/$mod.ko" ;;
            *.zst) zstd -qdc "$f" >"$cache/modules/$mod.ko" ;;
            *) cp "$f" "$cache/modules/$mod.ko" ;;
            esac
        done
        # A multiboot1 ELF32 once gunzipped, which QEMU's -kernel loads; written last, as the
        # mark of a complete cache.
        zcat "$gz" >"$cache/xen.tmp" && mv "$cache/xen.tmp" "$cache/xen"
        rm -rf "$cache/debs" "$cache/root"
    fi
}

# A string for inside xl's double quotes: `\` and `"` escaped with `\`.
xl_escape() {
    local s=${1//\\/\\\\}
    printf '%s' "${s//\"/\\\"}"
}

# Guest $1's entries in the word list $2, one a line in order: VALUE for a `NAME=VALUE`
# word, and $3 (if given) for a bare `NAME`.
entries_of() {
    local word
    for word in $2; do
        if [ "$word" = "$1" ] && [ -n "${3:-}" ]; then
            echo "$3"
        elif [ "${word%%=*}" = "$1" ] && [ "$word" != "${word#*=}" ]; then
            echo "${word#*=}"
        fi
    done
}

# Guest $1's disks from XEN_TESTBED_DISK, one line each in order: `fresh` or a file to copy.
disks_of() { entries_of "$1" "${XEN_TESTBED_DISK:-}" fresh; }

# Guest $1's bridges from XEN_TESTBED_VIF, one line each in order.
bridges_of() { entries_of "$1" "${XEN_TESTBED_VIF:-}" xenbr0 | tr ',' '\n'; }

# An xl list (`[ "a", "b" ]`) of the lines on stdin.
xl_list() {
    local line items=()
    while IFS= read -r line; do items+=("\"$line\""); done
    local IFS=,
    echo "[ ${items[*]} ]"
}

# The `vif =` and `disk =` lines of guest $1 (if it has such devices); copies its disks into
# the initramfs.
device_lines() {
    local bridge n=0 disk vdevs=(a b c d e f g h) lines
    lines=$(bridges_of "$1" | while IFS= read -r bridge; do
        case $bridge in
        xenbr0 | xenbr1) echo "bridge=$bridge,script=/etc/xen/scripts/vif-petrel" ;;
        *) say "guest $1: no bridge '$bridge' in the testbed (xenbr0, xenbr1)"; exit 1 ;;
        esac
    done) || exit 1
    [ -z "$lines" ] || echo "vif = $(xl_list <<<"$lines")"
    lines=""
    while IFS= read -r disk; do
        [ $n -lt ${#vdevs[@]} ] || { say "guest $1: at most ${#vdevs[@]} disks"; exit 1; }
        local img=/guests/$1-xvd${vdevs[$n]}.img
        case $disk in
        fresh) truncate -s 1M "$rootfs$img" ;;
        *) cp "$disk" "$rootfs$img" || { say "guest $1: cannot copy disk '$disk'"; exit 1; } ;;
        esac
        lines+="format=raw,vdev=xvd${vdevs[$n]},access=rw,backendtype=phy,script=/etc/xen/scripts/block-petrel,target=$img"$'\n'
        n=$((n + 1))
    done < <(disks_of "$1")
    [ -z "$lines" ] || echo "disk = $(xl_list <<<"${lines%$'\n'}")"
}

# Copies a file into the initramfs tree at the same path.
put() { mkdir -p "$rootfs$(dirname "$1")" && cp -L "$1" "$rootfs$1"; }

# Builds the dom0 initramfs for the guests in $names/$images/$cmdlines into $work/initrd.cpio.
build_initramfs() {
    rootfs=$work/rootfs
    mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,run,tmp,etc,guests,var/lib/xen,var/lock,var/log/xen/console}
    ln -s /run "$rootfs/var/run"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in sh mount insmod sleep cat echo timeout poweroff mkdir ls ip brctl losetup stat dd \
        ping wget nc udhcpd touch; do
        ln -s busybox "$rootfs/bin/$applet"
    done
    local bins=("$xen_bin/xl" "$xen_bin/xenstored" "$xen_bin/xen-init-dom0" "$xen_bin/xenconsoled"
        "$xen_bin/xenconsole" "$xen_bin/libxl-save-helper")
    local libs
    libs=$( (for b in "${bins[@]}" /usr/bin/xenstore; do ldd "$b"; done) | grep -o '/[^ ]*' | sort -u)
    for f in "${bins[@]}" $libs; do put "$f"; done
    local tool
    for tool in ${XEN_TESTBED_TOOLS:-}; do
        [ -x "$tool" ] || { say "XEN_TESTBED_TOOLS: '$tool' is not an executable"; exit 1; }
        mkdir -p "$rootfs/usr/local/bin"
        # Without debug information (a debug build is ten times larger): dom0 holds it in RAM.
        strip -o "$rootfs/usr/local/bin/$(basename "$tool")" "$tool" 2>/dev/null ||
            cp "$tool" "$rootfs/usr/local/bin/"
        for f in $(ldd "$tool" | grep -o '/[^ ]*'); do put "$f"; done
    done
    # The xenstore tools are one binary that acts on its name.
    mkdir -p "$rootfs/usr/bin"
    cp /usr/bin/xenstore "$rootfs/usr/bin/xenstore-write"
    cp /usr/bin/xenstore "$rootfs/usr/bin/xenstore-read"
    # The same for a disk: the file named in `params` goes on a loop device, whose numbers
    # blkback reads from `physical-device`.
    mkdir -p "$rootfs/etc/xen/scripts"
    cat >"$rootfs/etc/xen/scripts/block-petrel" <<'SCRIPT'
#!/bin/sh
# libxl's disk hotplug: $1 is add/remove; $XENBUS_PATH is the backend's xenstore path.
case $1 in
add)
    file=$(/usr/bin/xenstore-read "$XENBUS_PATH/params")
    # libxl runs one script per disk at the same time: without the lock two could take the
    # same free loop device (mkdir is atomic).
    until mkdir /run/block-petrel.lock 2>/dev/null; do sleep 0.05; done
    dev=$(losetup -f)
    losetup "$dev" "$file"
    rmdir /run/block-petrel.lock
    /usr/bin/xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c '%t:%T' "$dev")"
    /usr/bin/xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
esac
exit 0
SCRIPT
    chmod +x "$rootfs/etc/xen/scripts/block-petrel"
    # libxl runs this for each vif (instead of Xen's bash scripts) and waits for the
    # hotplug-status it writes: the backend interface joins its bridge (xl's `bridge=`).
    mkdir -p "$rootfs/etc/xen/scripts"
    cat >"$rootfs/etc/xen/scripts/vif-petrel" <<'SCRIPT'
#!/bin/sh
# libxl's vif hotplug: $1 is online/add/offline/remove; $vif and $XENBUS_PATH are set.
case $1 in
online | add)
    ip link set "$vif" up
    brctl addif "$(/usr/bin/xenstore-read "$XENBUS_PATH/bridge")" "$vif"
    /usr/bin/xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
esac
exit 0
SCRIPT
    chmod +x "$rootfs/etc/xen/scripts/vif-petrel"
    # dlopen'ed by glibc's pthread_cancel (xl cancels its console thread): not in ldd's list.
    local gcc_s
    gcc_s=$(ldconfig -p | sed -n 's/.*libgcc_s.so.1 (libc6,x86-64) => //p' | head -1)
    [ -n "$gcc_s" ] || { say "no libgcc_s.so.1 on this machine"; exit 1; }
    put "$gcc_s"
    mkdir -p "$rootfs/modules"
    cp "$cache"/modules/*.ko "$rootfs/modules/"
    mkdir -p "$rootfs/etc/xen"
    echo '# Defaults: nothing to change.' >"$rootfs/etc/xen/xl.conf"
    local i
    for i in "${!names[@]}"; do
        cp "${images[$i]}" "$rootfs/guests/${names[$i]}.xen"
        local devices memory
        devices=$(device_lines "${names[$i]}") || exit 1
        memory=$(entries_of "${names[$i]}" "${XEN_TESTBED_MEMORY:-}" | tail -1)
        [[ ${memory:-32} =~ ^[1-9][0-9]*$ ]] || { say "guest ${names[$i]}: memory '$memory' is not a number of MiB"; exit 1; }
        cat >"$rootfs/guests/${names[$i]}.cfg" <<EOF
name = "${names[$i]}"
type = "pvh"
kernel = "/guests/${names[$i]}.xen"
memory = ${memory:-32}
vcpus = 1
cmdline = "$(xl_escape "${cmdlines[$i]}")"
$devices
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
        echo "${names[$i]}" >>"$rootfs/guests/list"
        local file
        for file in $(entries_of "${names[$i]}" "${XEN_TESTBED_PROBE:-}"); do
            cp "$file" "$rootfs/guests/${names[$i]}.probe"
        done
        for file in $(entries_of "${names[$i]}" "${XEN_TESTBED_COMMAND:-}"); do
            cp "$file" "$rootfs/guests/${names[$i]}.command"
        done
    done
    local n=0 cfg
    for cfg in ${XEN_TESTBED_XL_CHECK:-}; do
        n=$((n + 1))
        cp "$cfg" "$rootfs/guests/xl-check-$n.cfg"
    done
    local forward
    for forward in ${XEN_TESTBED_PUBLISH:-}; do
        [[ $forward =~ ^[0-9]+:[0-9]+$ ]] || { say "XEN_TESTBED_PUBLISH: '$forward' is not HOST:GUEST"; exit 1; }
        echo "${forward%%:*} ${forward#*:}" >>"$rootfs/guests/publish"
    done
    # One forwarded connection (busybox `nc -e` runs it with the socket as stdin and stdout).
    cat >"$rootfs/bin/publish-to" <<'SCRIPT'
#!/bin/sh
# $1: the guest's port. The address: the last `: 10.0.x.y/N` of the running guest's console.
g=$(cat /run/current-guest)
addr=$(sed -n 's/.*: \(10\.0\.[01]\.[0-9]*\)\/[0-9]*.*/\1/p' "/var/log/xen/console/guest-$g.log" | tail -1)
[ -n "$addr" ] || exit 1
exec nc "$addr" "$1"
SCRIPT
    chmod +x "$rootfs/bin/publish-to"
    cat >"$rootfs/init" <<EOF
#!/bin/sh
# dom0's init: the Xen toolstack, then every guest of /guests/list in turn, then power-off.
export PATH=/bin:/sbin:/usr/local/bin:$xen_bin
# Seconds since dom0 booted, for the timings on the @@MARK lines.
uptime_s() { read -r up _ </proc/uptime; echo "\$up"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/xenstored
for m in ${modules[*]}; do insmod /modules/\$m.ko; done
mount -t xenfs xenfs /proc/xen
xenstored
xen-init-dom0 >/dev/null
xenconsoled --log=guest --log-dir=/var/log/xen/console
# The bridges the guests' vifs join; the addresses are only seen inside this QEMU machine.
for n in 0 1; do
    brctl addbr xenbr\$n
    ip addr add 10.0.\$n.1/24 dev xenbr\$n
    ip link set xenbr\$n up
done
# DHCP for the guests on the bridge.
printf 'start 10.0.0.50\nend 10.0.0.60\ninterface xenbr0\nlease_file /run/udhcpd.leases\noption subnet 255.255.255.0\noption router 10.0.0.1\n' >/etc/udhcpd.conf
touch /run/udhcpd.leases
udhcpd /etc/udhcpd.conf
# XEN_TESTBED_PUBLISH: QEMU's user network on the NIC, a relay per forwarded port.
if [ -f /guests/publish ]; then
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    while read -r host guest; do nc -ll -p \$host -e /bin/publish-to \$guest & done </guests/publish
fi
echo "@@MARK dom0-ready t=\$(uptime_s)"
# Each guest's time limit (none with a timeout of 0).
limit="timeout -s KILL $guest_timeout"
[ $guest_timeout != 0 ] || limit=""
for g in \$(cat /guests/list); do
    echo "@@MARK \$g create t=\$(uptime_s)"
    echo \$g >/run/current-guest
    if [ -f /guests/\$g.probe ]; then
        # A server: in the background (its console goes to xenconsoled's log only), probed.
        \$limit xl create -F /guests/\$g.cfg &
        xlpid=\$!
        \$limit sh /guests/\$g.probe \$g >/guests/\$g.probe.out 2>&1
        prc=\$?
        xl destroy \$g 2>/dev/null
        wait \$xlpid
        rc=\$?
        echo "@@PROBE \$g begin"
        cat /guests/\$g.probe.out
        echo
        echo "@@PROBE \$g end \$prc"
    elif [ -f /guests/\$g.command ]; then
        # Booted by a script (e.g. petrel on this dom0); its output is the live console.
        echo "@@COMMAND \$g begin"
        \$limit sh /guests/\$g.command /guests/\$g.xen /guests/\$g.cfg 2>&1
        rc=\$?
        echo
        echo "@@COMMAND \$g end \$rc"
    else
        \$limit xl create -F -c /guests/\$g.cfg
        rc=\$?
    fi
    if [ \$rc = 137 ]; then
        echo "@@MARK \$g timeout"
        xl destroy \$g 2>/dev/null
    fi
    echo "@@MARK \$g exited \$rc t=\$(uptime_s)"
    sleep 0.1
    echo "@@LOG \$g begin"
    cat /var/log/xen/console/guest-\$g.log 2>/dev/null
    echo
    echo "@@LOG \$g end"
done
for cfg in /guests/xl-check-*.cfg; do
    [ -f "\$cfg" ] || continue
    n=\${cfg#/guests/xl-check-}
    n=\${n%.cfg}
    echo "@@XLCHECK \$n begin"
    xl -N create "\$cfg" 2>&1
    rc=\$?
    echo
    echo "@@XLCHECK \$n end \$rc"
done
echo "@@MARK all-done t=\$(uptime_s)"
poweroff -f
EOF
    chmod +x "$rootfs/init"
    (cd "$rootfs" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio"
}

# Filters the serial output on stdin down to the guests' consoles, as they come: the lines
# between a guest's create and exit marks, without Xen's, xl's and the markers' own.
live_console() {
    # bash's `read` takes a pipe byte by byte, so each line goes out as it comes (mawk would
    # wait for a full input buffer).
    local line on=0 shutdown='Domain [0-9]+ has shut down, reason code [0-9]+ 0x[0-9a-f]+'
    while IFS= read -r line; do
        line=${line//$'\r'/}
        case $line in
        "@@MARK "*" create "*) on=1 ;;
        "@@MARK "*" exited "* | "@@MARK "*" timeout") on=0 ;;
        @@* | "(XEN)"* | "Parsing config from "* | "Waiting for domain "* | "Action for shutdown reason code"* | \
            "Domain "*" needs to be cleaned up"* | "Done. Exiting now"* | "qemu-system-"*) ;;
        *)
            if [ $on = 1 ]; then
                [[ $line =~ ^$shutdown$ ]] && continue
                [[ $line =~ $shutdown ]] && line=${line/"${BASH_REMATCH[0]}"/}
                printf '%s\n' "$line"
            fi
            ;;
        esac
    done
}

# Splits serial.log into the per-guest files and prints the summary.
collect() {
    local log=$outdir/serial.log name summary=()
    tr -d '\r' <"$log" >"$work/serial.txt"
    for name in "${names[@]}"; do
        # The guest's own output: xenconsoled's log, dumped between the @@LOG markers.
        sed -n "/^@@LOG $name begin\$/,/^@@LOG $name end\$/p" "$work/serial.txt" | sed '1d;$d' |
            grep -v '^(XEN)' | sed '$ { /^$/d; }' >"$outdir/$name.console" || true
        if [ -f "$rootfs/guests/$name.probe" ]; then
            sed -n "/^@@PROBE $name begin\$/,/^@@PROBE $name end [0-9]*\$/p" "$work/serial.txt" | sed '1d;$d' |
                grep -v '^(XEN)' | sed '$ { /^$/d; }' >"$outdir/$name.probe" || true
            sed -n "s/^@@PROBE $name end \([0-9]*\)\$/\1/p" "$work/serial.txt" >"$outdir/$name.probe-status"
        fi
        if [ -f "$rootfs/guests/$name.command" ]; then
            sed -n "/^@@COMMAND $name begin\$/,/^@@COMMAND $name end [0-9]*\$/p" "$work/serial.txt" | sed '1d;$d' |
                grep -v '^(XEN)' | sed '$ { /^$/d; }' >"$outdir/$name.command" || true
            sed -n "s/^@@COMMAND $name end \([0-9]*\)\$/\1/p" "$work/serial.txt" >"$outdir/$name.command-status"
        fi
        local section reason status
        section=$(sed -n "/^@@MARK $name create /,/^@@MARK $name exited/p" "$work/serial.txt")
        if [ -z "$section" ]; then
            reason=none
        elif grep -q "^@@MARK $name timeout" <<<"$section"; then
            reason=timeout
        else
            reason=$(grep -o 'has shut down, reason code [0-9]*' <<<"$section" | tail -1 | grep -o '[0-9]*$' || true)
            [ -n "$reason" ] || reason=none
        fi
        local printed
        printed=$(sed -n 's/.*petrel: exit status \([0-9]*\)$/\1/p' "$outdir/$name.console" | tail -1)
        case $reason in
        0) if [ "$printed" = 0 ] || [ -z "$printed" ]; then status=0; else status=reason-0-printed-$printed; fi ;;
        3) if [ -n "$printed" ] && [ "$printed" != 0 ]; then status=$printed; else status=255; fi ;;
        timeout | none) status=$reason ;;
        *) status=reason-$reason ;;
        esac
        echo "$reason" >"$outdir/$name.reason"
        echo "$status" >"$outdir/$name.status"
        local t0 t1 took=""
        t0=$(sed -n "s/^@@MARK $name create t=\([0-9.]*\)$/\1/p" "$work/serial.txt")
        t1=$(sed -n "s/^@@MARK $name exited [0-9]* t=\([0-9.]*\)$/\1/p" "$work/serial.txt")
        [ -z "$t0" ] || [ -z "$t1" ] || took=$(awk "BEGIN { printf \", %.1f s\", $t1 - $t0 }")
        local command=""
        [ ! -f "$outdir/$name.command-status" ] || command=", command status $(cat "$outdir/$name.command-status")"
        summary+=("guest $name: reason $reason, status $status$command$took")
        if [ "${XEN_TESTBED_LIVE:-}" != 1 ]; then
            echo "--- guest $name console:"
            sed 's/^/    /' "$outdir/$name.console"
        fi
    done
    local n=0 cfg
    for cfg in ${XEN_TESTBED_XL_CHECK:-}; do
        n=$((n + 1))
        sed -n "/^@@XLCHECK $n begin\$/,/^@@XLCHECK $n end [0-9]*\$/p" "$work/serial.txt" | sed '1d;$d' |
            grep -v '^(XEN)' >"$outdir/xl-check-$n.out" || true
        sed -n "s/^@@XLCHECK $n end \([0-9]*\)\$/\1/p" "$work/serial.txt" >"$outdir/xl-check-$n.status"
        summary+=("xl check $n ($cfg): status $(cat "$outdir/xl-check-$n.status")")
    done
    if [ "${XEN_TESTBED_LIVE:-}" = 1 ]; then
        printf '%s\n' "${summary[@]}" >&2
    else
        printf '%s\n' "${summary[@]}"
    fi
    grep -q '^@@MARK all-done' "$work/serial.txt"
}

run() {
    [ $# -ge 1 ] || { say "usage: xen-testbed.sh run OUTDIR NAME IMAGE CMDLINE [...]"; exit 1; }
    outdir=$1
    shift
    [ $# -gt 0 ] && [ $(($# % 3)) = 0 ] || { say "run: give guests as NAME IMAGE CMDLINE triples"; exit 1; }
    names=() images=() cmdlines=()
    while [ $# -gt 0 ]; do
        [[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || { say "bad guest name '$1' (letters, digits, _ and - only)"; exit 1; }
        for n in "${names[@]}"; do [ "$n" != "$1" ] || { say "guest name '$1' given twice"; exit 1; }; done
        [ -f "$2" ] || { say "guest $1: no image file '$2'"; exit 1; }
        [[ $3 != *[[:cntrl:]]* ]] || { say "guest $1: the command line may not contain control characters"; exit 1; }
        names+=("$1") images+=("$2") cmdlines+=("$3")
        shift 3
    done
    cache_complete || { say "not set up: run 'xen-testbed.sh setup' first"; exit 1; }
    mkdir -p "$outdir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    build_initramfs
    # dom0 (~9 s) + each guest's timeout + power-off, with margin (no limit without one).
    local total=$((60 + ${#names[@]} * (guest_timeout + 5)))
    [ "$guest_timeout" != 0 ] || total=0
    local status=0 started qemu_pid follower="" nic=() forward forwards=""
    for forward in ${XEN_TESTBED_PUBLISH:-}; do
        forwards+=",hostfwd=tcp:127.0.0.1:${forward%%:*}-10.0.2.15:${forward%%:*}"
    done
    [ -z "$forwards" ] || nic=(-netdev "user,id=up$forwards" -device e1000,netdev=up)
    started=$(date +%s%N)
    # In the background, so that a signal reaches the trap at once (not after QEMU ends);
    # timeout passes TERM on to QEMU, which then stops (and dom0 and the guests with it).
    # --foreground keeps QEMU in this script's process group (a caller can wait for the
    # whole group to end).
    # shellcheck disable=SC2086 # XEN_TESTBED_XEN_ARGS is a list of words
    timeout --foreground -s KILL "$total" "$qemu" -accel tcg -cpu max,-smap -smp 2 -m 1024 \
        -display none -serial stdio -monitor none -no-reboot -nodefaults \
        -kernel "$cache/xen" \
        -append "console=com1 com1=115200,8n1 loglvl=warning guest_loglvl=warning dom0_mem=512M,max:512M dom0_max_vcpus=1 bootscrub=0 ${XEN_TESTBED_XEN_ARGS:-}" \
        -initrd "$cache/vmlinuz console=hvc0 earlyprintk=xen loglevel=3,$work/initrd.cpio" \
        "${nic[@]}" </dev/null >"$outdir/serial.log" 2>&1 &
    qemu_pid=$!
    stopped=0
    trap 'stopped=1; kill -TERM $qemu_pid 2>/dev/null' INT TERM
    if [ "${XEN_TESTBED_LIVE:-}" = 1 ]; then
        tail -n +1 -F --pid="$qemu_pid" "$outdir/serial.log" 2>/dev/null | live_console &
        follower=$!
    fi
    while :; do
        wait "$qemu_pid" && status=0 || status=$?
        # A trapped signal ends `wait` early (status > 128) while QEMU still runs.
        kill -0 "$qemu_pid" 2>/dev/null || break
    done
    [ -z "$follower" ] || wait "$follower" || true
    trap - INT TERM
    if [ "$stopped" = 1 ]; then
        say "stopped (QEMU, with dom0 and the guest, ended)"
        exit 130
    fi
    local ready report=1
    [ "${XEN_TESTBED_LIVE:-}" != 1 ] || report=2
    ready=$(tr -d '\r' <"$outdir/serial.log" | sed -n 's/^@@MARK dom0-ready t=//p')
    echo >&"$report" "testbed: QEMU ran $(awk "BEGIN { printf \"%.1f\", ($(date +%s%N) - $started) / 1e9 }") s; dom0 ready ${ready:-never} s after its kernel started"
    if [ $status = 137 ]; then
        say "the whole run took more than ${total} s: killed"
    fi
    if ! collect; then
        say "dom0 did not run every guest (QEMU status $status); see $outdir/serial.log"
        exit 1
    fi
}

case ${1:-} in
setup) setup ;;
check)
    command -v "$qemu" >/dev/null || cannot "no $qemu"
    [ -x "$xen_bin/xl" ] || cannot "no xen-utils-$xen_version ($xen_bin/xl)"
    cache_complete || cannot "the Xen, dom0 kernel or dom0 modules in $cache are missing"
    ;;
run)
    shift
    run "$@"
    ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 1
    ;;
esac
