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


def _one_line_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    """Bad input: exit status 2 and one line on stderr naming the problem, no traceback."""
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout == ""
    for word in words:
        assert word in out.stderr, out.stderr


def test_bad_input_is_one_line_and_exit_2() -> None:
    # GitHub is unreachable here: each of these is refused before asking it.
    env = {"GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": ""}
    _one_line_error(
        _cli("check", "github.com/acme/custom:d=go;/Bad Module", env=env),
        "module 'Bad Module' is not a valid Go module path",
    )
    _one_line_error(
        _cli("check", "https://github.com/acme/custom", "--module", "Bad Module", env=env),
        "module 'Bad Module' is not a valid Go module path",
    )
    _one_line_error(_cli("check", "gitlab.com/x;", env=env), "not a gosub URL segment")
    _one_line_error(
        _cli("check", "github.com/acme/custom;", "--directory", "go", env=env),
        "either a gosub URL segment or a repository URL",
    )
    _one_line_error(_cli("check", env=env), "give the repository URL")
    for port in ("99999", "0", "-1", "http"):
        _one_line_error(_cli("serve", f"--port={port}"), "--port", "1 to 65535")
    _one_line_error(_cli("serve", "--host", "not a host"), "--host", "not an address")
    _one_line_error(_cli("nonsense"), "invalid choice")
    _one_line_error(_cli("encode"), "give the repository URL")
    _one_line_error(
        _cli("encode", "https://github.com/a/b", "--url", "https://github.com/c/d"),
        "two repository URLs",
    )


def test_encode_takes_repository_urls_as_the_page_does() -> None:
    want = "github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;"
    for args in (
        ("https://github.com/acme/mono/tree/main/go/lib",),
        ("--url", "https://github.com/acme/mono/tree/main/go/lib/"),
        ("github.com/acme/mono/tree/v1.2/go/lib",),
        ("https://github.com/acme/mono", "--directory", "go/lib"),
    ):
        out = _cli("encode", *args, "--prefix", "go/lib/v")
        assert out.returncode == 0 and out.stdout.strip() == want, (args, out.stderr)
    # A directory of its own wins over the tree URL's; a tree URL of the root is the root.
    out = _cli("encode", "https://github.com/acme/mono/tree/main/go/lib", "--directory", "x")
    assert out.stdout.strip() == "github.com/acme/mono:d=x;"
    out = _cli("encode", "https://github.com/acme/mono/tree/main")
    assert out.stdout.strip() == "github.com/acme/mono;"
    out = _cli("encode", "https://gitlab.com/acme/sub/mono/-/tree/main/go/lib")
    assert out.stdout.strip() == "gitlab.com/acme/sub/mono:d=go%2Flib;", out.stderr
    _one_line_error(_cli("encode", "https://github.com/acme/mono/tree/main/../x"), "directory")


def _check(standin: GitHubStandin, *args: str) -> subprocess.CompletedProcess[str]:
    return _cli("check", *args, env={"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": ""})


def test_check_takes_a_tree_url_and_finds_the_module(standin: GitHubStandin) -> None:
    out = _check(
        standin,
        "https://github.com/acme/custom/tree/main/go",
        "--prefix",
        "mylib-go-",
        "--suffix=-release",
    )
    assert out.returncode == 0, out.stderr
    assert "directory go" in out.stdout and "mylib-js-1.0.0-release: ignored" in out.stdout
    assert "module example.test/custom (declared by go/go.mod at v1.1.0-beta.1" in out.stdout
    assert "example.test/custom @v/list: v1.0.0 v1.1.0-beta.1" in out.stdout
    assert "warning" not in out.stdout
    # A /vN module: its go.mod is DIR/vN/go.mod (DIR/go.mod declares v1): no warning.
    out = _check(standin, "github.com/acme/major:d=sub&p=sub/v;/example.test/major/v2")
    assert out.returncode == 0 and "warning" not in out.stdout, out.stdout
    assert "example.test/major/v2 @v/list: v2.0.0 v2.1.0" in out.stdout


def test_check_warns_when_the_directory_has_no_go_mod(standin: GitHubStandin) -> None:
    for module in ((), ("--module", "example.test/js")):
        out = _check(
            standin,
            "https://github.com/acme/custom/tree/main/js",
            "--prefix",
            "mylib-js-",
            "--suffix=-release",
            *module,
        )
        assert out.returncode == 1, out.stderr
        lines = out.stdout.splitlines()
        assert "  mylib-js-1.0.0-release: version v1.0.0" in lines
        assert lines[-2].endswith("@v/list: v1.0.0")
        warning = lines[-1]
        assert warning.startswith("warning: go get will fail: ")
        assert "missing github.com/acme/custom/js/go.mod at revision" in warning
        assert "Go requires a go.mod in a module that is not at the repository root" in warning


def test_check_warns_when_the_go_mod_declares_another_path(standin: GitHubStandin) -> None:
    want = (
        "go get will fail with 'module declares its path as: example.test/custom'; "
        "use m=example.test/custom or ask for example.test/custom"
    )
    # Pinned (m=): the server lists the versions, go get then fails.
    out = _check(
        standin,
        "https://github.com/acme/custom/tree/main/go",
        "--prefix=mylib-go-",
        "--suffix=-release",
        "--module=example.test/other",
    )
    assert out.returncode == 1, out.stderr
    assert "example.test/other @v/list: v1.0.0 v1.1.0-beta.1" in out.stdout
    assert out.stdout.splitlines()[-1] == (
        "warning: the go.mod in github.com/acme/custom/go declares module example.test/custom "
        f"at v1.1.0-beta.1, not example.test/other: {want}"
    )
    # Not pinned: the server refuses the path (404); check still shows the tags, the
    # refusal and the warning.
    out = _check(standin, "github.com/acme/custom:d=go&p=mylib-go-&s=-release;/example.test/other")
    assert out.returncode == 1 and out.stderr == "", out.stderr
    assert "  mylib-go-1.0.0-release: version v1.0.0" in out.stdout
    assert "example.test/other @v/list: error: " in out.stdout
    assert out.stdout.splitlines()[-1].endswith(want)
    # No versions at all: checked at the default branch head.
    out = _check(standin, "github.com/acme/empty;/example.test/wrong")
    assert out.returncode == 1, out.stderr
    last = out.stdout.splitlines()[-1]
    assert last.startswith("warning: the go.mod in github.com/acme/empty declares module ")
    assert "example.test/empty at v0.0.0-20231002082030-" in last
    assert last.endswith("use m=example.test/empty or ask for example.test/empty")
