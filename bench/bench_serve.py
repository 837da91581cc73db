"""Benchmark: the hot path of ``gosub serve`` against nginx serving the same files.

Run by hand (not in CI):  python bench/bench_serve.py [--duration 5] [--connections 16]

Builds a repository whose module zip is about 3 MB (incompressible files), serves it with
the GitHub stand-in from tests/support, starts ``gosub serve`` with its defaults (the
shared URL-configured server, the disk cache, gosub's access log on; output discarded)
and asks it once for each answer, so they are cached. Its disk cache is laid out as a
static GOPROXY: nginx (one worker, ``sendfile on``) serves that same directory. Then wrk
(one thread, 16 connections, a few seconds each, gosub and nginx alternately) measures:

- a cached ``.info`` and ``.mod`` (requests/s);
- ``@v/list`` revalidated by the client (``If-None-Match`` with the server's ETag: a
  304; gosub revalidates with the code host, the stand-in, once per ``list_ttl``, one
  second by default: the bench prints how often it did);
- the cached 3 MB ``.zip`` (bytes/s).

and prints each figure and gosub's ratio to nginx. nginx and wrk come from Debian
(``apt-get install nginx-light wrk``); without them the bench says so and stops.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from gosub.config import GoproxyConfig  # noqa: E402
from gosub.web import gosub_encode  # noqa: E402
from tests.support.ghapi import GitHubStandin  # noqa: E402
from tests.support.git import GitRepo  # noqa: E402

MODULE = "example.test/serve"
VERSION = "v1.0.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


def build_repo(root: Path) -> None:
    """A module in go/ whose zip is ~3 MB: 30 files of 100,000 random bytes."""
    rng = random.Random(14)
    repo = GitRepo(root / "bench" / "serve")
    repo.write("LICENSE", "MIT\n")
    repo.write("go/go.mod", f"module {MODULE}\n\ngo 1.22\n")
    repo.write("go/serve.go", "package serve\n")
    for i in range(30):
        repo.write(f"go/data/blob{i:02d}.bin", rng.randbytes(100_000))
    repo.commit("v1", date="2024-01-01T00:00:00Z")
    repo.tag("serve-go-1.0.0")


def start_gosub(api_url: str, cache_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOSUB_", "GITHUB_", "AWS_"))}
    env.update(
        GITHUB_API_URL=api_url,
        GOSUB_CACHE_DIR=str(cache_dir),
        GOSUB_HOST="127.0.0.1",
        GOSUB_PORT=str(port),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gosub", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", proc, "gosub serve")
    return proc, url


def start_nginx(work: Path, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    prefix = work / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    # Run as root, nginx's worker would switch to "nobody", which cannot read the
    # private temporary directory: it runs as whoever runs the bench.
    user = ""
    if os.geteuid() == 0:
        import grp
        import pwd

        pw = pwd.getpwuid(os.geteuid())
        user = f"user {pw.pw_name} {grp.getgrgid(pw.pw_gid).gr_name};"
    conf.write_text(
        f"""{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ application/zip zip; application/json info; }}
    default_type text/plain;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
    )
    proc = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", proc, "nginx")
    return proc, url


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")


def wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> float:
    """Requests per second of non-error answers (wrk counts non-2xx/3xx apart)."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw errors from {url}:\n{out}")
    m = _RPS.search(out)
    if m is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(m.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="runs per server and answer")
    args = parser.parse_args()
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if missing:
        print(
            f"bench_serve: {' and '.join(missing)} not found; install Debian's nginx-light "
            "(or nginx) and wrk to compare gosub with nginx"
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="gosub-bench-serve-"))
    procs: list[subprocess.Popen[bytes]] = []
    standin = None
    try:
        build_repo(work / "repos")
        standin = GitHubStandin(work / "repos")
        standin.start()
        cache = work / "cache"
        gosub, gosub_url = start_gosub(standin.api_url, cache)
        procs.append(gosub)
        config = GoproxyConfig(
            url="https://github.com/bench/serve", directory="go", tag_prefix="serve-go-"
        )
        base = f"{gosub_url}/{gosub_encode(config)}/{MODULE}/@v/"
        for name in (f"{VERSION}.info", f"{VERSION}.mod", f"{VERSION}.zip", "list"):
            httpx.get(base + name, timeout=120).raise_for_status()
        zips = list(cache.rglob(f"{MODULE}/@v/{VERSION}.zip"))
        if len(zips) != 1:
            raise RuntimeError(f"expected one cached zip under {cache}, found {zips}")
        static_root = zips[0].parents[3]  # NAMESPACE/example.test/serve/@v/v1.0.0.zip
        nginx, nginx_url = start_nginx(work, static_root)
        procs.append(nginx)
        static = f"{nginx_url}/{MODULE}/@v/"
        zip_size = zips[0].stat().st_size
        for name in (f"{VERSION}.info", f"{VERSION}.mod", f"{VERSION}.zip", "list"):
            a = httpx.get(base + name).content
            b = httpx.get(static + name).content
            if a != b:
                raise RuntimeError(f"gosub and nginx disagree on {name}: {a[:200]!r} {b[:200]!r}")
        print(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}; wrk 1 thread x {args.connections} connections, "
            f"{args.duration:g} s per run, best of {args.rounds}; zip {zip_size / 1e6:.2f} MB"
        )
        rows = []
        revalidations: list[str] = []
        for label, name, revalidate in (
            (".info", f"{VERSION}.info", False),
            (".mod", f"{VERSION}.mod", False),
            ("list (304)", "list", True),
            (".zip", f"{VERSION}.zip", False),
        ):
            best = {"gosub": 0.0, "nginx": 0.0}
            urls = {"gosub": base + name, "nginx": static + name}
            for _ in range(args.rounds):
                for server, url in urls.items():
                    headers = {}
                    if revalidate:
                        headers["If-None-Match"] = httpx.get(url).headers["etag"]
                        assert httpx.get(url, headers=headers).status_code == 304
                    asked = standin.counts["matching-refs"]
                    rps = wrk(url, args.duration, args.connections, headers)
                    best[server] = max(best[server], rps)
                    if server == "gosub" and name == "list":
                        asked = standin.counts["matching-refs"] - asked
                        revalidations.append(f"{asked} in {args.duration:g} s")
            rows.append((label, best["gosub"], best["nginx"]))
        for label, g, n in rows:
            if label == ".zip":
                print(
                    f"{label:11} gosub {g * zip_size / 1e6:8.0f} MB/s  nginx "
                    f"{n * zip_size / 1e6:8.0f} MB/s  ratio {g / n:.2f} (goal >= 0.70)"
                )
            else:
                print(
                    f"{label:11} gosub {g:8.0f} req/s  nginx {n:8.0f} req/s  ratio "
                    f"{g / n:.3f} (goal >= 0.20)"
                )
        print(f"list runs: gosub revalidated with the code host {', '.join(revalidations)}")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if standin is not None:
            standin.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
