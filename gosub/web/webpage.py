"""The shared server's web page: build a gosub proxy URL, go-import tag and GOPROXY line.

Works without JavaScript (a GET form; the server fills in every output and runs the live
version check itself) and is enhanced with a small inline script that updates the outputs
as you type and runs the check with ``fetch``. Everything is served by gosub itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError

# github.com/OWNER/REPO/tree/BRANCH/DIR... : the directory part fills the directory field.
_TREE = re.compile(r"^(?:https?://)?github\.com/([^/]+)/([^/]+)/tree/[^/]+/(.+?)/?$")


@dataclass
class PageResult:
    """What the page shows for one set of inputs."""

    proxy_url: str = ""
    meta: str = ""
    goproxy: str = ""
    versions: list[str] | None = None
    error: str = ""


def normalize(params: Mapping[str, str]) -> dict[str, str]:
    """Split a ``github.com/O/R/tree/BRANCH/DIR`` URL into repository and directory."""
    out = dict(params)
    m = _TREE.match(out.get("url", "").strip())
    if m:
        out["url"] = f"https://github.com/{m.group(1)}/{m.group(2)}"
        if not out.get("directory", "").strip():
            out["directory"] = m.group(3)
    return out


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
) -> PageResult:
    """Fill in the outputs; ``origin_base`` is the server's URL up to its base path."""
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


_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
label{display:block;margin-top:.8rem;font-weight:600}
input{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.4rem 1rem;font:inherit}
output,pre{display:block;background:#f4f4f4;padding:.5rem;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;font-family:ui-monospace,monospace;min-height:1.5em}
.error{color:#a00}
"""

_SCRIPT = """
const form = document.getElementById('form');
const out = (id, text) => { document.getElementById(id).textContent = text; };
const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+')
  .replace(/[!'()~]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const bang = (p) => p.replace(/[A-Z]/g, c => '!' + c.toLowerCase());
let timer = null;
function update() {
  let url = form.url.value.trim(), dir = form.directory.value.trim();
  const tree = url.match(/^(?:https?:\\/\\/)?github\\.com\\/([^/]+)\\/([^/]+)\\/tree\\/[^/]+\\/(.+?)\\/?$/);
  if (tree) { url = 'github.com/' + tree[1] + '/' + tree[2]; if (!dir) { dir = tree[3]; form.directory.value = dir; } }
  const m = url.replace(/^https?:\\/\\//, '').replace(/\\.git$/, '').replace(/\\/$/, '').match(/^github\\.com\\/([^/]+)\\/([^/]+)$/);
  if (!m) { out('error', url ? 'Expected https://github.com/OWNER/REPO' : ''); return; }
  const params = [];
  const module = form.module.value.trim();
  if (dir) params.push('d=' + enc(dir));
  if (module) params.push('m=' + enc(module));
  if (form.prefix.value !== 'v') params.push('p=' + enc(form.prefix.value));
  if (form.suffix.value !== '') params.push('s=' + enc(form.suffix.value));
  const proxy = BASE + 'github.com/' + m[1] + '/' + m[2] + (params.length ? ':' + params.join('&') : '') + ';';
  const mod = module || 'MODULE';
  out('proxy', proxy);
  out('meta', '<meta name="go-import" content="' + mod + ' mod ' + proxy + '">');
  out('goproxy', "GOPROXY='" + proxy + "/' go get " + mod + '@latest');
  out('error', '');
  clearTimeout(timer);
  if (!module) { out('versions', '(enter a module path to check)'); return; }
  timer = setTimeout(async () => {
    out('versions', 'checking…');
    try {
      const r = await fetch(proxy + '/' + bang(module) + '/@v/list');
      const text = await r.text();
      out('versions', r.ok ? (text.trim() ? text.trim().split(/\\s+/).join(' ') : '(no versions: no matching tags)') : 'error: ' + text.trim());
    } catch (e) { out('versions', 'error: ' + e); }
  }, 300);
}
form.addEventListener('input', update);
form.addEventListener('submit', (e) => { e.preventDefault(); update(); });
"""


def render(origin_base: str, params: Mapping[str, str], result: PageResult) -> str:
    """The whole page."""

    def value(name: str, default: str = "") -> str:
        return html.escape(params.get(name, default), quote=True)

    versions = ""
    if result.versions is not None:
        versions = " ".join(result.versions) or "(no versions: no matching tags)"
    elif params.get("url") and not params.get("module"):
        versions = "(enter a module path to check)"
    base_js = html.escape(repr(origin_base.rstrip("/") + "/"), quote=False)
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
<h2>Results</h2>
<p class="error" id="error" role="alert">{html.escape(result.error)}</p>
<h3>Proxy URL</h3><output id="proxy" for="url directory module prefix suffix">{html.escape(result.proxy_url)}</output>
<h3>go-import tag for your vanity domain</h3><output id="meta">{html.escape(result.meta)}</output>
<h3>Try it directly</h3><output id="goproxy">{html.escape(result.goproxy)}</output>
<h3>Versions gosub sees</h3><output id="versions" aria-live="polite">{html.escape(versions)}</output>
</main>
<script>const BASE = {base_js};{_SCRIPT}</script>
</body></html>
"""
