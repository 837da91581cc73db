"""Build real git repositories with stable hashes, under a neutral git environment."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="gosub-git-home-"))


def neutral_git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which git reads no system or user configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "XDG_")) and k not in ("HOME",)
    }
    env.update(
        {
            "HOME": str(_HOME),
            "XDG_CONFIG_HOME": str(_HOME / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Gosub Test",
            "GIT_AUTHOR_EMAIL": "test@example.test",
            "GIT_COMMITTER_NAME": "Gosub Test",
            "GIT_COMMITTER_EMAIL": "test@example.test",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> str:
    """Run git in ``cwd``; return stdout; raise with stderr on failure."""
    proc = subprocess.run(
        [
            "git",
            "-c",
            "core.autocrlf=false",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        env=neutral_git_env(env),
        capture_output=True,
        input=input,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "surrogateescape")


class GitRepo:
    """A non-bare git repository built step by step with fixed dates."""

    def __init__(self, path: Path, *, default_branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", default_branch)

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run git in the repository."""
        return git(self.path, *args, env=env)

    def write(self, relpath: str, content: bytes | str, *, executable: bool = False) -> None:
        """Write a file (creating directories)."""
        p = self.path / relpath
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():
            p.unlink()
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        p.chmod(0o755 if executable else 0o644)

    def symlink(self, relpath: str, target: str) -> None:
        """Create a symbolic link."""
        p = self.path / relpath
        p.parent.mkdir(parents=True, exist_ok=True)
        p.symlink_to(target)

    def remove(self, relpath: str) -> None:
        """Delete a file."""
        (self.path / relpath).unlink()

    def gitlink(self, relpath: str, sha: str) -> None:
        """Add a submodule entry (mode 160000) without a submodule checkout."""
        self.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{relpath}")

    def commit(self, message: str, *, date: str, author_date: str | None = None) -> str:
        """Commit everything; ``date`` is the committer date. Returns the SHA."""
        self.git("add", "-A")
        self.git(
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": author_date or date},
        )
        return self.rev_parse("HEAD")

    def tag(
        self,
        name: str,
        *,
        ref: str = "HEAD",
        annotated: bool = False,
        date: str | None = None,
        message: str | None = None,
    ) -> None:
        """Create a lightweight or annotated tag."""
        env = {"GIT_COMMITTER_DATE": date or "2020-01-01T00:00:00Z"}
        if annotated:
            self.git("tag", "-a", "-m", message or name, name, ref, env=env)
        else:
            self.git("tag", name, ref, env=env)

    def branch(self, name: str, ref: str = "HEAD") -> None:
        """Create a branch."""
        self.git("branch", name, ref)

    def checkout(self, ref: str, *, new_branch: str | None = None) -> None:
        """Check out ``ref`` (optionally as a new branch)."""
        if new_branch:
            self.git("checkout", "-q", "-b", new_branch, ref)
        else:
            self.git("checkout", "-q", ref)

    def rev_parse(self, ref: str) -> str:
        """The full SHA of ``ref``."""
        return self.git("rev-parse", "--verify", ref + "^{commit}").strip()
