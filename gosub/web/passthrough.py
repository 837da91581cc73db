"""Upstream pass-through: requests that no fixed module or URL config covers go to an
upstream GOPROXY (``upstream = "https://proxy.golang.org"``); what comes back is
checked, kept in the persistent store and served from there forever, byte for byte,
also once the upstream is gone. Plus the ``/sumdb/`` endpoints the go command asks
every proxy about.

**What is checked** before a version is stored (a stored version is in everyone's
go.sum, so nothing unchecked becomes one): the ``.info`` names the version asked for;
the zip is a valid module zip for ``MODULE@VERSION`` (every entry under
``MODULE@VERSION/``, Go's file-path, case-collision, vendor-free and size rules of
x/mod/zip, only Store and Deflate entries, so its ``h1:`` can be computed); its
``go.mod`` is the ``.mod`` byte for byte (without one, the ``.mod`` must be the
``module PATH`` Go synthesises). Zip and ``.mod`` get integrity records
(``NAME.sha256``) as the other store entries do, and a stored entry that reads back
otherwise is a miss.

**/sumdb/NAME/supported** answers 404, so the go command asks the checksum database
itself, unless ``sumdb_proxy`` is set (``"https://sum.golang.org"``, or
``"NAME=URL"`` for a mirror of database NAME at URL): then ``/sumdb/NAME/...``
(``supported``, ``latest``, ``lookup/``, ``tile/``) is relayed to it, for clients
behind a firewall, as Athens and goproxy do.

``on_new_version(module, version)`` is called once for each version stored for the
first time (for the ``/index`` feed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gosub import upstream
from gosub.errors import GosubError, NotFoundError, UpstreamError
from gosub.golang import dirhash, gomod, modzip, pseudo, semver
from gosub.golang import module as gomodule
from gosub.store import DiskStore, Store, namespace, store_key
from gosub.web.mirror import split_request
from gosub.web.responses import (
    IMMUTABLE,
    SHORT,
    TEXT,
    error_response,
    internal_error,
    mark_stale,
    method_not_allowed,
    respond,
    text_error,
)

log = logging.getLogger("gosub.passthrough")

MAX_INFO = 1 << 20
MAX_ZIP = modzip.MAX_ZIP_FILE + (64 << 20)  # the files' limit plus headroom for headers
SUMDB_PARTS = ("supported", "latest", "lookup/", "tile/")


class BadUpstreamBytes(UpstreamError):
    """The upstream answered something that is not the module version asked for."""


def check_module_zip(path: Path, module: str, version: str, mod: bytes) -> str:
    """Check a module zip from an upstream as the go command would accept it, and that
    its go.mod is ``mod``; return its ``h1:``. Raises :class:`BadUpstreamBytes`."""
    where = f"{module}@{version}"
    prefix = f"{module}@{version}/"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            files: list[modzip.File] = []
            go_mod: bytes | None = None
            total = 0
            for info in infos:
                name = info.orig_filename
                if not name.startswith(prefix):
                    raise BadUpstreamBytes(f"{where}: zip entry {name!r} is not under {prefix}")
                rel = name[len(prefix) :]
                if info.is_dir():
                    continue
                total += info.file_size
                if total > modzip.MAX_ZIP_FILE:
                    raise BadUpstreamBytes(
                        f"{where}: zip holds more than {modzip.MAX_ZIP_FILE} bytes"
                    )
                data = zf.read(info) if rel == "go.mod" else None
                if data is not None:
                    go_mod = data

                def opener(i: zipfile.ZipInfo = info) -> IO[bytes]:
                    return zf.open(i)

                files.append(modzip.File(rel, "file", info.file_size, opener))
            result = modzip.check_files(files)
            err = result.err()
            if err is not None:
                raise BadUpstreamBytes(f"{where}: not a valid module zip: {err}")
            if result.omitted:
                p, why = result.omitted[0]
                raise BadUpstreamBytes(f"{where}: not a valid module zip: {p}: {why}")
        want = go_mod if go_mod is not None else gomod.legacy_go_mod(module)
        if want != mod:
            raise BadUpstreamBytes(
                f"{where}: the zip's go.mod is not the .mod the upstream serves"
                + ("" if go_mod is not None else " (no go.mod in the zip)")
            )
        return dirhash.hash_zip(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise BadUpstreamBytes(f"{where}: not a readable zip: {exc}") from exc


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest(), path.stat().st_size


class PassthroughApp:
    """The ASGI app :func:`passthrough` returns."""

    def __init__(
        self,
        upstream_url: str | None,
        store: Store | None,
        *,
        sumdb_proxy: str | None = None,
        on_new_version: Callable[[str, str], None] | None = None,
        fallback: ASGIApp | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 120.0,
    ) -> None:
        # None: only the /sumdb endpoints; module requests go to the fallback.
        self.upstream_url = upstream_url.rstrip("/") if upstream_url else None
        if store is None:
            # Served forever: without a configured store, a private one for the process.
            self._tmp = tempfile.TemporaryDirectory(prefix="gosub-upstream-")
            store = DiskStore(self._tmp.name)
        self.store = store
        # "URL" (relayed as /sumdb/URL's host/) or "NAME=URL".
        self.sumdb_name, self.sumdb_proxy = None, None
        if sumdb_proxy:
            name, eq, url = sumdb_proxy.partition("=")
            if not eq:
                name, url = urlsplit(sumdb_proxy).netloc, sumdb_proxy
            self.sumdb_name, self.sumdb_proxy = name, url.rstrip("/")
        self.on_new_version = on_new_version
        self.fallback = fallback
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self._ns = namespace(("upstream", self.upstream_url))
        self._checked: dict[str, tuple[str, int]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    # -- ASGI ---------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        rest = scope.get("path", "").lstrip("/")
        try:
            if rest.startswith("sumdb/"):
                response = await self._sumdb(request, rest[len("sumdb/") :])
            else:
                parts = split_request(rest)
                if parts is None:
                    response = None
                elif request.method not in ("GET", "HEAD"):
                    response = method_not_allowed()
                else:
                    response = await self._serve(request, *parts)
        except GosubError as exc:
            log.info("%s %s: %d %s", request.method, request.url.path, exc.status, exc.message)
            response = error_response(exc)
        except Exception:
            log.exception("internal error serving %s", request.url.path)
            response = internal_error()
        if response is None:
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
                return
            response = text_error(404, f"not found: {request.url.path} is not a GOPROXY request")
        await response(scope, receive, send)

    # -- the checksum database ------------------------------------------------------

    async def _sumdb(self, request: Request, rest: str) -> Response:
        name, _, tail = rest.partition("/")
        if self.sumdb_proxy is None or name != self.sumdb_name:
            return text_error(
                404, f"not found: this proxy does not relay checksum database {name!r}"
            )
        if not tail.startswith(SUMDB_PARTS) or ".." in tail.split("/"):
            return text_error(404, f"not found: {tail!r} is not a checksum database request")
        if tail == "supported":
            return Response(b"", status_code=200)
        upstream.check(f"checksum database {name}")
        try:
            resp = await self.client.get(f"{self.sumdb_proxy}/{tail}")
        except httpx.HTTPError as exc:
            raise UpstreamError(f"checksum database {name}: {exc}") from exc
        cache = IMMUTABLE if tail.startswith("tile/") and resp.status_code == 200 else "no-store"
        return Response(
            resp.content,
            status_code=resp.status_code,
            media_type=resp.headers.get("content-type", TEXT),
            headers={"Cache-Control": cache},
        )

    # -- the GOPROXY protocol -------------------------------------------------------

    def _key(self, escaped: str, name: str) -> str:
        return store_key(self._ns, escaped, name)

    async def _get_upstream(
        self, what: str, path: str, limit: int, dest: Path | None = None
    ) -> bytes:
        """``path`` from the upstream, at most ``limit`` bytes (a 404/410 is
        :class:`NotFoundError` with the upstream's text); streamed into the file
        ``dest`` when given (then ``b""`` is returned)."""
        upstream.check(what)
        try:
            async with self.client.stream("GET", f"{self.upstream_url}/{path}") as resp:
                if resp.status_code in (404, 410):
                    text = (await resp.aread())[:500].decode("utf-8", "replace").strip()
                    raise NotFoundError(f"{what}: upstream: {text or resp.status_code}")
                if resp.status_code != 200:
                    raise UpstreamError(f"{what}: the upstream answered {resp.status_code}")
                buf = bytearray()
                size = 0
                out = dest.open("wb") if dest is not None else None
                try:
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise BadUpstreamBytes(
                                f"{what}: the upstream's answer is over {limit} bytes"
                            )
                        if out is not None:
                            await anyio.to_thread.run_sync(out.write, chunk)
                        else:
                            buf += chunk
                finally:
                    if out is not None:
                        out.close()
                return bytes(buf)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{what}: the upstream failed: {exc}") from exc

    async def _serve(self, request: Request, escaped: str, file: str) -> Response | None:
        if self.upstream_url is None:
            return None
        try:
            module = gomodule.unescape_path(escaped)
            gomodule.check_path(module)
        except (ValueError, gomodule.InvalidPathError):
            return None
        if file in ("list", "@latest"):
            return await self._snapshot(request, module, escaped, file)
        stem, dot, ext = file.rpartition(".")
        if not dot or ext not in ("info", "mod", "zip"):
            return None
        try:
            version = gomodule.unescape_version(stem)
        except ValueError:
            return None
        if gomodule.canonical_version(version) != version:
            if ext != "info":
                raise NotFoundError(f"{module}@{version}: version is not canonical")
            body = await self._get_upstream(f"{module}@{version}", f"{escaped}/@v/{file}", MAX_INFO)
            return respond(request, body, "application/json", SHORT)
        await self._ensure(module, escaped, version)
        key = self._key(escaped, f"{stem}.{ext}")
        if ext == "zip":
            local = self.store.local_path(key)
            if local is not None:
                return FileResponse(
                    local, media_type="application/zip", headers={"Cache-Control": IMMUTABLE}
                )
        data = await self.store.get(key)
        if data is None:
            raise UpstreamError(f"{module}@{version}: the store lost its {ext}")
        media = {"info": "application/json", "mod": TEXT, "zip": "application/zip"}[ext]
        return respond(request, data, media, IMMUTABLE)

    async def _snapshot(self, request: Request, module: str, escaped: str, file: str) -> Response:
        """``list`` or ``@latest``: asked afresh, merged with (list) or kept as (latest)
        the stored answer, which serves when the upstream is unreachable."""
        path = f"{escaped}/@v/list" if file == "list" else f"{escaped}/@latest"
        key = self._key(escaped, "list") if file == "list" else f"{self._ns}/{escaped}/@latest"
        media = TEXT if file == "list" else "application/json"
        stale: str | None = None
        failure: GosubError | None = None
        body = b""
        try:
            body = await self._get_upstream(f"{module} {file}", path, MAX_INFO)
        except NotFoundError as exc:
            if upstream.allowed():
                raise
            failure = exc  # offline: the stored answer
        except UpstreamError as exc:
            failure = exc
        if failure is not None:
            kept = await self.store.get(key)
            if kept is None and file != "list":
                raise failure
            body, stale = kept or b"", failure.message  # a list: also what the store holds
        if file == "list":
            held = await self._held(escaped)
            listed = {v.strip() for v in body.decode("utf-8", "replace").split() if v.strip()}
            listed |= set(held)
            body = "".join(v + "\n" for v in semver.sort(listed)).encode()
            if failure is not None and not listed:
                raise failure
        if stale is None:
            await self.store.put(key, body)
        return mark_stale(respond(request, body, media, SHORT), stale)

    async def _held(self, escaped: str) -> list[str]:
        """Tagged versions kept in the store (from the stored list)."""
        data = await self.store.get(self._key(escaped, "list"))
        return (data or b"").decode("utf-8", "replace").split()

    async def _intact(self, key: str) -> bool:
        """Whether the stored ``key`` is there and reads back as its record says."""
        if key in self._checked:
            return True
        record = await self.store.get(key + ".sha256")
        data = await self.store.get(key)
        if record is None or data is None:
            return False
        try:
            digest, size = record.decode().split()
            want = (digest, int(size))
        except ValueError:
            return False
        got = (hashlib.sha256(data).hexdigest(), len(data))
        if got != want:
            log.warning("store entry %s is corrupt: fetching it again", key)
            return False
        self._checked[key] = got
        return True

    async def _ensure(self, module: str, escaped: str, version: str) -> None:
        """Make sure the store holds checked ``.info``, ``.mod`` and ``.zip`` of
        ``module@version``: from the upstream, once."""
        ev = gomodule.escape_version(version)
        keys = {ext: self._key(escaped, f"{ev}.{ext}") for ext in ("info", "mod", "zip")}
        if await self._present(keys):
            return
        lock = self._locks.setdefault(keys["zip"], anyio.Lock())
        async with lock:
            if await self._present(keys):
                return
            await self._fetch(module, escaped, version, keys)

    async def _present(self, keys: dict[str, str]) -> bool:
        return (
            await self.store.get(keys["info"]) is not None
            and await self._intact(keys["mod"])
            and await self._intact(keys["zip"])
        )

    async def _fetch(self, module: str, escaped: str, version: str, keys: dict[str, str]) -> None:
        where = f"{module}@{version}"
        ev = gomodule.escape_version(version)
        info = await self._get_upstream(where, f"{escaped}/@v/{ev}.info", MAX_INFO)
        try:
            if json.loads(info)["Version"] != version:
                raise BadUpstreamBytes(f"{where}: the upstream's .info names another version")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadUpstreamBytes(f"{where}: the upstream's .info is not JSON: {exc}") from exc
        mod = await self._get_upstream(where, f"{escaped}/@v/{ev}.mod", modzip.MAX_GO_MOD)
        with tempfile.TemporaryDirectory(prefix="gosub-upstream-zip-") as tmp:
            zpath = Path(tmp) / "module.zip"
            await self._get_upstream(where, f"{escaped}/@v/{ev}.zip", MAX_ZIP, dest=zpath)
            h1 = await anyio.to_thread.run_sync(check_module_zip, zpath, module, version, mod)
            zip_digest = await anyio.to_thread.run_sync(_sha256_file, zpath)
            # Only checked bytes are stored: zip and .mod with their records, .info last.
            await self.store.put_file(keys["zip"], zpath)
        mod_digest = (hashlib.sha256(mod).hexdigest(), len(mod))
        for key, (digest, size) in ((keys["zip"], zip_digest), (keys["mod"], mod_digest)):
            await self.store.put(key + ".sha256", f"{digest} {size}\n".encode())
        await self.store.put(keys["mod"], mod)
        await self.store.put(keys["info"], info)
        listed = set(await self._held(escaped))
        if not pseudo.is_pseudo_version(version):
            listed.add(version)
        await self.store.put(
            self._key(escaped, "list"), "".join(v + "\n" for v in semver.sort(listed)).encode()
        )
        log.info("stored %s from the upstream (%s)", where, h1)
        if self.on_new_version is not None:
            try:
                self.on_new_version(module, version)
            except Exception:
                log.exception("on_new_version(%s, %s) failed", module, version)

    async def aclose(self) -> None:
        """Close the upstream client."""
        await self.client.aclose()


def passthrough(
    upstream_url: str | None,
    store: Store | None,
    *,
    sumdb_proxy: str | None = None,
    on_new_version: Callable[[str, str], None] | None = None,
    fallback: ASGIApp | None = None,
    client: httpx.AsyncClient | None = None,
) -> PassthroughApp:
    """An app serving any module from ``upstream_url`` (a GOPROXY URL), each version
    checked and kept in ``store`` (default: a temporary directory for the process)."""
    return PassthroughApp(
        upstream_url,
        store,
        sumdb_proxy=sumdb_proxy,
        on_new_version=on_new_version,
        fallback=fallback,
        client=client,
    )


__all__ = ["BadUpstreamBytes", "PassthroughApp", "check_module_zip", "passthrough"]
