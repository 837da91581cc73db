"""``gosub pack``: one module version's ``.info``, ``.mod`` and ``.zip`` written to disk,
as a static GOPROXY or in Athens' disk layout, without running a server.

From a git repository (bare or not, or any git remote) it goes through the server's
own code: a ``forge="git"`` :class:`~gosub.config.GoproxyConfig` and
:class:`~gosub.modrepo.ModuleRepo`, so the version (tag ``PREFIX + X.Y.Z + SUFFIX``, or
what ``--ref`` resolves to), the time, the go.mod and the zip's file set are what the
server serves, and the sums are Go's direct mode's. From a plain directory, its files as
they are (x/mod/zip ``CreateFromDir``'s walk), zipped by :func:`gosub.golang.modzip.create`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, NotFoundError
from gosub.golang import gomod, modzip, pseudo
from gosub.golang import module as gomodule
from gosub.store.athens import open_tree

# x/mod/zip CreateFromDir skips these directories.
_VCS_DIRS = {".bzr", ".git", ".hg", ".svn"}


@dataclass(frozen=True)
class Packed:
    """What ``gosub pack`` wrote: the version and where its files are."""

    module: str
    version: str
    info: Path
    mod: Path
    zip: Path


def is_git_source(source: str) -> bool:
    """Whether ``source`` names a git repository (a work tree, a bare repository or a
    remote URL) rather than a plain directory of files."""
    if "://" in source or (":" in source and not os.path.exists(source)):
        return True
    p = Path(source)
    if (p / ".git").exists():
        return True
    return (p / "HEAD").is_file() and (p / "objects").is_dir() and (p / "refs").is_dir()


def _info_json(version: str, time: datetime) -> bytes:
    body = {"Version": version, "Time": time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return json.dumps(body).encode() + b"\n"


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def directory_files(root: Path) -> list[modzip.File]:
    """The files of a plain directory as x/mod/zip ``CreateFromDir`` lists them: VCS
    directories and directories holding a ``go.mod`` (nested modules) skipped, symlinks
    and other irregular files passed on (and omitted by :func:`modzip.create`)."""
    files: list[modzip.File] = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            sub = d / name
            if sub.is_symlink():
                filenames.append(name)  # a symlink to a directory: not followed
                continue
            if name in _VCS_DIRS:
                continue
            if (sub / "go.mod").is_file() and not (sub / "go.mod").is_symlink():
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            p = d / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                files.append(modzip.File(rel, "symlink", 0, _opener(p)))
            elif p.is_file():
                files.append(modzip.File(rel, "file", p.stat().st_size, _opener(p)))
            else:
                files.append(modzip.File(rel, "other", 0, _opener(p)))
    return files


def pack_directory(
    module: str, version: str, root: Path, zip_dest: Path, *, time: datetime | None = None
) -> tuple[bytes, bytes]:
    """Zip a plain directory's files as ``module@version`` into ``zip_dest``; return the
    ``.info`` and ``.mod`` bodies. The go.mod must declare ``module`` (without one,
    Go's synthesised ``module PATH`` is the ``.mod``); ``time`` is the ``.info`` Time
    (default: now)."""
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory")
    gomodule.check(module, version)
    if gomodule.canonical_version(version) != version:
        raise ConfigError(f"version {version!r} is not canonical")
    go_mod = root / "go.mod"
    if go_mod.is_file():
        mod = go_mod.read_bytes()
        declared = gomod.module_path(mod)
        if declared != module:
            raise ConfigError(f"{go_mod} declares module {declared!r}, not {module!r}")
    else:
        mod = gomod.legacy_go_mod(module)
    files = directory_files(root)
    try:
        with zip_dest.open("wb") as out:
            modzip.create(out, module, version, files)
    except modzip.ZipError as exc:
        zip_dest.unlink(missing_ok=True)
        raise ConfigError(f"{module}@{version}: {exc}") from exc
    return _info_json(version, time or datetime.now(UTC).replace(microsecond=0)), mod


async def pack_git(
    module: str,
    version: str,
    source: str,
    zip_dest: Path,
    *,
    directory: str = "",
    prefix: str = "v",
    suffix: str = "",
    ref: str | None = None,
) -> tuple[str, bytes, bytes]:
    """``module@version`` from a git repository through the server's code; the zip is
    copied to ``zip_dest``. Returns ``(version, info, mod)``.

    With ``ref`` (a branch, tag name or commit), the version is what Go resolves it to
    (a tag version on that commit, else a pseudo-version); ``version`` must be that, or
    a pseudo-version of the same commit (checked by Go's rules), or ``auto``."""
    import shutil

    from gosub.modrepo import ModuleRepo
    from gosub.web import make_shared

    url = source if "://" in source or not os.path.exists(source) else os.path.abspath(source)
    config = GoproxyConfig(
        url=url,
        forge="git",
        module=module,
        directory=directory,
        tag_prefix=prefix,
        tag_suffix=suffix,
    )
    shared = make_shared({}, cache_dir=None)
    try:
        src = shared.sources.open(config)
        repo = ModuleRepo(
            config, src, module, cache=shared.cache, zips=shared.zips, repo_url=src.url
        )
        if ref is not None:
            resolved = await repo.stat(ref)
            if version not in ("auto", resolved.version):
                if not (
                    pseudo.is_pseudo_version(version)
                    and resolved.commit.startswith(pseudo.pseudo_version_rev(version))
                ):
                    raise NotFoundError(
                        f"{module}: --ref {ref} resolves to {resolved.version} "
                        f"(commit {resolved.commit[:12]}), not {version}; pass that version "
                        "or 'auto'"
                    )
            else:
                version = resolved.version
        elif version == "auto":
            raise ConfigError("version 'auto' needs --ref")
        if gomodule.canonical_version(version) != version:
            raise ConfigError(
                f"version {version!r} is not canonical (a file name needs one such as v1.2.3)"
            )
        info = await repo.stat(version)
        mod = await repo.go_mod(version)
        stored = await repo.zip(version)
        shutil.copyfile(stored.path, zip_dest)
        return info.version, info.to_json(repo.repo_url, repo.code_dir), mod
    finally:
        await shared.aclose()


async def pack(
    module: str,
    version: str,
    source: str,
    out: str | Path,
    *,
    layout: str = "goproxy",
    directory: str = "",
    prefix: str = "v",
    suffix: str = "",
    ref: str | None = None,
    time: datetime | None = None,
) -> Packed:
    """Write ``module@version`` from ``source`` (a git repository or a plain directory)
    into the tree at ``out`` in ``layout`` (``goproxy`` or ``athens``)."""
    try:
        gomodule.check_path(module)
    except gomodule.InvalidPathError as exc:
        raise ConfigError(f"bad module path {module!r}: {exc}") from exc
    tree = open_tree(out, layout)
    tree.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gosub-pack-") as tmp:
        zip_tmp = Path(tmp) / "module.zip"
        if is_git_source(source):
            if time is not None:
                raise ConfigError("--time is for a plain directory: a git version has its time")
            version, info, mod = await pack_git(
                module,
                version,
                source,
                zip_tmp,
                directory=directory,
                prefix=prefix,
                suffix=suffix,
                ref=ref,
            )
        else:
            if ref is not None:
                raise ConfigError(f"--ref needs a git repository; {source} is a plain directory")
            root = Path(source) / directory if directory else Path(source)
            try:
                info, mod = pack_directory(module, version, root, zip_tmp, time=time)
            except (gomodule.InvalidPathError, gomodule.InvalidVersionError) as exc:
                raise ConfigError(str(exc)) from exc
        tree.write(module, version, info, mod, zip_tmp)
    return Packed(
        module,
        version,
        tree.file(module, version, "info"),
        tree.file(module, version, "mod"),
        tree.file(module, version, "zip"),
    )


__all__ = ["Packed", "directory_files", "is_git_source", "pack", "pack_directory", "pack_git"]
