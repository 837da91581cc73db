"""Serving what is already on disk: read-only mirrors and offline mode.

- :class:`MirrorApp` serves an Athens disk storage tree or a static GOPROXY tree (a
  GOMODCACHE ``cache/download``, the output of ``gosub pack``) as is, byte for byte, so a
  team moving from Athens keeps the bytes its go.sum files already name;
- :func:`offline` wraps any gosub app so that no request contacts a code host or the
  upstream (:func:`gosub.upstream.forbidden`): it serves the persistent store, and a
  miss is a 404 saying the version is not in the offline cache.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gosub import upstream
from gosub.errors import NotFoundError, UpstreamError
from gosub.golang import module as gomodule
from gosub.golang import semver
from gosub.store.athens import AthensTree, GoproxyTree, Kind
from gosub.web.responses import IMMUTABLE, SHORT, TEXT, method_not_allowed, respond, text_error


class OfflineMiss(NotFoundError, UpstreamError):
    """What an offline server answers for anything it does not hold: a 404 (so the go
    command falls through to its next GOPROXY entry). It is also an upstream failure,
    so a ``list`` or ``@latest`` is answered from the last good copy in the store."""

    status = 404


def offline_refusal(what: str) -> Exception:
    """The refusal an offline server gives a request that would need ``what``."""
    return OfflineMiss(
        f"{what} is not in the offline cache (this gosub serves offline: it contacts no "
        "code host or upstream)"
    )


class OfflineApp:
    """The app :func:`offline` returns."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with upstream.forbidden(offline_refusal):
            await self.app(scope, receive, send)


def offline(app: ASGIApp) -> OfflineApp:
    """``app`` with every request barred from code hosts and the upstream."""
    return OfflineApp(app)


def split_request(rest: str) -> tuple[str, str] | None:
    """``(escaped module, file)`` of a GOPROXY request path below the base: file is
    ``list``, ``@latest`` or ``ESCAPED_VERSION.info|.mod|.zip``; ``None`` for anything
    else."""
    if "/@v/" in rest:
        escaped, _, file = rest.partition("/@v/")
        if "/" in file:
            return None
        return escaped, file
    if rest.endswith("/@latest"):
        return rest[: -len("/@latest")], "@latest"
    return None


class MirrorApp:
    """A read-only GOPROXY over an :class:`AthensTree` or a :class:`GoproxyTree`."""

    def __init__(self, tree: AthensTree | GoproxyTree, *, fallback: ASGIApp | None = None) -> None:
        self.tree = tree
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            return
        request = Request(scope, receive)
        response = self.answer(request, scope.get("path", "").lstrip("/"))
        if response is None:
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
                return
            response = text_error(404, f"not found: {request.url.path} is not in this mirror")
        await response(scope, receive, send)

    def _listed(self, module: str) -> list[str]:
        if isinstance(self.tree, GoproxyTree):
            return self.tree.listed(module)
        return self.tree.versions(module)

    def answer(self, request: Request, rest: str) -> Response | None:
        """The answer from the tree, or ``None`` when it does not hold it."""
        parts = split_request(rest)
        if parts is None:
            return None
        escaped, file = parts
        try:
            module = gomodule.unescape_path(escaped)
        except ValueError:
            return None
        if file in ("list", "@latest"):
            versions = self._listed(module)
            if not versions:
                return None
            if request.method not in ("GET", "HEAD"):
                return method_not_allowed()
            if file == "list":
                body = "".join(v + "\n" for v in versions).encode()
                return respond(request, body, TEXT, SHORT)
            releases = [v for v in versions if not semver.prerelease(v)]
            latest = (releases or versions)[-1]
            path = self.tree.file(module, latest, "info")
            return respond(request, path.read_bytes(), "application/json", SHORT)
        stem, dot, ext = file.rpartition(".")
        kinds: dict[str, Kind] = {"info": "info", "mod": "mod", "zip": "zip"}
        if not dot or ext not in kinds:
            return None
        try:
            version = gomodule.unescape_version(stem)
            path = self.tree.file(module, version, kinds[ext])
        except (ValueError, gomodule.InvalidPathError):
            return None
        if version not in self.tree.versions(module):
            return None  # incomplete: Athens would not serve it either
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed()
        if ext == "zip":
            return FileResponse(
                path, media_type="application/zip", headers={"Cache-Control": IMMUTABLE}
            )
        media = "application/json" if ext == "info" else TEXT
        return respond(request, path.read_bytes(), media, IMMUTABLE)


def mirror(path: str | Path, layout: str, *, fallback: ASGIApp | None = None) -> MirrorApp:
    """A read-only app serving the tree at ``path`` (``layout`` ``athens`` or
    ``goproxy``); what it does not hold goes to ``fallback``."""
    tree = AthensTree(path) if layout == "athens" else GoproxyTree(path)
    if layout not in ("athens", "goproxy"):
        raise ValueError(f"mirror layout {layout!r} is not athens or goproxy")
    return MirrorApp(tree, fallback=fallback)


__all__ = ["MirrorApp", "OfflineApp", "OfflineMiss", "mirror", "offline", "offline_refusal"]
