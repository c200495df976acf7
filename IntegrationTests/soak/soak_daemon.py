"""Starts and stops one gridlite daemon for the soak run (loopback only, a data directory of its own)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

LISTENING = re.compile(r"listening on (\S+):(\d+)")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


class DaemonDied(RuntimeError):
    """The daemon is not running any more."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SoakDaemon:
    """One gridlite process; `restart()` keeps its data directory and port."""

    def __init__(self, binary: Path, workdir: Path, log_level: str = "info") -> None:
        self.binary = binary
        self.data_dir = workdir / "data"
        self.log_path = workdir / "gridlite.log"
        self.log_level = log_level
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def start(self) -> "SoakDaemon":
        """Starts the daemon (on a free port the first time) and waits for `listening on`."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self.port or free_port()
        args = [str(self.binary), "serve", "--no-http", "--host", self.host, "--port", str(port),
                "--data-dir", str(self.data_dir), "--log-level", self.log_level]
        with open(self.log_path, "ab") as log:
            self._log_start = log.tell()
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if LISTENING.search(self.log(self._log_start)):
                self.port = port
                return self
            if self.process.poll() is not None:
                raise DaemonDied(f"gridlite exited with status {self.process.returncode} at startup:\n"
                                 f"{self.log(self._log_start)[-4000:]}")
            time.sleep(0.05)
        raise DaemonDied(f"gridlite did not start within {STARTUP_TIMEOUT}s:\n{self.log(self._log_start)[-4000:]}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns the exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        return process.returncode

    def restart(self) -> "SoakDaemon":
        self.stop()
        return self.start()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_description(self) -> str:
        """How the process ended (signal name or exit status), for reports."""
        if self.process is None or self.process.poll() is None:
            return "running"
        code = self.process.returncode
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with status {code}"

    def log(self, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(since)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_offset(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0
