"""Unit-test configuration: the ``go`` marker for tests that run the real go command."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``go`` marker."""
    config.addinivalue_line(
        "markers",
        "go: runs the real go command (and git); without either, skipped on a developer "
        "machine and failed under CI",
    )
