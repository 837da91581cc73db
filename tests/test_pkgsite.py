"""gosub with the real pkgsite: ``pkgsite -proxy`` renders a subdirectory module's
documentation, and the full site (worker and frontend over PostgreSQL with pkgsite's own
migrations) follows gosub's ``/index``, a tag pushed after start-up included.

pkgsite comes from ``.ci/go-tools`` (``.tools/bin``), PostgreSQL from Debian's package;
without them these tests skip on a developer machine and fail under CI.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig
from gosub.settings import ModuleSettings, Settings, build_app
from tests.conftest import UvicornThread
from tests.support import pkgsite
from tests.support.ci import missing
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.postgres import Postgres, find_postgres

MODULE = "example.test/pkgdoc"
DOC_V1 = "Greet returns a friendly greeting from a subdirectory module."
DOC_V2 = "Farewell says goodbye, added in the tag pushed after start-up."


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[GitRepo, str]]:
    """A module in go/pkgdoc of acme/pkgdoc (tags pkgdoc-go-X.Y.Z, a root LICENSE.md that
    Go does not copy into the zip) behind a GitHub stand-in and gosub (disk cache, the
    watch every second); (repository, gosub's URL)."""
    why = pkgsite.find_pkgsite()
    if why:
        missing(why)
    root = tmp_path / "repos"
    repo = GitRepo(root / "acme" / "pkgdoc")
    repo.write("LICENSE.md", "Copyright 2026 Acme. All rights reserved.\n")
    repo.write("go/pkgdoc/go.mod", f"module {MODULE}\n\ngo 1.21\n")
    repo.write(
        "go/pkgdoc/pkgdoc.go",
        "// Package pkgdoc is documented by pkgsite through gosub.\npackage pkgdoc\n\n"
        f"// {DOC_V1}\n"
        'func Greet() string { return "hi" }\n',
    )
    repo.commit("v1.0.0", date="2024-01-02T03:04:05Z")
    repo.tag("pkgdoc-go-1.0.0")
    standin = GitHubStandin(root)
    standin.start()
    config = GoproxyConfig(
        url="https://github.com/acme/pkgdoc",
        module=MODULE,
        directory="go/pkgdoc",
        tag_prefix="pkgdoc-go-",
    )
    settings = Settings(
        modules=(ModuleSettings(config, "/"),),
        shared=False,
        cache_dir=str(tmp_path / "cache"),
        watch_interval=1,
    )
    server = UvicornThread(build_app(settings, {"GITHUB_API_URL": standin.api_url}))
    server.server.config.lifespan = "on"
    url = server.start()
    try:
        yield repo, url
    finally:
        server.stop()
        standin.stop()


def _wait_for(url: str, text: str, *, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=60, follow_redirects=True)
            last = f"{r.status_code}: {pkgsite.page_text(r.text)[:600]}"
            if r.status_code == 200 and text in pkgsite.page_text(r.text):
                return r.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(1)
    raise AssertionError(f"{text!r} never appeared on {url}; last answer {last}")


def test_pkgsite_proxy_mode_renders_a_subdirectory_module(site: tuple[GitRepo, str]) -> None:
    _repo, gosub_url = site
    proc, url = pkgsite.standalone(gosub_url)
    try:
        _wait_for(f"{url}/{MODULE}@v1.0.0", DOC_V1)
    except AssertionError:
        raise AssertionError(proc.tail()) from None
    finally:
        proc.stop()


def test_pkgsite_worker_follows_the_index_and_the_frontend_shows_it(
    site: tuple[GitRepo, str],
) -> None:
    repo, gosub_url = site
    bindir, why = find_postgres()
    if bindir is None:
        missing(why)
    with Postgres() as pg:
        pkgsite.migrate(pg)
        worker, _worker_url = pkgsite.worker(pg, gosub_url, gosub_url + "/index")
        front, front_url = pkgsite.frontend(pg, gosub_url)
        try:
            # Nobody asked gosub for anything: the watch puts v1.0.0 in the feed, the
            # worker polls /index and fetches it from gosub, the frontend shows it.
            _wait_for(f"{front_url}/{MODULE}", DOC_V1, timeout=60)
            # A tag pushed now reaches the site through the watch and the index alone.
            repo.write(
                "go/pkgdoc/farewell.go",
                f'package pkgdoc\n\n// {DOC_V2}\nfunc Farewell() string {{ return "bye" }}\n',
            )
            repo.commit("v1.1.0", date="2024-02-03T04:05:06Z")
            repo.tag("pkgdoc-go-1.1.0")
            _wait_for(
                f"{front_url}/{MODULE}@v1.1.0",
                DOC_V2,
                timeout=60,
            )
            latest = _wait_for(f"{front_url}/{MODULE}", DOC_V2, timeout=60)
            assert "v1.1.0" in latest
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- worker\n{worker.tail(200)}") from None
        finally:
            worker.stop()
            front.stop()
