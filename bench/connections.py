#!/usr/bin/env python3
"""Connection attack against a running twofold: slow partial headers and large unfinished
headers from many loopback addresses, while a normal client asks /healthz every 200 ms.
Prints the server's RSS before, at its peak and after, and how the normal client fared.

Usage: connections.py URL PID [SLOW=3000] [LARGE=500] [ADDRESSES=16] [SETTLE=15]
"""
import asyncio
import sys
import time
import urllib.parse

url, pid = sys.argv[1], int(sys.argv[2])
SLOW = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
LARGE = int(sys.argv[4]) if len(sys.argv) > 4 else 500
ADDRESSES = int(sys.argv[5]) if len(sys.argv) > 5 else 16
SETTLE = float(sys.argv[6]) if len(sys.argv) > 6 else 15
u = urllib.parse.urlparse(url)
HOST, PORT = u.hostname, u.port


def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def open_from(i):
    # Attackers come from 127.0.0.2 … 127.0.0.(1+ADDRESSES): the per-address cap sees
    # several clients, as it would on the Internet.
    src = f"127.0.0.{2 + i % ADDRESSES}"
    return await asyncio.open_connection(HOST, PORT, local_addr=(src, 0))


async def slow(i, stop, stats):
    """Sends a request line and then one header byte every 2 s, never finishing."""
    try:
        r, w = await open_from(i)
        stats["opened"] += 1
        w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await w.drain()
        while not stop.is_set():
            await asyncio.sleep(2)
            w.write(b"a")
            await w.drain()
    except (OSError, ConnectionError):
        stats["closed_by_server"] += 1


async def large(i, stop, stats):
    """Sends ~60 KiB of header lines quickly, then waits without ending the headers."""
    try:
        r, w = await open_from(i)
        stats["opened"] += 1
        w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for n in range(60):
            w.write(b"X-Big-%d: " % n + b"b" * 1000 + b"\r\n")
        await w.drain()
        await stop.wait()
    except (OSError, ConnectionError):
        stats["closed_by_server"] += 1


async def normal(stop, results):
    """A well-behaved client from its own address: one request every 200 ms."""
    while not stop.is_set():
        t = time.monotonic()
        try:
            r, w = await asyncio.wait_for(
                asyncio.open_connection(HOST, PORT, local_addr=("127.0.1.1", 0)), 5
            )
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await w.drain()
            line = await asyncio.wait_for(r.readline(), 5)
            ok = line.startswith(b"HTTP/1.1 200")
            w.close()
        except (OSError, asyncio.TimeoutError, ConnectionError):
            ok = False
        results.append((ok, time.monotonic() - t))
        await asyncio.sleep(0.2)


async def main():
    before = rss_mib()
    stop, stop_normal = asyncio.Event(), asyncio.Event()
    stats = {"opened": 0, "closed_by_server": 0}
    results = []
    peak = before
    normal_task = asyncio.create_task(normal(stop_normal, results))
    tasks = [asyncio.create_task(slow(i, stop, stats)) for i in range(SLOW)]
    tasks += [asyncio.create_task(large(i, stop, stats)) for i in range(LARGE)]
    start = time.monotonic()
    # Hold the attack for 20 s (past the 10 s header timeout: the server closes them).
    while time.monotonic() - start < 20:
        peak = max(peak, rss_mib())
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    during = len(results)
    # Let the server settle, still serving the normal client.
    t = time.monotonic()
    while time.monotonic() - t < SETTLE:
        peak = max(peak, rss_mib())
        await asyncio.sleep(0.1)
    after = rss_mib()
    stop_normal.set()
    await normal_task
    ok = sum(1 for good, _ in results if good)
    worst = max((d for _, d in results), default=0.0)
    print(f"attack: {SLOW} slow-header + {LARGE} large-header (60 KiB) connections from {ADDRESSES} addresses, held 20 s")
    print(f"opened {stats['opened']}, closed by the server {stats['closed_by_server']}")
    print(f"RSS MiB: before {before:.1f}, peak {peak:.1f}, after {after:.1f} ({SETTLE:.0f} s after the attack)")
    print(f"normal client: {ok}/{len(results)} answered 200 ({during} during the attack), slowest {worst * 1000:.0f} ms")


asyncio.run(main())
