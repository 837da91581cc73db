"""What gosub counts, process-wide, and what one request did.

Counters are plain dictionaries updated on the hot path (no locks: one event loop);
``/metrics`` renders them in the Prometheus text format with ``prometheus_client``, which
is imported only then (it costs a Lambda cold start ~30 ms it rarely needs).

Per request, :class:`RequestStats` (set by the web layer's outermost app) collects the
cache tier that answered and the upstream requests made, for the access log.
"""

from __future__ import annotations

import contextvars
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# The tiers, shallowest first: a request is reported at the deepest tier it reached.
TIERS = ("memory", "spool", "store", "upstream")


@dataclass
class RequestStats:
    """One request's story: the deepest cache tier it reached and its upstream calls."""

    tier: str = "memory"
    upstream: int = 0
    started: float = field(default_factory=time.monotonic)


_STATS: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar(
    "gosub_request_stats", default=None
)

# name → (help, label names, {label values: value})
_COUNTERS: dict[str, tuple[str, tuple[str, ...], defaultdict[tuple[str, ...], float]]] = {}
_GAUGES: dict[str, tuple[str, tuple[str, ...], dict[tuple[str, ...], float]]] = {}


def _counter(name: str, doc: str, labels: tuple[str, ...]) -> str:
    _COUNTERS[name] = (doc, labels, defaultdict(float))
    return name


REQUESTS = _counter("gosub_requests", "Requests answered, by kind and status.", ("kind", "status"))
TIER_HITS = _counter("gosub_cache_answers", "Requests by the deepest tier reached.", ("tier",))
UPSTREAM = _counter(
    "gosub_upstream_requests",
    "Requests to code hosts, by host, endpoint and status.",
    ("host", "endpoint", "status"),
)
COALESCED = _counter("gosub_coalesced_waits", "Requests that waited for another's build.", ())
BUILD_SECONDS = _counter("gosub_build_seconds", "Seconds spent building zips.", ())
BUILDS = _counter("gosub_builds", "Zips built.", ())
REFUSED = _counter("gosub_client_budget_refusals", "Requests refused by a client budget.", ())
_GAUGES["gosub_upstream_rate_limit_remaining"] = (
    "The rate limit a code host last reported as remaining.",
    ("host",),
    {},
)


def inc(name: str, *labels: str, by: float = 1.0) -> None:
    """Add ``by`` to counter ``name`` at ``labels``."""
    _COUNTERS[name][2][labels] += by


def rate_limit_remaining(host: str, remaining: float) -> None:
    """Record what a code host says is left of its rate limit."""
    _GAUGES["gosub_upstream_rate_limit_remaining"][2][(host,)] = remaining


def value(name: str, *labels: str) -> float:
    """A counter's current value (for tests and logs)."""
    return _COUNTERS[name][2].get(labels, 0.0)


def begin() -> tuple[RequestStats, contextvars.Token[RequestStats | None]]:
    """Start counting a request (the web layer's outermost app)."""
    stats = RequestStats()
    return stats, _STATS.set(stats)


def end(token: contextvars.Token[RequestStats | None]) -> None:
    """Stop counting the request :func:`begin` started."""
    _STATS.reset(token)


def current() -> RequestStats | None:
    """The current request's stats, if one is being counted."""
    return _STATS.get()


def reached(tier: str) -> None:
    """Note that the current request reached ``tier`` (one of :data:`TIERS`)."""
    stats = _STATS.get()
    if stats is not None and TIERS.index(tier) > TIERS.index(stats.tier):
        stats.tier = tier


def upstream_request(host: str, endpoint: str, status: int | str) -> None:
    """Count one request to a code host (also for the current request)."""
    inc(UPSTREAM, host, endpoint, str(status))
    stats = _STATS.get()
    if stats is not None:
        stats.upstream += 1
        reached("upstream")


def render() -> bytes:
    """Every counter and gauge in the Prometheus text exposition format."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    class _Collector:
        def collect(self) -> Iterator[Any]:
            for name, (doc, labels, values) in _COUNTERS.items():
                family = CounterMetricFamily(name, doc, labels=list(labels))
                for key, v in sorted(values.items()):
                    family.add_metric(list(key), v)
                yield family
            for name, (doc, labels, gvalues) in _GAUGES.items():
                gauge = GaugeMetricFamily(name, doc, labels=list(labels))
                for key, v in sorted(gvalues.items()):
                    gauge.add_metric(list(key), v)
                yield gauge

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return bytes(generate_latest(registry))
