"""The in-process tier: immutable results memoised, concurrent work coalesced.

A module version, once served, is immutable (its h1: sum is in everyone's go.sum), so
results computed for a canonical version are kept for the life of the process:
:meth:`ProcessCache.once` runs a coroutine once per key; concurrent callers share the
same run (coalescing), successes are remembered (LRU, bounded in entries and in
estimated bytes), failures are not.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from gosub import deadline, metrics, upstream
from gosub.errors import UpstreamError

T = TypeVar("T")


def weight(value: object) -> int:
    """A rough size in bytes of a cached value, for the byte bound: the length of bytes
    and strings, summed over the fields of dataclasses and the items of containers, plus
    a fixed overhead per object."""
    if isinstance(value, bytes | bytearray | str):
        return 64 + len(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(weight(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, list | tuple | set | frozenset):
        return 64 + sum(weight(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(weight(k) + weight(v) for k, v in value.items())
    return 64


class _JoinedRefusal(Exception):
    """Shared work failed on the refusal of the request that started it."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class ProcessCache:
    """The in-process tier: memoised immutable results and coalesced concurrent
    computations, per key, LRU-bounded in entries and in (estimated) bytes."""

    def __init__(self, *, max_entries: int = 20_000, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._done: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._running: dict[Hashable, asyncio.Task[Any]] = {}

    @property
    def size(self) -> int:
        """The estimated bytes held."""
        return self._bytes

    def get(self, key: Hashable) -> Any | None:
        """The remembered value for ``key``, or ``None``."""
        hit = self._done.get(key)
        if hit is None:
            return None
        self._done.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Remember ``value`` for ``key``, evicting the least recently used past the
        bounds (a value larger than the whole byte bound is not kept)."""
        w = weight(value)
        old = self._done.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if w > self.max_bytes:
            return
        self._done[key] = (value, w)
        self._bytes += w
        while len(self._done) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, ow) = self._done.popitem(last=False)
            self._bytes -= ow

    async def once(
        self, key: Hashable, factory: Callable[[], Awaitable[T]], *, remember: bool = True
    ) -> T:
        """The result of ``factory()`` for ``key``: from memory if known, shared with a
        concurrent caller if one is computing it, else computed now. With
        ``remember=False`` only concurrent callers share the result.

        The computation runs as a task of its own, outside any caller's deadline: a
        caller that gives up (its time limit, a dropped connection) stops waiting, while
        the work goes on for the others and lands in the cache."""
        for _ in range(3):
            try:
                return await self._once(key, factory, remember)
            except _JoinedRefusal as joined:
                # The caller that started the shared work may not contact code hosts
                # (past its budget, offline, a pkgsite fetch): that is its answer, not
                # this caller's. This one gets its own refusal if it has one (never
                # the other's message), else starts the work itself.
                upstream.check(joined.what)
        # Refused callers keep starting it first: this one does its own.
        result = await factory()
        if remember:
            self.put(key, result)
        return result

    async def _once(self, key: Hashable, factory: Callable[[], Awaitable[T]], remember: bool) -> T:
        hit = self._done.get(key)
        if hit is not None:
            self._done.move_to_end(key)
            return hit[0]  # type: ignore[no-any-return]
        task = self._running.get(key)
        joined = task is not None
        if task is not None:
            metrics.inc(metrics.COALESCED)
        else:
            task = asyncio.get_running_loop().create_task(
                self._run(key, factory, remember), context=deadline.detached()
            )
            self._running[key] = task
            # Retrieved here so a failure nobody waits for any more is not logged as lost.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            return await asyncio.shield(task)
        except Exception as exc:
            what = upstream.refused_what(exc)
            if joined and what is not None:
                raise _JoinedRefusal(what) from exc
            raise
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this caller is being cancelled: the work goes on without it
            # The shared work itself was cancelled (a shutdown), not this caller.
            raise UpstreamError("gosub stopped building this answer; try again") from None

    async def _run(self, key: Hashable, factory: Callable[[], Awaitable[T]], remember: bool) -> T:
        try:
            result = await factory()
            if remember:
                self.put(key, result)
            return result
        finally:
            self._running.pop(key, None)
