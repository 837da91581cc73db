"""The ``gosub`` command line.

- ``gosub serve`` runs the proxy with uvicorn: from a TOML config (``--config`` or
  ``GOSUB_CONFIG``), or one module given by flags, or by default the shared
  URL-configured server at ``/``;
- ``gosub encode`` / ``gosub decode`` convert between a config and the URL format;
- ``gosub check`` shows which tags of a repository become versions, and why the others
  do not, for debugging a tag prefix or suffix, and warns when ``go get`` would still fail
  (no go.mod in the module's directory, or a go.mod declaring another module path).

``encode`` and ``check`` take a repository URL as the web page does
(``https://github.com/OWNER/REPO/tree/BRANCH/DIR`` gives the directory too). Bad input
gives a one-line error on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import posixpath
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError

if TYPE_CHECKING:
    from gosub.settings import Settings
    from gosub.sources import Source

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# What `gosub check` calls a module whose go.mod names none (a root module without one).
_PLACEHOLDER = "example.com/module"
_MAX_GO_MOD = 16 << 20


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _port(text: str) -> int:
    """``--port``: a TCP port number, checked before anything listens."""
    try:
        port = int(text, 10)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return port


def _host(text: str) -> str:
    """``--host``: an IP address or a host name to listen on."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if not _HOSTNAME.match(text):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an address to listen on: use an IP address such as "
                "127.0.0.1, 0.0.0.0 or ::1, or a host name such as localhost"
            ) from None
    return text


def _add_config_flags(p: argparse.ArgumentParser, *, url_required: bool) -> None:
    p.add_argument(
        "--url",
        required=url_required,
        help="https://github.com/OWNER/REPO, https://gitlab.com/GROUP/PROJECT, or a git "
        "remote (a local path, file://, ssh://, git@host:path, https://...git)",
    )
    p.add_argument(
        "--module", help="the module path (default: any; check: the one the go.mod declares)"
    )
    p.add_argument("--directory", default="", help="the module's directory in the repository")
    p.add_argument("--prefix", default="v", help='tag prefix (default "v")')
    p.add_argument(
        "--suffix",
        default="",
        help='tag suffix (default ""; write --suffix=-x when it starts with -)',
    )
    p.add_argument(
        "--forge",
        choices=["github", "gitlab", "git"],
        help="how to read the repository (default: inferred from --url)",
    )


def _version() -> str:
    import gosub

    return str(gosub.__version__)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = _Parser(
        prog="gosub",
        description="A Go module proxy for Go modules in a subdirectory of a GitHub repository.",
    )
    parser.add_argument("--version", action="version", version=f"gosub {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the proxy",
        description=(
            "Run the proxy. With --url, serve that one module; with --config (or "
            "GOSUB_CONFIG), serve what the TOML file lists; otherwise serve the shared "
            "URL-configured proxy at /. GITHUB_TOKEN and GITHUB_API_URL are read from "
            "the environment."
        ),
    )
    serve.add_argument("--config", help="TOML settings file (see gosub.settings)")
    _add_config_flags(serve, url_required=False)
    serve.add_argument("--base", default="/", help="URL path to serve --url's module under")
    serve.add_argument("--host", type=_host, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default 8080)")
    serve.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), help="default info"
    )
    serve.add_argument(
        "--log-format", choices=("text", "json"), help="text (default) or json, one a line"
    )

    enc = sub.add_parser(
        "encode",
        help="print the gosub URL segment for a config",
        description="Print the gosub URL segment for a repository URL (positional or --url; "
        "a https://github.com/OWNER/REPO/tree/BRANCH/DIR URL gives the directory too) and "
        "the flags.",
    )
    enc.add_argument("repository", nargs="?", help="the repository URL (or use --url)")
    _add_config_flags(enc, url_required=False)
    dec = sub.add_parser("decode", help="print the config a gosub URL segment names (JSON)")
    dec.add_argument("path", help="e.g. 'github.com/OWNER/REPO:d=go&p=lib-go-;'")
    check = sub.add_parser(
        "check",
        help="show which tags become versions, and warn when go get would fail (asks GitHub)",
        description="Show which tags of the repository become versions and why the others "
        "do not, then warn when go get would still fail: no go.mod in the module's "
        "directory, or a go.mod declaring another module path (checked at the newest "
        "version, else at the default branch head). Exit status 0 when all is well, 1 "
        "after a warning or a failed check, 2 for bad input.",
    )
    check.add_argument(
        "target",
        nargs="?",
        help="a gosub URL segment, optionally followed by /MODULE "
        "(e.g. 'github.com/OWNER/REPO:d=go;/example.com/lib'), or a repository URL "
        "(https://github.com/OWNER/REPO[/tree/BRANCH/DIR]) used with the flags below",
    )
    _add_config_flags(check, url_required=False)
    cache = sub.add_parser("cache", help="inspect the disk cache")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    ls = cache_sub.add_parser(
        "ls", help="list the cache's namespaces: each one's config and versions"
    )
    ls.add_argument("--cache-dir", help="the disk cache (default: the settings' cache_dir)")
    _add_pack_prefill(sub)
    return parser


