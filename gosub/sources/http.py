"""What the forge API clients share: attempts sized to the request's deadline, bounded
retries with backoff, one wait for a short rate limit, and URL redaction for logs.

Each client (:mod:`gosub.sources.github`, :mod:`gosub.sources.gitlab`) supplies one
attempt (its own auth, redirects and body handling) and its own translation of an error
response; :func:`send` runs the loop around them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio.to_thread
import httpx

from gosub import deadline
from gosub.errors import (
    GoneError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gosub.sources.base import RetryPolicy
from gosub.sources.gitarchive import ArchiveFormatError, ArchiveTooLargeError

log = logging.getLogger("gosub.sources")

T = TypeVar("T")
E = TypeVar("E")

TRANSIENT = frozenset({500, 502, 503, 504})
# A rate limit that lifts within this many seconds is waited for once (inside the
# request's deadline) rather than reported.
SHORT_RETRY_AFTER = 10
# No attempt is started with less time than this left before the request's deadline.
MIN_ATTEMPT = 0.05
_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#\"']*")


def redact(text: str) -> str:
    """``text`` with the query string of every URL in it replaced: GitHub's temporary
    archive URLs carry a ``?token=``, and presigned URLs their signatures."""
    return _QUERY.sub(r"\1?REDACTED", text)


class _RedactQueries(logging.Filter):
    """Keeps URL query strings out of httpx's and httpcore's log lines (httpcore logs
    response headers at DEBUG, the archive redirect's Location among them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = redact(message), None
        return True


# Logger filters are not inherited: each logger that writes URLs gets its own.
for _name in ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection"):
    logging.getLogger(_name).addFilter(_RedactQueries())


def attempt_timeout(timeout: float, host: str, what: str) -> httpx.Timeout:
    """One attempt's timeout: ``timeout``, cut to the request's remaining time;
    :class:`UpstreamTimeoutError` when none is left."""
    seconds = timeout
    left = deadline.remaining()
    if left is not None:
        if left < MIN_ATTEMPT:
            raise UpstreamTimeoutError(
                f"{host} did not answer within the request's time limit ({what})"
            )
        seconds = min(seconds, left)
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def fits(seconds: float) -> bool:
    """Whether waiting ``seconds`` still leaves time for an attempt."""
    left = deadline.remaining()
    return left is None or seconds + MIN_ATTEMPT < left


async def send(
    attempt_once: Callable[[], Awaitable[tuple[httpx.Response, T]]],
    to_error: Callable[[httpx.Response, T], Exception],
    *,
    host: str,
    path: str,
    what: str,
    retry: RetryPolicy,
    attempts: int | None = None,
    ok: frozenset[int] = frozenset({200, 304}),
) -> tuple[httpx.Response, T]:
    """Run ``attempt_once`` with bounded retries inside the request's deadline: timeouts,
    transport errors and 5xx are retried with backoff, a rate limit that lifts within
    :data:`SHORT_RETRY_AFTER` seconds is waited for once, any other error answer raises
    ``to_error``'s error. ``attempt_once`` raises :class:`UpstreamTimeoutError` when no
    time is left to try."""
    last: Exception | None = None
    tries = attempts or retry.attempts
    waited = False
    attempt = 0
    while attempt < tries:
        attempt += 1
        if attempt > 1:
            pause = retry.delay(attempt - 1)
            if not fits(pause):
                break
            await asyncio.sleep(pause)
        try:
            resp, body = await attempt_once()
        except UpstreamTimeoutError as exc:  # no time left for an attempt
            last = last or exc
            break
        except httpx.TimeoutException:
            last = UpstreamTimeoutError(f"{host} did not answer in time ({what})")
            log.warning("%s timed out on %s (attempt %d)", host, redact(path), attempt)
            continue
        except httpx.TransportError as exc:
            last = UpstreamError(f"could not reach {host} ({what}): {redact(str(exc))}")
            log.warning(
                "%s transport error on %s (attempt %d): %s",
                host,
                redact(path),
                attempt,
                redact(str(exc)),
            )
            continue
        if resp.status_code in ok:
            return resp, body
        err = to_error(resp, body)
        if (
            isinstance(err, RateLimitedError)
            and not waited
            and err.retry_after is not None
            and err.retry_after <= SHORT_RETRY_AFTER
            and fits(err.retry_after)
        ):
            waited = True
            attempt -= 1  # the wait is not one of the bounded retries
            log.warning("%s rate limit on %s: waiting %d s", host, redact(path), err.retry_after)
            await asyncio.sleep(err.retry_after)
            continue
        if resp.status_code in TRANSIENT:
            last = err
            log.warning(
                "%s answered %d on %s (attempt %d)", host, resp.status_code, redact(path), attempt
            )
            continue
        raise err
    if last is None:
        last = UpstreamTimeoutError(
            f"{host} did not answer within the request's time limit ({what})"
        )
    raise last


def api_error(
    status: int,
    *,
    host: str,
    what: str,
    message: str,
    rate_limited: bool,
    retry_after: int | None,
    has_token: bool,
    token_var: str,
    more_quota: str,
) -> Exception:
    """The gosub error for a forge API's error answer: rate limits (429, with the
    advice of ``token_var`` and ``more_quota``), a rejected token, not found, and the
    rest as an upstream failure naming the status and the host's own message."""
    if rate_limited:
        advice = (
            "wait, or give gosub a token with more quota"
            if has_token
            else f"set {token_var} for gosub ({more_quota})"
        )
        when = f" for {retry_after} s" if retry_after is not None else ""
        return RateLimitedError(
            f"{host} rate limit exceeded{when} ({what}); {advice}", retry_after=retry_after
        )
    if status == 401:
        return UpstreamError(
            f"{host} rejected gosub's token (401 {message or 'Unauthorized'}); check {token_var}"
        )
    if status == 404:
        return NotFoundError(f"{what}: not found on {host}")
    detail = f": {message}" if message else ""
    return UpstreamError(f"{host} answered {status} ({what}){detail}")


async def download_and_extract(
    download: Callable[[int], Awaitable[None]],
    extract: Callable[[], E],
    *,
    what: str,
    retry: RetryPolicy,
    before_retry: Callable[[], None],
) -> E:
    """``download(attempt)`` then ``extract()`` (in a worker thread), retried (bounded)
    when the download fails or the archive turns out corrupt, since that is only seen
    when it is read. Rate limits, missing archives and size limits are raised at once;
    ``before_retry`` clears what a failed attempt left."""
    for attempt in range(1, retry.attempts + 1):
        if attempt > 1:
            await asyncio.sleep(retry.delay(attempt - 1))
            before_retry()
        try:
            await download(attempt)
            return await anyio.to_thread.run_sync(extract)
        except (RateLimitedError, NotFoundError, GoneError):
            raise
        except ArchiveTooLargeError as exc:
            raise GoneError(f"{what}: {exc}") from exc
        except (UpstreamError, ArchiveFormatError) as exc:
            if attempt == retry.attempts:
                if isinstance(exc, UpstreamError):
                    raise
                raise UpstreamError(f"{what}: {exc}") from exc
            log.warning("%s failed (attempt %d): %s", what, attempt, exc)
    raise AssertionError("unreachable")  # pragma: no cover
