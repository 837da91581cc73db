"""The git repositories the end-to-end tests serve, and the modules gosub serves from them.

Each :class:`Scenario` is a module: where it lives in which repository, the gosub config
that serves it, and (when Go's direct mode can fetch it too) the go-import prefix and
subdirectory of the direct-mode reference. Repositories are built once per session with
fixed dates, so commit hashes and h1: sums are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gosub import GoproxyConfig
from tests.support.git import GitRepo

ROOT_LICENSE = "Copyright 2024 Acme\n\nPermission is granted to anyone.\n"


@dataclass(frozen=True)
class Scenario:
    """A module served by gosub, and how Go's direct mode reaches the same module."""

    name: str  # also gosub's mount base: /NAME/
    module: str
    owner: str
    repo: str
    directory: str = ""
    tag_prefix: str = "v"
    tag_suffix: str = ""
    # Direct-mode reference: go-import prefix, repository to serve (default: the same
    # one) and subdirectory.
    direct_prefix: str | None = None
    direct_repo: str | None = None
    direct_subdir: str = ""
    versions: tuple[str, ...] = field(default_factory=tuple)

    def config(self) -> GoproxyConfig:
        """The gosub config serving this module."""
        return GoproxyConfig(
            url=f"https://github.com/{self.owner}/{self.repo}",
            module=self.module,
            directory=self.directory,
            tag_prefix=self.tag_prefix,
            tag_suffix=self.tag_suffix,
        )


def _mono(repo: GitRepo) -> None:
    """acme/mono: a module in go/lib with most of Go's zip rules exercised."""
    d = "go/lib/"
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("README.md", "# mono\n")
    repo.write("go/other.go", "package other\n")
    repo.write(d + "go.mod", "module example.test/mono\n\ngo 1.21\n")
    repo.write(
        d + "lib.go",
        'package mono\n\n// Hello greets.\nfunc Hello() string { return "hello v1.0" }\n',
    )
    # A nested module, and a sibling directory sharing its name prefix (kept).
    repo.write(d + "inner/go.mod", "module example.test/mono/inner\n")
    repo.write(d + "inner/inner.go", "package inner\n")
    repo.write(d + "innerlib/innerlib.go", "package innerlib\n")
    # A testdata tree with its own go.mod is a nested module too (dropped).
    repo.write(d + "testdata/mod/go.mod", "module x\n")
    repo.write(d + "testdata/mod/x.go", "package x\n")
    repo.write(d + "testdata/plain.txt", "kept\n")
    # Vendor directories at several depths (go 1.21: the pre-1.24 rule).
    repo.write(d + "vendor/modules.txt", "# vendored\n")
    repo.write(d + "vendor/top.go", "package vendor\n")
    repo.write(d + "vendor/example.test/dep/dep.go", "package dep\n")
    repo.write(d + "pkg/vendor/vendor.go", "package vendor\n")
    repo.write(d + "pkg/pkg.go", "package pkg\n")
    # A symlink (omitted from the zip) and a name with a space and unicode (kept).
    repo.symlink(d + "link.go", "lib.go")
    repo.write(d + "dir with space/ünïcode.txt", "unicode name\n")
    repo.write(d + "script.sh", "#!/bin/sh\necho hi\n", executable=True)
    # A submodule entry: not a file in the zip.
    repo.gitlink(d + "submod", "0123456789abcdef0123456789abcdef01234567")
    repo.commit("v1.0.0", date="2024-01-02T03:04:05+07:00", author_date="2023-12-01T00:00:00Z")
    repo.tag("go/lib/v1.0.0")
    # v1.1.0: annotated tag whose tagger date differs from the commit's.
    repo.write(
        d + "lib.go",
        'package mono\n\n// Hello greets.\nfunc Hello() string { return "hello v1.1" }\n',
    )
    repo.commit("v1.1.0", date="2024-02-03T04:05:06-05:00", author_date="2024-01-15T12:00:00Z")
    repo.tag("go/lib/v1.1.0", annotated=True, date="2024-03-01T00:00:00Z", message="v1.1.0")
    # A pre-release.
    repo.write(d + "new.go", "package mono\n\n// New is new.\nfunc New() int { return 2 }\n")
    repo.commit("v1.2.0-rc.1", date="2024-03-04T05:06:07Z")
    repo.tag("go/lib/v1.2.0-rc.1")
    # go 1.24: the vendor rule changes (pkg/vendor/vendor.go, vendor/modules.txt).
    repo.write(d + "go.mod", "module example.test/mono\n\ngo 1.24\n")
    repo.write(
        d + "lib.go",
        'package mono\n\n// Hello greets.\nfunc Hello() string { return "hello v1.2" }\n',
    )
    repo.commit("v1.2.0", date="2024-04-05T06:07:08Z")
    repo.tag("go/lib/v1.2.0", annotated=True, date="2024-04-06T00:00:00Z", message="v1.2.0")
    # Untagged commits on main (a branch query gives a pseudo-version).
    repo.write(d + "later.go", "package mono\n\nconst Later = 1\n")
    repo.commit("after v1.2.0", date="2024-05-06T07:08:09Z")
    repo.write(d + "later.go", "package mono\n\nconst Later = 2\n")
    repo.commit("after v1.2.0 again", date="2024-05-07T07:08:09Z")
    # A branch with its own untagged work.
    repo.checkout("main", new_branch="feature")
    repo.write(d + "feature.go", "package mono\n\nconst Feature = true\n")
    repo.commit("feature work", date="2024-05-08T00:00:00Z")
    repo.checkout("main")


