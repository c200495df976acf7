"""libmongoc's GridFS APIs (c/gridfs_bucket.c, c/gridfs_legacy.c) against the session daemon.

Each program prints one `ok - ...` / `FAIL - ...` line per check and exits non-zero on any mismatch.
"""

from __future__ import annotations

import subprocess

import pytest


@pytest.mark.parametrize("program", ["gridfs_bucket", "gridfs_legacy"])
def test_libmongoc_gridfs(daemon, c_program, program: str) -> None:
    uri = daemon.uri_with("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000")
    result = subprocess.run([str(c_program(program)), uri, f"c_{program}"], capture_output=True, text=True,
                            timeout=120)
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    print(output)
    assert result.returncode == 0, output
    assert "FAIL" not in result.stdout, output
    assert result.stdout.strip().endswith("0 failed"), output
    assert result.stdout.count("ok - ") >= 30, output


def test_libmongoc_gridfs_with_fail_points(test_commands_daemon, c_program) -> None:
    # c/gridfs_fail_points.c: retryable reads after a closed connection and after 10107, the same
    # failure surfacing with retryReads=false, maxTimeMS under a blocked find, a failed chunk insert.
    d = test_commands_daemon
    uri = d.uri_with("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000")
    result = subprocess.run([str(c_program("gridfs_fail_points")), uri], capture_output=True, text=True, timeout=120)
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    print(output)
    assert result.returncode == 0, output
    assert "FAIL" not in result.stdout, output
    assert result.stdout.count("ok - ") == 9, output
