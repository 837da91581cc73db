"""The ASGI apps: :func:`goproxy` (one module), :func:`gosub` (configs in the URL, with
the web page), and the process-wide state they share (:class:`Shared`)."""

from gosub.web.proxy import GoproxyApp, goproxy
from gosub.web.shared import Shared, make_shared
from gosub.web.urlconfig import GosubApp, gosub, gosub_decode, gosub_encode

__all__ = [
    "GoproxyApp",
    "GosubApp",
    "Shared",
    "goproxy",
    "gosub",
    "gosub_decode",
    "gosub_encode",
    "make_shared",
]
