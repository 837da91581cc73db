"""Benchmark: a cold ``go mod download`` of a big module through gosub against Go's own
direct mode, on loopback and with 50 ms of added latency.

Run by hand (not in CI):  python bench/bench_cold.py [--runs 3] [--latency 0.05]

The repository has >= 2,000 files and >= 50 MB; the module is a ~5 MB subdirectory
(``pkg/mod``, tagged ``pkg/mod/v1.0.0`` so both sides see the same version). gosub
(``gosub serve`` for that module, an empty cache each run) reads it from the GitHub
stand-in of tests/support; direct mode (``GOPROXY=direct``, the go-import subdirectory
form of Go 1.25+) clones it over git's smart HTTP (``git http-backend``, tests/support/
githttp.py). Each run has a fresh module cache. With latency, a relay on loopback delays
every chunk by that much in each direction (a round trip costs twice it; throughput is
not capped), in front of the stand-in's API and archive origins for gosub and in front of
the git server for direct mode. The stand-in keeps each archive it made (GitHub's
codeload caches them too), so its gzip time is not gosub's. Prints the median wall time
of each side, gosub's API requests, and the ratio gosub / direct (goal: below 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_download import build_large, free_port  # noqa: E402

from tests.support.ghapi import GitHubStandin  # noqa: E402
from tests.support.git import GitRepo  # noqa: E402
from tests.support.githttp import GitHttpServer  # noqa: E402
from tests.support.golang import DirectModeServer, GoRunner  # noqa: E402
from tests.support.httpserver import serve_on_loopback, url_of  # noqa: E402

MODULE = "example.test/large"
VERSION = "v1.0.0"


class CachingStandin(GitHubStandin):
    """The stand-in, keeping the archives it built (as GitHub's codeload does)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._archives: dict[str, tuple[str, int, dict[str, str], bytes]] = {}

    def _route_codeload(self, path: str) -> tuple[str, int, dict[str, str], bytes]:
        if path not in self._archives:
            self._archives[path] = super()._route_codeload(path)
        return self._archives[path]


class LatencyRelay:
    """A TCP relay on 127.0.0.1 to ``target_port``: each chunk is forwarded ``delay``
    seconds after it arrived, in both directions (latency, not a bandwidth cap)."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LatencyRelay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def forward() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                if writer.can_write_eof():
                    writer.write_eof()

        sender = asyncio.ensure_future(forward())
        try:
            while data := await reader.read(1 << 16):
                queue.put_nowait((loop.time() + self.delay, data))
        except OSError:
            pass
        finally:
            queue.put_nowait((loop.time() + self.delay, b""))
            with contextlib.suppress(OSError):
                await sender
            writer.close()


def build_repo(root: Path) -> Path:
    build_large(root)
    path = root / "bench" / "large"
    GitRepo(path).tag("pkg/mod/v1.0.0")
    return path


def start_gosub(api_url: str, cache: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOSUB_", "GITHUB_"))}
    env.update(
        GITHUB_API_URL=api_url,
        GOSUB_CACHE_DIR=str(cache),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gosub",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--url",
            "https://github.com/bench/large",
            "--directory",
            "pkg/mod",
            "--prefix",
            "pkg/mod/v",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gosub did not start") from None
            time.sleep(0.1)


def vanity_page(git_url: str) -> Any:
    """The go-import page of example.test/large: git at ``git_url``, subdirectory form."""
    body = (
        f'<html><head><meta name="go-import" content="{MODULE} git {git_url} pkg/mod">'
        "</head></html>\n"
    ).encode()

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return serve_on_loopback({"GET": handle})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per direction")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gosub-bench-cold-"))
    cleanup: list[Any] = []
    try:
        t0 = time.perf_counter()
        repo = build_repo(work / "repos")
        files = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts]
        print(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores; "
            f"repository {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB "
            f"(built in {time.perf_counter() - t0:.0f} s); medians of {args.runs} cold runs"
        )
        standin = CachingStandin(work / "repos")
        standin.start()
        cleanup.append(standin.stop)
        codeload_port = int(standin.codeload_url.rsplit(":", 1)[1])
        api_port = int(standin.base_url.rsplit(":", 1)[1])
        githttp = GitHttpServer(work / "repos")
        cleanup.append(githttp.stop)
        git_port = int(githttp.url.rsplit(":", 1)[1])
        # Warm the stand-in's archive cache (GitHub's codeload has it cached too).
        sha = httpx.get(
            f"{standin.api_url}/repos/bench/large/commits", params={"sha": "pkg/mod/v1.0.0"}
        ).json()[0]["sha"]
        httpx.get(
            f"{standin.api_url}/repos/bench/large/tarball/{sha}",
            follow_redirects=True,
            timeout=300,
        ).raise_for_status()
        real_codeload = standin.codeload_url
        for latency in (0.0, args.latency):
            relays: list[LatencyRelay] = []
            if latency:
                relays = [LatencyRelay(p, latency).start() for p in (api_port, codeload_port)]
                git_relay = LatencyRelay(git_port, latency).start()
                relays.append(git_relay)
                api_url = relays[0].url() + standin.api_prefix
                standin.codeload_url = relays[1].url()
                git_url = f"{git_relay.url()}/bench/large"
            else:
                api_url, git_url = standin.api_url, f"{githttp.url}/bench/large"
                standin.codeload_url = real_codeload
            page = vanity_page(git_url)
            direct = DirectModeServer(work / "direct")
            direct.start()
            direct.relay("example.test", url_of(page))
            gosub_times: list[float] = []
            direct_times: list[float] = []
            requests = ""
            try:
                for run in range(args.runs):
                    go = GoRunner(work / f"go-direct-{latency}-{run}", gocache=work / "gocache")
                    env = {**direct.env(), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
                    t = time.perf_counter()
                    ref = go.mod_download(MODULE, VERSION, goproxy="direct", env=env)
                    direct_times.append(time.perf_counter() - t)
                    proc, url = start_gosub(api_url, work / f"cache-{latency}-{run}")
                    try:
                        standin.reset()
                        go = GoRunner(work / f"go-gosub-{latency}-{run}", gocache=work / "gocache")
                        t = time.perf_counter()
                        got = go.mod_download(MODULE, VERSION, goproxy=url + "/")
                        gosub_times.append(time.perf_counter() - t)
                        counts = dict(standin.counts)
                        downloads = counts.pop("codeload", 0)
                        api = sum(counts.values())
                        requests = f"{api} API requests {counts} + {downloads} archive"
                    finally:
                        proc.terminate()
                        proc.wait()
                    if (got["Sum"], got["GoModSum"]) != (ref["Sum"], ref["GoModSum"]):
                        raise RuntimeError(f"gosub and direct mode disagree: {got} {ref}")
            finally:
                direct.stop()
                page.shutdown()
                page.server_close()
                for relay in relays:
                    relay.stop()
            g, d = statistics.median(gosub_times), statistics.median(direct_times)
            label = f"+{latency * 1000:.0f} ms latency" if latency else "loopback"
            print(
                f"{label:17} gosub {g:6.2f} s  direct {d:6.2f} s  ratio {g / d:.2f} "
                f"(goal < 1); gosub: {requests}"
            )
    finally:
        for stop in reversed(cleanup):
            with contextlib.suppress(Exception):
                stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