def _attrs(repo: GitRepo) -> None:
    """acme/attrs: .gitattributes with export-ignore, export-subst, eol and ident."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write(
        ".gitattributes",
        "*.crlf text eol=crlf\n*.id ident\nroot-ignored.txt export-ignore\n",
    )
    d = "mod/"
    repo.write(d + "go.mod", "module example.test/attrs\n\ngo 1.22\n")
    repo.write(d + "a.go", "package attrs\n")
    repo.write(
        d + ".gitattributes",
        "ignored.txt export-ignore\nignoredir export-ignore\nsubst.txt export-subst\n"
        "subst-crlf.txt export-subst text eol=crlf\nignored-id.txt export-ignore ident\n"
        "auto.txt text=auto\n",
    )
    repo.write(d + "ignored.txt", "Go keeps export-ignore'd files\n")
    repo.write(d + "ignored-id.txt", "ident: $Id$\n")
    repo.write(d + "ignoredir/kept.go", "package ignoredir\n")
    repo.write(d + "subst.txt", "commit: $Format:%H$\n")
    repo.write(d + "subst-crlf.txt", "line one\nline two $Format:%h$\n")
    repo.write(d + "lines.crlf", "one\ntwo\n")
    repo.write(d + "keep.id", "$Id$\n")
    repo.write(d + "auto.txt", "auto\r\nmixed\n")
    repo.write(d + "root-ignored.txt", "export-ignore from the root .gitattributes\n")
    repo.write(d + "bin.dat", b"\x00\x01binary\r\n")
    repo.commit("attrs", date="2024-06-01T00:00:00Z")
    repo.tag("mod/v1.0.0")


def _hidden(repo: GitRepo) -> None:
    """acme/hidden: .gitattributes files that export-ignore themselves (the root's, an
    ancestor's and one inside the module), so GitHub's archive has none of them, yet
    their rules shape it."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write(
        ".gitattributes",
        "/.gitattributes export-ignore\n*.secret export-ignore\nstamp.txt export-subst\n",
    )
    repo.write("pkg/.gitattributes", ".gitattributes export-ignore\n*.tmp export-ignore\n")
    d = "pkg/mod/"
    repo.write(d + "go.mod", "module example.test/hidden\n\ngo 1.22\n")
    repo.write(d + "a.go", "package hidden\n")
    repo.write(d + "x.secret", "left out of GitHub's archive only\n")
    repo.write(d + "y.tmp", "left out by an ancestor's hidden rule\n")
    repo.write(d + "stamp.txt", "commit: $Format:%H$\n")
    repo.write(d + "inner/.gitattributes", ".gitattributes export-ignore\nz.txt export-ignore\n")
    repo.write(d + "inner/z.txt", "left out by a hidden rule inside the module\n")
    repo.write(d + "inner/w.go", "package inner\n")
    repo.commit("hidden", date="2024-07-01T00:00:00Z")
    repo.tag("pkg/mod/v1.0.0")


