"""`gridlite serve` options from GRIDLITE_* environment variables: precedence, bad values, and the
documented table covering every option of `serve --help`."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import REPO_ROOT, gridlite_bin, LISTENING


def start(tmp_path: Path, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int, Path]:
    log = tmp_path / "gridlite.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDLITE_")}
    full_env.update(env)
    with open(log, "wb") as out:
        process = subprocess.Popen([str(gridlite_bin()), "serve", "--no-http", *args], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=full_env, cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text(errors="replace"))
        if match:
            return process, int(match.group(2)), log
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {log.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"did not start: {log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_briefly(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDLITE_")}
    full_env.update(env)
    return subprocess.run([str(gridlite_bin()), "serve", "--no-http", *args], capture_output=True, text=True, env=full_env,
                          cwd=tmp_path, timeout=60)


def test_options_come_from_the_environment(tmp_path, tls_pki) -> None:
    data = tmp_path / "from-env"
    env = {"GRIDLITE_PORT": "0", "GRIDLITE_DATA_DIR": str(data), "GRIDLITE_SLOWMS": "7",
           "GRIDLITE_TLS_MODE": "requireTLS", "GRIDLITE_TLS_CERTIFICATE_KEY_FILE": tls_pki.server,
           "GRIDLITE_TLS_CA_FILE": tls_pki.ca, "GRIDLITE_TLS_ALLOW_CONNECTIONS_WITHOUT_CERTIFICATES": "true",
           "GRIDLITE_MAX_CONNS": "55", "GRIDLITE_LOG_LEVEL": "debug"}
    process, port, log = start(tmp_path, [], env)
    try:
        with MongoClient(f"mongodb://127.0.0.1:{port}/", tls=True, tlsCAFile=tls_pki.ca,
                         serverSelectionTimeoutMS=5000) as c:
            parsed = c.admin.command("getCmdLineOpts")["parsed"]
        assert parsed["storage"]["dbPath"] == str(data)
        assert parsed["operationProfiling"]["slowOpThresholdMs"] == 7
        assert parsed["net"]["maxIncomingConnections"] == 55
        assert parsed["net"]["tls"] == {"mode": "requireTLS", "certificateKeyFile": tls_pki.server,
                                        "CAFile": tls_pki.ca, "allowConnectionsWithoutCertificates": True}
        assert (data / "gridlite.sqlite").exists()
        text = log.read_text()
        assert "options from the environment: GRIDLITE_PORT" in text and "GRIDLITE_TLS_MODE" in text
        assert tls_pki.server not in text.split("options from the environment")[1].splitlines()[0]
    finally:
        stop(process)


def test_command_line_wins_over_the_environment(tmp_path) -> None:
    env = {"GRIDLITE_SLOWMS": "7", "GRIDLITE_HOST": "0.0.0.0", "GRIDLITE_DATA_DIR": str(tmp_path / "env-dir"),
           "GRIDLITE_PORT": "1"}
    process, port, _ = start(tmp_path, ["--slowms", "9", "--bind_ip", "127.0.0.1", "--port=0",
                                        "--data-dir", str(tmp_path / "cli-dir")], env)
    try:
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as c:
            parsed = c.admin.command("getCmdLineOpts")["parsed"]
        assert parsed["operationProfiling"]["slowOpThresholdMs"] == 9
        assert parsed["net"]["bindIp"] == "127.0.0.1"  # --bind_ip is --host; it beats GRIDLITE_HOST
        assert parsed["storage"]["dbPath"] == str(tmp_path / "cli-dir")
        assert not (tmp_path / "env-dir").exists()
    finally:
        stop(process)


@pytest.mark.parametrize("env, expected", [
    ({"GRIDLITE_PORT": "abc"}, "GRIDLITE_PORT='abc'"),
    ({"GRIDLITE_PORT": "70000"}, "--port 70000 is out of range (0-65535) (set by GRIDLITE_PORT)"),
    ({"GRIDLITE_MAX_CONNS": "many"}, "GRIDLITE_MAX_CONNS='many'"),
    ({"GRIDLITE_TLS_MODE": "sometimes"}, "--tlsMode 'sometimes' is not one of"),
    ({"GRIDLITE_TLS_ALLOW_CONNECTIONS_WITHOUT_CERTIFICATES": "maybe"},
     "GRIDLITE_TLS_ALLOW_CONNECTIONS_WITHOUT_CERTIFICATES='maybe' is not a flag value"),
    ({"GRIDLITE_LOG_FORMAT": "xml"}, "unknown log format 'xml'"),
])
def test_bad_environment_values_are_one_line_errors(tmp_path, env, expected) -> None:
    result = run_briefly(tmp_path, ["--data-dir", str(tmp_path / "d")], env)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gridlite: ") and expected in lines[0], lines


def test_a_bad_value_on_the_command_line_is_still_argument_parsers_error(tmp_path) -> None:
    result = run_briefly(tmp_path, ["--port", "abc"], {"GRIDLITE_SLOWMS": "5"})
    assert result.returncode != 0
    assert "GRIDLITE_SLOWMS" not in result.stderr and "--port" in result.stderr


def upper_snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.replace("-", "_").upper()


def serve_options() -> list[str]:
    help_text = subprocess.run([str(gridlite_bin()), "serve", "--help"], capture_output=True, text=True,
                               timeout=30).stdout
    names = []
    for line in help_text.splitlines():
        match = re.match(r"\s+--([A-Za-z][A-Za-z0-9_-]*)", line)
        if match and match.group(1) not in ("help", "version"):
            names.append(match.group(1))
    return names


def test_every_serve_option_has_a_documented_variable() -> None:
    options = serve_options()
    assert {"port", "data-dir", "tlsMode", "tlsCAFile"} <= set(options), options
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [f"GRIDLITE_{upper_snake(o)}" for o in options if f"GRIDLITE_{upper_snake(o)}" not in readme]
    assert not missing, f"README's environment table lacks {missing}"


def test_auth_flag_from_the_environment(tmp_path) -> None:
    from pymongo.errors import OperationFailure
    process, port, log = start(tmp_path, ["--port", "0", "--data-dir", str(tmp_path / "d")], {"GRIDLITE_AUTH": "yes"})
    try:
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as c:
            assert c.admin.command("ping")["ok"] == 1
            with pytest.raises(OperationFailure) as info:
                c.admin.command("listDatabases")
            assert info.value.code == 13
        assert "options from the environment: GRIDLITE_AUTH" in log.read_text()
    finally:
        stop(process)
    process, port, _ = start(tmp_path, ["--port", "0", "--data-dir", str(tmp_path / "d2")], {"GRIDLITE_AUTH": "0"})
    try:
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as c:
            assert "databases" in c.admin.command("listDatabases")
    finally:
        stop(process)
