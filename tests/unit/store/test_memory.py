"""The in-process tier: byte and entry bounds, coalescing, failures not remembered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from gosub import upstream
from gosub.errors import RateLimitedError
from gosub.store import ProcessCache, weight


def test_bounded_in_bytes_least_recently_used_first() -> None:
    cache = ProcessCache(max_bytes=3 * weight(b"x" * 1000))
    for k in "abc":
        cache.put(k, b"x" * 1000)
    assert cache.get("a") is not None  # now the most recently used
    cache.put("d", b"x" * 1000)
    assert cache.get("b") is None and cache.get("a") is not None
    assert cache.size <= cache.max_bytes
    cache.put("huge", b"x" * 10_000)  # larger than the whole bound: not kept
    assert cache.get("huge") is None and cache.get("a") is not None


def test_bounded_in_entries() -> None:
    cache = ProcessCache(max_entries=2)
    for k in "abc":
        cache.put(k, k)
    assert [cache.get(k) for k in "abc"] == [None, "b", "c"]


def test_replacing_a_value_keeps_the_byte_count_right() -> None:
    cache = ProcessCache()
    cache.put("k", b"x" * 100)
    cache.put("k", b"x" * 10)
    assert cache.size == weight(b"x" * 10)


async def test_once_coalesces_and_does_not_remember_failures() -> None:
    cache = ProcessCache()
    calls = 0

    async def work() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return b"done"

    results = await asyncio.gather(*(cache.once("k", work) for _ in range(20)))
    assert results == [b"done"] * 20 and calls == 1
    assert await cache.once("k", work) == b"done" and calls == 1

    async def broken() -> bytes:
        raise RuntimeError("upstream")

    with pytest.raises(RuntimeError):
        await cache.once("e", broken)
    assert await cache.once("e", work) == b"done"


def _refused(who: str) -> Callable[[str], Exception]:
    return lambda what: RateLimitedError(f"budget of {who} used up ({what} is not cached)")


async def test_a_refusal_of_the_starter_is_not_passed_to_those_who_joined() -> None:
    """Work shared by coalescing runs in the context of the request that started it: if
    that one may not contact code hosts (past its budget), a joiner that may does the
    work itself, and a joiner that may not gets its own refusal, not the starter's
    (which names another client)."""
    cache = ProcessCache()
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def build() -> bytes:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        upstream.check("example.test/m@v1.0.0")
        return b"built"

    async def as_client(who: str | None) -> bytes:
        if who is None:
            return await cache.once("k", build)
        with upstream.forbidden(_refused(who)):
            return await cache.once("k", build)

    starter = asyncio.create_task(as_client("198.51.100.1"))
    await started.wait()
    allowed = asyncio.create_task(as_client(None))
    refused = asyncio.create_task(as_client("198.51.100.2"))
    await asyncio.sleep(0.01)  # both joined the starter's work
    release.set()
    results = await asyncio.gather(starter, allowed, refused, return_exceptions=True)
    assert isinstance(results[0], RateLimitedError) and "198.51.100.1" in str(results[0])
    assert results[1] == b"built"
    assert isinstance(results[2], RateLimitedError)
    assert "198.51.100.2" in str(results[2]) and "198.51.100.1" not in str(results[2])
    assert calls == 2  # the starter's refused attempt, the allowed joiner's own
    assert await cache.once("k", build) == b"built" and calls == 2  # remembered
