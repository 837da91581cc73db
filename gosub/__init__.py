"""gosub: a Go module proxy for Go modules in a subdirectory of a GitHub repository.

Public API:

- :class:`GoproxyConfig` — one module: repository URL, module path, directory, tag naming;
- :func:`goproxy` — an ASGI app serving the GOPROXY protocol for one module.
"""

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError
from gosub.proxy import goproxy

__all__ = ["ConfigError", "GoproxyConfig", "GosubError", "goproxy"]
__version__ = "0.1.0"
