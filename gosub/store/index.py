"""The index feed (``/index``, in index.golang.org's format): which module versions gosub
has learned of, and when, kept in the persistent tier so that a restart, or another
instance on the same bucket or directory, serves the same feed.

**Layout.** One small object per entry, ``index/feed/TS-INSTANCE-NAME``: ``TS`` the time
gosub learned of the version in nanoseconds since the epoch (20 digits, so keys sort by
time), ``INSTANCE`` a random id per process, ``NAME`` ``PATH@VERSION`` percent-encoded
(the object also holds the entry as JSON; a name too long for a file name is left out of
the key and read from the object). A listing (S3 ``ListObjectsV2`` with ``StartAfter``, a
directory listing on disk) reads the feed in order, 1,000 entries a request, with no
object reads and no database server. ``index/seen/DIGEST`` marks a version as recorded,
so it is appended once.

**Strictly increasing timestamps** (pkgsite's cursor is the newest timestamp it has
stored, ``since`` is inclusive, and PostgreSQL keeps microseconds):

- a writer lists the feed's tail and picks ``max(now, newest + 1 ms)``, rounded to whole
  milliseconds, so its clock never puts an entry behind the feed;
- two instances appending at once may pick the same millisecond: the reader serves the
  ``n``-th key of one millisecond at ``TS + n`` microseconds, so the served timestamps
  are strictly increasing across the whole feed and survive PostgreSQL's rounding;
- after writing, the writer lists from its own millisecond on: when another writer's key
  is there (written concurrently, possibly read by a poller already past ours), it appends
  the entry again after it. A duplicate entry costs pkgsite one idempotent re-fetch; a
  skipped one would never be seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from gosub.store.base import Store

log = logging.getLogger("gosub.index")

FEED = "index/feed/"
SEEN = "index/seen/"
MAX_LIMIT = 2000
_MS = 1_000_000
_US = 1_000
# A new writer lists from this far back for the feed's newest entry: instances' clocks
# are assumed to agree within an hour.
_SKEW = 3600 * 1_000_000_000
_MAX_NAME = 180  # percent-encoded PATH@VERSION kept in the key (file names: 255 bytes)
_SAFE = "@.-_~+!"


@dataclass(frozen=True)
class IndexEntry:
    """One line of the feed."""

    path: str
    version: str
    timestamp: int  # nanoseconds since the epoch, as served

    def to_json(self) -> bytes:
        """``{"Path","Version","Timestamp"}`` as index.golang.org writes it."""
        body = {
            "Path": self.path,
            "Version": self.version,
            "Timestamp": format_time(self.timestamp),
        }
        return json.dumps(body).encode() + b"\n"


def format_time(ns: int) -> str:
    """RFC 3339 with nanoseconds, trailing zeros trimmed (Go's ``time.RFC3339Nano``)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def parse_time(text: str) -> int:
    """An RFC 3339 time (fractional seconds up to nanoseconds, any offset) in
    nanoseconds since the epoch; ``ValueError`` when it is not one."""
    text = text.strip()
    if len(text) < 20 or text[10] not in "Tt":
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    base, rest = text[:19], text[19:]
    frac = ""
    if rest.startswith("."):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, rest = rest[1:i], rest[i:]
        if not frac or len(frac) > 9:
            raise ValueError(f"bad fractional seconds in {text!r}")
    offset = "+00:00" if rest in ("Z", "z") else rest
    when = datetime.fromisoformat(base + offset)
    return int(when.timestamp()) * 1_000_000_000 + int(frac.ljust(9, "0") or 0)


def _name(path: str, version: str) -> str:
    return quote(f"{path}@{version}", safe=_SAFE)


class IndexLog:
    """Appends to and reads the feed in ``store`` (a :class:`Store` whose failures
    raise: not a :class:`~gosub.store.GuardedStore`'s swallowed ones)."""

    def __init__(self, store: Store, *, instance: str | None = None) -> None:
        self.store = store
        self.instance = instance or secrets.token_hex(4)
        self._seen: set[tuple[str, str]] = set()
        self._newest = 0  # the newest key timestamp this writer has listed or written
        self._tail = ""  # the last feed key listed: later listings start after it
        self._names: dict[str, tuple[str, str]] = {}  # key → entry, for long names

    # -- writing ----------------------------------------------------------------------

    async def record(self, path: str, version: str) -> bool:
        """Append ``path@version`` unless already recorded; ``True`` if appended. Store
        failures are logged and swallowed (the request being served goes on; the next
        process to learn of the version records it)."""
        if (path, version) in self._seen:
            return False
        try:
            marker = SEEN + hashlib.sha256(f"{path}@{version}".encode()).hexdigest()[:40]
            if await self.store.get(marker) is not None:
                self._seen.add((path, version))
                return False
            await self._append(path, version)
            await self.store.put(marker, b"")
        except Exception as exc:  # a failing store must not fail the request
            log.warning("could not record %s@%s in the index: %s", path, version, exc)
            return False
        self._seen.add((path, version))
        return True

    async def _append(self, path: str, version: str) -> None:
        body = json.dumps({"Path": path, "Version": version}).encode()
        name = _name(path, version)
        if len(name) > _MAX_NAME:
            name = ""
        for _attempt in range(5):
            await self._list_tail()
            ts = max(time.time_ns(), self._newest + _MS)
            ts -= ts % _MS
            key = f"{FEED}{ts:020d}-{self.instance}-{name}"
            await self.store.put(key, body)
            self._newest = max(self._newest, ts)
            # Anyone else at a later millisecond? Then a poller may be past us. (One at
            # ours is fine: the reader ranks keys within a millisecond, and a poller at
            # that millisecond asks for it again, since is inclusive.)
            later = await self.store.list_after(FEED, f"{FEED}{ts:020d}-~", 1000)
            others = [k for k in later if _key_time(k) is not None]
            if not others:
                return
            self._newest = max(self._newest, *(_key_time(k) or 0 for k in others))
        log.warning("index entry %s@%s: still contended after 5 appends", path, version)

    async def _list_tail(self) -> None:
        if not self._tail:
            start = max(0, time.time_ns() - _SKEW)
            self._tail = f"{FEED}{start:020d}"
        while True:
            keys = await self.store.list_after(FEED, self._tail, 1000)
            for k in keys:
                t = _key_time(k)
                if t is not None:
                    self._newest = max(self._newest, t)
            if not keys:
                return
            self._tail = keys[-1]
            if len(keys) < 1000:
                return

    # -- reading ----------------------------------------------------------------------

    async def read(self, since: int = 0, limit: int = MAX_LIMIT) -> list[IndexEntry]:
        """Entries with a served timestamp ``>= since`` (nanoseconds), ascending, at
        most ``limit``. Store failures raise."""
        limit = max(1, min(limit, MAX_LIMIT))
        bucket = since - since % _MS
        after = f"{FEED}{bucket:020d}"
        out: list[IndexEntry] = []
        group_ts, rank = -1, 0
        while len(out) < limit:
            keys = await self.store.list_after(FEED, after, 1000)
            for key in keys:
                ts = _key_time(key)
                if ts is None:
                    continue
                if ts == group_ts:
                    rank += 1
                else:
                    group_ts, rank = ts, 0
                served = ts + min(rank, 999) * _US
                if served < since:
                    continue
                entry = await self._entry(key, served)
                if entry is not None:
                    out.append(entry)
                    if len(out) >= limit:
                        break
            if len(keys) < 1000:
                break
            after = keys[-1]
        return out

    async def _entry(self, key: str, served: int) -> IndexEntry | None:
        name = key[len(FEED) :].split("-", 2)[2] if key.count("-") >= 2 else ""
        if name:
            path, _, version = unquote(name).rpartition("@")
            return IndexEntry(path, version, served)
        found = self._names.get(key)
        if found is None:
            data = await self.store.get(key)
            try:
                doc = json.loads(data or b"")
                found = (str(doc["Path"]), str(doc["Version"]))
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable index entry %s: skipped", key)
                return None
            self._names[key] = found
        return IndexEntry(found[0], found[1], served)


def _key_time(key: str) -> int | None:
    head = key[len(FEED) :].split("-", 1)[0]
    return int(head) if len(head) == 20 and head.isdigit() else None


def encode_feed(entries: Iterable[IndexEntry]) -> bytes:
    """The JSON-lines body of an ``/index`` answer."""
    return b"".join(e.to_json() for e in entries)


__all__ = ["IndexEntry", "IndexLog", "encode_feed", "format_time", "parse_time"]
