"""Benchmark: what anonymous clients can make a shared gosub spend (issue "A shared server
that survives the internet"): peak RSS, GitHub requests and store growth.

Run by hand (not in CI):  python bench/bench_abuse.py

Runs ``gosub serve`` (the shared URL-configured server, its defaults) as its own process
against the GitHub stand-in from tests/support, and prints:

- peak RSS (VmHWM) after 120 concurrent ``@v/list`` of a repository with 20,000 tags;
- peak RSS after asking ``.mod`` of 30 versions whose go.mod is 8 MB each;
- the GitHub requests 1,000 requests for distinct unknown repositories cost;
- the store namespaces 600 junk ``s=`` configs of one repository create.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.support.ghapi import GitHubStandin  # noqa: E402
from tests.support.git import GitRepo  # noqa: E402

TAGS = 20_000
BIG_MOD = 8 << 20


def build(root: Path) -> None:
    many = GitRepo(root / "bench" / "many")
    many.write("go.mod", "module example.test/many\n\ngo 1.22\n")
    many.write("m.go", "package many\n")
    sha = many.commit("one", date="2024-01-01T00:00:00Z")
    lines = "".join(f"create refs/tags/v1.0.{i} {sha}\n" for i in range(TAGS))
    many.git("update-ref", "--stdin", input=lines.encode())
    big = GitRepo(root / "bench" / "bigmod")
    for i in range(30):
        pad = "// " + ("x" * 96) + "\n"
        body = f"module example.test/bigmod\n\ngo 1.22\n// v{i}\n" + pad * (BIG_MOD // len(pad))
        big.write("go.mod", body)
        big.commit(f"v{i}", date=f"2024-01-{i + 1:02d}T00:00:00Z")
        big.tag(f"v1.{i}.0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gosub(api_url: str, cache: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "GITHUB_API_URL": api_url,
        "GOSUB_PORT": str(port),
        "GOSUB_CACHE_DIR": str(cache),
        "PYTHONPATH": str(HERE.parent),
    }
    env.pop("GITHUB_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gosub", "serve", "--log-level", "warning"],
        env=env,
        cwd=HERE.parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gosub did not start") from None
            time.sleep(0.1)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def burst(urls: list[str], concurrency: int) -> dict[int, int]:
    codes: dict[int, int] = {}
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=300) as client:

        async def one(u: str) -> None:
            async with sem:
                r = await client.get(u)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

        await asyncio.gather(*(one(u) for u in urls))
    return codes


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="gosub-bench-abuse-"))
    print(f"building repositories in {work} ...", flush=True)
    build(work)
    standin = GitHubStandin(work)
    standin.start()
    try:
        cache = work / "cache"
        proc, url = start_gosub(standin.api_url, cache)
        try:
            idle = peak_rss_mb(proc.pid)
            cfg = "github.com/bench/many:m=example.test%2Fmany;"
            standin.reset()
            t0 = time.perf_counter()
            codes = asyncio.run(burst([f"{url}/{cfg}/example.test/many/@v/list"] * 120, 120))
            dt = time.perf_counter() - t0
            print(
                f"120 concurrent lists of {TAGS} tags: {codes}, {dt:.1f} s, "
                f"{standin.counts['matching-refs']} matching-refs requests, "
                f"peak RSS {peak_rss_mb(proc.pid):.0f} MB (idle {idle:.0f} MB)"
            )
            cfg = "github.com/bench/bigmod:m=example.test%2Fbigmod;"
            mods = [f"{url}/{cfg}/example.test/bigmod/@v/v1.{i}.0.mod" for i in range(30)]
            codes = asyncio.run(burst(mods, 8))
            print(
                f"30 go.mod files of {BIG_MOD >> 20} MB: {codes}, "
                f"peak RSS {peak_rss_mb(proc.pid):.0f} MB"
            )
            standin.reset()
            unknown = [
                f"{url}/github.com/nobody/r{i};/example.test/r{i}/@v/list" for i in range(1000)
            ]
            codes = asyncio.run(burst(unknown, 16))
            print(
                f"1,000 requests for distinct unknown repositories: {codes}, "
                f"{sum(standin.counts.values())} GitHub requests {dict(standin.counts)}"
            )
            before = {p.name for p in cache.iterdir()} if cache.exists() else set()
            junk = [
                f"{url}/github.com/bench/many:s=-junk{i};/example.test/many/@v/list"
                for i in range(600)
            ]
            codes = asyncio.run(burst(junk, 16))
            after = {p.name for p in cache.iterdir()} if cache.exists() else set()
            print(
                f"600 junk s= configs: {codes}, {len(after - before)} new store namespaces, "
                f"peak RSS {peak_rss_mb(proc.pid):.0f} MB"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
