"""gosub.sources.gitattributes, differential against real git.

Every repository is built with ``git fast-import`` into a bare repository (so blobs are
stored exactly as given, with no clean filter) and then compared three ways:

* :meth:`Attributes.lookup` against ``git check-attr --cached --all`` for every file,
  every directory (``dir/``) and a few paths that do not exist; ``lookup(path, go=True)``
  the same with Go's line in ``info/attributes``;
* :func:`convert_for_go_archive` against Go's archive step: ``git -c core.autocrlf=input
  -c core.eol=lf archive`` after appending ``* -export-subst -export-ignore`` to
  ``info/attributes`` (git's exit status included: a file gosub refuses must make git fail);
* :meth:`Attributes.altered_by_github_archive` against plain ``git archive`` (what GitHub
  serves): a file it does not flag must come out exactly as in Go's archive, a flagged one
  must be left out (export-ignore) or have its ``$Format:%H$`` expanded (export-subst).

Hypothesis generates repositories (nested .gitattributes, patterns, macros, quoting,
attribute states, contents with LF/CRLF/lone CR/NUL/``$Id$``/invalid UTF-8); set
GOSUB_GITATTR_EXAMPLES for a longer run than the default 60 examples.

git runs with no system or global configuration, a fixed identity and fixed dates.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gosub.sources.gitattributes import (
    _ENCODERS,
    Attributes,
    State,
    UnsupportedAttributeError,
    convert_for_go_archive,
)
from tests.support.ci import under_ci

# Without git these are skipped on a developer machine; under CI they run, and fail.
pytestmark = pytest.mark.skipif(
    shutil.which("git") is None and not under_ci(),
    reason="git is not installed (CI installs it)",
)

_HOME = tempfile.mkdtemp(prefix="gosub-gitattr-home-")
_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": _HOME,
    "XDG_CONFIG_HOME": os.path.join(_HOME, ".config"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Gosub Test",
    "GIT_AUTHOR_EMAIL": "test@example.test",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_NAME": "Gosub Test",
    "GIT_COMMITTER_EMAIL": "test@example.test",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
    "LC_ALL": "C",
    "TZ": "UTC",
}
_GO_INFO_ATTRIBUTES = b"\n* -export-subst -export-ignore\n"  # codehost/git.go

REGULAR, EXECUTABLE, SYMLINK = "100644", "100755", "120000"


@dataclass(frozen=True)
class Entry:
    """One tree entry to write: its mode and blob content (a symlink's is its target)."""

    data: bytes
    mode: str = REGULAR


def _git(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    proc = subprocess.run(["git", *args], cwd=repo, env=_ENV, input=input, capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout if proc.returncode == 0 else b"\0FAILED\0" + proc.stderr


def _quote(path: str) -> bytes:
    raw = path.encode("utf-8", "surrogateescape")
    raw = raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
    return b'"' + raw + b'"'


def _format_subst(data: bytes, commit: bytes) -> bytes:
    """archive.c format_subst() for the formats these tests write: ``%H`` or no ``%``."""
    out = bytearray()
    src = 0
    while True:
        b = data.find(b"$Format:", src)
        if b < 0:
            break
        c = data.find(b"$", b + 8)
        if c < 0:
            break
        fmt = data[b + 8 : c]
        assert fmt == b"%H" or b"%" not in fmt, fmt
        out += data[src:b] + (commit if fmt == b"%H" else fmt)
        src = c + 1
    out += data[src:]
    return bytes(out)


def _read_tar(data: bytes) -> tuple[dict[str, bytes], bytes]:
    """The regular files of a ``git archive`` tar, and the commit id it records."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape") as tf:
        for member in tf:
            if member.isreg():
                f = tf.extractfile(member)
                assert f is not None
                out[member.name] = f.read()
        commit = tf.pax_headers.get("comment", "").encode()
    return out, commit


def _parse_check_attr(out: bytes) -> dict[str, dict[str, State]]:
    fields = out.split(b"\0")
    assert fields[-1] == b""
    result: dict[str, dict[str, State]] = {}
    for i in range(0, len(fields) - 1, 3):
        path, attr, info = (f.decode("utf-8", "surrogateescape") for f in fields[i : i + 3])
        value: State = True if info == "set" else False if info == "unset" else info
        result.setdefault(path, {})[attr] = value
    return result


class Repo:
    """A bare repository with one commit holding ``entries``."""

    def __init__(self, root: Path, entries: Mapping[str, Entry]) -> None:
        self.path = root / "repo.git"
        self.entries = dict(entries)
        _git(root, "init", "-q", "--bare", "--template=", str(self.path))
        stream = bytearray(
            b"commit refs/heads/main\n"
            b"committer Gosub Test <test@example.test> 1700000000 +0000\n"
            b"data 2\nm\n\n"
        )
        for path, entry in self.entries.items():
            stream += b"M %s inline %s\ndata %d\n" % (
                entry.mode.encode(),
                _quote(path),
                len(entry.data),
            )
            stream += entry.data + b"\n"
        _git(self.path, "fast-import", "--quiet", input=bytes(stream))
        # Object ids as git computes them (SHA-1 repository).
        self.blobs = {
            path: hashlib.sha1(b"blob %d\0" % len(e.data) + e.data).hexdigest()
            for path, e in self.entries.items()
        }
        self._commit: bytes | None = None

    @property
    def commit(self) -> bytes:
        """The commit's id."""
        if self._commit is None:
            self._commit = _git(self.path, "rev-parse", "main").strip()
        return self._commit

    def check_object_ids(self) -> None:
        """The blob ids computed here are git's."""
        listed = {}
        for line in _git(self.path, "ls-tree", "-r", "-z", "main").split(b"\0"):
            if line:
                meta, path_b = line.split(b"\t", 1)
                listed[path_b.decode("utf-8", "surrogateescape")] = meta.split()[2].decode()
        assert listed == self.blobs

    def attributes(self) -> Attributes:
        """gosub's view, from the .gitattributes entries (symlinks included: git reads the
        blob whatever its mode)."""
        return Attributes.from_files(
            {p: e.data for p, e in self.entries.items() if p.rpartition("/")[2] == ".gitattributes"}
        )

    def directories(self) -> list[str]:
        """Every directory in the tree, as ``dir/``."""
        dirs: set[str] = set()
        for path in self.entries:
            parts = path.split("/")
            dirs.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
        return sorted(dirs)

    def check_attr(self, paths: list[str], *, go: bool) -> dict[str, dict[str, State]]:
        """``git check-attr --cached --all`` (attributes from the index, as git archive
        reads them) for ``paths``, with Go's ``info/attributes`` line or without."""
        env = {**_ENV, "GIT_INDEX_FILE": str(self.path / "gosub-test-index")}
        info = self.path / "info" / "attributes"
        info.parent.mkdir(exist_ok=True)
        if go:
            info.write_bytes(_GO_INFO_ATTRIBUTES)
        try:
            for args in (["read-tree", "main"], ["check-attr", "--cached", "-a", "-z", "--stdin"]):
                proc = subprocess.run(
                    ["git", *args],
                    cwd=self.path,
                    env=env,
                    input=b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths),
                    capture_output=True,
                )
                assert proc.returncode == 0, proc.stderr
        finally:
            info.unlink(missing_ok=True)
        return _parse_check_attr(proc.stdout)

    def archive(self, *, go: bool) -> dict[str, bytes] | None:
        """The regular files of ``git archive`` the Go way or GitHub's way; None if git
        fails."""
        info = self.path / "info" / "attributes"
        info.parent.mkdir(exist_ok=True)
        if go:
            info.write_bytes(_GO_INFO_ATTRIBUTES)
            config = ["-c", "core.autocrlf=input", "-c", "core.eol=lf"]
        else:
            info.unlink(missing_ok=True)
            config = []
        out = _git(self.path, *config, "archive", "--format=tar", "main", check=False)
        info.unlink(missing_ok=True)
        if out.startswith(b"\0FAILED\0"):
            return None
        files, self._commit = _read_tar(out)
        return files


EXTRA_PATHS = ["zz/new.txt", "new.c", "a/new/", "nowhere/"]


def check_repo(root: Path, entries: Mapping[str, Entry]) -> Repo:
    """Build the repository and compare gosub with git in all three ways."""
    repo = Repo(root, entries)
    attrs = repo.attributes()

    paths = [*repo.entries, *repo.directories(), *EXTRA_PATHS]
    for go_view in (False, True):
        expected = repo.check_attr(paths, go=go_view)
        for path in paths:
            assert attrs.lookup(path, go=go_view) == expected.get(path, {}), (path, go_view)

    go = repo.archive(go=True)
    github = repo.archive(go=False)
    regular = [p for p, e in repo.entries.items() if e.mode != SYMLINK]
    converted: dict[str, bytes] = {}
    for path in regular:
        try:
            converted[path] = convert_for_go_archive(
                repo.entries[path].data, attrs.lookup(path, go=True), repo.blobs[path], path
            )
        except UnsupportedAttributeError:
            assert go is None, f"{path}: gosub refused a file git archived"
            return repo
    assert go is not None, "git archive failed but gosub converted every file"
    assert sorted(go) == sorted(regular)
    for path in regular:
        assert converted[path] == go[path], path

    # GitHub's archive: what it leaves out and what it changes. Its conversions are the
    # in-tree view's (they differ from Go's only through a macro named export-*), and a
    # file it neither drops nor substitutes must come out exactly as in Go's archive.
    expected_github: dict[str, bytes] = {}
    github_fails = False
    for path in regular:
        lookup = attrs.lookup(path)
        parts = path.split("/")
        ignored = lookup.get("export-ignore") is True or any(
            attrs.lookup("/".join(parts[:i]) + "/").get("export-ignore") is True
            for i in range(1, len(parts))
        )
        subst = lookup.get("export-subst") is True
        assert attrs.altered_by_github_archive(path) == (ignored or subst), path
        if ignored:
            continue
        try:
            data = convert_for_go_archive(repo.entries[path].data, lookup, repo.blobs[path], path)
        except UnsupportedAttributeError:
            github_fails = True
            continue
        if subst:
            data = _format_subst(data, repo.commit)
        else:
            assert data == go[path], path
        expected_github[path] = data
    if github_fails:
        assert github is None
    else:
        assert github == expected_github
    return repo


@pytest.fixture
def root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="gosub-gitattr-") as d:
        yield Path(d)


def _files(files: Mapping[str, bytes | Entry]) -> dict[str, Entry]:
    return {k: v if isinstance(v, Entry) else Entry(v) for k, v in files.items()}


# ---------------------------------------------------------------------------------------
# Fixed cases
# ---------------------------------------------------------------------------------------

BODIES = [
    b"one\ntwo\n",
    b"crlf\r\nalready\n",
    b"lone\rcr\n",
    b"nul\0byte\n",
    b"$Id$ and $Id: old $ and $Id: a foreign one $\n",
    b"",
    b"no newline",
    b"ctrl\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\n" * 3,
    b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
    b"dos eof\n\x1a",
    # On the edge of convert.c's binary guess: 128 printable, 1 control, a final ^Z
    # that does not count.
    b"a" * 127 + b"\n\x01b\x1a",
    b"$Format:%H$\n",
]


def _grid(attr_lines: list[str], names: list[str]) -> dict[str, Entry]:
    files: dict[str, bytes | Entry] = {".gitattributes": "\n".join(attr_lines).encode() + b"\n"}
    for i, name in enumerate(names):
        for j, body in enumerate(BODIES):
            files[f"{name}{i}.{j}"] = body + b"$Format:%H$\n" * (j % 2)
    return _files(files)


def test_end_of_line_attributes(root: Path) -> None:
    lines = [
        "t* text",
        "te* text eol=crlf",
        "tl* text eol=lf",
        "ti* text=input",
        "tie* text=input eol=crlf",
        "a* text=auto",
        "ac* text=auto eol=crlf",
        "al* text=auto eol=lf",
        "b* -text eol=crlf",
        "bi* binary eol=crlf",
        "e* eol=crlf",
        "el* eol=lf",
        "eb* eol=bogus text",
        "u* text=bogus eol=crlf",
        "c* crlf",
        "cn* -crlf eol=crlf",
        "ci* crlf=input eol=crlf",
        "ca* crlf=auto eol=crlf",
        "x* !text eol=crlf",
        "v* text= eol=crlf",
        "n* -text",
        "n* text eol=crlf",
    ]
    names = [line.split()[0].rstrip("*") for line in lines] + ["plain"]
    check_repo(root, _grid(lines, names))


def test_ident(root: Path) -> None:
    bodies = [
        b"$Id$",
        b"$Id$$Id$\n$Id:$ $Id:x$\n",
        b"$Id: 0123456789012345678901234567890123456789 $\n",
        b"$Id: with spaces inside $ $Id:  $\n",
        b"$Id: broken\nline $ then $Id$\n",
        b"$Id: no closing dollar\n",
        b"$Id: no closing dollar at all",
        b"$I$Id$d$ $$Id$$ $Id",
        b"$Id",
        b"$Idx$ $ID$ $id$\n",
        b"$Id$\r\n$Id$\n",
        b"nothing here\n",
    ]
    files: dict[str, bytes | Entry] = {
        ".gitattributes": b"*.id ident\n*.crlf ident eol=crlf\n*.no -ident\n*.val ident=x\n"
    }
    for i, body in enumerate(bodies):
        for ext in ("id", "crlf", "no", "val"):
            files[f"f{i}.{ext}"] = body
    check_repo(root, _files(files)).check_object_ids()


def test_precedence_and_patterns(root: Path) -> None:
    files: dict[str, bytes | Entry] = {
        ".gitattributes": (
            b"*.txt text eol=crlf\n"
            b"*.txt -text\n"  # later lines win
            b"a/*.md eol=crlf\n"  # with a slash: relative to this directory
            b"/top.md eol=crlf\n"
            b"deep.md eol=crlf\n"  # without one: any depth
            b"**/x/*.c eol=crlf\n"
            b"a/**/z.c ident\n"
            b"a/** diff=foo\n"
            b"**/b export-ignore\n"
            b"d/ export-ignore\n"
            b"e/ -diff\n"  # a directory-only pattern never matches a file
            b"f export-subst\n"
            b"*.keep !eol\n"
            b"[abc].[!x]* merge=m\n"
            b"[[:digit:]]*.n eol=crlf\n"
            b"[[:bogus:]]* eol=crlf\n"
            b"\\!bang eol=crlf\n"
            b"!neg eol=crlf\n"  # negative patterns are ignored
            b"sp\\ ace eol=crlf\n"
            b"*.TXT ident\n"
        ),
        "a/.gitattributes": (
            b"*.txt text eol=crlf\n"  # deeper files win
            b"/own.md ident\n"
            b"b/*.keep eol=crlf\n"
        ),
        "a/b/.gitattributes": b"*.keep text\n*.md -diff\n",
        "a/b/c/.gitattributes": b"[attr]m text\n*.md m\n",  # macros only at the top
        "top.md": b"1\n",
        "a/top.md": b"2\n",
        "a/own.md": b"$Id$\n",
        "a/b/own.md": b"$Id$\n",
        "a/x.md": b"3\n",
        "a/b/x.md": b"4\n",
        "a/b/c/deep.md": b"5\n",
        "deep.md": b"6\n",
        "one.txt": b"7\n",
        "a/two.txt": b"8\n",
        "a/b/three.txt": b"9\n",
        "x/m.c": b"10\n",
        "q/x/m.c": b"11\n",
        "q/x/y/m.c": b"12\n",
        "a/z.c": b"$Id$\n",
        "a/p/q/z.c": b"$Id$\n",
        "b": b"13\n",
        "q/b/in.txt": b"14\n",
        "d/in.txt": b"15\n",
        "e/in.txt": b"16\n",
        "f/in.txt": b"17\n",
        "a/b/k.keep": b"19\n",
        "k.keep": b"20\n",
        "a.b": b"21\n",
        "c.xy": b"22\n",
        "7.n": b"23\n",
        "x.n": b"24\n",
        "!bang": b"25\n",
        "!neg": b"26\n",
        "neg": b"26b\n",
        "sp ace": b"27\n",
        "UP.TXT": b"$Id$\n",
    }
    files["g/f"] = b"$Format:%H$\n"
    check_repo(root, _files(files))


def test_character_classes_and_ranges(root: Path) -> None:
    classes = ["alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print"]
    classes += ["punct", "space", "upper", "xdigit"]
    lines = [f"k[[:{c}:]] c-{c}" for c in classes]
    lines += [
        "k[!-a] r1",
        "k[]-a] r2",
        "k[a-] r3",
        "k[\\]] r4",
        "k[Z-a] r5",
        "k[[:alpha:]-z] r6",
        "k[[:alpha] r7",
        "k[[] r8",
        "k[^[:digit:]] r9",
        "k? r10",
        "k\\? r11",
        "k[ r12",
    ]
    files: dict[str, bytes | Entry] = {".gitattributes": "\n".join(lines).encode() + b"\n"}
    for c in [*range(1, 128), 0xE9]:
        if c != ord("/"):
            files["k" + chr(c)] = b"x\n"
    check_repo(root, _files(files))


def test_export_ignore_on_directories(root: Path) -> None:
    files = _files(
        {
            ".gitattributes": b"ign/ export-ignore\n*.skip export-ignore\nsub export-subst\n",
            "ign/a.txt": b"a\n",
            "ign/deeper/b.txt": b"b\n",
            "x/ign/c.txt": b"c\n",
            "x/.gitattributes": b"keep/ export-ignore\nkeep/** -export-ignore\n",
            "x/keep/k.txt": b"k\n",  # the directory is dropped whatever its files say
            "y.skip": b"s\n",
            "sub/f.txt": b"$Format:%H$\n",  # "sub" names the directory, not the file
            "z/sub": b"$Format:%H$\n",
        }
    )
    repo = check_repo(root, files)
    assert repo.commit == _git(repo.path, "rev-parse", "main").strip()


def test_quoted_patterns(root: Path) -> None:
    files = _files(
        {
            ".gitattributes": (
                b'"with space.txt" eol=crlf\n'
                b'"tab\\there" eol=crlf\n'
                b'"\\303\\251t\\303\\251.txt" eol=crlf\n'
                b'"quo\\"te" eol=crlf\n'
                b'"back\\\\slash" eol=crlf\n'
                b'"adjacent"eol=crlf\n'
                b'"bad\\q" eol=crlf\n'  # invalid quoting: parsed unquoted
                b'"unterminated eol=crlf\n'
                b'"nul\\000after" eol=crlf\n'
                b'"[attr]qm" text eol=crlf\n'
                b"*.qm qm\n"
            ),
            "with space.txt": b"1\n",
            "tab\there": b"2\n",
            "\u00e9t\u00e9.txt": b"3\n",
            'quo"te': b"4\n",
            "back\\slash": b"5\n",
            "adjacent": b"6\n",
            '"bad\\q"': b"7\n",
            "nul": b"8\n",
            "a.qm": b"9\n",
        }
    )
    check_repo(root, files)


def test_macros(root: Path) -> None:
    files = _files(
        {
            ".gitattributes": (
                b"[attr]m1 text eol=crlf\n"
                b"[attr]m2 m1 -ident\n"
                b"[attr]m3 -text m1\n"  # m1 comes later on the line: it wins
                b"[attr]m4 m1 -text\n"
                b"[attr]loop1 loop2 diff\n"
                b"[attr]loop2 loop1 merge\n"
                b"[attr]m1 text eol=crlf ident\n"  # the last definition counts
                b"[attr]bad* text\n"
                b"[attr]  spaced eol=crlf\n"
                b"[attr]binary -text -diff eol=lf\n"  # redefining the built-in
                b"*.m1 m1\n"
                b"*.m2 m2\n"
                b"*.m3 m3\n"
                b"*.m4 m4\n"
                b"*.val m1=yes\n"
                b"*.off -m1\n"
                b"*.loop loop1\n"
                b"*.bin binary\n"
                b"*.binb binary text\n"
                b"*.bint text binary\n"
                b"*.sp spaced\n"
                b"*.both m1\n"
                b"*.both -m1\n"  # later and unset: the earlier m1 does not expand
                b"*.over ident\n"
                b"*.over -ident m1\n"
                b"[attr]export-subst eol=crlf ident\n"  # only where export-subst is set
                b"[attr]export-ignore eol=crlf\n"
                b"*.es export-subst\n"
                b"*.ei export-ignore\n"
            ),
            "sub/.gitattributes": b"[attr]m1 -text\n*.sub m1\n",
        }
    )
    for ext in ("m1", "m2", "m3", "m4", "val", "off", "loop", "bin", "binb", "bint", "sp"):
        files[f"f.{ext}"] = Entry(b"$Id$\nline\n")
    files["f.both"] = Entry(b"x\n")
    files["f.over"] = Entry(b"$Id$\n")
    files["f.es"] = Entry(b"$Id$\n$Format:%H$\n")
    files["f.ei"] = Entry(b"x\n")
    files["sub/f.sub"] = Entry(b"x\n")
    check_repo(root, files)


def test_file_format_quirks(root: Path) -> None:
    long_ok = b"l1 " + b"a" * (2047 - len(b"l1 eol=crlf ")) + b" eol=crlf"
    long_bad = b"l2 " + b"a" * (2048 - len(b"l2 eol=crlf ")) + b" eol=crlf"
    assert len(long_ok) == 2047 and len(long_bad) == 2048
    files = _files(
        {
            ".gitattributes": (
                b"\xef\xbb\xbfbom eol=crlf\n"  # git does not skip a BOM in an in-tree file
                b"\t  indented eol=crlf  \r\n"
                b"# comment eol=crlf\n"
                b"  # indented comment\n"
                b"crlfline eol=crlf\r\n"
                b"invalid eol=crlf bad*name\n"  # one invalid name drops the line
                b"dash eol=crlf -\n"
                b"eq eol=crlf =v\n"
                b"neg -eol=crlf ident=x !merge=y\n"
                b"val a.b_c-9=x=y eol=\n" + long_ok + b"\n" + long_bad + b"\n"
                b"before\0nul eol=crlf\n"
                b"after eol=crlf\n"  # after the NUL: never read
            ),
            "bom": b"1\n",
            "\ufeffbom": b"2\n",
            "indented": b"3\n",
            "crlfline": b"4\n",
            "invalid": b"5\n",
            "dash": b"6\n",
            "eq": b"7\n",
            "neg": b"8\n",
            "val": b"9\n",
            "l1": b"10\n",
            "l2": b"11\n",
            "before": b"12\n",
            "after": b"13\n",
        }
    )
    check_repo(root, files)


def test_symlinked_gitattributes(root: Path) -> None:
    # git reads the blob of an in-tree .gitattributes whatever its mode.
    files = _files(
        {
            ".gitattributes": Entry(b"*.txt eol=crlf", SYMLINK),
            "a.txt": b"x\n",
            "link": Entry(b"a.txt", SYMLINK),
            "exe.txt": Entry(b"y\n", EXECUTABLE),
        }
    )
    check_repo(root, files).check_object_ids()


ENCODING_BODIES = [
    b"plain ascii\n",
    b"caf\xc3\xa9 na\xc3\xafve \xc2\xa0nbsp\n",
    b"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xce\xb1\xce\xb2\n",
    b"euro \xe2\x82\xac smile \xf0\x9f\x98\x80\n",
    b"tag \xf3\xa0\x80\x81 char\n",
    b"\xef\xbb\xbfbom first\n",
    b"invalid \xff utf-8\n",
    b"surrogate \xed\xa0\x80\n",
    b"overlong \xc0\xaf and 5-byte \xf8\x88\x80\x80\x80\n",
    b"past the end \xf4\x90\x80\x80\n",
    b"truncated \xc3",
    b"nonchar \xef\xbf\xbe \xef\xbf\xbf\n",
    b"",
    b"lf\nonly\n",
    b"$Id$\r\n",
]
ENCODINGS = [
    "UTF-16",
    "utf-16",
    "UTF16",
    "UTF-16LE",
    "UTF-16BE",
    "UTF-16LE-BOM",
    "utf16be-bom",
    "UTF-32",
    "UTF-32LE",
    "UTF32BE",
    "UCS-2",
    "UCS-2BE",
    "UNICODELITTLE",
    "ASCII",
    "US-ASCII",
    "ISO-8859-1",
    "latin1",
    "LATIN-1",
    "L1",
    "ISO-8859-2",
    "ISO8859-5",
    "ISO_8859-7",
    "ISO-8859-15",
    "LATIN9",
    "ISO-8859-16",
    "CP1250",
    "WINDOWS-1251",
    "cp1252",
    "CP1253",
    "CP1254",
    "CP1256",
    "CP1257",
    "KOI8-R",
    "KOI8-U",
    "CP437",
    "IBM850",
    "866",
    "UTF-8",
    "utf8",
    "Utf-8",
    "",
]


def test_working_tree_encoding(root: Path) -> None:
    lines = []
    files: dict[str, bytes | Entry] = {}
    for i, enc in enumerate(ENCODINGS):
        lines.append(f"e{i}.* working-tree-encoding={enc}")
        lines.append(f"c{i}.* working-tree-encoding={enc} eol=crlf ident")
        for j, body in enumerate(ENCODING_BODIES):
            files[f"e{i}.{j}"] = body
            files[f"c{i}.{j}"] = body
    lines.append("u.* -working-tree-encoding")
    lines.append("n.* !working-tree-encoding")
    for j, body in enumerate(ENCODING_BODIES):
        files[f"u.{j}"] = body
        files[f"n.{j}"] = body
    files[".gitattributes"] = "\n".join(lines).encode() + b"\n"
    check_repo(root, _files(files))


ENCODING_CANDIDATES = (
    "plain ASCII \u00e9\u00e8\u00fc\u00df\u00f1\u00e6\u00f8\u0153\u0160\u017e\u0142"
    "\u0151\u0171\u011f\u0131\u015f\u0410\u0416\u044f\u0451\u0454\u0491\u03b1\u03a9"
    "\u05d0\u0627\u0e01\u20ac\u2018\u201d\u2022\u2122\u2500\u2591\u00a0\u00b5\u0192"
    "\u1e9e\u0174\ufffe\U0001f600"
)


def test_every_supported_encoding_name(root: Path) -> None:
    # Each name gosub accepts, against git's own iconv: a body of the characters the
    # encoding has, the same with tag characters (glibc drops them), and one with a
    # character it lacks (iconv fails, git keeps the UTF-8).
    lines = []
    files: dict[str, bytes | Entry] = {}
    for i, name in enumerate(sorted(_ENCODERS)):
        lines.append(f"n{i}.* working-tree-encoding={name}")
        encoder = _ENCODERS[name]
        have = []
        for ch in ENCODING_CANDIDATES:
            try:
                encoder(ch)
            except UnicodeError:
                continue
            have.append(ch)
        body = "".join(have) + "\n"
        files[f"n{i}.1"] = body.encode()
        files[f"n{i}.2"] = ("\U000e0001" + body + "\U000e007f").encode()
        files[f"n{i}.3"] = (body + "\u4e2d\U0001f600\n").encode()
    files[".gitattributes"] = "\n".join(lines).encode() + b"\n"
    check_repo(root, _files(files))


def test_working_tree_encoding_set_makes_git_fail(root: Path) -> None:
    files = _files({".gitattributes": b"*.x working-tree-encoding\n", "a.x": b"a\n"})
    repo = check_repo(root, files)
    assert repo.archive(go=True) is None


@pytest.mark.parametrize("encoding", ["SHIFT-JIS", "CP932", "EUC-JP", "GB18030", "nope", "UTF-7"])
def test_unreproducible_encoding_is_refused(encoding: str) -> None:
    attrs = Attributes.from_files(
        {".gitattributes": f"* working-tree-encoding={encoding}".encode()}
    )
    with pytest.raises(UnsupportedAttributeError, match=r"a\.txt"):
        convert_for_go_archive(b"x\n", attrs.lookup("a.txt"), "0" * 40, "a.txt")
    # An empty file is never re-encoded.
    assert convert_for_go_archive(b"", attrs.lookup("a.txt"), "0" * 40, "a.txt") == b""


def test_filter_is_a_no_op(root: Path) -> None:
    files = _files(
        {
            ".gitattributes": b"*.lfs filter=lfs diff=lfs merge=lfs -text\n*.f filter=x eol=crlf\n",
            "a.lfs": b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n",
            "b.f": b"x\ny\n",
        }
    )
    check_repo(root, files)


def test_reserved_builtin_names() -> None:
    # attr.c attr_name_reserved() (git 2.43 and later): a builtin_* name drops the line.
    attrs = Attributes.from_files(
        {".gitattributes": b"* eol=crlf builtin_objectmode=1\n[attr]builtin_x text\n* text\n"}
    )
    assert attrs.lookup("a") == {"text": True}


def test_from_files_rejects_other_paths() -> None:
    with pytest.raises(ValueError, match=r"not a \.gitattributes"):
        Attributes.from_files({"a/gitattributes": b""})


def test_lookup_states() -> None:
    attrs = Attributes.from_files(
        {
            ".gitattributes": b"* a -b c=v !d d2\n[attr]mac x -y\n*.m mac\n",
            "s/.gitattributes": b"* !a b=w\n",
        }
    )
    assert attrs.lookup("f") == {"a": True, "b": False, "c": "v", "d2": True}
    assert attrs.lookup("s/f") == {"b": "w", "c": "v", "d2": True}
    assert attrs.lookup("g.m") == {
        "a": True,
        "b": False,
        "c": "v",
        "d2": True,
        "mac": True,
        "x": True,
        "y": False,
    }
    assert attrs.altered_by_github_archive("f") is False


# ---------------------------------------------------------------------------------------
# Generated repositories
# ---------------------------------------------------------------------------------------

DIRS = ["", "a", "a/b", "a/b/c", "d", "x y"]
NAMES = [
    "f.txt",
    "g.c",
    "README",
    "h.TXT",
    "bin.dat",
    ".hidden",
    "sp ace.txt",
    "[x].txt",
    "st*r.c",
    "q?.md",
    "back\\sl.txt",
    "\u00fcn\u00ef.txt",
    "deep.txt",
    "ab",
    "!bang",
    "#hash",
]
PATTERN_ATOMS = [
    "*",
    "**",
    "?",
    "f",
    ".txt",
    "*.txt",
    "*.c",
    "a",
    "b",
    "c",
    "/",
    "[a-c]",
    "[!f]",
    "[^x]",
    "[[:alpha:]]",
    "[[:digit:]]",
    "[[:space:]]",
    "[[:bogus:]]",
    "[]]",
    "[!]",
    "[a-]",
    "[",
    "\\*",
    "\\",
    "\\[",
    "x y",
    "READ*",
    "[x]",
    "\u00fc",
    ".*",
    "**/",
    "/**",
    "d",
    "deep",
    "st*r",
    "q?",
    "#",
]
STATE_TOKENS = [
    "text",
    "-text",
    "!text",
    "text=auto",
    "text=input",
    "text=bogus",
    "text=",
    "eol=crlf",
    "eol=lf",
    "-eol",
    "eol=bogus",
    "crlf",
    "-crlf",
    "crlf=input",
    "crlf=auto",
    "ident",
    "-ident",
    "ident=x",
    "binary",
    "-binary",
    "!binary",
    "export-ignore",
    "-export-ignore",
    "!export-ignore",
    "export-subst",
    "-export-subst",
    "filter=lfs",
    "diff",
    "-diff",
    "merge=union",
    "m1",
    "-m1",
    "m2",
    "!m2",
    "m1=v",
    "working-tree-encoding=UTF-16",
    "working-tree-encoding=ISO-8859-1",
    "working-tree-encoding=utf-16le-bom",
    "working-tree-encoding=UTF-8",
    "working-tree-encoding=cp1252",
    "working-tree-encoding=",
    "-working-tree-encoding",
    "!working-tree-encoding",
    "a.b_c-d=x=y",
    "-neg=ignored",
]
BAD_TOKENS = ["-", "!", "=v", "bad*name", "--x", "é"]
CONTENT_PIECES = [
    b"plain\n",
    b"crlf\r\n",
    b"lone\rcr",
    b"\r",
    b"\n",
    b"\0",
    b"$Id$",
    b"$Id: old $",
    b"$Id: a b $",
    b"$Id:x\n$",
    b"$",
    b"$Format:%H$",
    b"$Format:",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\xe2\x82\xac",
    b"\xff",
    b"\xf3\xa0\x80\x81",
    b"\x1a",
    b"\x01\x02\x03",
    b"\x7f",
    b"\x1b\x08\x0c\t",
    b"text ",
]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    pattern = "".join(draw(st.lists(st.sampled_from(PATTERN_ATOMS), min_size=1, max_size=4)))
    prefix = draw(st.sampled_from(["", "", "", "/", "!", "a/", "**/"]))
    suffix = draw(st.sampled_from(["", "", "", "/"]))
    return prefix + pattern + suffix


def _c_quote(s: str) -> str:
    out = []
    for ch in s.encode():
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif ch >= 0x80:
            out.append(f"\\{ch:03o}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


@st.composite
def attribute_lines(draw: st.DrawFn, root: bool) -> str:
    kind = draw(st.sampled_from(["rule"] * 6 + ["macro", "comment", "blank", "bad"]))
    if kind == "comment":
        return "# " + draw(st.sampled_from(STATE_TOKENS))
    if kind == "blank":
        return draw(st.sampled_from(["", "   ", "\t"]))
    tokens = draw(st.lists(st.sampled_from(STATE_TOKENS), max_size=4))
    if kind == "bad":
        tokens.insert(draw(st.integers(0, len(tokens))), draw(st.sampled_from(BAD_TOKENS)))
    if kind == "macro":
        name = draw(
            st.sampled_from(["m1", "m2", "binary", "text", "bad*", "export-ignore", "export-subst"])
        )
        head = "[attr]" + name
    else:
        pattern = draw(patterns())
        needs_quotes = " " in pattern or pattern.startswith('"')
        head = _c_quote(pattern) if needs_quotes or (draw(st.booleans()) and root) else pattern
    lead = draw(st.sampled_from(["", "", " ", "\t"]))
    sep = draw(st.sampled_from([" ", " ", "\t", "  "]))
    return (
        lead + head + "".join(sep + t for t in tokens) + draw(st.sampled_from(["", "", "\r", " "]))
    )


@st.composite
def repositories(draw: st.DrawFn) -> dict[str, Entry]:
    files: dict[str, Entry] = {}
    for directory in draw(st.lists(st.sampled_from(DIRS), min_size=1, max_size=4, unique=True)):
        lines = draw(st.lists(attribute_lines(root=directory == ""), min_size=1, max_size=8))
        path = f"{directory}/.gitattributes" if directory else ".gitattributes"
        files[path] = Entry("\n".join(lines).encode() + b"\n")
    for _ in range(draw(st.integers(1, 14))):
        directory = draw(st.sampled_from(DIRS))
        name = draw(st.sampled_from(NAMES))
        content = b"".join(draw(st.lists(st.sampled_from(CONTENT_PIECES), max_size=8)))
        files[f"{directory}/{name}" if directory else name] = Entry(content)
    return files


@settings(
    max_examples=int(os.environ.get("GOSUB_GITATTR_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(repositories())
def test_generated_repositories_match_git(entries: dict[str, Entry]) -> None:
    with tempfile.TemporaryDirectory(prefix="gosub-gitattr-") as d:
        check_repo(Path(d), entries)


def test_crlf_conversion_regex_equivalence() -> None:
    # The replace-based LF→CRLF in gosub must agree with convert.c's loop.
    for data in [b"\n", b"\r\n", b"\r\r\n", b"a\nb\r\nc\rd\n\n", b"\n\r"]:
        attrs: dict[str, State] = {"text": True, "eol": "crlf"}
        expected = re.sub(rb"(?<!\r)\n", b"\r\n", data)
        assert convert_for_go_archive(data, attrs, "0" * 40, "p") == expected
