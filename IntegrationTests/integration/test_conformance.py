"""MongoDB's GridFS unified-format tests (IntegrationTests/conformance/run_gridfs.py) against a daemon
with test commands enabled (the fail-point suites in related/ need `configureFailPoint`), once with a
plain client and once with every client in load-balanced mode (`loadBalanced=true`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "conformance" / "run_gridfs.py"

# 39 tests in the eight top-level files, 6 in pymongo-extra/queries-use-eq.json and 64 in related/
# (5 poc-gridfs, 25 client-side operations timeout, 34 retryable reads): every one runs, none skipped.
EXPECTED_SUMMARY = "109 passed, 0 failed"


def run_runner(daemon, *extra: str) -> tuple[subprocess.CompletedProcess, str]:
    result = subprocess.run([sys.executable, str(RUNNER), "--uri", daemon.uri, *extra],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    print(output)
    return result, output


def test_gridfs_unified_format(test_commands_daemon) -> None:
    result, output = run_runner(test_commands_daemon)
    lines = result.stdout.strip().splitlines()
    assert lines, f"the runner printed nothing:\n{output}"
    assert lines[-1] == EXPECTED_SUMMARY, output
    assert result.returncode == 0, output


def test_gridfs_unified_format_load_balanced(test_commands_daemon) -> None:
    result, output = run_runner(test_commands_daemon, "--load-balanced")
    lines = result.stdout.strip().splitlines()
    assert lines, f"the runner printed nothing:\n{output}"
    assert lines[-1] == EXPECTED_SUMMARY, output
    assert result.returncode == 0, output


def test_fail_point_suites_fail_without_test_commands(daemon) -> None:
    # Without enableTestCommands the fail-point tests cannot set their fail point: they fail (59),
    # they are never silently skipped or passed.
    result, output = run_runner(daemon, "-k", "retryable-reads__gridfs-download.json: Download succeeds on second attempt")
    assert result.stdout.strip().splitlines()[-1] == "0 passed, 1 failed", output
    assert "CommandNotFound" in output and "configureFailPoint" in output, output