def _retract(repo: GitRepo) -> None:
    """acme/retract: v1.1.0 retracted by the go.mod of the highest release, v1.1.1 (cut
    from v1.0.0 on another branch), so queries never land on v1.1.0 nor build on it."""
    d = "r/"
    repo.write(d + "go.mod", "module example.test/retract\n\ngo 1.21\n")
    repo.write(d + "r.go", "package retract\n\nconst V = 0\n")
    repo.commit("v1.0.0", date="2024-08-01T00:00:00Z")
    repo.tag("r/v1.0.0")
    repo.write(d + "r.go", "package retract\n\nconst V = 1\n")
    repo.commit("v1.1.0, broken", date="2024-08-02T00:00:00Z")
    repo.tag("r/v1.1.0")
    repo.branch("at-retracted")
    repo.write(d + "r.go", "package retract\n\nconst V = 2\n")
    repo.commit("after the retracted tag", date="2024-08-03T00:00:00Z")
    repo.checkout("r/v1.0.0", new_branch="fix")
    repo.write(
        d + "go.mod",
        "module example.test/retract\n\ngo 1.21\n\nretract (\n\tv1.1.0 // broken\n)\n",
    )
    repo.commit("v1.1.1 retracts v1.1.0", date="2024-08-04T00:00:00Z")
    repo.tag("r/v1.1.1")
    repo.checkout("main")


def _allretracted(repo: GitRepo) -> None:
    """acme/allretracted: every release retracted by the highest one's go.mod, so
    ``@latest`` is the default branch head (a pseudo-version), as in Go's direct mode."""
    d = "m/"
    repo.write(d + "go.mod", "module example.test/allretracted\n\ngo 1.21\n")
    repo.write(d + "m.go", "package m\n\nconst V = 0\n")
    repo.commit("v1.0.0", date="2024-09-01T00:00:00Z")
    repo.tag("m/v1.0.0")
    repo.write(
        d + "go.mod",
        "module example.test/allretracted\n\ngo 1.21\n\nretract [v1.0.0, v1.1.0] // all bad\n",
    )
    repo.commit("v1.1.0 retracts itself and v1.0.0", date="2024-09-02T00:00:00Z")
    repo.tag("m/v1.1.0")
    repo.write(d + "m.go", "package m\n\nconst V = 2\n")
    repo.commit("a fix, untagged", date="2024-09-03T00:00:00Z")


