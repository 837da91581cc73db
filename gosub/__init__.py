"""gosub: a Go module proxy for Go modules in a subdirectory of a repository.

Public API:

- :class:`GoproxyConfig` — one module: repository URL, module path, directory, tag naming;
- :func:`goproxy` — an ASGI app serving the GOPROXY protocol for one module;
- :func:`gosub` — an ASGI app taking each module's config from the URL
  (:func:`gosub_encode` / :func:`gosub_decode` convert between config and URL).

The package is laid out by layer (README, "How the code is laid out"): ``golang/`` (Go's
rules) <- ``sources/`` and ``store/`` <- ``modrepo`` <- ``web/`` <- settings and CLI.
"""

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError
from gosub.web import goproxy, gosub, gosub_decode, gosub_encode


def __getattr__(name: str) -> str:
    # Lazy: importlib.metadata costs a Lambda cold start time it rarely needs.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("gosub")
        except PackageNotFoundError:  # a source tree or the Lambda zip, not installed
            return "0.0.0+unknown"
    raise AttributeError(f"module 'gosub' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "GoproxyConfig",
    "GosubError",
    "__version__",
    "goproxy",
    "gosub",
    "gosub_decode",
    "gosub_encode",
]
