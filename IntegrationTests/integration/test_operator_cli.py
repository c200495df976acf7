"""The operator subcommands (issue 14): stats, ls, get, put, export, import — one output style
(tables, --json), exit statuses 0/1/2, progress bars drawn only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from pathlib import Path

import gridfs
import pytest

from gridfs_support import pattern_bytes
from integrity_support import gridlite

# These tests read and damage the SQLite engine's own files.
pytestmark = pytest.mark.sqlite_only

MiB = 1024 * 1024


def run_in_pty(args: list[str], timeout: float = 120) -> tuple[int, bytes]:
    """Runs a command with stdout/stderr on a pseudo-terminal; returns (status, everything written)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    os.close(master)
    return process.wait(timeout=timeout), output


def test_help_lists_every_subcommand(gridlite_binary) -> None:
    result = gridlite(gridlite_binary, "--help")
    assert result.returncode == 0
    for name in ("serve", "fsck", "backup", "restore", "stats", "ls", "get", "put", "export", "import"):
        assert f"\n  {name} " in result.stdout, name


def test_import_export_ls_get_put_stats(daemon_factory, gridlite_binary, tmp_path) -> None:
    src = tmp_path / "tree"
    (src / "photos" / "2024").mkdir(parents=True)
    files = {"readme.txt": b"hello\n", "photos/2024/big.raw": pattern_bytes(3 * MiB + 17, 1),
             "photos/empty.bin": b"", "photos/2024/x.bin": pattern_bytes(300_000, 2)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    d = daemon_factory()
    d.stop()
    result = gridlite(gridlite_binary, "import", "--data-dir", str(d.data_dir), "--db", "ops", "--from", str(src))
    assert result.returncode == 0 and "imported 4 file(s)" in result.stdout, result.stderr
    local = tmp_path / "one.bin"
    local.write_bytes(pattern_bytes(1000, 3))
    put = gridlite(gridlite_binary, "put", "--data-dir", str(d.data_dir), "--db", "ops", str(local), "--name", "single.bin", "--json")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["filename"] == "single.bin"

    d.start()
    with d.client() as client:
        # What the CLI stored is ordinary GridFS: pymongo reads it byte-exact.
        fs = gridfs.GridFSBucket(client["ops"])
        for name, data in files.items():
            assert fs.open_download_stream_by_name(name).read() == data, name
        assert fs.open_download_stream_by_name("single.bin").read() == pattern_bytes(1000, 3)
        fs.upload_from_stream("from-driver.bin", pattern_bytes(20_000, 4))
    # Read-only commands work beside the running daemon; writes are refused with exit 2.
    ls = gridlite(gridlite_binary, "ls", "--data-dir", str(d.data_dir), "--db", "ops", "--json")
    assert ls.returncode == 0, ls.stderr
    listed = {f["filename"]: f["length"] for f in json.loads(ls.stdout)}
    assert listed == {**{n: len(b) for n, b in files.items()}, "single.bin": 1000, "from-driver.bin": 20_000}
    table = gridlite(gridlite_binary, "ls", "--data-dir", str(d.data_dir), "--db", "ops")
    assert table.stdout.splitlines()[0].split() == ["ID", "LENGTH", "UPLOADED", "FILENAME"]
    got = tmp_path / "got.bin"
    get = gridlite(gridlite_binary, "get", "--data-dir", str(d.data_dir), "--db", "ops", "from-driver.bin", "--local", str(got))
    assert get.returncode == 0 and got.read_bytes() == pattern_bytes(20_000, 4), get.stderr
    missing = gridlite(gridlite_binary, "get", "--data-dir", str(d.data_dir), "--db", "ops", "nope")
    assert missing.returncode == 2 and "no file named 'nope'" in missing.stderr
    refused = gridlite(gridlite_binary, "put", "--data-dir", str(d.data_dir), "--db", "ops", str(local))
    assert refused.returncode == 2 and f"pid {d.pid}" in refused.stderr, refused.stderr
    out = tmp_path / "exported"
    export = gridlite(gridlite_binary, "export", "--data-dir", str(d.data_dir), "--db", "ops", "--to", str(out))
    assert export.returncode == 0, export.stderr
    for name, data in files.items():
        assert (out / name).read_bytes() == data, name
    assert (out / "from-driver.bin").read_bytes() == pattern_bytes(20_000, 4)

    assert gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir)).returncode == 0
    stats = gridlite(gridlite_binary, "stats", "--data-dir", str(d.data_dir), "--json")
    assert stats.returncode == 0, stats.stderr
    s = json.loads(stats.stdout)
    bucket = next(b for b in s["buckets"] if b["database"] == "ops" and b["bucket"] == "fs")
    assert bucket["files"] == 6 and bucket["bytes"] == sum(map(len, files.values())) + 21_000
    assert bucket["largest"][0] == {"name": "photos/2024/big.raw", "bytes": 3 * MiB + 17}
    assert s["lastFsck"]["clean"] is True and s["segments"] >= 1
    text = gridlite(gridlite_binary, "stats", "--data-dir", str(d.data_dir))
    assert "last fsck:" in text.stdout and "clean" in text.stdout
    nowhere = gridlite(gridlite_binary, "stats", "--data-dir", str(tmp_path / "nowhere"))
    assert nowhere.returncode == 2 and "not a gridlite data directory" in nowhere.stderr


def test_progress_bars_only_on_a_terminal(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory()
    with d.client() as client:
        gridfs.GridFSBucket(client["bars"]).upload_from_stream("big.bin", pattern_bytes(40 * MiB, 5))
    status, output = run_in_pty([str(gridlite_binary), "fsck", "--data-dir", str(d.data_dir)])
    assert status == 0, output
    assert b"\rfsck [" in output and b"%" in output and b"ETA" in output, output[-500:]
    target = tmp_path / "big.bin"
    status, output = run_in_pty([str(gridlite_binary), "get", "--data-dir", str(d.data_dir), "--db", "bars", "big.bin",
                                 "--local", str(target)])
    assert status == 0 and target.stat().st_size == 40 * MiB, output
    assert b"\rget [" in output, output[-500:]
    status, output = run_in_pty([str(gridlite_binary), "backup", "--data-dir", str(d.data_dir), "--to", str(tmp_path / "b")])
    assert status == 0 and b"\rbackup [" in output, output[-500:]
    # Piped: no bar drawn in place.
    piped = gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir))
    assert piped.returncode == 0 and "\r" not in piped.stderr + piped.stdout
    piped = gridlite(gridlite_binary, "get", "--data-dir", str(d.data_dir), "--db", "bars", "big.bin", "--local", str(target))
    assert piped.returncode == 0 and "\r" not in piped.stderr
