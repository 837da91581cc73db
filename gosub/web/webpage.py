"""The shared server's web page: build a gosub proxy URL, go-import tag and GOPROXY line.

Works without JavaScript (a GET form; the server fills in every output and runs the live
version check itself) and is enhanced with a small inline script that, as you type, asks
the server for the same page with ``fetch`` and shows its outputs: the server is the only
judge of the fields, so a bad one gives the same error with and without JavaScript.
Everything is served by gosub itself.

:func:`module_warnings` says why ``go get`` would fail for a module whose versions list
fine (no go.mod in its directory, or a go.mod declaring another path); ``gosub check``
prints the same warnings.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError, NotFoundError
from gosub.golang import gomod
from gosub.modrepo import ModuleRepo

# github.com/OWNER/REPO/tree/BRANCH[/DIR] and gitlab.com/GROUP/.../PROJECT/-/tree/BRANCH[/DIR]
# (a directory as the forge's file browser shows it): the repository, and the directory.
_TREES = (
    re.compile(r"^(?:https?://)?(github\.com/[^/]+/[^/]+)/tree/[^/]+(?:/(.+?))?/?$"),
    re.compile(r"^(?:https?://)?(gitlab\.com/.+?)/-/tree/[^/]+(?:/(.+?))?/?$"),
)

Inspect = Callable[[GoproxyConfig, str, list[str]], Awaitable[list[str]]]
"""``inspect(config, module, versions)``: warnings about a module whose versions listed."""


@dataclass
class PageResult:
    """What the page shows for one set of inputs."""

    proxy_url: str = ""
    meta: str = ""
    goproxy: str = ""
    versions: list[str] | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)


def split_repository_url(url: str) -> tuple[str, str | None]:
    """``https://github.com/O/R/tree/BRANCH/DIR`` → ``("https://github.com/O/R", "DIR")``
    (``""`` for a tree URL of the root), and GitLab's ``.../PROJECT/-/tree/BRANCH/DIR``
    alike; any other URL is returned as is, with ``None``."""
    for tree in _TREES:
        m = tree.match(url.strip())
        if m:
            return f"https://{m.group(1)}", m.group(2) or ""
    return url, None


def normalize(params: Mapping[str, str]) -> dict[str, str]:
    """Split a ``github.com/O/R/tree/BRANCH/DIR`` URL into repository and directory (a
    directory given in its own field wins)."""
    out = dict(params)
    url, directory = split_repository_url(out.get("url", ""))
    if directory is not None:
        out["url"] = url
        if not out.get("directory", "").strip():
            out["directory"] = directory
    return out


async def module_warnings(repo: ModuleRepo, versions: Sequence[str]) -> list[str]:
    """Why ``go get`` of ``repo``'s module would fail although its versions list: no
    go.mod in a module directory that is not the repository root, or a go.mod whose
    module line is another path. Checked at the newest version (``versions[-1]``), else
    at the default branch head, as ``go get MODULE@latest`` resolves it.

    Reads what the go command would (the ``.mod``, Go's findDir: ``DIR/vN/go.mod`` for a
    ``/vN`` path), so versions already asked for cost no request; an unreachable code
    host raises its :class:`GosubError`.
    """
    module = repo.path
    if repo.config.module != module:
        # Unpinned, a path the go.mod does not declare is refused (404) before its go.mod
        # is shown; pinned, the go.mod is served as it is and can be read.
        pinned = dataclasses.replace(repo.config, module=module)
        repo = ModuleRepo(
            pinned, repo.source, module, cache=repo.cache, zips=repo.zips, repo_url=repo.repo_url
        )
    try:
        version = versions[-1] if versions else (await repo.stat("HEAD")).version
        data = await repo.go_mod(version)
    except NotFoundError as exc:  # Go's reason: no go.mod, a wrong major version, ...
        return [f"go get will fail: {exc.message}"]
    declared = gomod.module_path(data)
    if declared and declared != module:
        config = repo.config
        where = config.repo_path + (f"/{config.directory}" if config.directory else "")
        return [
            f"the go.mod in {where} declares module {declared} at {version}, not {module}: "
            f"go get will fail with 'module declares its path as: {declared}'; "
            f"use m={declared} or ask for {declared}"
        ]
    return []


def parse_form(params: Mapping[str, str]) -> tuple[GoproxyConfig | None, str]:
    """The config the form describes, or ``(None, reason)``."""
    url = params.get("url", "").strip()
    if not url:
        return None, ""
    directory = params.get("directory", "").strip()
    try:
        config = GoproxyConfig(
            url=url,
            module=params.get("module", "").strip() or None,
            directory=directory,
            tag_prefix=params.get("prefix", "v"),
            tag_suffix=params.get("suffix", ""),
        )
    except ConfigError as exc:
        return None, str(exc)
    if config.forge == "git":
        # The shared server serves GitHub repositories only: a git remote here (even
        # git@github.com:...) would run git with the server's own credentials.
        return None, "the gosub URL format only names github.com repositories"
    return config, ""


async def compute(
    origin_base: str,
    params: Mapping[str, str],
    encode: Callable[[GoproxyConfig], str],
    list_versions: Callable[[GoproxyConfig, str], Awaitable[list[str]]],
    inspect: Inspect | None = None,
) -> PageResult:
    """Fill in the outputs; ``origin_base`` is the server's URL up to its base path.

    With a module path, ``list_versions(config, module)`` runs the check; when it
    succeeds, ``inspect(config, module, versions)`` (if given; see
    :func:`module_warnings`) adds warnings about what ``go get`` would then refuse."""
    config, error = parse_form(params)
    if config is None:
        return PageResult(error=error)
    try:
        encoded = encode(config)
    except ConfigError as exc:
        return PageResult(error=str(exc))
    proxy = origin_base.rstrip("/") + "/" + encoded
    module = config.module or "MODULE"
    result = PageResult(
        proxy_url=proxy,
        meta=f'<meta name="go-import" content="{module} mod {proxy}">',
        # Quoted: the URL holds & and ;, which a shell would otherwise act on.
        goproxy=f"GOPROXY='{proxy}/' go get {module}@latest",
    )
    if config.module:
        try:
            result.versions = await list_versions(config, config.module)
        except GosubError as exc:
            result.error = exc.message
            return result
        if inspect is not None:
            try:
                result.warnings = await inspect(config, config.module, result.versions)
            except GosubError as exc:
                result.warnings = [f"could not check the module's go.mod: {exc.message}"]
    return result


_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
label{display:block;margin-top:.8rem;font-weight:600}
input{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.4rem 1rem;font:inherit}
output,pre{display:block;background:#f4f4f4;padding:.5rem;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;font-family:ui-monospace,monospace;min-height:1.5em}
.error{color:#a00}
.warning{color:#8a5a00;background:#fff6e0;padding:.5rem;margin:.5rem 0}
#results.pending output{opacity:.5}
"""

