"""Waits up to 30 s for an HTTP 200 from the URL argv[1]; exits non-zero otherwise.
Used by the benchmark scripts (run inside a network namespace where they need it)."""
import sys
import time
import urllib.request

for _ in range(300):
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"no HTTP answer from {sys.argv[1]}")
