"""The small threaded HTTP servers the tests run on loopback (the GitHub stand-in, the
direct-mode forward proxy, the Function URL emulator)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handle = Callable[[BaseHTTPRequestHandler], None]


def serve_on_loopback(methods: Mapping[str, Handle]) -> ThreadingHTTPServer:
    """An HTTP/1.1 server on a free 127.0.0.1 port, serving in a daemon thread: each
    request whose method is in ``methods`` goes to its function; nothing is logged."""

    def dispatch(handle: Handle) -> Callable[[BaseHTTPRequestHandler], None]:
        return lambda request: handle(request)

    def quiet(self: BaseHTTPRequestHandler, format: str, *args: Any) -> None:
        pass

    attrs: dict[str, Any] = {"protocol_version": "HTTP/1.1", "log_message": quiet}
    attrs.update({f"do_{m}": dispatch(h) for m, h in methods.items()})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Handler", (BaseHTTPRequestHandler,), attrs)
    )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    """``http://127.0.0.1:PORT``."""
    return f"http://127.0.0.1:{server.server_address[1]}"
