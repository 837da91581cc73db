"""``gosub prefill``: fetch module versions into the persistent store ahead of time, so
``gosub serve --offline`` (``offline = true``) serves them with no network, and
``--export`` writes what the store holds as a static GOPROXY or Athens storage.

Each ``MODULE@VERSION`` (``CONFIG;/MODULE@VERSION`` for a URL config, as in the shared
server's URLs) is fetched the way a client would: ``.info``, ``.mod`` and ``.zip``
through the app ``gosub serve`` runs with the same settings (fixed modules, URL
configs, mirrors, the upstream), in-process, so the store is filled by the server's own
code and checks. A version already in the store (answered with the network barred) is
"already there": a run that stopped half-way is simply run again.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp

from gosub.errors import ConfigError
from gosub.golang import module as gomodule
from gosub.settings import Settings, build_app, load_settings
from gosub.store.athens import GoproxyTree, ModuleTree, open_tree

if TYPE_CHECKING:
    from gosub.store.s3 import S3Store  # boto3 only for those who use a bucket


@dataclass(frozen=True)
class Item:
    """One version to fetch: ``config`` is a URL-config segment (``""``: none)."""

    module: str
    version: str
    config: str = ""

    def __str__(self) -> str:
        at = f"{self.module}@{self.version}"
        return f"{self.config}/{at}" if self.config else at


@dataclass
class Summary:
    """What a prefill did."""

    fetched: list[Item] = field(default_factory=list)
    present: list[Item] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)


_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)")


def parse_item(text: str) -> Item:
    """``MODULE@VERSION`` or ``CONFIG;/MODULE@VERSION``."""
    config = ""
    if ";/" in text:
        config, _, text = text.partition(";/")
        config += ";"
    module, at, version = text.rpartition("@")
    if not at or not module or not version:
        raise ConfigError(f"{text!r} is not MODULE@VERSION")
    try:
        gomodule.check(module, version)
    except (gomodule.InvalidPathError, gomodule.InvalidVersionError) as exc:
        raise ConfigError(f"{text!r}: {exc}") from exc
    return Item(module, version, config)


def read_items(path: str | Path) -> list[Item]:
    """The versions a go.mod (its ``require`` lines), a go.sum (each module version;
    the ``/go.mod``-only lines too) or a ``module@version`` list names."""
    items: list[Item] = []
    text = Path(path).read_text(encoding="utf-8")
    name = Path(path).name
    in_block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip() if name != "go.sum" else raw.strip()
        if not line or line.startswith("#"):
            continue
        if name == "go.sum":
            parts = line.split()
            if len(parts) == 3:
                items.append(parse_item(f"{parts[0]}@{parts[1].removesuffix('/go.mod')}"))
            continue
        if name.endswith(".mod"):
            if line.startswith("require ("):
                in_block = True
                continue
            if in_block and line == ")":
                in_block = False
                continue
            if in_block or line.startswith("require "):
                m = _REQUIRE.match(line)
                if m:
                    path = m.group(1).strip('"')
                    items.append(parse_item(f"{path}@{m.group(2)}"))
            continue
        items.append(parse_item(line))
    return list(dict.fromkeys(items))


class Prefiller:
    """Fetches items through an app, ``jobs`` at a time."""

    def __init__(self, app: ASGIApp, settings: Settings, *, jobs: int = 4) -> None:
        from gosub.web.mirror import offline

        self.settings = settings
        self.online = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://prefill", timeout=None
        )
        self.barred = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=offline(app)), base_url="http://prefill", timeout=None
        )
        self.jobs = max(1, jobs)

    def _base(self, item: Item) -> str:
        if item.config:
            return self.settings.shared_base.rstrip("/") + "/" + item.config
        for m in self.settings.modules:
            if m.config.module == item.module:
                return m.base.rstrip("/")
        return ""

    async def _get_all(self, client: httpx.AsyncClient, item: Item) -> str | None:
        """None when ``.info``, ``.mod`` and ``.zip`` all answer 200, else why not."""
        esc = gomodule.escape_path(item.module)
        ver = gomodule.escape_version(item.version)
        for ext in ("info", "mod", "zip"):
            resp = await client.get(f"{self._base(item)}/{esc}/@v/{ver}.{ext}")
            if resp.status_code != 200:
                text = resp.text.strip().splitlines()[:1]
                return f".{ext}: {resp.status_code} {text[0] if text else ''}".strip()
        return None

    async def run(self, items: list[Item], progress: bool = True) -> Summary:
        from tqdm import tqdm

        summary = Summary()
        limit = asyncio.Semaphore(self.jobs)
        bar = tqdm(total=len(items), unit="version", disable=not progress, file=sys.stderr)

        async def one(item: Item) -> None:
            async with limit:
                try:
                    if await self._get_all(self.barred, item) is None:
                        summary.present.append(item)
                    else:
                        why = await self._get_all(self.online, item)
                        if why is None:
                            summary.fetched.append(item)
                            # The list too (best effort), so `go list -m -versions` and
                            # @latest have an answer offline.
                            esc = gomodule.escape_path(item.module)
                            await self.online.get(f"{self._base(item)}/{esc}/@v/list")
                        else:
                            summary.failed.append((item, why))
                except Exception as exc:
                    summary.failed.append((item, f"{type(exc).__name__}: {exc}"))
                bar.update(1)
                bar.set_postfix_str(str(item)[-40:], refresh=False)

        try:
            await asyncio.gather(*(one(i) for i in items))
        finally:
            bar.close()
            await self.online.aclose()
            await self.barred.aclose()
        return summary


def _verified(path: Path) -> bool:
    """Whether a stored file matches its ``NAME.sha256`` record (none: taken as is)."""
    record = path.with_name(path.name + ".sha256")
    if not record.is_file():
        return True
    return _matches(record.read_bytes(), _file_sha256(path), path.stat().st_size)


def _matches(record: bytes, sha256: str, size: int) -> bool:
    """Whether an integrity record (``DIGEST SIZE``) names these bytes."""
    return record.decode(errors="replace").split() == [sha256, str(size)]


def export(cache_dir: str | Path, dest: str | Path, layout: str) -> tuple[int, list[str]]:
    """Write every complete, intact version of the disk store at ``cache_dir`` into the
    tree at ``dest``; return the count written and the entries skipped (and why)."""
    root = Path(cache_dir)
    target = open_tree(dest, layout)
    written, skipped = 0, []
    for ns in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "git"):
        tree = GoproxyTree(ns)
        for module in tree.modules():
            for version in tree.versions(module):
                files = {k: tree.file(module, version, k) for k in ("info", "mod", "zip")}
                if not (_verified(files["mod"]) and _verified(files["zip"])):
                    skipped.append(f"{module}@{version}: does not match its integrity record")
                    continue
                target.write(
                    module,
                    version,
                    files["info"].read_bytes(),
                    files["mod"].read_bytes(),
                    files["zip"],
                )
                written += 1
    return written, skipped


async def export_bucket(store: S3Store, dest: str | Path, layout: str) -> tuple[int, list[str]]:
    """:func:`export` for an S3 store: every complete, intact version in the bucket (its
    prefix), walked a page of 1,000 keys at a time, each zip downloaded to a temporary
    file, checked against its integrity record and copied into the tree."""
    target = open_tree(dest, layout)
    written, skipped = 0, []
    after = ""
    with tempfile.TemporaryDirectory(prefix="gosub-export-") as tmp:
        while True:
            keys = await store.walk_after(after, 1000)
            for key in keys:
                found = _version_key(key)
                if found is None:
                    continue
                base, module, version = found
                why = await _export_one(store, target, base, module, version, Path(tmp))
                if why is None:
                    written += 1
                else:
                    skipped.append(f"{module}@{version}: {why}")
            if len(keys) < 1000:
                return written, skipped
            after = keys[-1]


def _version_key(key: str) -> tuple[str, str, str] | None:
    """``(NAMESPACE/ESCAPED/@v/ESCAPED_VERSION, module, version)`` for a version's zip
    key in the store; ``None`` for any other key (info, records, the index, lists)."""
    ns, _, rest = key.partition("/")
    escaped, sep, file = rest.rpartition("/@v/")
    if not (re.fullmatch(r"[0-9a-f]{20}", ns) and sep and file.endswith(".zip")):
        return None
    try:
        module = gomodule.unescape_path(escaped)
        version = gomodule.unescape_version(file[: -len(".zip")])
    except ValueError:
        return None
    return key[: -len(".zip")], module, version


async def _export_one(
    store: S3Store, target: ModuleTree, base: str, module: str, version: str, tmp: Path
) -> str | None:
    """Copy one version into ``target``; why not, when it was not."""
    info, mod = await store.get(base + ".info"), await store.get(base + ".mod")
    if info is None or mod is None:
        return "incomplete in the store (no .info or .mod)"
    zip_path = tmp / "v.zip"
    if not await store.get_file(base + ".zip", zip_path):
        return "its zip vanished from the store"
    try:
        actual = {
            ".mod": (hashlib.sha256(mod).hexdigest(), len(mod)),
            ".zip": (await asyncio.to_thread(_file_sha256, zip_path), zip_path.stat().st_size),
        }
        for name, (digest, size) in actual.items():
            record = await store.get(base + name + ".sha256")
            if record is not None and not _matches(record, digest, size):
                return "does not match its integrity record"
        await asyncio.to_thread(target.write, module, version, info, mod, zip_path)
    finally:
        zip_path.unlink(missing_ok=True)
    return None


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def run_prefill(args: argparse.Namespace) -> int:
    """The ``gosub prefill`` command."""
    # The operator's own fetches: no per-client budget of upstream requests.
    settings = dataclasses.replace(load_settings(path=args.config), client_rate=0.0)
    if settings.offline:
        raise ConfigError("prefill fetches: run it with offline = false (then serve offline)")
    if not settings.cache_dir and not settings.cache_bucket:
        raise ConfigError("prefill needs a persistent store: set cache_dir or cache_bucket")
    items = [parse_item(i) for i in args.items]
    if args.from_file:
        items += read_items(args.from_file)
    items = list(dict.fromkeys(items))
    status = 0
    if items:
        summary = asyncio.run(
            Prefiller(build_app(settings), settings, jobs=args.jobs).run(
                items, progress=os.isatty(2)
            )
        )
        print(
            f"prefill: {len(summary.fetched)} fetched, {len(summary.present)} already there, "
            f"{len(summary.failed)} failed"
        )
        for item, why in summary.failed:
            print(f"  failed {item}: {why}")
        status = 1 if summary.failed else 0
    elif not args.export:
        raise ConfigError("nothing to do: give MODULE@VERSION, --from FILE or --export DIR")
    if args.export:
        if settings.cache_bucket:
            from gosub.store.s3 import S3Store

            bucket = S3Store(settings.cache_bucket, prefix=settings.cache_prefix)
            written, skipped = asyncio.run(export_bucket(bucket, args.export, args.layout))
        else:
            written, skipped = export(settings.cache_dir, args.export, args.layout)
        print(f"export: {written} versions into {args.export} ({args.layout} layout)")
        for why in skipped:
            print(f"  skipped {why}")
        if skipped:
            status = 1
    return status


__all__ = [
    "Item",
    "Prefiller",
    "Summary",
    "export",
    "export_bucket",
    "parse_item",
    "read_items",
    "run_prefill",
]
