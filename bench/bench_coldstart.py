"""Benchmark: the Lambda cold start of gosub (``handlers.aws_lambda``).

Run by hand (not in CI):  python bench/bench_coldstart.py [--runs 7] [--no-ssm]

1. Import: ``import handlers.aws_lambda`` in fresh interpreters (warm .pyc, one discarded
   warm-up run): the wall time measured in the child, the whole process (interpreter
   start-up included), and ``python -X importtime``: cumulative µs of each top-level
   module the import pulls in, and the 10 modules with the largest self time (medians
   over the runs). ``-X importtime`` adds its own overhead; the wall figures are the ones
   to budget against.
2. First invocation, in fresh interpreters: a small module served by the GitHub
   stand-in from tests/support; the handler called with Function URL events. Phases:
   the token lookup (SSM GetParameter against a moto server on loopback: boto3's import
   and first client included; skipped with --no-ssm or without moto), the app build,
   the first request (``@v/list``: GitHub calls to the stand-in), the same request warm,
   and a cold ``.zip``. The stand-in's own latency (git subprocesses) is part of the
   request figures; the import and build figures are gosub's alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.support.ghapi import GitHubStandin  # noqa: E402
from tests.support.git import GitRepo  # noqa: E402

TARGET = "handlers.aws_lambda"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)\s*$")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured interpreter: this one's, minus anything that would
    change what gets imported, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOSUB_", "GITHUB_", "AWS_", "PYTHON"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def run_python(
    code: str, *flags: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> tuple[str, str]:
    proc = subprocess.run(
        [sys.executable, *flags, "-c", code, *args],
        cwd=ROOT,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stderr[-4000:]}")
    return proc.stdout, proc.stderr


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, depth, self µs, cumulative µs) per line of ``-X importtime``."""
    rows = []
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((m.group(4), len(m.group(3)) // 2, int(m.group(1)), int(m.group(2))))
    return rows


def bench_import(runs: int) -> dict[str, Any]:
    code = (
        "import time; t = time.perf_counter(); import " + TARGET + "; "
        "print(time.perf_counter() - t)"
    )
    run_python(code)  # warm the .pyc files
    startup = {r[0] for r in parse_importtime(run_python("pass", "-X", "importtime")[1])}
    wall, process, totals = [], [], []
    top: defaultdict[str, list[int]] = defaultdict(list)
    packages: defaultdict[str, list[int]] = defaultdict(list)
    selfs: defaultdict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        t0 = time.perf_counter()
        out, _ = run_python(code)
        process.append(time.perf_counter() - t0)
        wall.append(float(out.strip()))
        _, err = run_python("import " + TARGET, "-X", "importtime")
        rows = [r for r in parse_importtime(err) if r[0] not in startup]
        totals.append(sum(cum for _, depth, _, cum in rows if depth == 0))
        per_package: defaultdict[str, int] = defaultdict(int)
        for name, depth, own, cum in rows:
            selfs[name].append(own)
            per_package[name.split(".")[0]] += own
            # What the target imports itself (depth 1 below it), each with its subtree.
            if depth <= 1:
                top[name].append(cum)
        for name, us in per_package.items():
            packages[name].append(us)
    return {
        "wall_ms": statistics.median(wall) * 1000,
        "wall_min_ms": min(wall) * 1000,
        "process_ms": statistics.median(process) * 1000,
        "importtime_total_us": statistics.median(totals),
        "top_level": sorted(
            ((n, statistics.median(v)) for n, v in top.items()), key=lambda i: -i[1]
        ),
        "packages": sorted(
            ((n, statistics.median(v)) for n, v in packages.items()), key=lambda i: -i[1]
        ),
        "self_top10": sorted(
            ((n, statistics.median(v)) for n, v in selfs.items()), key=lambda i: -i[1]
        )[:10],
        "modules": len(selfs),
    }


# The child of the first-invocation benchmark: times each phase of a cold start.
_FIRST = r"""
import json, sys, time
t0 = time.perf_counter()
import handlers.aws_lambda as aws
t_import = time.perf_counter() - t0
phases = {}

def timed(name, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
    return wrapper

aws.github_token = timed("token", aws.github_token)
aws.build_app = timed("build", aws.build_app)

def event(path):
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "x.lambda-url.eu-west-1.on.aws"},
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "192.0.2.1", "userAgent": "go"},
                           "domainName": "x.lambda-url.eu-west-1.on.aws", "stage": "$default"},
        "isBase64Encoded": False,
    }

base = sys.argv[1]
out = {"import": t_import}
for label, path in (("first", "list"), ("warm", "list"), ("zip", "v1.0.0.zip")):
    t = time.perf_counter()
    resp = aws.handler(event(base + path), None)
    out[label] = time.perf_counter() - t
    assert resp["statusCode"] == 200, resp
out.update(phases)
out["boto3_loaded"] = "boto3" in sys.modules
print(json.dumps(out))
"""


def build_repo(root: Path) -> str:
    repo = GitRepo(root / "bench" / "cold")
    repo.write("LICENSE", "MIT\n")
    repo.write("go/go.mod", "module example.test/cold\n\ngo 1.22\n")
    for i in range(20):
        repo.write(f"go/f{i}.go", f"package cold\n\nconst C{i} = {i}\n")
    repo.commit("v1", date="2024-01-01T00:00:00Z")
    repo.tag("cold-1.0.0")
    return "/github.com/bench/cold:d=go&p=cold-;/example.test/cold/@v/"


def start_moto() -> tuple[Any, dict[str, str]] | None:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws_env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "GOSUB_GITHUB_TOKEN_PARAM": "/gosub/bench/github-token",
    }
    boto3.client(
        "ssm",
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        region_name="eu-west-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    ).put_parameter(
        Name="/gosub/bench/github-token", Value="ghp_bench", Type="SecureString", Overwrite=True
    )
    return server, aws_env


def bench_first(runs: int, ssm: bool) -> dict[str, dict[str, float]]:
    work = Path(tempfile.mkdtemp(prefix="gosub-coldstart-"))
    base = build_repo(work / "repos")
    standin = GitHubStandin(work / "repos")
    standin.start()
    variants: dict[str, dict[str, str]] = {"no token": {}}
    moto = start_moto() if ssm else None
    if moto is not None:
        variants["token from SSM"] = moto[1]
    results: dict[str, dict[str, float]] = {}
    try:
        for name, extra in variants.items():
            samples: defaultdict[str, list[float]] = defaultdict(list)
            for i in range(runs + 1):
                env = child_env(
                    {
                        "GITHUB_API_URL": standin.api_url,
                        "GOSUB_CACHE_DIR": str(work / f"cache-{name}-{i}"),
                        **extra,
                    }
                )
                out, _ = run_python(_FIRST, env=env, args=(base,))
                if i == 0:
                    continue  # warm-up (.pyc)
                for k, v in json.loads(out).items():
                    samples[k].append(float(v))
            results[name] = {k: statistics.median(v) for k, v in samples.items()}
    finally:
        standin.stop()
        if moto is not None:
            moto[0].stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per figure")
    parser.add_argument("--no-ssm", action="store_true", help="skip the SSM token variant")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; medians of {args.runs}")

    imp = bench_import(args.runs)
    print(f"\nimport {TARGET}")
    print(f"  in-process wall: {imp['wall_ms']:.0f} ms (min {imp['wall_min_ms']:.0f} ms)")
    print(f"  whole process (interpreter start-up included): {imp['process_ms']:.0f} ms")
    print(
        f"  -X importtime: {imp['importtime_total_us'] / 1000:.0f} ms cumulative over "
        f"{imp['modules']} modules"
    )
    print(f"  {TARGET} and what it imports directly (cumulative µs):")
    for name, us in imp["top_level"]:
        print(f"    {us:>9.0f}  {name}")
    print("  by top-level package (sum of self µs; the first 15):")
    for name, us in imp["packages"][:15]:
        print(f"    {us:>9.0f}  {name}")
    print("  top 10 by self time (µs):")
    for name, us in imp["self_top10"]:
        print(f"    {us:>9.0f}  {name}")

    first = bench_first(args.runs, not args.no_ssm)
    for name, r in first.items():
        print(f"\nfirst invocation ({name}), ms")
        print(f"  import          {r['import'] * 1000:8.1f}")
        if "token" in r:
            loaded = bool(r["boto3_loaded"])
            print(f"  token lookup    {r['token'] * 1000:8.1f}   (boto3 loaded: {loaded})")
        print(f"  app build       {r['build'] * 1000:8.1f}")
        print(f"  first @v/list   {r['first'] * 1000:8.1f}   (token + build + request)")
        print(f"  warm @v/list    {r['warm'] * 1000:8.1f}")
        print(f"  cold .zip       {r['zip'] * 1000:8.1f}")
        cold = r["import"] + r["first"]
        print(f"  cold start to first answer: {cold * 1000:.0f} ms (import + first request)")


if __name__ == "__main__":
    main()
