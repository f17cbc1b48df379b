#!/usr/bin/env bash
# Petrel's benchmarks (not tests: they print numbers, they assert nothing).
#
#   configure   median wall time of `petrel configure` on examples/hello, beside the median
#               of `cargo metadata` on the same project (the floor: configure runs it once),
#               and their ratio. Target: at most 1.5x.
#   many args   `petrel configure` with 6,000 and 20,000 boot arguments, and the time per
#               argument of one over the other (scripts/bench-many-args.sh; 1 = linear).
#   sizes       on-disk size of hello for each target (target for hvt: at most 64 KiB).
#   Solo5 boot  median boot-to-exit time of noop on petrel-spt and petrel-hvt (and the
#               upstream solo5-hvt when installed), and the hvt image sizes: scripts/bench-solo5.sh.
#   virtio first line
#               median time from QEMU's start to the first byte of the first console line of
#               hello (virtio), beside the same for tests/fixtures/multiboot-minimal (a
#               multiboot kernel that only prints one line: the floor of QEMU + SeaBIOS +
#               multiboot loading), and their ratio. Target: at most 1.2x.
#   virtio idle QEMU's CPU time (user + sys) against wall time while hello runs to completion
#               (its three 1 s sleeps), as a percentage, for the whole run and for the part after
#               the first line (the guest should idle in `hlt`: well below 100%).
#   static_website
#               requests per second of examples/static_website (unix, socket stack; on
#               picoserve) and of nginx (1 worker) serving the same htdocs/ on loopback, both
#               under `wrk -t1 -c16 -d5s`, and their ratio. Target: at least 0.7. Needs wrk and
#               nginx (installed with apt-get when run as root; else that part is skipped).
#   static_website by network backend
#               the direct stack on spt through `petrel run --publish` (libslirp), through
#               passt, and over a tap, with the ratios: scripts/bench-usernet.sh.
#   static_website, direct stack over a tap
#               the same, built with `--net=direct --no-dhcp` (smoltcp in the process), run
#               in a private network namespace on a tap (unikernel 10.0.0.2, host side
#               10.0.0.1), loaded by the same wrk from inside the namespace, beside nginx on
#               10.0.0.1 in that namespace, with wrk's latency line and errors. nginx's traffic
#               to a local address takes the kernel's loopback path, the unikernel's crosses
#               the tap (a read(2)/write(2) on /dev/net/tun per frame): the output says so, and
#               the ratio includes that cost. Needs root, `ip` and /dev/net/tun (else skipped).
#
# Builds go to $CARGO_TARGET_DIR when it is set (else target/).
#
# Usage: scripts/bench.sh [RUNS] [SECTION...]   (default 15 runs each; every section)
# SECTION: configure sizes solo5 virtio static_website direct usernet
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
[ $# -gt 0 ] && shift
sections=" $* "
# Whether section $1 runs: all of them unless some are named on the command line.
want() { [ "$sections" = "  " ] || [[ $sections == *" $1 "* ]]; }
cargo build -q --release -p petrel-cli -p petrel-spt
tgt=${CARGO_TARGET_DIR:-target}
case $tgt in /*) ;; *) tgt=$PWD/$tgt ;; esac
petrel=$tgt/release/petrel
export PETREL_SPT=$tgt/release/petrel-spt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ex in hello; do
    cp -r "examples/$ex" "$work/$ex"
    sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$work/$ex/Cargo.toml"
done

# Median of the wall times (seconds) of running "$@" $runs times.
median() {
    python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}")
PY
}

if want configure; then
"$petrel" -C "$work/hello" configure >/dev/null 2>&1   # warm: lock file, caches
meta=$(median cargo metadata --format-version 1 --manifest-path "$work/hello/Cargo.toml")
conf=$(median "$petrel" -C "$work/hello" configure)
echo "configure (hello, $runs runs, median):"
python3 -c "m,c=$meta,$conf; print(f'  cargo metadata    {m*1000:8.1f} ms   (baseline)'); print(f'  petrel configure  {c*1000:8.1f} ms'); print(f'  ratio             {c/m:8.2f}x   (target <= 1.5x)')"

scripts/bench-many-args.sh "$petrel" 5
fi

if want sizes; then
echo "image sizes (hello, release):"
for t in unix hvt spt virtio; do
    "$petrel" -C "$work/hello" build --target "$t" >/dev/null 2>&1
    f="$work/hello/dist/hello"; [ "$t" = unix ] || f="$f.$t"
    printf '  %-7s %8d bytes\n' "$t" "$(stat -c %s "$f")"
done
fi

if want solo5; then scripts/bench-solo5.sh "$runs"; fi

if want virtio; then
# virtio: hello (built by the sizes loop above) and the minimal multiboot kernel, under QEMU
# (TCG only; every run under `timeout`).
[ -f "$work/hello/dist/hello.virtio" ] || "$petrel" -C "$work/hello" build --target virtio >/dev/null 2>&1
tests/fixtures/multiboot-minimal/build.sh "$work/multiboot-minimal/kernel" >/dev/null
python3 - "$runs" "$work/hello/dist/hello.virtio" "$work/multiboot-minimal/kernel" <<'PY'
import os, select, signal, statistics, subprocess, sys, time
runs, hello, minimal = int(sys.argv[1]), sys.argv[2], sys.argv[3]
QEMU = ["qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-m", "128", "-display", "none",
        "-nodefaults", "-no-reboot", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel"]
TICK = os.sysconf("SC_CLK_TCK")

def cpu_of_tree(pid):
    """user + sys seconds of pid and its live children (timeout -> QEMU), from /proc."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK   # utime, stime
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total

def boot(image, to_end, limit=30):
    """Starts QEMU on image; returns (seconds to the first stdout byte, seconds to the end of
    the first line, CPU seconds at the end of the first line, wall seconds, CPU seconds), the
    last two at QEMU's exit if to_end, else QEMU is killed after the first line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["timeout", str(limit)] + QEMU + [image],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd, buf, first, line, line_cpu = proc.stdout.fileno(), b"", None, None, None
    deadline = t0 + limit + 5
    while line is None:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.perf_counter()))
        chunk = os.read(fd, 4096) if ready else b""
        now = time.perf_counter()
        if not chunk:
            break                          # EOF (QEMU gone) or our own deadline
        if first is None:
            first = now - t0
        buf += chunk
        if b"\n" in buf:
            line = now - t0
            line_cpu = cpu_of_tree(proc.pid)
    if to_end and line is not None:
        while os.read(fd, 4096):           # drain until QEMU exits
            pass
    else:
        # os.kill, not proc.send_signal: that polls first and could reap the child before
        # wait4 gets its usage. The pid stays ours (a zombie at worst) until wait4.
        os.kill(proc.pid, signal.SIGTERM)  # timeout forwards it to QEMU
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if first is None or line is None:
        raise SystemExit(f"virtio: no console line from {image} (QEMU status {proc.returncode})")
    # wait4's usage of `timeout` includes its waited-for child, QEMU.
    return first, line, line_cpu, wall, usage.ru_utime + usage.ru_stime

boot(minimal, False); boot(hello, False)   # warm: page cache, QEMU's firmware files
# Interleaved, so that both see the same load on shared cores.
pairs = [(boot(minimal, False)[0], boot(hello, False)[0]) for _ in range(runs)]
m = statistics.median(p[0] for p in pairs)
h = statistics.median(p[1] for p in pairs)
mmin, hmin = min(p[0] for p in pairs), min(p[1] for p in pairs)
print(f"virtio first line ({runs} runs, median, QEMU start to first console byte, TCG, -M pc):")
print(f"  multiboot-minimal {m*1000:8.1f} ms   (min {mmin*1000:.1f} ms; baseline: one line, then exit)")
print(f"  hello (virtio)    {h*1000:8.1f} ms   (min {hmin*1000:.1f} ms)")
print(f"  ratio             {h/m:8.2f}x   (target <= 1.2x)")

_, line, line_cpu, wall, cpu = boot(hello, True)
print("virtio idle (hello to completion, QEMU CPU time user+sys / wall time):")
print(f"  whole run         {cpu*1000:8.1f} ms CPU / {wall*1000:8.1f} ms wall = {100*cpu/wall:5.1f}%")
idle_cpu, idle_wall = cpu - line_cpu, wall - line
print(f"  after first line  {idle_cpu*1000:8.1f} ms CPU / {idle_wall*1000:8.1f} ms wall = {100*idle_cpu/idle_wall:5.1f}%")
PY
fi   # virtio

# static_website: requests per second of the unikernel (unix, socket stack, release) beside
# nginx (one worker, access log off) serving the same htdocs/ on loopback, both loaded by the
# same wrk command in the same run. As root, nginx and wrk are installed if missing.
if want static_website || want direct; then
echo "static_website (wrk -t1 -c16 -d5s http://127.0.0.1:PORT/index.html):"
if { ! command -v wrk || ! { command -v nginx || [ -x /usr/sbin/nginx ]; }; } >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get install -y -q nginx wrk || { apt-get update -q && apt-get install -y -q nginx wrk; }; } \
        >/dev/null 2>&1 || echo "  (apt-get install nginx wrk failed)"
fi
fi
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
web_pids=()
netns=""   # the direct-stack section's network namespace, once created
cleanup() {
    for p in "${web_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${web_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A free loopback port (the kernel's pick for port 0).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Runs "$@" in network namespace $ns if it is set (the direct-stack section), else here.
in_ns() {
    if [ -n "${ns:-}" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}
# Waits up to 30 s for an HTTP 200 from $1; fails the script otherwise.
wait_http() {
    in_ns python3 scripts/wait-http.py "$1"
}
# Requests per second wrk measured on $1 (after a 1 s warm-up).
rps() {
    wrk -t1 -c16 -d1s "$1" >/dev/null
    wrk -t1 -c16 -d5s "$1" | awk '/^Requests\/sec:/ {print $2}'
}
# Writes DIR/nginx.conf ($1): one worker, access log off, serving static_website's htdocs/
# on address:port $2. The worker runs as us: the scratch directory is private (mktemp -d is
# 0700). As another user than root, nginx ignores the `user` directive with a notice.
nginx_conf() {
    mkdir -p "$1"
    cat >"$1/nginx.conf" <<NGINX
user $(id -un) $(id -gn);
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 1024; }
http {
    types { text/html html; text/css css; image/png png; }
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    server {
        listen $2;
        root $work/static_website/htdocs;
        index index.html;
    }
}
NGINX
}
if want static_website; then
if ! command -v wrk >/dev/null 2>&1; then
    echo "  SKIPPED: wrk is not installed (apt-get install wrk, as root)"
else
    cp -r examples/static_website "$work/static_website"
    sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$work/static_website/Cargo.toml"
    "$petrel" -C "$work/static_website" build --target unix >/dev/null 2>&1
    web_port=$(free_port)
    "$work/static_website/dist/static-website" --port="$web_port" >/dev/null 2>&1 &
    web_pids+=($!)
    wait_http "http://127.0.0.1:$web_port/index.html"
    web=$(rps "http://127.0.0.1:$web_port/index.html")
    printf '  static-website  %10.0f requests/s\n' "$web"
    if [ -z "$nginx_bin" ]; then
        echo "  nginx           SKIPPED: not installed (apt-get install nginx, as root); no ratio"
    else
        ngx="$work/nginx"
        ngx_port=$(free_port)
        nginx_conf "$ngx" "127.0.0.1:$ngx_port"
        "$nginx_bin" -p "$ngx" -e "$ngx/error.log" -c "$ngx/nginx.conf" -g 'daemon off;' &
        web_pids+=($!)
        wait_http "http://127.0.0.1:$ngx_port/index.html"
        nginx_rps=$(rps "http://127.0.0.1:$ngx_port/index.html")
        printf '  nginx           %10.0f requests/s   (baseline: 1 worker, access log off)\n' "$nginx_rps"
        python3 -c "w,n=$web,$nginx_rps; print(f'  ratio           {w/n:10.2f}     (target >= 0.7)')"
    fi
fi
fi   # static_website

# static_website on the direct stack (smoltcp in the process) over a tap: the unikernel runs
# in a private network namespace with tap0 (host side 10.0.0.1, unikernel 10.0.0.2), and wrk
# runs in that namespace. The baseline is nginx on 10.0.0.1 in the same namespace, measured
# right after: a local address, so its traffic takes the kernel's loopback path and never
# crosses the tap, while every frame of the unikernel's does (one read(2) or write(2) on
# /dev/net/tun each). The output says so; the ratio includes that cost.
if want direct; then
echo "static_website, direct stack over a tap (wrk -t1 -c16 -d5s, from inside a network namespace):"
# Runs wrk on $1 in $ns (after a 1 s warm-up); its whole report on stdout.
wrk_report() {
    in_ns wrk -t1 -c16 -d1s "$1" >/dev/null
    in_ns wrk -t1 -c16 -d5s "$1"
}
# Prints the requests/s, request count, latency and error lines of wrk report $2 under
# label $1.
show_report() {
    local rps count lat err
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$2")
    count=$(awk '/ requests in / {sub(/,$/, "", $4); print $1 " requests in " $4; exit}' "$2")
    lat=$(awk '$1 == "Latency" {print "avg " $2 ", stdev " $3 ", max " $4}' "$2")
    err=$(grep -E '^ *(Socket errors|Non-2xx)' "$2" | sed 's/^ *//' | paste -sd ';' - || true)
    printf '  %-15s %10.0f requests/s   (%s)\n' "$1" "${rps:-0}" "${count:-no report}"
    printf '  %-15s latency %s; errors: %s\n' "" "${lat:-?}" "${err:-none}"
}
# Prints "  LABEL  A/B  NOTE" for label $1, numbers $2 and $3, note $4 (n/a if B is 0).
show_ratio() {
    python3 - "$@" <<'PY'
import sys
label, a, b, note = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"  {label:15s} {f'{a / b:.2f}' if b else 'n/a':>10s}     {note}")
PY
}
direct_skip=""
if [ "$(id -u)" != 0 ]; then
    direct_skip="not root (a network namespace and a tap need root)"
