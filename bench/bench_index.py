"""Benchmark: reading the /index feed from the disk store as pkgsite polls it.

Run by hand (not in CI):  python bench/bench_index.py [--entries 50000]

Writes ENTRIES feed entries into a DiskStore (the layout gosub serve uses) and times
what a poller costs: a poll for the newest entries (``since`` near the end, what pkgsite
asks every few seconds once it has caught up), and a full read of the feed from the
start, 2,000 entries a page, as a new pkgsite does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gosub.store import DiskStore  # noqa: E402
from gosub.store.index import FEED, IndexLog  # noqa: E402


def fill(root: Path, n: int) -> int:
    """``n`` feed entries, one file each, as IndexLog writes them; the newest's time."""
    feed = root / FEED.rstrip("/")
    feed.mkdir(parents=True)
    start = 1_700_000_000_000_000_000
    for i in range(n):
        ts = start + i * 1_000_000
        name = f"example.test%2Fm{i}@v1.0.{i % 7}"
        (feed / f"{ts:020d}-bench-{name}").write_text("{}")
    return start + (n - 1) * 1_000_000


async def measure(root: Path, newest: int, rounds: int) -> tuple[float, float]:
    index = IndexLog(DiskStore(root))
    started = time.perf_counter()
    for _ in range(rounds):
        got = await index.read(since=newest - 10 * 1_000_000)
        assert len(got) == 11, len(got)
    poll = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    since, total = 0, 0
    while True:
        page = await index.read(since=since)
        total += len(page)
        if len(page) < 2000:
            break
        since = page[-1].timestamp + 1
    full = time.perf_counter() - started
    return poll, full


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gosub-bench-index-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        newest = fill(root, args.entries)
        print(
            f"{args.entries} entries written in {time.perf_counter() - t:.1f} s "
            f"({os.cpu_count()} cores, Python {sys.version.split()[0]})"
        )
        poll, full = asyncio.run(measure(root, newest, args.rounds))
        print(
            f"just written: a poll for the newest entries {poll * 1000:.1f} ms (mean of "
            f"{args.rounds}); a full read from the start, 2,000 a page, {full:.2f} s"
        )
        time.sleep(1.1)  # the folder unchanged for a second: its listing may be reused
        poll, full = asyncio.run(measure(root, newest, args.rounds))
        print(f"settled: a poll {poll * 1000:.2f} ms; a full read {full:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