# -- pack and prefill (issue 12: offline and Athens-compatible) -----------------------


def _add_pack_prefill(sub: argparse._SubParsersAction[_Parser]) -> None:
    sub.choices["serve"].add_argument(
        "--offline",
        action="store_true",
        help="never contact a code host or the upstream: serve the persistent store "
        "(offline = true)",
    )
    pack = sub.add_parser(
        "pack",
        help="write one module version as a static GOPROXY or Athens storage",
        description=(
            "Write MODULE@VERSION's .info, .mod and .zip from SOURCE, a git repository "
            "(bare or not: the version's tag is PREFIX + X.Y.Z + SUFFIX, or --ref) or a "
            "plain directory (its files as they are), into OUT: "
            "OUT/ESCAPED_MODULE/@v/VERSION.{info,mod,zip} plus list (--layout goproxy), "
            "or OUT/MODULE/VERSION/{go.mod,source.zip,VERSION.info} (--layout athens)."
        ),
    )
    pack.add_argument("module")
    pack.add_argument("version", help="vX.Y.Z (or 'auto' with --ref)")
    pack.add_argument("source", help="a git repository or remote, or a plain directory")
    pack.add_argument("--directory", default="", help="the module's directory in SOURCE")
    pack.add_argument("--prefix", default="v", help='tag prefix (default "v")')
    pack.add_argument("--suffix", default="", help='tag suffix (default "")')
    pack.add_argument("--ref", help="a branch, tag or commit to take the version from")
    pack.add_argument("--time", help="the .info Time for a plain directory (RFC 3339)")
    pack.add_argument("--out", default=".", help="the output tree (default .)")
    pack.add_argument("--layout", choices=["goproxy", "athens"], default="goproxy")

    prefill = sub.add_parser(
        "prefill",
        help="fetch module versions into the persistent store (for offline serving)",
        description=(
            "Fetch each MODULE@VERSION through the configured modules, a URL config or "
            "the upstream into the persistent store; with --export, write what the "
            "store holds as a static GOPROXY or Athens storage."
        ),
    )
    prefill.add_argument("--config", help="TOML settings file (see gosub.settings)")
    prefill.add_argument("items", nargs="*", metavar="MODULE@VERSION")
    prefill.add_argument("--from", dest="from_file", help="a go.mod, go.sum or module@version list")
    prefill.add_argument("--jobs", type=int, default=4, help="fetches at once (default 4)")
    prefill.add_argument("--export", help="write the store's contents into this directory")
    prefill.add_argument("--layout", choices=["goproxy", "athens"], default="goproxy")


def _offline_flag(args: argparse.Namespace, settings: Settings) -> Settings:
    """``gosub serve --offline`` sets ``offline = true``."""
    import dataclasses

    return dataclasses.replace(settings, offline=True) if args.offline else settings


def _pack(args: argparse.Namespace) -> int:
    from datetime import datetime

    from gosub.pack import pack

    when = None
    if args.time:
        try:
            when = datetime.fromisoformat(args.time.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"--time {args.time!r} is not an RFC 3339 time") from None
        if when.tzinfo is None:
            raise ConfigError(f"--time {args.time!r} needs a time zone (e.g. Z)")
    packed = asyncio.run(
        pack(
            args.module,
            args.version,
            args.source,
            args.out,
            layout=args.layout,
            directory=args.directory,
            prefix=args.prefix,
            suffix=args.suffix,
            ref=args.ref,
            time=when,
        )
    )
    print(f"{packed.module}@{packed.version}: {packed.zip}")
    return 0


def _prefill(args: argparse.Namespace) -> int:
    from gosub.prefill import run_prefill

    return run_prefill(args)


# -- end of pack and prefill ----------------------------------------------------------


