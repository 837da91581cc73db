"""The fault switches both forge stand-ins (ghapi, glapi) offer: play what a real server
rarely does on cue, per endpoint name."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Injected:
    status: int
    times: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Tamper:
    change: Callable[[bytes], bytes]
    times: int


@dataclass
class _Stall:
    seconds: float
    times: int


def truncate(body: bytes) -> bytes:
    """A tamper: the first half of the bytes (at least one byte less)."""
    return body[: max(0, min(len(body) - 1, len(body) // 2))]


def alter(body: bytes) -> bytes:
    """A tamper: the same length, one byte changed in the middle."""
    if not body:
        return b"x"
    i = len(body) // 2
    return body[:i] + bytes([body[i] ^ 0x20 or 0x41]) + body[i + 1 :]


class FaultSwitches:
    """:meth:`fail` (any status and body), :meth:`tamper` (a 200 whose bytes are altered
    or cut, Content-Length matching, so only a content check can tell) and :meth:`stall`
    (an answer after a delay). The server calls :meth:`_apply_faults` under its lock."""

    _lock: threading.Lock

    def _init_faults(self) -> None:
        self._inject: dict[str, _Injected] = {}
        self._tamper: dict[str, _Tamper] = {}
        self._stall: dict[str, _Stall] = {}

    def _clear_faults(self) -> None:
        self._inject.clear()
        self._tamper.clear()
        self._stall.clear()

    def fail(
        self,
        endpoint: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with ``status``."""
        with self._lock:
            self._inject[endpoint] = _Injected(
                status, times, headers or {}, body or b'{"message":"injected failure"}'
            )

    def tamper(self, endpoint: str, change: Callable[[bytes], bytes], *, times: int = 1) -> None:
        """Pass the body of the next ``times`` 200 answers of ``endpoint`` through
        ``change`` (e.g. :func:`truncate`, :func:`alter`), Content-Length matching."""
        with self._lock:
            self._tamper[endpoint] = _Tamper(change, times)

    def stall(self, endpoint: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` answers of ``endpoint`` for ``seconds`` first."""
        with self._lock:
            self._stall[endpoint] = _Stall(seconds, times)

    def _apply_faults(
        self, endpoint: str, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes, float]:
        """The answer after the faults set for ``endpoint``, and the seconds to stall."""
        inj = self._inject.get(endpoint)
        if inj is not None and inj.times > 0:
            inj.times -= 1
            status, headers, body = inj.status, inj.headers, inj.body
        tam = self._tamper.get(endpoint)
        if tam is not None and tam.times > 0 and status == 200:
            tam.times -= 1
            body = tam.change(body)
            headers = {k: v for k, v in headers.items() if k.lower() != "etag"}
        stall = 0.0
        st = self._stall.get(endpoint)
        if st is not None and st.times > 0:
            st.times -= 1
            stall = st.seconds
        return status, headers, body, stall
