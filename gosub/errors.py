"""Errors gosub raises, each carrying the HTTP status and the message a Go user will read.

The go command prints the body of an error response (up to 8 lines of text/plain), so
every message says what is wrong and, where it can, what to do about it.
"""

from __future__ import annotations


class GosubError(Exception):
    """Base class: an error with an HTTP status and a user-facing message."""

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequestError(GosubError):
    """The request itself is malformed (bad escaping, bad path syntax)."""

    status = 400


class NotFoundError(GosubError):
    """The module, version or file does not exist (404: the go command falls through
    to the next GOPROXY entry on it)."""

    status = 404


class GoneError(NotFoundError):
    """The version exists upstream but Go would refuse it (invalid files, missing
    go.mod, wrong major version): permanent, so 410."""

    status = 410


class UpstreamError(GosubError):
    """The code host failed or answered something unusable (502)."""

    status = 502


class UpstreamTimeoutError(UpstreamError):
    """The code host did not answer in time (504)."""

    status = 504


class RateLimitedError(UpstreamError):
    """The code host's rate limit is exhausted (429, with Retry-After)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and what is accepted."""
