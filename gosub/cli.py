"""The ``gosub`` command line.

- ``gosub serve`` runs the proxy with uvicorn: from a TOML config (``--config`` or
  ``GOSUB_CONFIG``), or one module given by flags, or by default the shared
  URL-configured server at ``/``;
- ``gosub encode`` / ``gosub decode`` convert between a config and the URL format;
- ``gosub check`` shows which tags of a repository become versions, and why the others
  do not, for debugging a tag prefix or suffix.

Bad input gives a one-line error on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError

if TYPE_CHECKING:
    from gosub.settings import Settings


def _add_config_flags(p: argparse.ArgumentParser, *, url_required: bool) -> None:
    p.add_argument(
        "--url",
        required=url_required,
        help="https://github.com/OWNER/REPO, https://gitlab.com/GROUP/PROJECT, or a git "
        "remote (a local path, file://, ssh://, git@host:path, https://...git)",
    )
    p.add_argument("--module", help="the module path (default: any)")
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
    parser = argparse.ArgumentParser(
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
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")

    enc = sub.add_parser("encode", help="print the gosub URL segment for a config")
    _add_config_flags(enc, url_required=True)
    dec = sub.add_parser("decode", help="print the config a gosub URL segment names (JSON)")
    dec.add_argument("path", help="e.g. 'github.com/OWNER/REPO:d=go&p=lib-go-;'")
    check = sub.add_parser("check", help="show which tags become versions (asks GitHub)")
    check.add_argument(
        "path",
        help="a gosub URL segment, optionally followed by /MODULE "
        "(e.g. 'github.com/OWNER/REPO:d=go;/example.com/lib')",
    )
    _add_pack_prefill(sub)
    return parser


# -- pack and prefill (issue 12: offline and Athens-compatible) -----------------------


def _add_pack_prefill(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from gosub.settings import ModuleSettings, Settings, build_app, load_settings

    if args.url:
        settings = Settings(modules=(ModuleSettings(_config(args), args.base),), shared=False)
    else:
        settings = load_settings(path=args.config)
    settings = _offline_flag(args, settings)
    try:
        import uvicorn
    except ImportError:
        print("gosub: serving needs uvicorn: pip install 'gosub[server]'", file=sys.stderr)
        return 2
    uvicorn.run(
        build_app(settings),
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        lifespan="on",
    )
    return 0


async def _check(path: str) -> str:
    from gosub.golang import pseudo, semver
    from gosub.modrepo import ModuleRepo
    from gosub.web import gosub_decode, make_shared

    decoded = gosub_decode(path)
    if decoded is None:
        raise ConfigError(f"{path!r} is not a gosub URL segment such as github.com/OWNER/REPO;")
    config, used = decoded
    module = path[len(used) :].strip("/") or config.module or "example.com/module"
    shared = make_shared()
    try:
        source = shared.sources.open(config)
        tags = await source.list_tags("")
        lines = [
            f"{config.repo_path}: {len(tags)} tags; prefix {config.tag_prefix!r}, "
            f"suffix {config.tag_suffix!r}, directory {config.directory or '(root)'}"
        ]
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
            lines.append(f"  {tag}: {why}")
        repo = ModuleRepo(config, source, module, cache=shared.cache, zips=shared.zips, repo_url="")
        versions = await repo.versions()
        lines.append(f"{module} @v/list: {' '.join(versions) or '(no versions)'}")
        return "\n".join(lines)
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

            print(gosub_encode(_config(args)))
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
        if args.command == "check":
            print(asyncio.run(_check(args.path)))
            return 0
        if args.command == "pack":
            return _pack(args)
        if args.command == "prefill":
            return _prefill(args)
    except (ConfigError, GosubError) as exc:
        print(f"gosub: {exc}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
