"""The shared server's web page: without JavaScript (server-rendered) and in a real
headless Chromium (Debian's, driven by Playwright), against the GitHub stand-in."""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from gosub import GoproxyConfig, gosub, gosub_encode
from gosub.errors import UpstreamError
from gosub.web import webpage
from tests.conftest import FAST_RETRY, UvicornThread
from tests.support.ci import under_ci
from tests.support.ghapi import GitHubStandin

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


@pytest.fixture(scope="module")
def warning_site(standin: GitHubStandin) -> Iterator[str]:
    app = gosub("/", env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    server = UvicornThread(app)
    yield server.start()
    server.stop()


PAGE = "https://gosub.test/"
FORM = {"url": "https://github.com/acme/custom", "directory": "go", "module": "example.test/x"}


async def test_page_renders_what_inspect_warns() -> None:
    """``compute`` asks ``inspect`` only once the versions listed; ``render`` shows each
    warning, escaped, with and without JavaScript (the script copies the same nodes)."""
    asked: list[tuple[str, list[str]]] = []

    async def list_versions(config: GoproxyConfig, module: str) -> list[str]:
        if config.directory == "down":
            raise UpstreamError("GitHub is down")
        return ["v1.0.0", "v1.1.0"]

    async def inspect(config: GoproxyConfig, module: str, versions: list[str]) -> list[str]:
        asked.append((module, versions))
        if config.tag_prefix == "broken-":
            raise UpstreamError("could not reach github.com")
        return ["the go.mod declares <b>example.test/custom</b>", "second"]

    async def page(params: dict[str, str]) -> tuple[webpage.PageResult, str]:
        result = await webpage.compute(PAGE, params, gosub_encode, list_versions, inspect)
        return result, webpage.render(PAGE, params, result)

    result, html_text = await page(FORM)
    assert asked == [("example.test/x", ["v1.0.0", "v1.1.0"])]
    assert result.warnings == ["the go.mod declares <b>example.test/custom</b>", "second"]
    assert (
        '<div id="warnings" role="status">'
        '<p class="warning">warning: the go.mod declares &lt;b&gt;example.test/custom&lt;/b&gt;</p>'
        '<p class="warning">warning: second</p></div>'
    ) in html_text
    assert '<output id="versions" aria-live="polite">v1.0.0 v1.1.0</output>' in html_text
    # inspect failing is a warning too, never a broken page.
    result, _ = await page({**FORM, "prefix": "broken-"})
    assert result.warnings == ["could not check the module's go.mod: could not reach github.com"]
    # Not asked: without a module, when the list fails, for a bad field.
    asked.clear()
    result, html_text = await page({**FORM, "module": ""})
    assert result.warnings == [] and '<div id="warnings" role="status"></div>' in html_text
    result, _ = await page({**FORM, "directory": "down"})
    assert result.error == "GitHub is down" and result.warnings == []
    result, html_text = await page({**FORM, "directory": "../x"})
    assert "directory '../x' must be a plain relative path" in result.error
    assert (
        result.proxy_url == ""
        and '<output id="proxy" for="url directory module prefix suffix"></output>' in html_text
    )
    assert asked == []
    # Without an inspect callback (today's callers), no warnings.
    result = await webpage.compute(PAGE, FORM, gosub_encode, list_versions)
    assert result.warnings == [] and result.versions == ["v1.0.0", "v1.1.0"]


def test_page_warns_when_go_get_would_fail(warning_site: str) -> None:
    """The page against the GitHub stand-in: no go.mod in js/, and a go.mod
    declaring another path, are warned about; a module that works is not."""
    good = {
        "url": "https://github.com/acme/custom/tree/main/go",
        "module": "example.test/custom",
        "prefix": "mylib-go-",
        "suffix": "-release",
    }
    r = httpx.get(warning_site + "/", params=good)
    assert '<output id="versions" aria-live="polite">v1.0.0 v1.1.0-beta.1</output>' in r.text
    assert '<div id="warnings" role="status"></div>' in r.text
    r = httpx.get(warning_site + "/", params={**good, "module": "example.test/other"})
    assert "v1.0.0 v1.1.0-beta.1</output>" in r.text
    assert (
        '<p class="warning">warning: the go.mod in github.com/acme/custom/go declares module '
        "example.test/custom at v1.1.0-beta.1, not example.test/other: go get will fail with "
        "&#x27;module declares its path as: example.test/custom&#x27;; use "
        "m=example.test/custom or ask for example.test/custom</p>"
    ) in r.text
    r = httpx.get(
        warning_site + "/",
        params={
            **good,
            "url": "https://github.com/acme/custom/tree/main/js",
            "prefix": "mylib-js-",
            "module": "example.test/js",
        },
    )
    assert "v1.0.0</output>" in r.text
    assert (
        '<p class="warning">warning: go get will fail: example.test/js@v1.0.0: '
        "missing github.com/acme/custom/js/go.mod" in r.text
    )
    assert "Go requires a go.mod in a module that is not at the repository root</p>" in r.text


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


SETTLED = "!document.getElementById('results').classList.contains('pending')"


def _settled(page: Page, condition: str) -> None:
    """Wait until the newest answer is shown and ``condition`` (JavaScript) holds."""
    page.wait_for_function(f"({SETTLED}) && ({condition})", timeout=15000)


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not under_ci(),
    reason="Debian's chromium is not installed (CI installs it)",
)
def test_page_in_a_real_browser(site: str, warning_site: str) -> None:
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
            _settled(page, "document.getElementById('versions').textContent.includes('v1.0.0')")
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
            assert page.text_content("#error") == "" and page.text_content("#warnings") == ""
            # The address bar holds the form: reloading or sharing it shows the same.
            assert "prefix=mylib-go-" in page.url
            # A module with no such tags: the check says so.
            page.fill("#prefix", "nope-")
            _settled(
                page, "document.getElementById('versions').textContent.includes('no versions')"
            )
            # A bad field: the server's error and no proxy URL, as without JavaScript.
            page.fill("#prefix", "mylib-go-")
            page.fill("#directory", "../x")
            _settled(page, "document.getElementById('error').textContent !== ''")
            assert page.text_content("#error") == (
                "directory '../x' must be a plain relative path: no '..', '.' or empty elements"
            )
            for output in ("#proxy", "#meta", "#goproxy", "#versions", "#warnings"):
                assert page.text_content(output) == "", output
            page.fill("#directory", "go")
            _settled(page, "document.getElementById('proxy').textContent !== ''")
            assert page.text_content("#proxy") == proxy and page.text_content("#error") == ""

            # With the proposed page: the live check warns when go get would fail.
            page.goto(warning_site + "/")
            page.fill("#url", "https://github.com/acme/custom/tree/main/go")
            page.fill("#prefix", "mylib-go-")
            page.fill("#suffix", "-release")
            page.fill("#module", "example.test/other")
            _settled(page, "document.getElementById('warnings').textContent !== ''")
            assert page.text_content("#versions") == "v1.0.0 v1.1.0-beta.1"
            assert page.text_content("#warnings") == (
                "warning: the go.mod in github.com/acme/custom/go declares module "
                "example.test/custom at v1.1.0-beta.1, not example.test/other: go get will fail "
                "with 'module declares its path as: example.test/custom'; use "
                "m=example.test/custom or ask for example.test/custom"
            )
            page.fill("#module", "example.test/custom")
            _settled(page, "document.getElementById('warnings').textContent === ''")
            assert page.text_content("#versions") == "v1.0.0 v1.1.0-beta.1"
        finally:
            browser.close()


def test_tree_urls_give_the_directory() -> None:
    """The page's (and the CLI's) reading of a forge's file-browser URL."""
    split = webpage.split_repository_url
    assert split("https://github.com/acme/mono/tree/main/go/lib/") == (
        "https://github.com/acme/mono",
        "go/lib",
    )
    assert split("github.com/acme/mono/tree/main") == ("https://github.com/acme/mono", "")
    assert split("https://gitlab.com/g/sub/p/-/tree/v1.0/go") == (
        "https://gitlab.com/g/sub/p",
        "go",
    )
    assert split("https://github.com/acme/mono") == ("https://github.com/acme/mono", None)
    # The directory field wins over the URL's.
    assert webpage.normalize(
        {"url": "https://github.com/acme/mono/tree/main/go", "directory": "x"}
    ) == {"url": "https://github.com/acme/mono", "directory": "x"}
