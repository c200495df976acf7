"""The daemon's command line: --version, --help, and one-line start-up errors with exit status 1."""

from __future__ import annotations

import socket
import subprocess

CRASH_MARKERS = ("Fatal error", "Stack dump", "Current stack trace", "Segmentation fault")


def run(binary, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    for marker in CRASH_MARKERS:
        assert marker not in output, output


def test_version(gridlite_binary) -> None:
    result = run(gridlite_binary, "--version")
    assert result.returncode == 0, result.stderr
    assert any(ch.isdigit() for ch in result.stdout + result.stderr)


def test_help(gridlite_binary) -> None:
    result = run(gridlite_binary, "--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout + result.stderr


def test_serve_help_lists_options(gridlite_binary) -> None:
    result = run(gridlite_binary, "serve", "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    for option in ("--host", "--port", "--data-dir", "--log-level"):
        assert option in text, f"{option} missing from serve --help"


def test_port_in_use(gridlite_binary, tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        result = run(gridlite_binary, "serve", "--host", "127.0.0.1", "--port", str(port),
                     "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_crash(result)
    assert str(port) in result.stdout + result.stderr


def test_unwritable_data_dir(gridlite_binary, tmp_path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("a file, so nothing can be created below it (even as root)")
    result = run(gridlite_binary, "serve", "--host", "127.0.0.1", "--port", "0",
                 "--data-dir", str(not_a_dir / "data"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_crash(result)
    assert (result.stdout + result.stderr).strip(), "expected an error message"


def test_unknown_option(gridlite_binary) -> None:
    result = run(gridlite_binary, "serve", "--no-such-option")
    assert result.returncode != 0
    assert_no_crash(result)


def test_own_daemon_and_clean_shutdown(daemon_factory) -> None:
    d = daemon_factory()
    with d.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0
    assert d.data_dir.is_dir()
    status = d.stop()
    assert status == 0, f"daemon did not exit cleanly on SIGTERM (status {status})"


def test_two_daemons_side_by_side(daemon_factory) -> None:
    a, b = daemon_factory(), daemon_factory()
    assert a.port != b.port
    with a.client() as ca, b.client() as cb:
        assert ca.admin.command("ping")["ok"] == 1.0
        assert cb.admin.command("ping")["ok"] == 1.0
