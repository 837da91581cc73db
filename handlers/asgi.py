"""ASGI entry point for any ASGI server: ``uvicorn handlers.asgi:app``.

Configured from the environment: ``GOSUB_URL`` (required: https://github.com/OWNER/REPO),
``GOSUB_MODULE``, ``GOSUB_DIRECTORY``, ``GOSUB_TAG_PREFIX``, ``GOSUB_TAG_SUFFIX``,
``GOSUB_BASE`` (default ``/``), plus ``GITHUB_TOKEN`` and ``GITHUB_API_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gosub import GoproxyConfig, goproxy
from gosub.proxy import GoproxyApp


def app_from_env(env: Mapping[str, str]) -> GoproxyApp:
    """Build the proxy app from environment variables."""
    url = env.get("GOSUB_URL")
    if not url:
        raise SystemExit("gosub: set GOSUB_URL=https://github.com/OWNER/REPO")
    config = GoproxyConfig(
        url=url,
        module=env.get("GOSUB_MODULE") or None,
        directory=env.get("GOSUB_DIRECTORY", ""),
        tag_prefix=env.get("GOSUB_TAG_PREFIX", "v"),
        tag_suffix=env.get("GOSUB_TAG_SUFFIX", ""),
    )
    return goproxy(env.get("GOSUB_BASE", "/"), config, env=env)


app = app_from_env(os.environ)
