"""What README promises about the mutable answers and about time, through the GitHub
stand-in (a real server, so a real client timeout and real ETags):

- ``list`` and ``@latest`` are asked afresh each time, revalidated with If-None-Match
  (a 304 costs no rate limit), and a changed answer is taken;
- GitHub's answers are bounded in time: a stalled answer is a 504, or, once a good
  answer exists, that answer marked ``Gosub-Stale``; a stalled archive is a 504 too;
- the request deadline holds even when the client timeout alone would not."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig, goproxy
from gosub.web import GoproxyApp
from tests.conftest import FAST_RETRY
from tests.repos import ROOT_LICENSE, SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo

MONO = SCENARIOS["mono"]
# A short client timeout, and stalls well past it (one per attempt).
CLIENT_TIMEOUT = 0.3
STALL = 1.0


@pytest.fixture
def clean_standin(standin: GitHubStandin) -> Iterator[GitHubStandin]:
    """The session stand-in, reset before and after (faults never leak)."""
    standin.reset()
    yield standin
    standin.reset()


def _app(standin: GitHubStandin, config: GoproxyConfig, **kwargs: object) -> GoproxyApp:
    # list_ttl 0: every request revalidates, as these tests of what one revalidation
    # does need; the window that spares them is tested in test_list_window.py.
    kwargs.setdefault("list_ttl", 0)
    return goproxy(
        "/",
        config,
        env={"GITHUB_API_URL": standin.api_url},
        retry=FAST_RETRY,
        **kwargs,  # type: ignore[arg-type]
    )


def _client(app: GoproxyApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gosub.test")


# -- ETag revalidation -------------------------------------------------------------------


@pytest.mark.parametrize("what", ["@v/list", "@latest"])
async def test_list_and_latest_are_revalidated_with_etags(
    clean_standin: GitHubStandin, what: str
) -> None:
    app = _app(clean_standin, MONO.config())
    async with _client(app) as c:
        first = await c.get(f"/{MONO.module}/{what}")
        asked = len(clean_standin.exchanges_of("matching-refs"))
        second = await c.get(f"/{MONO.module}/{what}")
    assert first.status_code == second.status_code == 200
    assert first.text == second.text and "gosub-stale" not in second.headers
    refs = clean_standin.exchanges_of("matching-refs")
    # The first listing is a plain 200; every later one, in the second request above
    # all (asked afresh, not answered from a cache), is revalidated and gets a 304.
    assert asked >= 1 and len(refs) > asked, refs
    assert "if-none-match" not in refs[0].headers and refs[0].status == 200
    for e in refs[1:]:
        assert e.headers.get("if-none-match", "").startswith('W/"'), e
        assert e.status == 304, e


async def test_a_changed_list_is_taken_not_the_remembered_one(
    clean_standin: GitHubStandin, repos_root: Path
) -> None:
    """Revalidation is not a cache: a new tag changes the ETag, GitHub answers 200,
    and gosub serves the new list."""
    repo = GitRepo(repos_root / "acme" / "etags")
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("go.mod", "module example.test/etags\n")
    repo.write("e.go", "package etags\n")
    repo.commit("one", date="2024-01-01T00:00:00Z")
    repo.tag("v1.0.0")
    app = _app(clean_standin, GoproxyConfig(url="https://github.com/acme/etags"))
    async with _client(app) as c:
        before = await c.get("/example.test/etags/@v/list")
        asked = len(clean_standin.exchanges_of("matching-refs"))
        repo.write("e.go", "package etags\n\nconst E = 2\n")
        repo.commit("two", date="2024-02-01T00:00:00Z")
        repo.tag("v1.1.0")
        after = await c.get("/example.test/etags/@v/list")
        latest = await c.get("/example.test/etags/@latest")
    assert before.text.split() == ["v1.0.0"]
    assert after.text.split() == ["v1.0.0", "v1.1.0"]
    assert json.loads(latest.text)["Version"] == "v1.1.0"
    refs = clean_standin.exchanges_of("matching-refs")
    # The first listing after the new tag was revalidated, and the changed list taken.
    changed = refs[asked]
    assert "if-none-match" in changed.headers and changed.status == 200, changed
    assert all("if-none-match" in e.headers for e in refs[asked:])


# -- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["@v/list", "@latest"])
async def test_a_stalled_github_answer_is_a_504(clean_standin: GitHubStandin, what: str) -> None:
    app = _app(clean_standin, MONO.config(), timeout=CLIENT_TIMEOUT)
    clean_standin.stall("matching-refs", STALL, times=FAST_RETRY.attempts)
    started = time.monotonic()
    async with _client(app) as c:
        r = await c.get(f"/{MONO.module}/{what}")
    elapsed = time.monotonic() - started
    assert r.status_code == 504, r.text
    assert "in time" in r.text and "Traceback" not in r.text
    # Each attempt gave up at the client timeout, not when the stand-in answered.
    assert elapsed < FAST_RETRY.attempts * STALL, elapsed
    assert clean_standin.counts["matching-refs"] == FAST_RETRY.attempts


@pytest.mark.parametrize("what", ["@v/list", "@latest"])
async def test_a_stalled_answer_after_a_good_one_is_stale(
    clean_standin: GitHubStandin, what: str
) -> None:
    app = _app(clean_standin, MONO.config(), timeout=CLIENT_TIMEOUT)
    async with _client(app) as c:
        good = await c.get(f"/{MONO.module}/{what}")
        assert good.status_code == 200 and "gosub-stale" not in good.headers
        clean_standin.stall("matching-refs", STALL, times=FAST_RETRY.attempts)
        stale = await c.get(f"/{MONO.module}/{what}")
    assert stale.status_code == 200 and stale.text == good.text
    assert "in time" in stale.headers["gosub-stale"], stale.headers
    assert stale.headers["cache-control"] == "no-store"


async def test_a_stalled_archive_is_a_504(clean_standin: GitHubStandin) -> None:
    app = _app(clean_standin, MONO.config(), timeout=CLIENT_TIMEOUT)
    version = MONO.versions[0]
    async with _client(app) as c:
        # Stalled from the start: the .mod already starts the tarball's download.
        clean_standin.stall("codeload", STALL, times=FAST_RETRY.attempts)
        assert (await c.get(f"/{MONO.module}/@v/{version}.mod")).status_code == 200
        r = await c.get(f"/{MONO.module}/@v/{version}.zip")
        assert r.status_code == 504, r.text
        assert clean_standin.counts["codeload"] == FAST_RETRY.attempts
        # Nothing half-downloaded was kept: asked again, it is fetched and served whole.
        clean_standin.reset()
        ok = await c.get(f"/{MONO.module}/@v/{version}.zip")
    assert ok.status_code == 200 and ok.content[:2] == b"PK"
    assert clean_standin.counts["codeload"] == 1


async def test_the_request_deadline_holds_when_github_is_slow(
    clean_standin: GitHubStandin,
) -> None:
    """A client timeout longer than the request deadline: the deadline answers 504."""
    app = _app(clean_standin, MONO.config(), timeout=10, request_timeout=0.3)
    clean_standin.stall("matching-refs", STALL, times=FAST_RETRY.attempts)
    started = time.monotonic()
    async with _client(app) as c:
        r = await c.get(f"/{MONO.module}/@v/list")
    assert r.status_code == 504 and "gave up after 0.3 s" in r.text
    assert time.monotonic() - started < STALL
