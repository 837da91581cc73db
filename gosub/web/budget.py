"""Budgets that keep anonymous clients of a public server from spending its token's
GitHub quota: a token bucket of upstream requests per client address.

A client with tokens left is served as usual, and afterwards charged the upstream
requests its request made; a client without is still served from the caches, but
anything that would ask a code host gets a 429 with ``Retry-After`` instead
(:func:`gosub.upstream.forbidden`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import Scope


@dataclass
class _Bucket:
    tokens: float
    at: float


class ClientBudgets:
    """Token buckets of upstream requests, one per client, bounded in clients.

    ``burst`` requests at once, refilled at ``rate`` a second (0: no limit). The client
    is the connection's address, or, behind ``trust_proxy_headers`` proxies (a number;
    ``True`` is one), the address the outermost of them saw: the entry that many from
    the right of ``X-Forwarded-For``, where each proxy appends its peer. Entries left of
    it are whatever the client wrote. With fewer entries than proxies, the request did
    not come through them all: the connection's address.
    """

    def __init__(
        self,
        *,
        burst: float = 100,
        rate: float = 0.5,
        trust_proxy_headers: bool | int = False,
        max_clients: int = 10_000,
    ) -> None:
        self.burst = burst
        self.rate = rate
        self.trusted_hops = int(trust_proxy_headers)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether any limit applies."""
        return self.rate > 0

    def client(self, scope: Scope) -> str:
        """Who is asking."""
        if self.trusted_hops:
            # Several X-Forwarded-For headers are one list, in order (RFC 9110 5.3).
            hops: list[str] = [
                hop.strip()
                for name, value in scope.get("headers", [])
                if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")
            ]
            if len(hops) >= self.trusted_hops and hops[-self.trusted_hops]:
                return hops[-self.trusted_hops]
        peer = scope.get("client")
        return str(peer[0]) if peer else "unknown"

    def _bucket(self, client: str) -> _Bucket:
        now = time.monotonic()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[client] = bucket
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets.move_to_end(client)
        return bucket

    def wait(self, client: str) -> int:
        """0 when ``client`` may cause upstream requests now, else the seconds until it
        may (the Retry-After)."""
        if not self.enabled:
            return 0
        bucket = self._bucket(client)
        if bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def charge(self, client: str, requests: int) -> None:
        """Take the upstream requests ``client``'s request made from its bucket."""
        if self.enabled and requests:
            self._bucket(client).tokens -= requests
