#!/usr/bin/env bash
# static_website on spt through each network backend (not a test: it prints numbers, it
# asserts nothing). One run, one image (examples/static_website, release, DHCP built in):
#
#   user-mode   `petrel run --target spt --publish PORT:8080`: libslirp in petrel's process
#               (petrel-usernet), wrk on 127.0.0.1:PORT.
#   passt       the same guest with passt as the backend instead (passt's qemu-mode socket,
#               relayed to the guest's socketpair by petrel-usernet's `passt_relay` example,
#               one extra hop libslirp does not have), wrk on 127.0.0.1:PORT (passt's -t).
#               Skipped without passt (apt-get install passt).
#   tap         petrel-spt on a tap in a private network namespace (unikernel 10.0.0.2,
#               host side 10.0.0.1), wrk inside the namespace. Needs root (else skipped).
#
# Each under `wrk -t1 -c16 -d5s` after a 1 s warm-up, one after the other; then the ratios
# to the tap (user-mode NAT copies every byte through host sockets: it is slower).
#
# Builds go to $CARGO_TARGET_DIR when it is set (else target/). scripts/bench.sh runs this.
#
# Usage: scripts/bench-usernet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p petrel-cli -p petrel-spt
cargo build -q --release -p petrel-usernet --example passt_relay
tgt=${CARGO_TARGET_DIR:-target}
case $tgt in /*) ;; *) tgt=$PWD/$tgt ;; esac
petrel=$tgt/release/petrel
spt=$tgt/release/petrel-spt
relay=$tgt/release/examples/passt_relay
export PETREL_SPT=$spt
work=$(mktemp -d)
pids=()
netns=""
stop() {
    for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
cleanup() {
    stop
    [ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp -r examples/static_website "$work/site"
sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$work/site/Cargo.toml"
"$petrel" -C "$work/site" build --target spt >/dev/null 2>&1
image=$work/site/dist/static-website.spt

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to 30 s for an HTTP 200 from $1 (run through ${ns:+ip netns exec $ns}).
wait_http() {
    ${ns:+ip netns exec "$ns"} python3 scripts/wait-http.py "$1"
}
# Requests per second on $1 (after a 1 s warm-up), with wrk's latency average.
measure() {
    ${ns:+ip netns exec "$ns"} wrk -t1 -c16 -d1s "$1" >/dev/null
    ${ns:+ip netns exec "$ns"} wrk -t1 -c16 -d5s "$1" >"$work/wrk.txt"
    awk '/^Requests\/sec:/ {rps=$2} $1 == "Latency" {lat=$2} END {print rps, lat}' "$work/wrk.txt"
}

echo "static_website on spt by network backend (wrk -t1 -c16 -d5s, one after the other):"
if ! command -v wrk >/dev/null 2>&1; then
    echo "  SKIPPED: wrk is not installed (apt-get install wrk)"
    exit 0
fi

ns=""
port=$(free_port)
setsid "$petrel" -C "$work/site" run --target spt --publish "$port:8080" >"$work/user.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/index.html" || { cat "$work/user.log"; exit 1; }
read -r user_rps user_lat < <(measure "http://127.0.0.1:$port/index.html")
printf '  %-22s %8.0f requests/s   latency avg %s\n' "user-mode (libslirp)" "$user_rps" "$user_lat"
stop

passt_rps=""
if command -v passt >/dev/null 2>&1; then
    port=$(free_port)
    # passt drops root for `nobody`: its socket lives in a directory anyone may enter.
    sock=$(mktemp -u /tmp/petrel-passt-XXXXXX.sock)
    setsid passt -f -q -s "$sock" -t "$port:8080" -u none -m 1500 >"$work/passt.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    setsid "$relay" "$sock" "$spt" "--net:service=@{fd}" -- "$image" >"$work/relay.log" 2>&1 &
    pids+=($!)
    if wait_http "http://127.0.0.1:$port/index.html"; then
        read -r passt_rps passt_lat < <(measure "http://127.0.0.1:$port/index.html")
        printf '  %-22s %8.0f requests/s   latency avg %s\n' "user-mode (passt)" "$passt_rps" "$passt_lat"
    else
        echo "  passt: no answer (passt needs a default route on the host)"
        sed 's/^/    /' "$work/passt.log" | grep -v syslog | head -5
    fi
    stop
    rm -f "$sock"
else
    echo "  user-mode (passt)      SKIPPED: passt is not installed (apt-get install passt)"
fi

tap_rps=""
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || [ ! -c /dev/net/tun ]; then
    echo "  tap                    SKIPPED: needs root, ip and /dev/net/tun"
else
    netns=petrel-bench-usernet-$$
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    ip -n "$netns" tuntap add tap0 mode tap
    ip -n "$netns" addr add 10.0.0.1/24 dev tap0
    ip -n "$netns" link set tap0 up
    ns=$netns
    ip netns exec "$ns" "$spt" --net:service=tap0 -- "$image" --ipv4=10.0.0.2/24 >"$work/tap.log" 2>&1 &
    pids+=($!)
    wait_http "http://10.0.0.2:8080/index.html" || { cat "$work/tap.log"; exit 1; }
    read -r tap_rps tap_lat < <(measure "http://10.0.0.2:8080/index.html")
    printf '  %-22s %8.0f requests/s   latency avg %s\n' "tap" "$tap_rps" "$tap_lat"
    stop
fi

if [ -n "$tap_rps" ]; then
    python3 - "$user_rps" "${passt_rps:-0}" "$tap_rps" <<'PY'
import sys
user, passt, tap = map(float, sys.argv[1:])
print(f"  ratio libslirp/tap     {user / tap:8.2f}")
if passt:
    print(f"  ratio passt/tap        {passt / tap:8.2f}")
    print(f"  ratio libslirp/passt   {user / passt:8.2f}")
PY
fi
