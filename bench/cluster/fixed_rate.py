#!/usr/bin/env python3
"""POST /lobby/matchmake at a fixed rate for a fixed time, spread round robin over API nodes.

Latency is measured from each request's scheduled start (not from when a worker got to it), so a
stall shows in the percentiles instead of lowering the rate (no coordinated omission).

    fixed_rate.py RATE SECONDS TOKENS_FILE URL [URL ...]
"""
import http.client
import sys
import threading
import time
import urllib.parse

rate, seconds, tokens_file, urls = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
tokens = [line.strip() for line in open(tokens_file) if line.strip()]
total = int(rate * seconds)
body = b'{"game-id":1}'
latencies, statuses = [], {}
lock = threading.Lock()
next_index = 0
start = time.monotonic() + 0.5


def worker():
    global next_index
    connections = {}
    while True:
        with lock:
            index = next_index
            next_index += 1
        if index >= total:
            return
        scheduled = start + index / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        url = urllib.parse.urlsplit(urls[index % len(urls)])
        connection = connections.get(url.netloc) or http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        connections[url.netloc] = connection
        try:
            connection.request("POST", "/lobby/matchmake", body, {
                "Authorization": "Bearer " + tokens[index % len(tokens)],
                "Content-Type": "application/json",
            })
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            connections.pop(url.netloc, None)
            status = type(error).__name__
        elapsed = time.monotonic() - scheduled
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1


threads = [threading.Thread(target=worker) for _ in range(32)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
duration = time.monotonic() - start
latencies.sort()


def percentile(p):
    return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000


print(f"{len(latencies)} requests in {duration:.1f} s ({len(latencies) / duration:.1f}/s) over {len(urls)} node(s); "
      f"statuses {dict(sorted(statuses.items(), key=str))}")
print(f"latency ms: p50 {percentile(50):.1f}  p90 {percentile(90):.1f}  p99 {percentile(99):.1f}  max {latencies[-1] * 1000:.1f}")
ok = sum(n for s, n in statuses.items() if s in (200, 201))
sys.exit(0 if ok == len(latencies) else 1)
