"""A crash in the middle of writing the persistent store leaves no entry behind: the
writer is a real process killed with SIGKILL halfway through a zip (``put_file``), and a
gosub started afterwards on the same directory builds and serves the right bytes; killed
halfway through ``put`` (.info, .mod, list), it leaves no entry or the previous one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gosub.store import namespace, store_key
from tests.conftest import mono_server
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner

MONO = SCENARIOS["mono"]
KEY = store_key(namespace(MONO.config().identity), "example.test/mono", "v1.1.0.zip")

# The writer copies slowly (a chunk, then a pause), as a big zip on a slow disk would,
# so the test can kill it with the temporary file half written.
WRITER = textwrap.dedent(
    """
    import asyncio, shutil, sys, time
    from pathlib import Path
    from gosub.store import DiskStore

    def slow_copyfile(src, dst, *, follow_symlinks=True):
        with open(src, "rb") as i, open(dst, "wb") as o:
            while chunk := i.read(4096):
                o.write(chunk)
                o.flush()
                time.sleep(0.05)
        return dst

    shutil.copyfile = slow_copyfile
    root, key, src = sys.argv[1:]
    asyncio.run(DiskStore(root).put_file(key, Path(src)))
    """
)


def test_killed_writer_leaves_no_entry(
    standin: GitHubStandin, gosub_url: str, tmp_path: Path, gocache: Path
) -> None:
    cache_dir = tmp_path / "cache"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not the real zip " * 10_000)  # 200 kB: about 50 chunks
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(cache_dir), KEY, str(junk)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    try:
        final = cache_dir.joinpath(*KEY.split("/"))
        deadline = time.monotonic() + 20
        while True:
            temps = list(final.parent.glob(".tmp-*")) if final.parent.exists() else []
            if temps and temps[0].stat().st_size >= 8192:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "writer did not start"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 0 < temps[0].stat().st_size < junk.stat().st_size  # killed mid-write
    assert not final.exists()

    # gosub on the same directory: no entry, so it builds the zip, and Go agrees.
    server = mono_server(standin, cache_dir)
    url = server.start()
    try:
        standin.reset()
        got = GoRunner(tmp_path / "go", gocache=gocache).mod_download(
            MONO.module, "v1.1.0", goproxy=url + "/"
        )
        assert not got.get("Error") and standin.counts["codeload"] == 1
    finally:
        server.stop()
    ref = GoRunner(tmp_path / "ref", gocache=gocache).mod_download(
        MONO.module, "v1.1.0", goproxy=f"{gosub_url}/mono/"
    )
    assert got["Sum"] == ref["Sum"]
    assert final.read_bytes() != junk.read_bytes()
    assert final.read_bytes()[:2] == b"PK"


# put (the .info, .mod and list entries) writes bytes through one file object; the
# writer slows that file down the same way.
PUT_WRITER = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from pathlib import Path
    from gosub.store import DiskStore

    real_fdopen = os.fdopen

    class SlowFile:
        def __init__(self, fh):
            self.fh = fh
        def write(self, data):
            for i in range(0, len(data), 4096):
                self.fh.write(data[i : i + 4096])
                self.fh.flush()
                time.sleep(0.05)
            return len(data)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.fh.close()

    os.fdopen = lambda fd, *a, **k: SlowFile(real_fdopen(fd, *a, **k))
    root, key, src = sys.argv[1:]
    asyncio.run(DiskStore(root).put(key, Path(src).read_bytes()))
    """
)


def _written(final: Path, old: bytes | None) -> int:
    """Bytes written so far for ``final``: its temporary files, or ``final`` itself
    once it is no longer the old entry (a writer that is not atomic)."""
    if not final.parent.exists():
        return 0
    n = sum(t.stat().st_size for t in final.parent.glob(".tmp-*"))
    if final.exists() and final.read_bytes() != old:
        n += final.stat().st_size
    return n


@pytest.mark.parametrize(
    ("file", "old"),
    [("v1.1.0.info", None), ("v1.1.0.mod", None), ("list", b"v1.0.0\n"), ("list", None)],
)
def test_killed_put_leaves_no_entry_or_the_old_one(
    tmp_path: Path, file: str, old: bytes | None
) -> None:
    key = store_key(namespace(MONO.config().identity), "example.test/mono", file)
    cache_dir = tmp_path / "cache"
    final = cache_dir.joinpath(*key.split("/"))
    if old is not None:
        final.parent.mkdir(parents=True)
        final.write_bytes(old)
    new = tmp_path / "new"
    new.write_bytes(b"v9.9.9\n" * 30_000)  # 210 kB: about 50 slow writes
    proc = subprocess.Popen(
        [sys.executable, "-c", PUT_WRITER, str(cache_dir), key, str(new)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    try:
        deadline = time.monotonic() + 20
        while (progress := _written(final, old)) < 8192:
            assert proc.poll() is None and time.monotonic() < deadline, "writer did not start"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 0 < progress < new.stat().st_size  # killed mid-write
    if old is None:
        assert not final.exists()
    else:
        assert final.read_bytes() == old
    # What a reader sees: the stray temporary file is never an entry.
    from gosub.store import DiskStore

    assert asyncio.run(DiskStore(cache_dir).get(key)) == old
