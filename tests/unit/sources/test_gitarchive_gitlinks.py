"""Tree ids of archives holding submodules, when a tree listing gives their commit ids."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from gosub.sources.gitarchive import extract_subdir
from tests.support.git import neutral_git_env


def _git(repo: Path, *args: str) -> str:
    env = {
        **neutral_git_env(),
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }
    out = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return out.stdout.decode()


def test_submodules_named_by_the_listing_give_gits_tree_id(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name in ("go/a.go", "go/sub-x/b.go", "go/sub.go", "top.txt"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(name + "\n")
    _git(repo, "add", "-A")
    # "sub" (a submodule) sorts as a file, before "sub-x/" and "sub.go".
    link = "0123456789abcdef0123456789abcdef01234567"
    _git(repo, "update-index", "--add", "--cacheinfo", f"160000,{link},go/sub")
    _git(repo, "commit", "-qm", "one")
    tar = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar.gz", "--prefix=p/", "HEAD"],
        env=neutral_git_env(),
        check=True,
        capture_output=True,
    ).stdout
    bare = extract_subdir(io.BytesIO(tar), tmp_path / "a", "go", max_bytes=1 << 20)
    assert bare.tree_sha is None
    ex = extract_subdir(
        io.BytesIO(tar), tmp_path / "b", "go", max_bytes=1 << 20, gitlinks={"go/sub": link}
    )
    assert ex.tree_sha == _git(repo, "rev-parse", "HEAD^{tree}").strip()
    # A listing naming another path leaves the empty directory unexplained.
    other = extract_subdir(
        io.BytesIO(tar), tmp_path / "c", "go", max_bytes=1 << 20, gitlinks={"go/x": link}
    )
    assert other.tree_sha is None
