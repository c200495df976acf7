"""The daemon's command line: --version, --help, and one-line start-up errors with exit status 1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import pytest

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
    for option in ("--host", "--port", "--data-dir", "--log-level", "--log-format", "--maxConns",
                   "--maxIncomingBytesInFlight", "--frameReadTimeoutSecs"):
        assert option in text, f"{option} missing from serve --help"


def test_port_in_use(gridlite_binary, tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        result = run(gridlite_binary, "serve", "--no-http", "--host", "127.0.0.1", "--port", str(port),
                     "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_crash(result)
    assert str(port) in result.stdout + result.stderr


def test_unwritable_data_dir(gridlite_binary, tmp_path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("a file, so nothing can be created below it (even as root)")
    result = run(gridlite_binary, "serve", "--no-http", "--host", "127.0.0.1", "--port", "0",
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


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit status 1, no crash, and one line on stderr containing every fragment."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert_no_crash(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("gridlite:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    for leak in ("CREATE TABLE", "NSError", "Error Domain", "SQLiteError("):
        assert leak not in result.stdout + result.stderr, result.stderr
    return errors[0]


def test_ports_out_of_range_are_a_one_line_error(gridlite_binary, tmp_path) -> None:
    for port in ("99999", "65536", "-1"):
        result = run(gridlite_binary, "serve", "--no-http", f"--port={port}", "--data-dir", str(tmp_path / "data"))
        assert_one_line_error(result, port, "0-65535")


def test_data_directory_problems_are_one_line_naming_path_and_cause(gridlite_binary, tmp_path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "gridlite.sqlite").write_bytes(b"this is not an SQLite database" * 200)
    blobs_file = tmp_path / "blobs-file"
    blobs_file.mkdir()
    (blobs_file / "blobs").write_text("a file where the segment folder belongs")
    cases = [
        ("/proc/gridlite-data", ("/proc/gridlite-data", "proc")),
        ("/proc", ("/proc", "proc")),
        (str(a_file), (str(a_file), "not a directory")),
        (str(a_file / "below"), (str(a_file / "below"),)),
        (str(corrupt), (str(corrupt / "gridlite.sqlite"), "not a database")),
        (str(blobs_file), (str(blobs_file / "blobs"), "not a directory")),
    ]
    for data_dir, fragments in cases:
        result = run(gridlite_binary, "serve", "--no-http", "--port", "0", "--data-dir", data_dir)
        assert_one_line_error(result, *fragments)


@pytest.mark.sqlite_only
def test_read_only_database_file_is_a_one_line_error(gridlite_binary, daemon_factory, tmp_path) -> None:
    d = daemon_factory()
    assert d.stop() == 0
    database = d.data_dir / "gridlite.sqlite"
    command = [str(gridlite_binary), "serve", "--no-http", "--port", "0", "--data-dir", str(d.data_dir)]
    if os.geteuid() == 0:
        # root may write any file: run the daemon as nobody, who owns the directory but whose
        # database file is read-only.
        assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root for this test"
        for path in [tmp_path, *tmp_path.parents]:
            os.chmod(path, os.stat(path).st_mode | 0o011)  # traversable by nobody
        for root, dirs, files in os.walk(d.workdir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, 65534, 65534)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    database.chmod(0o444)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert_one_line_error(result, str(database), "read-only")


@pytest.mark.sqlite_only
def test_startup_banner_and_signal_are_logged(daemon_factory) -> None:
    d = daemon_factory("--maxConns", "77")
    log = d.log()
    assert f"gridlite {version_of(d.binary)} starting: pid {d.pid}, data directory {d.data_dir}" in log, log
    assert "storage: gridlite.sqlite" in log and "segment files" in log, log
    assert "limits: maxConns 77, maxIncomingBytesInFlight 268435456" in log, log
    offset = d.log_offset()
    d.process.send_signal(signal.SIGINT)
    assert d.process.wait(timeout=15) == 0
    assert "received SIGINT, shutting down" in d.log(offset)
    assert "shut down cleanly" in d.log(offset)


def test_sigterm_is_logged(daemon_factory) -> None:
    d = daemon_factory()
    offset = d.log_offset()
    assert d.stop() == 0
    assert "received SIGTERM, shutting down" in d.log(offset)


def test_json_log_format(daemon_factory) -> None:
    d = daemon_factory("--log-format", "json")
    with d.client() as c:
        c.admin.command("ping")
        parsed = c.admin.command("getCmdLineOpts")["parsed"]
    assert parsed["systemLog"]["logFormat"] == "json"
    assert d.stop() == 0
    lines = [line for line in d.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"t", "level", "msg"} <= record.keys() for record in records)
    messages = [record["msg"] for record in records]
    assert any(m.startswith("listening on 127.0.0.1:") for m in messages), messages
    assert "received SIGTERM, shutting down" in messages
    commands = [r["metadata"]["cmd"] for r in records if r["msg"] == "command"]
    assert "ping" in commands, commands


def test_bad_option_values_are_one_line_errors(gridlite_binary, tmp_path) -> None:
    data = str(tmp_path / "data")
    for args, fragment in [(("--maxConns", "0"), "--maxConns"), (("--log-format", "xml"), "log format"),
                           (("--maxIncomingBytesInFlight=-5",), "--maxIncomingBytesInFlight"),
                           (("--log-level", "loud"), "log level")]:
        result = run(gridlite_binary, "serve", "--no-http", "--port", "0", "--data-dir", data, *args)
        assert_one_line_error(result, fragment)


def version_of(binary) -> str:
    return run(binary, "--version").stdout.strip()