_SCRIPT = """
// The server judges every field: ask it for this same page with the form's values and
// show its outputs, so errors and warnings are the ones the page shows without script.
const form = document.getElementById('form');
const results = document.getElementById('results');
const OUTPUTS = ['error', 'proxy', 'meta', 'goproxy', 'versions', 'warnings'];
const show = (id, nodes) => document.getElementById(id).replaceChildren(...nodes);
let timer = null, asked = 0;
async function refresh() {
  clearTimeout(timer);
  const query = new URLSearchParams(new FormData(form)).toString();
  const mine = ++asked;
  if (form.module.value.trim()) show('versions', ['checking…']);
  let page;
  try {
    const r = await fetch('?' + query, {headers: {Accept: 'text/html'}});
    if (!r.ok) throw new Error('HTTP ' + r.status + ' ' + (await r.text()).trim());
    page = new DOMParser().parseFromString(await r.text(), 'text/html');
  } catch (e) {
    if (mine !== asked) return;
    for (const id of OUTPUTS) show(id, []);
    show('error', ['could not ask the gosub server: ' + e.message]);
    results.classList.remove('pending');
    return;
  }
  if (mine !== asked) return;  // a newer answer is on its way
  for (const id of OUTPUTS) show(id, [...page.getElementById(id).childNodes]);
  const dir = page.getElementById('directory').getAttribute('value') || '';
  if (!form.directory.value.trim() && dir) form.directory.value = dir;  // from a tree URL
  history.replaceState(null, '', '?' + query);
  results.classList.remove('pending');
}
form.addEventListener('input', () => {
  asked++;  // an answer already on its way is for older values: not shown
  results.classList.add('pending');
  clearTimeout(timer);
  timer = setTimeout(refresh, 250);
});
form.addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
"""


def render(origin_base: str, params: Mapping[str, str], result: PageResult) -> str:
    """The whole page (``origin_base`` is no longer needed: the script asks the page
    itself, wherever it is served; kept so callers need not change)."""

    def value(name: str, default: str = "") -> str:
        return html.escape(params.get(name, default), quote=True)

    versions = ""
    if result.versions is not None:
        versions = " ".join(result.versions) or "(no versions: no matching tags)"
    elif params.get("url") and not params.get("module"):
        versions = "(enter a module path to check)"
    warnings = "".join(f'<p class="warning">warning: {html.escape(w)}</p>' for w in result.warnings)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gosub: a Go module proxy for GitHub subdirectories</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>gosub</h1>
<p>Serve a Go module that lives in a subdirectory of a GitHub repository, with any tag
naming, through the Go module proxy protocol. Fill in the repository and get the proxy URL.</p>
<form id="form" method="get" action="">
<label for="url">GitHub repository URL (a <code>…/tree/BRANCH/DIR</code> URL fills the directory)</label>
<input id="url" name="url" value="{value("url")}" placeholder="https://github.com/OWNER/REPO" required>
<label for="directory">Directory of the module (empty: repository root)</label>
<input id="directory" name="directory" value="{value("directory")}" placeholder="go">
<label for="module">Module path (optional: pins the proxy to it and enables the check)</label>
<input id="module" name="module" value="{value("module")}" placeholder="example.com/mylib">
<label for="prefix">Tag prefix</label>
<input id="prefix" name="prefix" value="{value("prefix", "v")}">
<label for="suffix">Tag suffix</label>
<input id="suffix" name="suffix" value="{value("suffix")}">
<button type="submit">Build URLs</button>
</form>
<section id="results">
<h2>Results</h2>
<p class="error" id="error" role="alert">{html.escape(result.error)}</p>
<h3>Proxy URL</h3><output id="proxy" for="url directory module prefix suffix">{html.escape(result.proxy_url)}</output>
<h3>go-import tag for your vanity domain</h3><output id="meta">{html.escape(result.meta)}</output>
<h3>Try it directly</h3><output id="goproxy">{html.escape(result.goproxy)}</output>
<h3>Versions gosub sees</h3><output id="versions" aria-live="polite">{html.escape(versions)}</output>
<div id="warnings" role="status">{warnings}</div>
</section>
</main>
<script>{_SCRIPT}</script>
</body></html>
"""
