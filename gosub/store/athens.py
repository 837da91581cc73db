"""The two module trees other tools read and write on disk, outside gosub's own store:

- :class:`AthensTree`, Athens' disk storage (``ATHENS_DISK_STORAGE_ROOT``):
  ``ROOT/MODULE/VERSION/{go.mod, source.zip, VERSION.info}``, the module path and
  version as they are (not ``!``-escaped). Athens counts a version as present when its
  directory holds exactly those three files, so nothing else is ever written there;
- :class:`GoproxyTree`, a static GOPROXY (``GOPROXY=file:///ROOT``, a GOMODCACHE's
  ``cache/download``, the output of ``gosub pack``):
  ``ROOT/ESCAPED_MODULE/@v/ESCAPED_VERSION.{info,mod,zip}`` and ``@v/list``.

Both are read by :mod:`gosub.web.mirror` and written by ``gosub pack`` and
``gosub prefill --export``. Writes are atomic (temporary file, then rename); the zip
is written last, so a reader never finds a zip without its ``.info`` and ``.mod``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal, Protocol

from gosub.golang import module as gomodule
from gosub.golang import pseudo, semver

Kind = Literal["info", "mod", "zip"]
LAYOUTS = ("goproxy", "athens")


class ModuleTree(Protocol):
    """A directory of module versions in some tool's layout."""

    root: Path

    def file(self, module: str, version: str, kind: Kind) -> Path:
        """Where ``kind`` of ``module@version`` is (whether or not it exists)."""
        ...

    def versions(self, module: str) -> list[str]:
        """The complete versions of ``module`` held (all three files present), in
        semver order."""
        ...

    def modules(self) -> list[str]:
        """Every module path with at least one complete version."""
        ...

    def write(self, module: str, version: str, info: bytes, mod: bytes, zip_src: Path) -> None:
        """Store one version (``zip_src`` is copied)."""
        ...


def _check_element(module: str, version: str) -> None:
    """Refuse what cannot name a directory below the root (``..``, absolute paths)."""
    gomodule.check_path(module)
    if not version or "/" in version or version in (".", ".."):
        raise ValueError(f"bad version {version!r}")


def _atomic_write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_copy(dest: Path, src: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sorted(versions: set[str]) -> list[str]:
    return semver.sort(v for v in versions if semver.is_valid(v))


class AthensTree:
    """Athens' disk storage layout (``pkg/storage/fs``)."""

    NAMES = ("go.mod", "source.zip")

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, module: str, version: str) -> Path:
        _check_element(module, version)
        return self.root.joinpath(*module.split("/"), version)

    def file(self, module: str, version: str, kind: Kind) -> Path:
        d = self._dir(module, version)
        if kind == "info":
            return d / f"{version}.info"
        return d / ("go.mod" if kind == "mod" else "source.zip")

    def _complete(self, d: Path) -> bool:
        version = d.name
        return all((d / n).is_file() for n in (*self.NAMES, f"{version}.info"))

    def versions(self, module: str) -> list[str]:
        try:
            gomodule.check_path(module)
        except gomodule.InvalidPathError:
            return []
        base = self.root.joinpath(*module.split("/"))
        try:
            entries = list(base.iterdir())
        except OSError:
            return []
        return _sorted({d.name for d in entries if d.is_dir() and self._complete(d)})

    def modules(self) -> list[str]:
        found: set[str] = set()
        for dirpath, _dirnames, filenames in os.walk(self.root):
            if "source.zip" in filenames and "go.mod" in filenames:
                d = Path(dirpath)
                if self._complete(d):
                    found.add(d.parent.relative_to(self.root).as_posix())
        return sorted(found)

    def write(self, module: str, version: str, info: bytes, mod: bytes, zip_src: Path) -> None:
        d = self._dir(module, version)
        # Athens reads a version whose directory holds its three files: the zip last.
        _atomic_write(d / f"{version}.info", info)
        _atomic_write(d / "go.mod", mod)
        _atomic_copy(d / "source.zip", zip_src)


class GoproxyTree:
    """A static GOPROXY (the GOPROXY URL space on disk), as ``file://`` GOPROXY reads it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _vdir(self, module: str) -> Path:
        gomodule.check_path(module)
        return self.root.joinpath(*gomodule.escape_path(module).split("/"), "@v")

    def file(self, module: str, version: str, kind: Kind) -> Path:
        _check_element(module, version)
        return self._vdir(module) / f"{gomodule.escape_version(version)}.{kind}"

    def versions(self, module: str) -> list[str]:
        try:
            d = self._vdir(module)
            names = os.listdir(d)
        except (OSError, gomodule.InvalidPathError):
            return []
        have = set(names)
        found: set[str] = set()
        for name in names:
            if not name.endswith(".zip"):
                continue
            stem = name[: -len(".zip")]
            if f"{stem}.mod" in have and f"{stem}.info" in have:
                try:
                    found.add(gomodule.unescape_version(stem))
                except ValueError:
                    continue
        return _sorted(found)

    def listed(self, module: str) -> list[str]:
        """The ``list`` answer: the tagged versions held and those the ``list`` file
        names (a GOMODCACHE may list versions it has only the ``.mod`` of), never a
        pseudo-version (as proxy.golang.org)."""
        listed = set(self.versions(module))
        try:
            text = (self._vdir(module) / "list").read_text(encoding="utf-8")
            listed.update(line.strip() for line in text.splitlines() if line.strip())
        except (OSError, UnicodeDecodeError, gomodule.InvalidPathError):
            pass
        return _sorted({v for v in listed if not pseudo.is_pseudo_version(v)})

    def modules(self) -> list[str]:
        found: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            d = Path(dirpath)
            if d.name == "@v":
                dirnames[:] = []
                if any(n.endswith(".zip") for n in filenames):
                    try:
                        found.add(
                            gomodule.unescape_path(d.parent.relative_to(self.root).as_posix())
                        )
                    except ValueError:
                        continue
        return sorted(found)

    def write(self, module: str, version: str, info: bytes, mod: bytes, zip_src: Path) -> None:
        _atomic_write(self.file(module, version, "info"), info)
        _atomic_write(self.file(module, version, "mod"), mod)
        _atomic_copy(self.file(module, version, "zip"), zip_src)
        if not pseudo.is_pseudo_version(version):
            listed = set(self.listed(module)) | {version}
            body = "".join(v + "\n" for v in _sorted(listed))
            _atomic_write(self._vdir(module) / "list", body.encode())


def open_tree(path: str | Path, layout: str) -> AthensTree | GoproxyTree:
    """The tree at ``path`` in ``layout`` (``"athens"`` or ``"goproxy"``)."""
    if layout == "athens":
        return AthensTree(path)
    if layout == "goproxy":
        return GoproxyTree(path)
    raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")


__all__ = ["LAYOUTS", "AthensTree", "GoproxyTree", "ModuleTree", "open_tree"]
