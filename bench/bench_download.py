"""Benchmark: GitHub requests, wall time, zip throughput and peak RSS of gosub.

Run by hand (not in CI):  python bench/bench_download.py [--keep DIR]

Builds two repositories with git (fixed dates), serves them with the GitHub stand-in from
tests/support, runs gosub as a separate uvicorn process (so its peak RSS is its own), and
drives it with the real go command:

- small: a module of a few files in a subdirectory;
- large: a repository of >= 2,000 files and >= 50 MB, the module a ~5 MB subdirectory.

For each it prints the GitHub API requests and archive downloads and the wall time of a
cold and a warm ``go mod download`` (fresh module cache each time; warm = gosub already
served it), the zip build throughput (module MB per second of the cold .zip request) and
gosub's peak RSS (VmHWM) after serving the large zip.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
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
from tests.support.golang import GoRunner  # noqa: E402


def build_small(root: Path) -> int:
    repo = GitRepo(root / "bench" / "small")
    repo.write("LICENSE", "MIT\n")
    repo.write("go/go.mod", "module example.test/small\n\ngo 1.22\n")
    size = 0
    for i in range(10):
        body = f"package small\n\nconst C{i} = {i}\n"
        repo.write(f"go/f{i}.go", body)
        size += len(body)
    repo.commit("v1", date="2024-01-01T00:00:00Z")
    repo.tag("small-go-1.0.0")
    return size


def build_large(root: Path) -> int:
    """>= 2,000 files and >= 50 MB; the module is ~5 MB in pkg/mod. Returns module bytes."""
    rng = random.Random(42)
    repo = GitRepo(root / "bench" / "large")
    repo.write("LICENSE", "MIT\n")
    # 46 MB of incompressible data outside the module, in 230 files.
    for i in range(230):
        repo.write(f"assets/blob{i:03d}.bin", rng.randbytes(200_000))
    # ~5 MB module in 1,800 files.
    repo.write("pkg/mod/go.mod", "module example.test/large\n\ngo 1.22\n")
    module_bytes = 0
    for i in range(1800):
        body = (
            f"package large\n\n// F{i} is generated.\nconst F{i} = `"
            + rng.randbytes(1400).hex()
            + "`\n"
        )
        repo.write(f"pkg/mod/d{i // 100:02d}/f{i:04d}.go", body)
        module_bytes += len(body)
    repo.commit("v1", date="2024-01-01T00:00:00Z")
    repo.tag("large-go-1.0.0")
    return module_bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gosub(
    api_url: str, name: str, directory: str, prefix: str, module: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = Path(tempfile.mkdtemp(prefix="gosub-bench-cfg-")) / "gosub.toml"
    config.write_text(
        "[server]\nshared = false\n\n[[module]]\n"
        f'url = "https://github.com/bench/{name}"\nmodule = "{module}"\n'
        f'directory = "{directory}"\ntag_prefix = "{prefix}"\n'
    )
    env = {
        **os.environ,
        "GITHUB_API_URL": api_url,
        "GOSUB_CONFIG": str(config),
        # Every process starts with an empty persistent cache: this measures GitHub work.
        "GOSUB_CACHE_DIR": tempfile.mkdtemp(prefix="gosub-bench-cache-"),
        "PYTHONPATH": str(HERE.parent),
    }
    env.pop("GITHUB_TOKEN", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "handlers.asgi:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=HERE.parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gosub did not start") from None
            time.sleep(0.1)
    return proc, url


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_case(
    work: Path,
    standin: GitHubStandin,
    name: str,
    directory: str,
    prefix: str,
    module: str,
    module_bytes: int | None,
) -> None:
    proc, url = start_gosub(standin.api_url, name, directory, prefix, module)
    try:
        rss_idle = peak_rss_mb(proc.pid)
        for label in ("cold", "warm"):
            standin.reset()
            go = GoRunner(work / f"go-{name}-{label}", gocache=work / "gocache")
            t0 = time.perf_counter()
            go.mod_download(module, "v1.0.0", goproxy=url + "/")
            dt = time.perf_counter() - t0
            counts = dict(standin.counts)
            downloads = counts.pop("codeload", 0)
            print(
                f"{name:6} {label}: {sum(counts.values())} API requests {counts}, "
                f"{downloads} archive downloads, {dt:.2f} s wall"
            )
        # Zip build throughput: a fresh process, the .info/.mod first, then time the zip.
    finally:
        proc.terminate()
        proc.wait()
    proc, url = start_gosub(standin.api_url, name, directory, prefix, module)
    try:
        esc = module
        httpx.get(f"{url}/{esc}/@v/v1.0.0.info", timeout=120).raise_for_status()
        t0 = time.perf_counter()
        r = httpx.get(f"{url}/{esc}/@v/v1.0.0.zip", timeout=300)
        r.raise_for_status()
        dt = time.perf_counter() - t0
        # The stand-in's own cost (git archive + gzip in Python) is not gosub's: time it
        # alone and subtract it.
        sha = httpx.get(
            f"{standin.api_url}/repos/bench/{name}/commits", params={"sha": "HEAD"}
        ).json()[0]["sha"]
        t1 = time.perf_counter()
        tarball = httpx.get(
            f"{standin.api_url}/repos/bench/{name}/tarball/{sha}",
            follow_redirects=True,
            timeout=300,
        )
        dl = time.perf_counter() - t1
        size = module_bytes or 1
        own = max(dt - dl, 1e-6)
        print(
            f"{name:6} zip: {len(r.content) / 1e6:.2f} MB zip of {size / 1e6:.2f} MB module files "
            f"from a {len(tarball.content) / 1e6:.1f} MB archive: {dt:.2f} s total, of which "
            f"{dl:.2f} s the stand-in's archive; gosub {own:.2f} s = {size / 1e6 / own:.1f} MB/s "
            f"of module ({len(tarball.content) / 1e6 / own:.1f} MB/s of archive)"
        )
        rss = peak_rss_mb(proc.pid)
        print(f"{name:6} peak RSS of gosub: {rss:.1f} MB (idle after start: {rss_idle:.1f} MB)")
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a temp dir)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="gosub-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    repos = work / "repos"
    t0 = time.perf_counter()
    small_bytes = build_small(repos) if not (repos / "bench" / "small").exists() else 400
    large_bytes = build_large(repos) if not (repos / "bench" / "large").exists() else 5_000_000
    print(f"built repositories in {time.perf_counter() - t0:.1f} s")
    files = sum(
        1 for p in (repos / "bench" / "large").rglob("*") if p.is_file() and ".git" not in p.parts
    )
    size = sum(
        p.stat().st_size
        for p in (repos / "bench" / "large").rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    print(f"large repository: {files} files, {size / 1e6:.1f} MB")
    standin = GitHubStandin(repos)
    standin.start()
    try:
        run_case(work, standin, "small", "go", "small-go-", "example.test/small", small_bytes)
        run_case(work, standin, "large", "pkg/mod", "large-go-", "example.test/large", large_bytes)
    finally:
        standin.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