def _cache_ls(args: argparse.Namespace) -> int:
    """One block per namespace: its directory (a static GOPROXY), config and versions."""
    from gosub.golang import module as gomodule
    from gosub.golang import semver
    from gosub.settings import load_settings

    root = Path(args.cache_dir or load_settings().cache_dir or "")
    if not str(root) or not root.is_dir():
        raise ConfigError(f"no disk cache at {root or '(none configured)'}")
    found = 0
    for ns in sorted(p for p in root.iterdir() if (p / "gosub.json").is_file()):
        found += 1
        try:
            doc = json.loads((ns / "gosub.json").read_text())
        except (OSError, ValueError):
            doc = {}
        params = ", ".join(
            f"{k}={doc[k]!r}"
            for k in ("directory", "tag_prefix", "tag_suffix", "module")
            if doc.get(k) not in (None, "")
        )
        print(f"{ns.name}  {doc.get('url', '?')}" + (f"  ({params})" if params else ""))
        for v_dir in sorted(ns.rglob("@v")):
            escaped = str(v_dir.parent.relative_to(ns))
            try:
                module = gomodule.unescape_path(escaped)
                versions = [gomodule.unescape_version(p.stem) for p in v_dir.glob("*.info")]
            except ValueError:
                continue
            listed = " ".join(semver.sort(versions)) or "(no versions stored)"
            print(f"  {module}: {listed}")
    if not found:
        print(f"{root}: no namespaces yet")
    return 0


def _config(args: argparse.Namespace) -> GoproxyConfig:
    return GoproxyConfig(
        url=args.url,
        module=args.module,
        directory=args.directory,
        tag_prefix=args.prefix,
        tag_suffix=args.suffix,
        forge=args.forge,
    )


