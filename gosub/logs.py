"""Logging for ``gosub serve`` and the handlers: plain lines or JSON objects (one a line,
for log collectors), at a chosen level. Secrets never reach it: tokens are not logged,
URL query strings are redacted by the sources, and access lines carry no headers."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any, TextIO

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")
# LogRecord attributes that are not a caller's ``extra`` fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class BufferedHandler(logging.StreamHandler[TextIO]):
    """A stream handler that writes lines in batches: every ``interval`` seconds (from a
    daemon thread), when ``max_bytes`` are pending, at once for warnings and errors, and
    at exit (logging's shutdown flushes handlers). One write per batch instead of one per
    access line: with a line each request, that write was a tenth of a busy server's CPU.
    As nginx's ``access_log ... buffer= flush=``: a killed process loses at most
    ``interval`` seconds of info lines."""

    def __init__(self, stream: TextIO, *, interval: float = 0.2, max_bytes: int = 64 << 10):
        super().__init__(stream)
        self.interval = interval
        self.max_bytes = max_bytes
        self._pending: list[str] = []
        self._size = 0
        self._closed = threading.Event()
        thread = threading.Thread(target=self._flusher, name="gosub-log-flush", daemon=True)
        thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self._pending.append(line)
            self._size += len(line)
            if record.levelno >= logging.WARNING or self._size >= self.max_bytes:
                self._drain()
        except Exception:  # as StreamHandler: logging must never fail the caller
            self.handleError(record)

    def _drain(self) -> None:
        """Write what is pending (the caller holds the handler's lock)."""
        if self._pending:
            self._pending.append("")
            self.stream.write(self.terminator.join(self._pending))
            self._pending.clear()
            self._size = 0
        self.stream.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._drain()

    def close(self) -> None:
        self._closed.set()
        self.flush()
        super().close()

    def _flusher(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                self.flush()
            except Exception:  # a closed or broken stream: nothing left to log to
                return


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE``, the time's strftime done once a second (it is a
    good part of an access line's cost)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"


def configure(level: str = "info", fmt: str = "text", *, buffered: bool = False) -> None:
    """Send gosub's (and uvicorn's) logs to stderr at ``level`` in ``fmt``; ``buffered``
    (``gosub serve``) writes them in batches (:class:`BufferedHandler`)."""
    handler: logging.StreamHandler[TextIO] = (
        BufferedHandler(sys.stderr) if buffered else logging.StreamHandler(sys.stderr)
    )
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    # The logging HOWTO's optimisations: no caller, thread or process lookups, which
    # cost more than the rest of an access line (one per request).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO: useful at debug only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
