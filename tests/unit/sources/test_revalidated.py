"""gosub.sources.base.Revalidated: the process's listings kept for If-None-Match."""

from __future__ import annotations

from gosub.sources.base import Revalidated


def test_bounded_in_estimated_bytes_oldest_first() -> None:
    kept = Revalidated(max_bytes=10_000)
    for i in range(10):
        kept.put(("api", f"/tags?page={i}"), f'W/"{i}"', [i], None, body_len=500)
    # Each counts 8 * 500 + 256 bytes: two fit in 10,000.
    assert kept.size <= 10_000
    assert kept.get(("api", "/tags?page=0")) is None
    assert kept.get(("api", "/tags?page=9")) == ('W/"9"', [9], None)
    assert kept.get(("api", "/tags?page=8")) is not None


def test_a_use_keeps_an_answer_and_a_replacement_is_counted_once() -> None:
    kept = Revalidated(max_bytes=3 * (8 * 100 + 256))
    for key in ("a", "b", "c"):
        kept.put(key, "e", key, None, body_len=100)
    assert kept.get("a") is not None  # now the newest
    kept.put("c", "e2", "c2", "next", body_len=100)  # replaced, not added
    assert kept.size == 3 * (8 * 100 + 256)
    kept.put("d", "e", "d", None, body_len=100)
    assert kept.get("b") is None and kept.get("a") is not None
    assert kept.get("c") == ("e2", "c2", "next")


def test_bounded_in_entries_and_too_big_is_not_kept() -> None:
    kept = Revalidated(max_bytes=1 << 30, max_entries=3)
    for i in range(5):
        kept.put(i, "e", i, None, body_len=1)
    assert [kept.get(i) is not None for i in range(5)] == [False, False, True, True, True]
    kept.put("huge", "e", b"", None, body_len=1 << 30)
    assert kept.get("huge") is None
