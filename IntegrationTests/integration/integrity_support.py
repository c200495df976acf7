"""Helpers for the integrity tests (test_fsck.py, test_backup.py, test_operator_cli.py): running
`gridlite <subcommand>`, and finding or damaging stored chunks in a stopped daemon's data directory
with Python's sqlite3 (the test plays the disk that flips a bit)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import bson


def gridlite(binary: Path, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `gridlite args...` with stdout/stderr captured (so neither is a terminal)."""
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def fsck_json(binary: Path, data_dir: Path, *args: str) -> tuple[int, dict]:
    """`gridlite fsck --json`: the exit status and the parsed report ({} when none was printed)."""
    result = gridlite(binary, "fsck", "--data-dir", str(data_dir), "--json", *args)
    try:
        report = json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError:
        raise AssertionError(f"fsck printed no JSON:\n{result.stdout}\n{result.stderr}")
    return result.returncode, report | {"_stderr": result.stderr}


def open_catalog(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(data_dir / "gridlite.sqlite"))


def table_of(conn: sqlite3.Connection, db: str, collection: str) -> str:
    row = conn.execute("SELECT id FROM gl_collections WHERE db = ? AND name = ?", (db, collection)).fetchone()
    assert row, f"{db}.{collection} not in the catalog"
    return f"c{row[0]}"


def chunk_rows(conn: sqlite3.Connection, db: str, bucket: str = "fs") -> list[dict]:
    """Every chunk row of a bucket: rid, files_id, n, seg, off, len (payload zero-filled to decode)."""
    table = table_of(conn, db, f"{bucket}.chunks")
    out = []
    for rid, head, data, tail, seg, off, length in conn.execute(
            f"SELECT rid, head, data, tail, seg, off, len FROM {table} ORDER BY rid"):
        payload = data if data is not None else b"\0" * (length or 0)
        doc = bson.decode(bytes(head) + bytes(payload) + bytes(tail or b""))
        out.append({"table": table, "rid": rid, "files_id": doc["files_id"], "n": doc["n"],
                    "seg": seg, "off": off, "len": length})
    return out


def segment_path(data_dir: Path, seg: int) -> Path:
    return data_dir / "blobs" / f"{seg}.seg"


def flip_byte(data_dir: Path, row: dict, at: int = 10) -> None:
    """Flips one bit of a chunk payload inside its segment file."""
    path = segment_path(data_dir, row["seg"])
    with open(path, "r+b") as f:
        f.seek(row["off"] + at)
        byte = f.read(1)
        f.seek(row["off"] + at)
        f.write(bytes([byte[0] ^ 0x01]))
        f.flush()
        os.fsync(f.fileno())


def problems_of(report: dict, kind: str) -> list[dict]:
    return [p for p in report.get("problems", []) if p["kind"] == kind]
