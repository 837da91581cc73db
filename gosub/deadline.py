"""The time limit of the request being served, visible to everything it calls.

The web layer opens a :func:`deadline` for each request; the code-host clients read
:func:`remaining` to size each attempt's timeout and to skip retries that cannot finish,
so a hanging host costs at most the request's own limit (and leaves time to answer from
a last good copy), never ``attempts x timeout``.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "gosub_deadline", default=None
)
# The whole request's limit in seconds, for messages.
_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("gosub_limit", default=None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now (``None``: none), never later
    than an enclosing one."""
    outer = _DEADLINE.get()
    when = None if seconds is None else time.monotonic() + seconds
    if outer is not None and (when is None or outer < when):
        when = outer
    token = _DEADLINE.set(when)
    limit = _LIMIT.set(_LIMIT.get() if outer is not None else seconds)
    try:
        yield
    finally:
        _LIMIT.reset(limit)
        _DEADLINE.reset(token)


def limit() -> float | None:
    """The request's whole time limit in seconds (the outermost deadline's), or ``None``."""
    return _LIMIT.get()


def remaining() -> float | None:
    """Seconds left before the current deadline (may be negative), or ``None``."""
    when = _DEADLINE.get()
    return None if when is None else when - time.monotonic()


def detached() -> contextvars.Context:
    """A copy of the current context without a deadline: for work shared by several
    requests (a coalesced build), which must not stop when its first requester gives up."""
    ctx = contextvars.copy_context()
    ctx.run(_DEADLINE.set, None)
    ctx.run(_LIMIT.set, None)
    return ctx