elif ! command -v ip >/dev/null 2>&1; then
    direct_skip="no \`ip\` command (apt-get install iproute2)"
elif [ ! -c /dev/net/tun ]; then
    direct_skip="no /dev/net/tun (no tap devices here)"
elif ! command -v wrk >/dev/null 2>&1; then
    direct_skip="wrk is not installed (apt-get install wrk)"
fi
if [ -z "$direct_skip" ]; then
    netns=petrel-bench-$$-$RANDOM
    if ! err=$(ip netns add "$netns" 2>&1); then
        netns=""
        direct_skip="cannot create a network namespace: ${err%%$'\n'*}"
    elif ! err=$({ ip -n "$netns" link set lo up &&
        ip -n "$netns" tuntap add tap0 mode tap &&
        ip -n "$netns" addr add 10.0.0.1/24 dev tap0 &&
        ip -n "$netns" link set tap0 up; } 2>&1); then
        direct_skip="cannot set up tap0 in a network namespace: ${err%%$'\n'*}"
    fi
fi
# Stops the servers started so far (each measurement runs alone on the shared cores).
stop_servers() {
    for p in "${web_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${web_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    web_pids=()
}
if [ -n "$direct_skip" ]; then
    echo "  SKIPPED: $direct_skip"
else
    stop_servers
    ns=$netns
    direct="$work/static_website_direct"
    cp -r examples/static_website "$direct"
    sed -i "s|\"../../petrel\"|\"$PWD/petrel\"|" "$direct/Cargo.toml"
    "$petrel" -C "$direct" build --target unix --net=direct --no-dhcp >/dev/null 2>&1
    # `ip netns exec` execs the command: $! is the unikernel's own pid (not through in_ns,
    # which a background job would run in a subshell).
    ip netns exec "$ns" "$direct/dist/static-website" \
        --interface=tap0 --ipv4=10.0.0.2/24 --port=8080 >"$work/direct.log" 2>&1 &
    direct_pid=$!
    web_pids+=("$direct_pid")
    wait_http "http://10.0.0.2:8080/index.html" || {
        sed 's/^/    /' "$work/direct.log"
        exit 1
    }
    wrk_report "http://10.0.0.2:8080/index.html" >"$work/wrk-direct.txt"
    direct_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-direct.txt")
    show_report "static-website" "$work/wrk-direct.txt"
    # A healthy unikernel answers at once and idles at ~0% CPU once the load is gone.
    cpu0=$(awk '{print $14 + $15}' "/proc/$direct_pid/stat")
    sleep 1
    cpu1=$(awk '{print $14 + $15}' "/proc/$direct_pid/stat")
    answers=$(in_ns python3 -c 'import urllib.request as u
try: print("yes" if u.urlopen("http://10.0.0.2:8080/index.html", timeout=2).status == 200 else "no")
except OSError as e: print(f"NO ({e})")')
    printf '  %-15s answers: %s; CPU %d%% in the 1 s after the load\n' \
        "after the run" "$answers" "$(((cpu1 - cpu0) * 100 / $(getconf CLK_TCK)))"
    if grep -qv '\[INFO\]' "$work/direct.log"; then
        echo "  unikernel log (not INFO):"
        grep -v '\[INFO\]' "$work/direct.log" | head -5 | sed 's/^/    /'
    fi
    stop_servers   # a unikernel still busy would take a core from nginx
    if [ -z "$nginx_bin" ]; then
        echo "  nginx           SKIPPED: not installed (apt-get install nginx, as root); no ratio"
    else
        nginx_conf "$work/nginx-direct" "10.0.0.1:8080"
        ip netns exec "$ns" "$nginx_bin" -p "$work/nginx-direct" \
            -e "$work/nginx-direct/error.log" -c "$work/nginx-direct/nginx.conf" -g 'daemon off;' &
        web_pids+=($!)
        wait_http "http://10.0.0.1:8080/index.html"
        wrk_report "http://10.0.0.1:8080/index.html" >"$work/wrk-nginx-direct.txt"
        nginx_direct_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-nginx-direct.txt")
        show_report "nginx" "$work/wrk-nginx-direct.txt"
        show_ratio ratio "${direct_rps:-0}" "${nginx_direct_rps:-0}" \
            "(no target; 0.7 is the socket stack's)"
        echo "  compared        wrk -> tap0 -> static-website at 10.0.0.2 (smoltcp; one"
        echo "                  read(2)/write(2) on /dev/net/tun per frame) with wrk -> nginx at"
        echo "                  10.0.0.1 (1 worker, access log off): a local address, so the"
        echo "                  kernel's loopback path, no tap. Same namespace, one after the"
        echo "                  other."
    fi
    if [ -n "${web:-}" ]; then
        show_ratio direct/socket "${direct_rps:-0}" "$web" \
            "(same unikernel, its socket-stack figure above)"
    fi
fi
fi   # direct

if want usernet; then scripts/bench-usernet.sh; fi
