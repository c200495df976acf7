"""MongoDB's GridFS unified-format tests (IntegrationTests/conformance/run_gridfs.py) against the session daemon."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "conformance" / "run_gridfs.py"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")

# The eight top-level GridFS files hold 39 tests; unified-test-format__poc-gridfs.json holds 5 more.
MINIMUM_PASSED = 39 + 5


def test_gridfs_unified_format(daemon) -> None:
    result = subprocess.run([sys.executable, str(RUNNER), "--host", daemon.host, "--port", str(daemon.port)],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    print(output)
    lines = result.stdout.strip().splitlines()
    assert lines, f"the runner printed nothing:\n{output}"
    match = SUMMARY.match(lines[-1])
    assert match, f"unexpected last line {lines[-1]!r}:\n{output}"
    passed, failed = int(match.group(1)), int(match.group(2))
    assert failed == 0, output
    assert passed >= MINIMUM_PASSED, output
    assert result.returncode == 0, output
