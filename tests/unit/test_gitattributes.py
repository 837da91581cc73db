"""gitattributes: differential against real ``git archive``, Go's way and GitHub's way."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gosub.gitattributes import Attributes, convert_for_go_archive
from tests.support.git import GitRepo

ROOT_ATTRS = (
    "*.crlf text eol=crlf\n*.id ident\n[attr]mine text eol=crlf\n*.mine mine\n"
    "*.bin binary\n*.auto text=auto eol=crlf\n*.lf eol=lf\n"
    '"with space.txt" eol=crlf\ndocs/** export-ignore\n*.legacy crlf\n'
)
SUB_ATTRS = (
    "ignored.txt export-ignore\nignoredir export-ignore\nsubst.txt export-subst\n"
    "*.crlf -text\n/anchored.crlf text eol=crlf\nnested/*.x eol=crlf\n"
)
BODIES = [
    b"one\ntwo\n",
    b"crlf\r\nalready\n",
    b"lone\rcr\n",
    b"nul\0byte\n",
    b"$Id$ and $Id: old $\n",
    b"",
]
NAMES = [
    "a.crlf",
    "b.id",
    "c.mine",
    "d.bin",
    "e.auto",
    "f.lf",
    "with space.txt",
    "g.legacy",
    "sub/a.crlf",
    "sub/anchored.crlf",
    "sub/nested/n.x",
    "sub/deeper/nested/n.x",
    "sub/ignored.txt",
    "sub/ignoredir/k.go",
    "sub/subst.txt",
    "docs/deep/d.txt",
    "plain.txt",
]


def _archive(repo: GitRepo, *config: str) -> dict[str, bytes]:
    cfg = [arg for c in config for arg in ("-c", c)]
    data = repo.git(*cfg, "archive", "--format=tar", "HEAD").encode("utf-8", "surrogateescape")
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        for m in tf:
            if m.isreg():
                f = tf.extractfile(m)
                assert f is not None
                out[m.name] = f.read()
    return out


def test_matches_git_archive(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write(".gitattributes", ROOT_ATTRS)
    repo.write("sub/.gitattributes", SUB_ATTRS)
    for i, name in enumerate(NAMES):
        repo.write(name, BODIES[i % len(BODIES)] + b"$Format:%H$\n")
    repo.commit("c", date="2024-01-01T00:00:00Z")
    github = _archive(repo)
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "attributes").write_text("* -export-subst -export-ignore\n")
    go = _archive(repo, "core.autocrlf=input", "core.eol=lf")
    attrs = Attributes.from_files(
        {".gitattributes": ROOT_ATTRS.encode(), "sub/.gitattributes": SUB_ATTRS.encode()}
    )
    for name in NAMES:
        blob_sha = repo.git("rev-parse", f"HEAD:{name}").strip()
        raw = repo.git("cat-file", "blob", blob_sha).encode("utf-8", "surrogateescape")
        assert convert_for_go_archive(raw, attrs.lookup(name), blob_sha, name) == go[name], name
        altered = github.get(name) != go[name]
        assert attrs.altered_by_github_archive(name) == altered, name
