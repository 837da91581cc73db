"""Reading git-archive tarballs: subdirectory selection, kinds, and corrupt input."""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from gosub.sources.gitarchive import ArchiveFormatError, ArchiveTooLargeError, extract_subdir
from tests.support.git import neutral_git_env


def _tar(entries: list[tuple[str, bytes | None, str | None]]) -> bytes:
    """entries: (name, data or None for a directory, symlink target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, link in entries:
            ti = tarfile.TarInfo(name)
            if link is not None:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                tf.addfile(ti)
            elif data is None:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


ARCHIVE = _tar(
    [
        ("o-r-abc1234/", None, None),
        ("o-r-abc1234/LICENSE", b"root license\n", None),
        ("o-r-abc1234/.gitattributes", b"*.txt eol=crlf\n", None),
        ("o-r-abc1234/go/", None, None),
        ("o-r-abc1234/go/.gitattributes", b"x export-ignore\n", None),
        ("o-r-abc1234/go/a.go", b"package a\n", None),
        ("o-r-abc1234/go/link", None, "a.go"),
        ("o-r-abc1234/go/sub/", None, None),  # also how a submodule appears
        ("o-r-abc1234/gox/b.go", b"package b\n", None),
        ("o-r-abc1234/other/.gitattributes", b"* -text\n", None),
    ]
)


def test_keeps_subdirectory_extras_and_applicable_attributes(tmp_path: Path) -> None:
    ex = extract_subdir(io.BytesIO(ARCHIVE), tmp_path, "go", extras=["LICENSE"], max_bytes=1 << 20)
    assert sorted((f.path, f.kind) for f in ex.files) == [
        (".gitattributes", "file"),
        ("a.go", "file"),
        ("link", "symlink"),
    ]
    a = next(f for f in ex.files if f.path == "a.go")
    with a.open() as fh:
        assert fh.read() == b"package a\n"
    with ex.extras["LICENSE"].open() as fh:
        assert fh.read() == b"root license\n"
    # gox/ shares a prefix with go/ but is another directory; other/ cannot apply.
    assert sorted(ex.attributes) == [".gitattributes", "go/.gitattributes"]


def test_truncated_gzip_is_an_error_not_a_short_archive(tmp_path: Path) -> None:
    for cut in (len(ARCHIVE) // 2, len(ARCHIVE) - 4):
        with pytest.raises(ArchiveFormatError):
            extract_subdir(io.BytesIO(ARCHIVE[:cut]), tmp_path / str(cut), "go", max_bytes=1 << 20)


def test_garbage_and_empty_input(tmp_path: Path) -> None:
    with pytest.raises(ArchiveFormatError):
        extract_subdir(io.BytesIO(b"not an archive at all" * 40), tmp_path / "a", "", max_bytes=9)
    with pytest.raises(ArchiveFormatError):
        extract_subdir(io.BytesIO(b""), tmp_path / "b", "", max_bytes=9)


def test_size_limit(tmp_path: Path) -> None:
    with pytest.raises(ArchiveTooLargeError):
        extract_subdir(io.BytesIO(ARCHIVE), tmp_path, "go", max_bytes=5)


def _git(repo: Path, *args: str) -> str:
    env = {
        **neutral_git_env(),
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }
    out = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return out.stdout.decode()


def _archive_of(repo: Path) -> bytes:
    out = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar.gz", "--prefix=o-r-1234567/", "HEAD"],
        env=neutral_git_env(),
        check=True,
        capture_output=True,
    )
    return out.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q")
    # Names chosen for git's tree order: "a.b" and "a-c" sort around the directory "a/",
    # which sorts as "a/" ("-" < "." < "/" < "0").
    for name, data in {
        "a/b/x": "hi\n",
        "a.b/y": "x\n",
        "a-c": "z\n",
        "a0": "0\n",
        "exe": "#!/bin/sh\n",
        "empty": "",
        "go/.gitattributes": "*.md text\n",
        "go/doc.md": "doc\n",
    }.items():
        (r / name).parent.mkdir(parents=True, exist_ok=True)
        (r / name).write_text(data)
    (r / "exe").chmod(0o755)
    (r / "link").symlink_to("a/b/x")
    return r


def test_tree_id_is_gits_own(repo: Path, tmp_path: Path) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    ex = extract_subdir(io.BytesIO(_archive_of(repo)), tmp_path / "x", "go", max_bytes=1 << 20)
    assert ex.tree_sha == _git(repo, "rev-parse", "HEAD^{tree}").strip()
    assert ex.blob_shas["doc.md"] == _git(repo, "rev-parse", "HEAD:go/doc.md").strip()


def test_tree_id_differs_when_the_archive_leaves_a_file_out(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitattributes").write_text("/.gitattributes export-ignore\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    ex = extract_subdir(io.BytesIO(_archive_of(repo)), tmp_path / "x", "go", max_bytes=1 << 20)
    assert ex.tree_sha is not None
    assert ex.tree_sha != _git(repo, "rev-parse", "HEAD^{tree}").strip()


def test_tree_id_unknown_with_a_submodule(tmp_path: Path) -> None:
    # git archive writes a submodule as an empty directory: its commit id is not there.
    archive = _tar(
        [("o-r-1/", None, None), ("o-r-1/a.go", b"package a\n", None), ("o-r-1/sub/", None, None)]
    )
    ex = extract_subdir(io.BytesIO(archive), tmp_path, "", max_bytes=1 << 20)
    assert ex.tree_sha is None