def _rootmod(repo: GitRepo) -> None:
    """acme/rootmod: a root module without go.mod, with v2+ tags (+incompatible)."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("root.go", "package rootmod\n")
    repo.commit("v1.0.0", date="2023-01-01T00:00:00Z")
    repo.tag("v1.0.0")
    repo.write("root.go", "package rootmod\n\nconst V = 2\n")
    repo.commit("v2.0.0", date="2023-02-01T00:00:00Z")
    repo.tag("v2.0.0")
    # Not versions: non-canonical, build metadata, no v, pseudo-looking.
    repo.tag("v2.1")
    repo.tag("v2.0.1+meta")
    repo.tag("3.0.0")
    repo.tag("v0.0.0-20230201000000-abcdefabcdef")


def _major(repo: GitRepo) -> None:
    """acme/major: example.test/major in sub/ and example.test/major/v2 in sub/v2/."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("sub/go.mod", "module example.test/major\n\ngo 1.20\n")
    repo.write("sub/major.go", "package major\n")
    repo.commit("v1", date="2023-03-01T00:00:00Z")
    repo.tag("sub/v1.0.0")
    repo.write("sub/v2/go.mod", "module example.test/major/v2\n\ngo 1.20\n")
    repo.write("sub/v2/major.go", "package major\n\nconst Major = 2\n")
    repo.commit("v2", date="2023-04-01T00:00:00Z")
    repo.tag("sub/v2.0.0")
    repo.write("sub/v2/more.go", "package major\n")
    repo.commit("v2.1", date="2023-05-01T00:00:00Z")
    repo.tag("sub/v2.1.0", annotated=True, date="2023-05-02T00:00:00Z", message="v2.1.0")


def _upper(repo: GitRepo) -> None:
    """acme/Upper: an uppercase module path and an uppercase pre-release."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("Lib/go.mod", "module example.test/Upper/Lib\n")
    repo.write("Lib/Lib.go", "package Lib\n")
    repo.commit("v1", date="2023-06-01T00:00:00Z")
    repo.tag("Lib/v1.0.0")
    repo.write("Lib/More.go", "package Lib\n")
    repo.commit("beta", date="2023-06-02T00:00:00Z")
    repo.tag("Lib/v1.1.0-Beta")


def _many(repo: GitRepo) -> None:
    """acme/many: more than 100 version tags (and a few that are not versions)."""
    repo.write("m/go.mod", "module example.test/many\n")
    for i in range(6):
        repo.write("m/m.go", f"package many\n\nconst N = {i}\n")
        repo.commit(f"c{i}", date=f"2023-07-0{i + 1}T00:00:00Z")
        for j in range(20):
            repo.tag(f"m/v1.{i}.{j}")
    repo.tag("m/vX")
    repo.tag("other-1.0.0")


def _custom(repo: GitRepo) -> None:
    """acme/custom: tags named mylib-go-X.Y.Z-release for a module in go/."""
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("go/go.mod", "module example.test/custom\n\ngo 1.22\n")
    repo.write("go/custom.go", "package custom\n")
    repo.write("js/index.js", "// not Go\n")
    repo.commit("1.0.0", date="2023-08-01T00:00:00Z")
    repo.tag("mylib-go-1.0.0-release")
    repo.tag("mylib-js-1.0.0-release")
    repo.write("go/custom.go", "package custom\n\nconst X = 1\n")
    repo.commit("1.1.0-beta.1", date="2023-08-02T00:00:00Z")
    repo.tag(
        "mylib-go-1.1.0-beta.1-release", annotated=True, date="2023-09-01T00:00:00Z", message="b"
    )
    repo.write("go/custom.go", "package custom\n\nconst X = 2\n")
    repo.commit("untagged", date="2023-08-03T00:00:00Z")


def _custom_goway(repo: GitRepo) -> None:
    """The same history as acme/custom, tagged Go's way (go/vX.Y.Z), for direct mode."""
    _custom(repo)
    for gosub_tag, go_tag in [
        ("mylib-go-1.0.0-release", "go/v1.0.0"),
        ("mylib-go-1.1.0-beta.1-release", "go/v1.1.0-beta.1"),
    ]:
        repo.tag(go_tag, ref=gosub_tag + "^{commit}")


def _empty(repo: GitRepo) -> None:
    """acme/empty: a module at the root and no tags at all."""
    repo.write("go.mod", "module example.test/empty\n")
    repo.write("e.go", "package empty\n")
    repo.commit("first", date="2023-10-01T00:00:00Z")
    repo.write("e.go", "package empty\n\nconst E = 1\n")
    repo.commit("second", date="2023-10-02T10:20:30+02:00")


