"""gosub.logs: the batched handler of ``gosub serve`` and its text format."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import pytest

from gosub.logs import BufferedHandler, TextFormatter


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("gosub.test-buffered")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for h in log.handlers[:]:
        log.removeHandler(h)
        h.close()


def _attach(log: logging.Logger, **kwargs: float) -> tuple[BufferedHandler, io.StringIO]:
    out = io.StringIO()
    handler = BufferedHandler(out, **kwargs)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    return handler, out


def test_info_lines_wait_for_the_interval(logger: logging.Logger) -> None:
    _, out = _attach(logger, interval=0.2)
    logger.info("one")
    logger.info("two")
    assert out.getvalue() == ""
    deadline = time.monotonic() + 5
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.getvalue() == "INFO one\nINFO two\n"


def test_a_warning_writes_everything_pending_in_order(logger: logging.Logger) -> None:
    _, out = _attach(logger, interval=60)
    logger.info("before")
    logger.warning("trouble")
    assert out.getvalue() == "INFO before\nWARNING trouble\n"


def test_a_full_buffer_is_written_at_once(logger: logging.Logger) -> None:
    _, out = _attach(logger, interval=60, max_bytes=100)
    for i in range(20):
        logger.info("line %02d", i)
    written = out.getvalue().splitlines()
    assert written and written == [f"INFO line {i:02d}" for i in range(len(written))]


def test_close_and_flush_write_what_is_pending(logger: logging.Logger) -> None:
    handler, out = _attach(logger, interval=60)
    logger.info("pending")
    handler.flush()
    assert out.getvalue() == "INFO pending\n"
    logger.info("at exit")
    logger.removeHandler(handler)
    handler.close()
    assert out.getvalue() == "INFO pending\nINFO at exit\n"


def test_text_format_is_loggings_default_time_format() -> None:
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    fast = TextFormatter()
    for created in (1_700_000_000.004, 1_700_000_000.999, 1_700_000_001.5, 1_700_000_000.25):
        record = logging.LogRecord("gosub.access", logging.INFO, "", 0, "GET %s", ("/x",), None)
        record.created = created
        record.msecs = int((created - int(created)) * 1000)
        assert fast.format(record) == plain.format(record)