def _serve(args: argparse.Namespace) -> int:
    from gosub import logs
    from gosub.settings import ModuleSettings, build_app, load_settings

    # --url serves one module through the same loader as a settings file: environment
    # overrides (GOSUB_PORT, GOSUB_CACHE_DIR...) and the disk cache by default.
    modules = (ModuleSettings(_config(args), args.base),) if args.url else None
    settings = load_settings(path=args.config, modules=modules)
    settings = _offline_flag(args, settings)
    logs.configure(
        args.log_level or settings.log_level,
        args.log_format or settings.log_format,
        buffered=True,  # an access line per request: written in batches
    )
    try:
        import uvicorn
    except ImportError:
        print("gosub: serving needs uvicorn: pip install 'gosub[server]'", file=sys.stderr)
        return 2
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    app = build_app(settings)
    logging.getLogger("gosub").info("gosub %s listening on http://%s:%d", _version(), host, port)
    # uvicorn re-raises the SIGTERM it shut down on, with this handler back in place:
    # the buffered log lines are written first, then the process ends as signalled.
    signal.signal(signal.SIGTERM, _flush_logs_and_die)
    # proxy_headers off: uvicorn would take X-Forwarded-For from any loopback peer as
    # the client, whatever trust_proxy_headers says (the client budgets' identity).
    uvicorn.run(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return 0


def _flush_logs_and_die(signum: int, _frame: object) -> None:
    logging.shutdown()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def _repository_config(args: argparse.Namespace, url: str | None) -> GoproxyConfig:
    """The config of a repository URL and the flags: a ``.../tree/BRANCH/DIR`` URL gives
    the directory unless ``--directory`` does (as on the web page)."""
    from gosub.web.webpage import split_repository_url

    if url and args.url and url != args.url:
        raise ConfigError(f"two repository URLs: {url!r} and --url {args.url!r}; give one")
    url = url or args.url
    if not url:
        raise ConfigError("give the repository URL: https://github.com/OWNER/REPO")
    repo_url, tree_dir = split_repository_url(url)
    args.url = repo_url
    if not args.directory and tree_dir:
        args.directory = tree_dir
    return _config(args)


def _check_target(args: argparse.Namespace) -> tuple[GoproxyConfig, str | None]:
    """``gosub check``'s config and the module asked for (``None``: the go.mod's)."""
    from gosub.golang import module as gomodule
    from gosub.web.urlconfig import gosub_decode

    target = args.target or ""
    decoded = gosub_decode(target) if target else None
    if decoded is None:
        if ";" in target:
            raise ConfigError(
                f"{target!r} is not a gosub URL segment such as github.com/OWNER/REPO; "
                "or a repository URL such as https://github.com/OWNER/REPO"
            )
        config = _repository_config(args, target or None)
        module = config.module
    else:
        if args.url or args.directory or args.prefix != "v" or args.suffix or args.forge:
            raise ConfigError(
                "give either a gosub URL segment or a repository URL with flags, not both"
            )
        config, used = decoded
        module = target[len(used) :].strip("/") or args.module or config.module
    if module is not None:
        try:
            gomodule.check_path(module)
        except ValueError as exc:
            raise ConfigError(f"module {module!r} is not a valid Go module path: {exc}") from None
    return config, module


async def _declared_module(
    config: GoproxyConfig, source: Source, tagged: dict[str, str]
) -> tuple[str, str]:
    """The module path the go.mod declares at the newest tagged version (else the default
    branch head), and a line saying where it comes from."""
    from gosub.golang import gomod, semver
    from gosub.golang import module as gomodule

    rel = posixpath.join(config.directory, "go.mod")
    try:
        if tagged:
            newest = semver.sort(list(tagged))[-1]
            commit = await source.resolve("refs/tags/" + tagged[newest])
            at = f"{newest} (tag {tagged[newest]})"
        else:
            commit = await source.resolve("HEAD")
            at = f"the default branch head ({commit.sha[:12]})"
        data = await source.read_file(commit.sha, rel, max_size=_MAX_GO_MOD)
    except GosubError as exc:
        return (
            _PLACEHOLDER,
            f"module: could not read {rel} ({exc.message}); checking {_PLACEHOLDER}",
        )
    declared = gomod.module_path(data) if data is not None else ""
    if declared:
        try:
            gomodule.check_path(declared)
        except ValueError as exc:
            return _PLACEHOLDER, (
                f"module: {rel} at {at} declares {declared!r}, which is not a valid module "
                f"path ({exc}); checking {_PLACEHOLDER}"
            )
        return declared, f"module {declared} (declared by {rel} at {at})"
    why = "does not exist" if data is None else "has no module line"
    if data is None and not config.directory:
        why += " (a root module without one takes the path it is asked for)"
    return _PLACEHOLDER, (
        f"module: {rel} {why} at {at}; checking {_PLACEHOLDER} (name yours with --module)"
    )


async def _check(config: GoproxyConfig, module: str | None) -> tuple[str, bool]:
    """The report of ``gosub check``, and whether ``go get`` would work."""
    from gosub.golang import module as gomodule
    from gosub.golang import pseudo, semver
    from gosub.modrepo import ModuleRepo
    from gosub.web import make_shared
    from gosub.web.webpage import module_warnings

    shared = make_shared()
    try:
        source = shared.sources.open(config)
        tags = await source.list_tags("")
        lines = [
            f"{config.repo_path}: {len(tags)} tags; prefix {config.tag_prefix!r}, "
            f"suffix {config.tag_suffix!r}, directory {config.directory or '(root)'}"
        ]
        tagged: dict[str, str] = {}  # version → tag
        for tag in tags:
            v = config.version_of_tag(tag)
            if v is None:
                why = "ignored: does not have the prefix and suffix"
            elif not semver.is_valid(v):
                why = f"ignored: {v} is not a semantic version"
            elif v != semver.canonical(v):
                why = f"ignored: {v} is not canonical ({semver.canonical(v)})"
            elif pseudo.is_pseudo_version(v):
                why = f"ignored: {v} looks like a pseudo-version"
            else:
                why = f"version {v}"
                tagged[v] = tag
            lines.append(f"  {tag}: {why}")
        if module is None:
            module, line = await _declared_module(config, source, tagged)
            lines.append(line)
        repo = ModuleRepo(config, source, module, cache=shared.cache, zips=shared.zips, repo_url="")
        ok = True
        try:
            versions = await repo.versions()
            lines.append(f"{module} @v/list: {' '.join(versions) or '(no versions)'}")
        except GosubError as exc:
            ok = False
            lines.append(f"{module} @v/list: error: {exc.message}")
            versions = [
                v
                for v in semver.sort(list(tagged))
                if gomodule.match_path_major(v, repo.path_major)
            ]
        try:
            warnings = await module_warnings(repo, versions)
        except GosubError as exc:
            warnings = [f"could not check the module's go.mod: {exc.message}"]
        lines.extend(f"warning: {w}" for w in warnings)
        return "\n".join(lines), ok and not warnings
    finally:
        await shared.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gosub`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "encode":
            from gosub.web.urlconfig import gosub_encode

            print(gosub_encode(_repository_config(args, args.repository)))
            return 0
        if args.command == "decode":
            from gosub.web.urlconfig import gosub_decode

            decoded = gosub_decode(args.path)
            if decoded is None:
                raise ConfigError(
                    f"{args.path!r} is not a gosub URL segment: expected "
                    "github.com/OWNER/REPO[:d=DIR&m=MODULE&p=PREFIX&s=SUFFIX];"
                )
            c, used = decoded
            print(
                json.dumps(
                    {
                        "url": c.url,
                        "module": c.module,
                        "directory": c.directory,
                        "tag_prefix": c.tag_prefix,
                        "tag_suffix": c.tag_suffix,
                        "used": used,
                    },
                    indent=2,
                )
            )
            return 0
        if args.command == "cache":
            return _cache_ls(args)
        if args.command == "pack":
            return _pack(args)
        if args.command == "prefill":
            return _prefill(args)
        if args.command == "check":
            report, ok = asyncio.run(_check(*_check_target(args)))
            print(report)
            return 0 if ok else 1
    except (ConfigError, GosubError) as exc:
        print(f"gosub: {exc}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