BUILDERS: dict[str, Callable[[GitRepo], None]] = {
    "acme/mono": _mono,
    "acme/attrs": _attrs,
    "acme/rootmod": _rootmod,
    "acme/major": _major,
    "acme/Upper": _upper,
    "acme/many": _many,
    "acme/custom": _custom,
    "acme/custom-goway": _custom_goway,
    "acme/empty": _empty,
    "acme/hidden": _hidden,
    "acme/retract": _retract,
    "acme/allretracted": _allretracted,
}

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "mono",
            "example.test/mono",
            "acme",
            "mono",
            "go/lib",
            "go/lib/v",
            direct_prefix="example.test/mono",
            direct_subdir="go/lib",
            versions=("v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v1.2.0"),
        ),
        Scenario(
            "attrs",
            "example.test/attrs",
            "acme",
            "attrs",
            "mod",
            "mod/v",
            direct_prefix="example.test/attrs",
            direct_subdir="mod",
            versions=("v1.0.0",),
        ),
        Scenario(
            "hidden",
            "example.test/hidden",
            "acme",
            "hidden",
            "pkg/mod",
            "pkg/mod/v",
            direct_prefix="example.test/hidden",
            direct_subdir="pkg/mod",
            versions=("v1.0.0",),
        ),
        Scenario(
            "retract",
            "example.test/retract",
            "acme",
            "retract",
            "r",
            "r/v",
            direct_prefix="example.test/retract",
            direct_subdir="r",
            versions=("v1.0.0", "v1.1.0", "v1.1.1"),
        ),
        Scenario(
            "allretracted",
            "example.test/allretracted",
            "acme",
            "allretracted",
            "m",
            "m/v",
            direct_prefix="example.test/allretracted",
            direct_subdir="m",
            versions=("v1.0.0", "v1.1.0"),
        ),
        Scenario(
            "rootmod",
            "example.test/rootmod",
            "acme",
            "rootmod",
            direct_prefix="example.test/rootmod",
            versions=("v1.0.0", "v2.0.0+incompatible"),
        ),
        Scenario(
            "major",
            "example.test/major",
            "acme",
            "major",
            "sub",
            "sub/v",
            direct_prefix="example.test/major",
            direct_subdir="sub",
            versions=("v1.0.0",),
        ),
        Scenario(
            "major2",
            "example.test/major/v2",
            "acme",
            "major",
            "sub",
            "sub/v",
            direct_prefix="example.test/major",
            direct_subdir="sub",
            versions=("v2.0.0", "v2.1.0"),
        ),
        Scenario(
            "upper",
            "example.test/Upper/Lib",
            "acme",
            "Upper",
            "Lib",
            "Lib/v",
            direct_prefix="example.test/Upper/Lib",
            direct_subdir="Lib",
            versions=("v1.0.0", "v1.1.0-Beta"),
        ),
        Scenario(
            "many",
            "example.test/many",
            "acme",
            "many",
            "m",
            "m/v",
            direct_prefix="example.test/many",
            direct_subdir="m",
            versions=tuple(f"v1.{i}.{j}" for i in range(6) for j in range(20)),
        ),
        Scenario(
            "custom",
            "example.test/custom",
            "acme",
            "custom",
            "go",
            "mylib-go-",
            "-release",
            direct_prefix="example.test/custom",
            direct_repo="acme/custom-goway",
            direct_subdir="go",
            versions=("v1.0.0", "v1.1.0-beta.1"),
        ),
        Scenario(
            "empty",
            "example.test/empty",
            "acme",
            "empty",
            direct_prefix="example.test/empty",
            versions=(),
        ),
    ]
}


def build_all(root: Path) -> dict[str, GitRepo]:
    """Build every repository under ``root/OWNER/REPO``."""
    repos: dict[str, GitRepo] = {}
    for full, builder in BUILDERS.items():
        repo = GitRepo(root / full)
        builder(repo)
        repos[full] = repo
    return repos
