"""gosub: a Go module proxy for Go modules in a subdirectory of a GitHub repository.

Public API:

- :class:`GoproxyConfig` — one module: repository URL, module path, directory, tag naming;
- :func:`goproxy` — an ASGI app serving the GOPROXY protocol for one module;
- :func:`gosub` — an ASGI app taking each module's config from the URL
  (:func:`gosub_encode` / :func:`gosub_decode` convert between config and URL).
"""

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError
from gosub.proxy import goproxy
from gosub.urlconfig import gosub, gosub_decode, gosub_encode

__all__ = [
    "ConfigError",
    "GoproxyConfig",
    "GosubError",
    "goproxy",
    "gosub",
    "gosub_decode",
    "gosub_encode",
]
__version__ = "0.1.0"
