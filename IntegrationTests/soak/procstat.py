"""Resident memory and open descriptors of a process, read from /proc (Linux only)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB (0 if the process is gone)."""
    return _status_field(pid, "VmRSS")


def hwm_kib(pid: int) -> int:
    """VmHWM (peak resident set) of `pid` in KiB."""
    return _status_field(pid, "VmHWM")


def _status_field(pid: int, name: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


@dataclass
class Descriptors:
    """Open descriptors of a process, by kind (`socket`, `file`, `other`)."""

    total: int = 0
    sockets: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def others(self) -> int:
        return self.total - self.sockets - len(self.files)


def descriptors(pid: int) -> Descriptors:
    """Counts /proc/PID/fd entries; regular files are listed by path (SQLite files, blob segments)."""
    result = Descriptors()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, ProcessLookupError):
        return result
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:  # closed between listdir and readlink
            continue
        result.total += 1
        if target.startswith("socket:"):
            result.sockets += 1
        elif target.startswith("/"):
            result.files.append(target)
    return result


class Sampler:
    """Samples RSS and descriptor counts of one process every `interval` seconds, on a thread."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_fds = 0
        self.peak_sockets = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        self.peak_rss_kib = max(self.peak_rss_kib, rss_kib(self.pid))
        fds = descriptors(self.pid)
        self.peak_fds = max(self.peak_fds, fds.total)
        self.peak_sockets = max(self.peak_sockets, fds.sockets)


@dataclass
class Snapshot:
    """RSS and descriptors at one moment."""

    rss_kib: int
    fds: int
    sockets: int
    files: list[str]

    @property
    def others(self) -> int:
        return self.fds - self.sockets - len(self.files)


def snapshot(pid: int) -> Snapshot:
    fds = descriptors(pid)
    return Snapshot(rss_kib(pid), fds.total, fds.sockets, sorted(fds.files))
