"""The in-process tier: byte and entry bounds, coalescing, failures not remembered."""

from __future__ import annotations

import asyncio

import pytest

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
