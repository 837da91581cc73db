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
