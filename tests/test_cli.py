"""The gosub command line: serve starts a working proxy; bad input fails in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from tests.support.ghapi import GitHubStandin


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_help_and_bad_config() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gosub.cli", "serve", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "--prefix" in out.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "gosub.cli",
            "serve",
            "--url",
            "https://github.com/a/b",
            "--directory",
            "../x",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "directory" in bad.stderr


def test_serve_answers_the_go_proxy_protocol(standin: GitHubStandin) -> None:
    port = _free_port()
    env = {**os.environ, "GITHUB_API_URL": standin.api_url}
    env.pop("GITHUB_TOKEN", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gosub.cli",
            "serve",
            "--url",
            "https://github.com/acme/custom",
            "--directory",
            "go",
            "--prefix",
            "mylib-go-",
            "--suffix=-release",
            "--port",
            str(port),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/example.test/custom/@v/list")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.status_code == 200 and r.text.split() == ["v1.0.0", "v1.1.0-beta.1"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gosub.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_encode_decode() -> None:
    enc = _cli(
        "encode",
        "--url",
        "https://github.com/acme/mono",
        "--directory",
        "go/lib",
        "--prefix",
        "go/lib/v",
    )
    assert (
        enc.returncode == 0
        and enc.stdout.strip() == "github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;"
    )
    dec = _cli("decode", enc.stdout.strip())
    assert dec.returncode == 0 and '"directory": "go/lib"' in dec.stdout
    bad = _cli("decode", "nohost/x/y;")  # not HOST/PATH: a host has a dot
    assert bad.returncode == 2 and bad.stderr.startswith("gosub: ") and bad.stderr.count("\n") == 1


def test_check_explains_tags(standin: GitHubStandin) -> None:
    out = _cli(
        "check",
        "github.com/acme/rootmod;/example.test/rootmod",
        env={"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": ""},
    )
    assert out.returncode == 0, out.stderr
    assert "v2.1: ignored: v2.1 is not canonical (v2.1.0)" in out.stdout
    assert "3.0.0: ignored: v3.0.0" not in out.stdout and "3.0.0: ignored" in out.stdout
    assert "example.test/rootmod @v/list: v1.0.0 v2.0.0+incompatible" in out.stdout


def test_version_and_python_m_gosub() -> None:
    """``gosub --version`` names the installed version; ``python -m gosub`` is the CLI."""
    import gosub

    result = subprocess.run(
        [sys.executable, "-m", "gosub", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"gosub {gosub.__version__}"
    assert gosub.__version__ != "0.0.0+unknown"  # from the installed package's metadata
