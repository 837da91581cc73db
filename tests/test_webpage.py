"""The shared server's web page: without JavaScript (server-rendered) and in a real
headless Chromium (Debian's, driven by Playwright), against the GitHub stand-in."""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Iterator

import httpx
import pytest

from gosub import GoproxyConfig, gosub, gosub_encode
from tests.conftest import FAST_RETRY, UvicornThread
from tests.support.ci import under_ci
from tests.support.ghapi import GitHubStandin

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CONFIG = GoproxyConfig(
    url="https://github.com/acme/custom",
    module="example.test/custom",
    directory="go",
    tag_prefix="mylib-go-",
    tag_suffix="-release",
)


@pytest.fixture(scope="module")
def site(standin: GitHubStandin) -> Iterator[str]:
    server = UvicornThread(gosub("/", env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY))
    yield server.start()
    server.stop()


def test_page_without_javascript(site: str) -> None:
    r = httpx.get(
        site + "/",
        params={
            "url": "https://github.com/acme/custom/tree/main/go",
            "module": "example.test/custom",
            "prefix": "mylib-go-",
            "suffix": "-release",
        },
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    proxy = html.escape(f"{site}/{gosub_encode(CONFIG)}")
    assert f'<output id="proxy" for="url directory module prefix suffix">{proxy}</output>' in r.text
    assert "&lt;meta name=&quot;go-import&quot; content=&quot;example.test/custom mod " in r.text
    assert '<output id="versions" aria-live="polite">v1.0.0 v1.1.0-beta.1</output>' in r.text
    assert f"GOPROXY=&#x27;{proxy}/&#x27; go get example.test/custom@latest" in r.text
    # The tree URL was split into repository and directory.
    assert 'name="directory" value="go"' in r.text
    assert 'name="url" value="https://github.com/acme/custom"' in r.text
    bad = httpx.get(site + "/", params={"url": "https://github.com/only-owner"})
    assert bad.status_code == 200 and "is not a repository URL" in bad.text
    other = httpx.get(site + "/", params={"url": "https://gitlab.com/a/b"})
    assert "does not serve repositories on gitlab.com" in other.text


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not under_ci(),
    reason="Debian's chromium is not installed (CI installs it)",
)
def test_page_in_a_real_browser(site: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(site + "/")
            page.fill("#url", "https://github.com/acme/custom/tree/main/go")
            page.fill("#module", "example.test/custom")
            page.fill("#prefix", "mylib-go-")
            page.fill("#suffix", "-release")
            page.wait_for_function(
                "document.getElementById('versions').textContent.includes('v1.0.0')", timeout=15000
            )
            assert page.input_value("#directory") == "go"  # filled from the tree URL
            proxy = f"{site}/{gosub_encode(CONFIG)}"
            assert page.text_content("#proxy") == proxy
            assert page.text_content("#meta") == (
                f'<meta name="go-import" content="example.test/custom mod {proxy}">'
            )
            assert (
                page.text_content("#goproxy")
                == f"GOPROXY='{proxy}/' go get example.test/custom@latest"
            )
            assert page.text_content("#versions") == "v1.0.0 v1.1.0-beta.1"
            # A module with no such tags: the check says so.
            page.fill("#prefix", "nope-")
            page.wait_for_function(
                "document.getElementById('versions').textContent.includes('no versions')",
                timeout=15000,
            )
        finally:
            browser.close()
