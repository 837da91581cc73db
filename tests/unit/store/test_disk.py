"""DiskStore.list_after: ordered pages of a folder, the listing reused while unchanged."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from gosub.store import DiskStore


def _list(store: DiskStore, after: str, limit: int = 1000) -> list[str]:
    return asyncio.run(store.list_after("feed/", after, limit))


def test_pages_in_key_order_after_a_key(tmp_path: Path) -> None:
    store = DiskStore(tmp_path)
    for name in ("b", "a", "d", "c"):
        asyncio.run(store.put(f"feed/{name}", b""))
    (tmp_path / "feed" / ".tmp-x").write_bytes(b"")  # a write in progress: never listed
    (tmp_path / "feed" / "sub").mkdir()  # not a file
    assert _list(store, "") == ["feed/a", "feed/b", "feed/c", "feed/d"]
    assert _list(store, "feed/b") == ["feed/c", "feed/d"]
    assert _list(store, "feed/bb", limit=1) == ["feed/c"]
    assert _list(store, "feed/d") == []
    assert _list(store, "zzz") == []
    assert asyncio.run(store.list_after("none/", "", 10)) == []


def test_a_change_is_seen_even_in_the_same_mtime_tick(tmp_path: Path) -> None:
    store = DiskStore(tmp_path)
    asyncio.run(store.put("feed/a", b""))
    folder = tmp_path / "feed"
    long_ago = 1_600_000_000 * 1_000_000_000
    os.utime(folder, ns=(long_ago, long_ago))
    assert _list(store, "") == ["feed/a"]  # listed long after its last change: reused
    asyncio.run(store.put("feed/b", b""))
    assert _list(store, "") == ["feed/a", "feed/b"]  # the folder changed
    # A change within the same (coarse) mtime tick as a listing made right after the
    # previous change: that listing is never reused.
    tick = os.stat(folder).st_mtime_ns
    asyncio.run(store.put("feed/c", b""))
    os.utime(folder, ns=(tick, tick))
    assert _list(store, "") == ["feed/a", "feed/b", "feed/c"]
