"""The ``gosub`` command line: ``gosub serve`` runs the proxy with uvicorn."""

from __future__ import annotations

import argparse
import sys

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(
        prog="gosub",
        description="A Go module proxy for Go modules in a subdirectory of a GitHub repository.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve one module over the GOPROXY protocol",
        description=(
            "Serve one module. Example: gosub serve --url https://github.com/OWNER/REPO "
            "--directory go --prefix mylib-go- ; then GOPROXY=http://127.0.0.1:8080/"
            " go get MODULE. GITHUB_TOKEN and GITHUB_API_URL are read from the environment."
        ),
    )
    serve.add_argument("--url", required=True, help="https://github.com/OWNER/REPO")
    serve.add_argument("--module", help="the module path to serve (default: any)")
    serve.add_argument("--directory", default="", help="the module's directory in the repository")
    serve.add_argument("--prefix", default="v", help='tag prefix (default "v")')
    serve.add_argument(
        "--suffix",
        default="",
        help='tag suffix (default ""; write --suffix=-x when it starts with -)',
    )
    serve.add_argument("--base", default="/", help="URL path to serve under (default /)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gosub`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        try:
            config = GoproxyConfig(
                url=args.url,
                module=args.module,
                directory=args.directory,
                tag_prefix=args.prefix,
                tag_suffix=args.suffix,
            )
        except ConfigError as exc:
            print(f"gosub: {exc}", file=sys.stderr)
            return 2
        try:
            import uvicorn
        except ImportError:
            print("gosub: serving needs uvicorn: pip install 'gosub[server]'", file=sys.stderr)
            return 2
        from gosub.proxy import goproxy

        uvicorn.run(goproxy(args.base, config), host=args.host, port=args.port)
        return 0
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
