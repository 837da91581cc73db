"""stale-if-error: when GitHub fails, ``list`` and ``@latest`` are answered from the last
good answer (memory, then the persistent store), marked with a ``Gosub-Stale`` header and
``no-store``; with no good answer to fall back on, the failure is reported as before."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from gosub.web.shared import LIST_TTL
from tests.conftest import mono_server
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner

MONO = SCENARIOS["mono"]
RATE_LIMITED = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}


def test_list_and_latest_survive_a_github_outage(
    standin: GitHubStandin, tmp_path: Path, gocache: Path
) -> None:
    cache_dir = tmp_path / "cache"
    first = mono_server(standin, cache_dir)
    url = first.start()
    base = url + "/example.test/mono/@"
    try:
        standin.reset()
        good_list = httpx.get(base + "v/list")
        good_latest = httpx.get(base + "latest")
        assert good_list.status_code == good_latest.status_code == 200
        assert "gosub-stale" not in good_list.headers

        standin.fail("matching-refs", 503, times=1000)
        time.sleep(LIST_TTL)  # the outage outlasts the window in which gosub asks nobody
        stale = httpx.get(base + "v/list")
        assert stale.status_code == 200 and stale.text == good_list.text
        assert "503" in stale.headers["gosub-stale"], stale.headers
        assert stale.headers["cache-control"] == "no-store"
        latest = httpx.get(base + "latest")
        assert latest.status_code == 200 and "gosub-stale" in latest.headers
        assert json.loads(latest.text)["Version"] == json.loads(good_latest.text)["Version"]
        # The go command gets on with its work.
        go = GoRunner(tmp_path / "a", gocache=gocache)
        assert go.list_versions("example.test/mono", goproxy=url + "/") == list(MONO.versions)
        assert standin.counts["matching-refs"] > 0  # GitHub was asked, and failed
    finally:
        first.stop()

    # A restarted gosub (empty memory) falls back on the store's copy, here during a
    # rate limit.
    second = mono_server(standin, cache_dir)
    url = second.start()
    try:
        standin.reset()
        standin.fail("matching-refs", 403, times=1000, headers=RATE_LIMITED)
        r = httpx.get(url + "/example.test/mono/@v/list")
        assert r.status_code == 200 and r.text == good_list.text
        assert "rate limit" in r.headers["gosub-stale"]
        standin.reset()
        fresh = httpx.get(url + "/example.test/mono/@v/list")
        assert fresh.status_code == 200 and "gosub-stale" not in fresh.headers
    finally:
        second.stop()
        standin.reset()


def test_without_a_good_answer_the_failure_is_reported(
    standin: GitHubStandin, tmp_path: Path
) -> None:
    server = mono_server(standin, tmp_path / "cache")
    url = server.start()
    try:
        standin.reset()
        standin.fail("matching-refs", 503, times=1000)
        r = httpx.get(url + "/example.test/mono/@v/list")
        assert r.status_code == 502 and "gosub-stale" not in r.headers
        assert "503" in r.text
        latest = httpx.get(url + "/example.test/mono/@latest")
        assert latest.status_code == 502
    finally:
        server.stop()
        standin.reset()
