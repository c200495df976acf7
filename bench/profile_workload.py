"""Drives one workload against a running server, for profiling it (see bench/profile.sh).

Usage: python bench/profile_workload.py URI {upload,download,small,bigbucket} [repeat]
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402

MiB = 1024 * 1024


def main() -> int:
    uri, what = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    spec = {"kind": "wire", "uri": uri}
    bucket, close = workloads.open_bucket(spec, "profile")
    data = os.urandom(256 * MiB)
    digest = hashlib.sha256(data).hexdigest()
    if what == "download":
        file_id = bucket.upload_from_stream("large.bin", data)
        # Tell the caller (profile.sh) the upload is done and the timed part begins.
        print("ready", flush=True)
        sys.stdin.readline()
        for _ in range(repeat):
            start = time.monotonic()
            out = bucket.open_download_stream(file_id).read()
            print(f"download {256 / (time.monotonic() - start):.0f} MiB/s", flush=True)
            assert hashlib.sha256(out).hexdigest() == digest
    else:
        print("ready", flush=True)
        sys.stdin.readline()
        if what == "upload":
            for _ in range(repeat):
                start = time.monotonic()
                bucket.upload_from_stream("large.bin", data)
                print(f"upload {256 / (time.monotonic() - start):.0f} MiB/s", flush=True)
        elif what == "small":
            files = [os.urandom(10 * 1024) for _ in range(1000)]
            for _ in range(repeat):
                result = workloads.small_files(spec, files, [hashlib.sha256(f).hexdigest() for f in files])
                print({k: round(v) if isinstance(v, float) else v for k, v in result.items()}, flush=True)
        elif what == "bigbucket":
            workloads.build_bucket(spec, "big", 100_000)
            for _ in range(repeat):
                print(workloads.lookups(spec, ["big"], 60), flush=True)
    close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
