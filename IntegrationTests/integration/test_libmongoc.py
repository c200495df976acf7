"""libmongoc (C driver) against the daemon: OP_QUERY handshake, then commands over OP_MSG."""

from __future__ import annotations

import json
import subprocess

import pytest


def run_handshake(c_program, uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    binary = c_program("handshake")
    return subprocess.run([str(binary), uri, *args], capture_output=True, text=True, timeout=60)


def mongoc_uri(daemon) -> str:
    return daemon.uri_with("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000")


def test_libmongoc_ping(daemon, c_program) -> None:
    result = run_handshake(c_program, mongoc_uri(daemon))
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert json.loads(result.stdout) == {"ok": 1.0}


@pytest.mark.parametrize("name", ["hello", "isMaster", "buildinfo", "serverStatus"])
def test_libmongoc_admin_commands(daemon, c_program, name: str) -> None:
    result = run_handshake(c_program, mongoc_uri(daemon), name)
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert json.loads(result.stdout)["ok"] == 1.0


def test_libmongoc_unknown_command_fails_cleanly(daemon, c_program) -> None:
    result = run_handshake(c_program, mongoc_uri(daemon), "gridliteNoSuchCommand")
    assert result.returncode == 1
    assert "gridliteNoSuchCommand" in result.stderr
    assert "code 59" in result.stderr


def test_libmongoc_reports_unreachable_server(c_program) -> None:
    from conftest import free_port
    result = run_handshake(c_program, f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500")
    assert result.returncode == 1
