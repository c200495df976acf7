"""Helpers for the HTTP gateway tests: a daemon with the gateway on a free port."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from conftest import Daemon, gridlite_bin

HTTP_LINE = re.compile(r"HTTP gateway on http://(\S+):(\d+)")


class GatewayDaemon:
    """A gridlite daemon started with `--http-port 0`; `base` is the gateway's URL."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        self.daemon = Daemon(gridlite_bin(), workdir, ("--http-port", "0", *extra))
        self.base = ""

    def start(self) -> "GatewayDaemon":
        self.daemon.start()
        match = self.daemon.wait_for_log(HTTP_LINE.pattern, timeout=30)
        if match is None:
            self.daemon.stop()
            raise RuntimeError(f"no 'HTTP gateway on' line; log:\n{self.daemon.log()[-5000:]}")
        self.base = f"http://{match.group(1)}:{match.group(2)}"
        return self

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.daemon.stop()


def start_gateway(tmp_root: Path, *extra: str) -> GatewayDaemon:
    return GatewayDaemon(Path(tempfile.mkdtemp(prefix="gridlite-http-", dir=tmp_root)), *extra).start()


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def parse_multipart_byteranges(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (Content-Range, payload) pairs of a multipart/byteranges body (parsed by hand, strictly)."""
    match = re.search(r"boundary=([^;]+)", content_type)
    assert match, content_type
    boundary = match.group(1).strip('"').encode()
    delimiter = b"--" + boundary
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n"), body[-80:]
    parts = []
    for raw in body[: -len(b"\r\n" + delimiter + b"--\r\n")].split(b"\r\n" + delimiter + b"\r\n"):
        raw = raw.removeprefix(delimiter + b"\r\n")
        head, _, payload = raw.partition(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        parts.append((headers[b"Content-Range"].decode(), payload))
    return parts
