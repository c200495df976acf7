"""The soak and abuse run (IntegrationTests/soak/soak.py) for 60 seconds, as part of `make test`.

`make soak` runs the same driver for SOAK_SECONDS (default 600). This test fails with the driver's
summary, which names every hostile input that killed or hung the daemon, every error a well-behaved
client saw, every damaged file, and RSS/descriptors that did not come back.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOAK_DIR = Path(__file__).resolve().parents[1] / "soak"
sys.path.insert(0, str(SOAK_DIR))

from soak import run_soak  # noqa: E402


def test_soak_60_seconds(gridlite_binary: Path, tmp_path: Path) -> None:
    seconds = int(os.environ.get("SOAK_TEST_SECONDS", "60"))
    report = run_soak(gridlite_binary, seconds=seconds, workdir=tmp_path)
    summary = report.summary()
    print(summary)
    assert report.ops.get("gridfs upload", 0) > 0 and report.ops.get("gridfs download", 0) > 0, summary
    assert report.verified_after is not None and report.verified_after.files == report.files_expected > 0, summary
    assert not report.failures(), summary
