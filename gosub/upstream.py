"""Whether the request being served may ask a code host anything.

Some requests must be answered from the caches alone: pkgsite's
``Disable-Module-Fetch: true``, an offline server, a client past its budget of upstream
requests. The web layer opens :func:`forbidden` with the error such a request gets; every
source calls :func:`check` before it contacts its host, so nothing is fetched and the
answer is that error.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_REFUSAL: contextvars.ContextVar[Callable[[str], Exception] | None] = contextvars.ContextVar(
    "gosub_upstream_refusal", default=None
)


@contextmanager
def forbidden(refusal: Callable[[str], Exception]) -> Iterator[None]:
    """Run the block with code hosts off limits: :func:`check` raises
    ``refusal(what)``."""
    token = _REFUSAL.set(refusal)
    try:
        yield
    finally:
        _REFUSAL.reset(token)


def check(what: str) -> None:
    """Raise the current request's refusal if it may not contact a code host about
    ``what``."""
    refusal = _REFUSAL.get()
    if refusal is not None:
        exc = refusal(what)
        setattr(exc, _REFUSED_WHAT, what)  # any exception type
        raise exc


_REFUSED_WHAT = "_gosub_refused_what"


def refused_what(exc: BaseException) -> str | None:
    """What ``exc`` refused to contact a code host about, when :func:`check` raised it
    (one request's refusal, which work shared with other requests must not pass on);
    else ``None``."""
    what = getattr(exc, _REFUSED_WHAT, None)
    return what if isinstance(what, str) else None


def allowed() -> bool:
    """Whether the current request may contact code hosts."""
    return _REFUSAL.get() is None
