"""Tests that need a tool CI always installs (go, git, chromium, osls) skip without it on
a developer machine, but fail under CI (``CI`` set, as ``.ci/run`` does): CI cannot pass
green by silently skipping the tests that check gosub against Go itself."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    """Whether this run is CI's (the ``CI`` environment variable is set, non-empty)."""
    return bool(os.environ.get("CI"))


def missing(message: str) -> NoReturn:
    """A required tool is missing: skip the test on a developer machine, fail it under
    CI."""
    if under_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)
