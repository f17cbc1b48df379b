#!/usr/bin/env bash
# Petrel's benchmarks (not tests: they print numbers, they assert nothing).
#
#   configure   median wall time of `petrel configure` on examples/hello, beside the median
#               of `cargo metadata` on the same project (the floor: configure runs it once),
#               and their ratio. Target: at most 1.5x.
#   sizes       on-disk size of hello for each target (target for hvt: at most 64 KiB).
#   spt boot    median boot-to-exit time of noop on Petrel's spt runner.
#   virtio first line
#               median time from QEMU's start to the first byte of the first console line of
#               hello (virtio), beside the same for tests/fixtures/multiboot-minimal (a
#               multiboot kernel that only prints one line: the floor of QEMU + SeaBIOS +
#               multiboot loading), and their ratio. Target: at most 1.2x.
#   virtio idle QEMU's CPU time (user + sys) against wall time while hello runs to completion
#               (its three 1 s sleeps), as a percentage, for the whole run and for the part after
#               the first line (the guest should idle in `hlt`: well below 100%).
#   static_website
#               requests per second of examples/static_website (unix, socket stack) and of
#               nginx (1 worker) serving the same htdocs/ on loopback, both under
#               `wrk -t1 -c16 -d5s`, and their ratio. Target: at least 0.7. Needs wrk and nginx
#               (installed with apt-get when run as root; else that part is skipped).
#
# Usage: scripts/bench.sh [RUNS]   (default 15 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build -q --release -p petrel-cli -p petrel-spt
petrel=$PWD/target/release/petrel
export PETREL_SPT=$PWD/target/release/petrel-spt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ex in hello noop; do
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

"$petrel" -C "$work/hello" configure >/dev/null 2>&1   # warm: lock file, caches
meta=$(median cargo metadata --format-version 1 --manifest-path "$work/hello/Cargo.toml")
conf=$(median "$petrel" -C "$work/hello" configure)
echo "configure (hello, $runs runs, median):"
python3 -c "m,c=$meta,$conf; print(f'  cargo metadata    {m*1000:8.1f} ms   (baseline)'); print(f'  petrel configure  {c*1000:8.1f} ms'); print(f'  ratio             {c/m:8.2f}x   (target <= 1.5x)')"

echo "image sizes (hello, release):"
for t in unix hvt spt virtio; do
    "$petrel" -C "$work/hello" build --target "$t" >/dev/null 2>&1
    f="$work/hello/dist/hello"; [ "$t" = unix ] || f="$f.$t"
    printf '  %-7s %8d bytes\n' "$t" "$(stat -c %s "$f")"
done

"$petrel" -C "$work/noop" build --target spt >/dev/null 2>&1
boot=$(median "$PETREL_SPT" --mem=64 -- "$work/noop/dist/noop.spt")
python3 -c "print(f'spt boot-to-exit (noop, $runs runs, median): {$boot*1000:.1f} ms')"

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

# static_website: requests per second of the unikernel (unix, socket stack, release) beside
# nginx (one worker, access log off) serving the same htdocs/ on loopback, both loaded by the
# same wrk command in the same run. As root, nginx and wrk are installed if missing.
echo "static_website (wrk -t1 -c16 -d5s http://127.0.0.1:PORT/index.html):"
if { ! command -v wrk || ! { command -v nginx || [ -x /usr/sbin/nginx ]; }; } >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get install -y -q nginx wrk || { apt-get update -q && apt-get install -y -q nginx wrk; }; } \
        >/dev/null 2>&1 || echo "  (apt-get install nginx wrk failed)"
fi
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
web_pids=()
trap 'for p in "${web_pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
# A free loopback port (the kernel's pick for port 0).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to 30 s for an HTTP 200 from $1; fails the script otherwise.
wait_http() {
    python3 - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"no HTTP answer from {sys.argv[1]}")
PY
}
# Requests per second wrk measured on $1 (after a 1 s warm-up).
rps() {
    wrk -t1 -c16 -d1s "$1" >/dev/null
    wrk -t1 -c16 -d5s "$1" | awk '/^Requests\/sec:/ {print $2}'
}
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
        mkdir -p "$ngx"
        # The worker runs as us: the scratch directory is private (mktemp -d is 0700). As
        # another user than root, nginx ignores the directive with a notice.
        cat >"$ngx/nginx.conf" <<NGINX
user $(id -un) $(id -gn);
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log;
events { worker_connections 1024; }
http {
    types { text/html html; text/css css; image/png png; }
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $ngx/body;
    proxy_temp_path $ngx/proxy;
    fastcgi_temp_path $ngx/fastcgi;
    uwsgi_temp_path $ngx/uwsgi;
    scgi_temp_path $ngx/scgi;
    server {
        listen 127.0.0.1:$ngx_port;
        root $work/static_website/htdocs;
        index index.html;
    }
}
NGINX
        "$nginx_bin" -p "$ngx" -e "$ngx/error.log" -c "$ngx/nginx.conf" -g 'daemon off;' &
        web_pids+=($!)
        wait_http "http://127.0.0.1:$ngx_port/index.html"
        nginx_rps=$(rps "http://127.0.0.1:$ngx_port/index.html")
        printf '  nginx           %10.0f requests/s   (baseline: 1 worker, access log off)\n' "$nginx_rps"
        python3 -c "w,n=$web,$nginx_rps; print(f'  ratio           {w/n:10.2f}     (target >= 0.7)')"
    fi
fi
