"""The git source's bounds and hygiene, without a remote: the time limit (the process
group killed), the cap on concurrent git processes, one fetch at a time per mirror,
redaction, mirror names and the host allowlist."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gosub import ConfigError, GoproxyConfig
from gosub.errors import UpstreamError, UpstreamTimeoutError
from gosub.sources import Sources
from gosub.sources.git import GitMirror, GitRunner, GitSource, mirror_name, redact


def test_a_command_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    runner = GitRunner(git="/bin/sh", timeout=0.5)

    async def run() -> None:
        # A child of the command (as git fetch has remote helpers) dies with it.
        await runner.run(None, ["-c", f"sleep 30 & echo $! > {pidfile}; wait"], what="x")

    start = time.monotonic()
    with pytest.raises(UpstreamTimeoutError, match=r"did not finish in 0\.5 s"):
        asyncio.run(run())
    assert time.monotonic() - start < 5
    pid = int(pidfile.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_concurrent_git_processes_are_capped() -> None:
    runner = GitRunner(git="/bin/sh", max_processes=2)

    async def run() -> float:
        start = time.monotonic()
        await asyncio.gather(*(runner.run(None, ["-c", "sleep 0.3"], what="x") for _ in range(6)))
        return time.monotonic() - start

    assert asyncio.run(run()) >= 0.85  # three rounds of two


def test_one_fetch_at_a_time_per_mirror(tmp_path: Path) -> None:
    """Concurrent syncs of one mirror run their git fetches one after another."""
    log = tmp_path / "log"
    script = tmp_path / "fakegit"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in\n'
        f'  *" fetch "*) echo start >> {log}; sleep 0.2; echo end >> {log} ;;\n'
        '  *" ls-remote "*) printf "%040d\\trefs/tags/v1.0.0\\n" 1 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    (tmp_path / "m.git").mkdir()
    (tmp_path / "m.git" / "HEAD").write_text("ref: refs/heads/main\n")
    mirror = GitMirror(
        GitRunner(git=str(script)), tmp_path / "m.git", "file:///r", "file:///r", refs_ttl=60
    )

    async def run() -> None:
        await asyncio.gather(*(mirror.sync(["refs/tags/v1.0.0"]) for _ in range(3)))

    asyncio.run(run())
    assert log.read_text().split() == ["start", "end"] * 3


def test_no_git_installed_is_a_clear_error() -> None:
    runner = GitRunner(git="/nonexistent/git")
    with pytest.raises(UpstreamError, match="Lambda"):
        asyncio.run(runner.run(None, ["version"], what="x"))


def test_redaction_and_mirror_names() -> None:
    text = "fatal: unable to access 'https://me:TOKEN@git.example.com/a.git/': 403"
    assert "TOKEN" not in redact(text) and "me:" not in redact(text)
    assert redact("x TOKEN y", ["TOKEN"]) == "x *** y"
    a = mirror_name("https://git.example.com/team/mono.git")
    assert a.startswith("mono-") and a.endswith(".git")
    assert a != mirror_name("https://git.example.com/other/mono.git")
    assert mirror_name("git@h.example:mono").startswith("mono-")


def test_git_hosts_allowlist(tmp_path: Path) -> None:
    sources = Sources(git_hosts=["git.example.com"], git_dir=str(tmp_path))
    ok = sources.open(GoproxyConfig(url="https://git.example.com/a/mono.git"))
    assert isinstance(ok, GitSource)
    for url in ("https://evil.example.com/a/mono.git", "/srv/mono", "file:///srv/mono"):
        with pytest.raises(ConfigError, match="not allowed"):
            sources.open(GoproxyConfig(url=url))
    local = Sources(git_hosts=["file"], git_dir=str(tmp_path))
    assert isinstance(local.open(GoproxyConfig(url="/srv/mono")), GitSource)
    with pytest.raises(ConfigError, match="not allowed"):
        local.open(GoproxyConfig(url="ssh://git@git.example.com/a/mono.git"))
    # GitHub configs are not the git allowlist's business.
    assert not isinstance(sources.open(GoproxyConfig(url="github.com/a/b")), GitSource)


def test_a_mirrors_remote_url_is_never_kept_on_disk(tmp_path: Path) -> None:
    """The remote reaches git through its environment; a mirror an earlier gosub made,
    with the URL (and its credentials) in its config, loses it on first use."""
    import subprocess

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    secret_url = "https://gosub:s3cret@git.example.com/team/mono.git"
    old = tmp_path / "old.git"
    subprocess.run(["git", "init", "--bare", "-q", str(old)], check=True)
    subprocess.run(["git", "-C", str(old), "config", "remote.origin.url", secret_url], check=True)

    async def run() -> tuple[str, str]:
        runner = GitRunner()
        fresh = GitMirror(runner, tmp_path / "new.git", str(remote), str(remote), refs_ttl=0)
        await fresh.refs()  # ls-remote origin: the remote is known to git
        reused = GitMirror(runner, old, str(remote), str(remote), refs_ttl=0)
        await reused.refs()
        return (tmp_path / "new.git" / "config").read_text(), (old / "config").read_text()

    new_config, old_config = asyncio.run(run())
    assert "remote" not in new_config
    assert "s3cret" not in old_config and "url" not in old_config
