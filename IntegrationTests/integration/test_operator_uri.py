"""The operator subcommands against a running daemon (issue 14): `--uri mongodb://…` makes put,
import, get, export, ls and stats speak the wire protocol (SCRAM when the URI names a user), so a
served data directory can be written without stopping the daemon. Also the mongofiles round trip
of an export: files stored with mongofiles' traffic, exported, imported into another daemon, and
read back with mongofiles' traffic and pymongo, byte-exact."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import gridfs
import pytest
from pymongo import MongoClient

from conftest import TEST_TLS
from gridfs_support import pattern_bytes
from integrity_support import gridlite
from test_mongofiles import Mongofiles

MiB = 1024 * 1024

# Under the whole-suite TLS pass (GRIDLITE_TEST_TLS) every daemon requires TLS and `d.uri` carries
# tls=true&tlsCAFile=…: the CLI's client then connects over TLS (test_operator_uri_tls.py has the rest).


def tree(root: Path) -> dict[str, bytes]:
    files = {"readme.txt": b"hello\n", "photos/2024/big.raw": pattern_bytes(3 * MiB + 17, 1),
             "photos/empty.bin": b"", "photos/2024/x.bin": pattern_bytes(300_000, 2),
             "deep/a/b/c/d.bin": pattern_bytes(255 * 1024, 3)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_every_operator_command_works_against_a_running_daemon(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory()
    uri = d.uri  # with the suite's root user under GRIDLITE_TEST_AUTH: SCRAM then
    files = tree(tmp_path / "tree")
    result = gridlite(gridlite_binary, "import", "--uri", uri, "--db", "ops", "--from", str(tmp_path / "tree"))
    assert result.returncode == 0 and "imported 5 file(s)" in result.stdout, result.stderr
    local = tmp_path / "one.bin"
    local.write_bytes(pattern_bytes(1000, 9))
    put = gridlite(gridlite_binary, "put", "--uri", uri, "--db", "ops", str(local), "--name", "single.bin", "--json")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["filename"] == "single.bin"
    with d.client() as client:
        # What the CLI stored through the daemon is ordinary GridFS, indexes included.
        fs = gridfs.GridFSBucket(client["ops"])
        for name, data in files.items():
            assert fs.open_download_stream_by_name(name).read() == data, name
        assert fs.open_download_stream_by_name("single.bin").read() == pattern_bytes(1000, 9)
        assert "files_id_1_n_1" in client["ops"]["fs.chunks"].index_information()
        assert client["ops"]["fs.chunks"].index_information()["files_id_1_n_1"].get("unique") is True
        assert "filename_1_uploadDate_1" in client["ops"]["fs.files"].index_information()
        fs.upload_from_stream("from-driver.bin", pattern_bytes(20_000, 4))
        fs.upload_from_stream("single.bin", b"newer revision")

    ls = gridlite(gridlite_binary, "ls", "--uri", uri, "--db", "ops", "--json")
    assert ls.returncode == 0, ls.stderr
    listed = sorted((f["filename"], f["length"]) for f in json.loads(ls.stdout))
    expected = sorted([(n, len(b)) for n, b in files.items()] + [("single.bin", 1000), ("from-driver.bin", 20_000),
                                                                ("single.bin", 14)])
    assert listed == expected
    table = gridlite(gridlite_binary, "ls", "--uri", uri, "--db", "ops")
    assert table.stdout.splitlines()[0].split() == ["ID", "LENGTH", "UPLOADED", "FILENAME"]

    got = tmp_path / "got.bin"
    get = gridlite(gridlite_binary, "get", "--uri", uri, "--db", "ops", "photos/2024/big.raw", "--local", str(got))
    assert get.returncode == 0 and got.read_bytes() == files["photos/2024/big.raw"], get.stderr
    newest = gridlite(gridlite_binary, "get", "--uri", uri, "--db", "ops", "single.bin", "--local", str(got))
    assert newest.returncode == 0 and got.read_bytes() == b"newer revision", newest.stderr
    missing = gridlite(gridlite_binary, "get", "--uri", uri, "--db", "ops", "nope")
    assert missing.returncode == 2 and "no file named 'nope'" in missing.stderr

    out = tmp_path / "exported"
    export = gridlite(gridlite_binary, "export", "--uri", uri, "--db", "ops", "--to", str(out))
    assert export.returncode == 0, export.stderr
    assert read_tree(out) == {**files, "single.bin": b"newer revision", "from-driver.bin": pattern_bytes(20_000, 4)}

    stats = gridlite(gridlite_binary, "stats", "--uri", uri, "--json")
    assert stats.returncode == 0, stats.stderr
    s = json.loads(stats.stdout)
    bucket = next(b for b in s["buckets"] if b["database"] == "ops" and b["bucket"] == "fs")
    assert bucket["files"] == 8
    assert bucket["bytes"] == sum(map(len, files.values())) + 1000 + 20_000 + 14
    assert bucket["chunks"] == sum(-(-len(b) // (255 * 1024)) for b in files.values()) + 1 + 1 + 1
    assert bucket["largest"][0] == {"name": "photos/2024/big.raw", "bytes": 3 * MiB + 17}
    assert s["segments"] is None and s["lastFsck"] is None
    text = gridlite(gridlite_binary, "stats", "--uri", uri)
    assert text.returncode == 0 and "not visible over --uri" in text.stdout

    # Exactly one of --data-dir and --uri; an unreachable daemon is exit 2 with one line.
    both = gridlite(gridlite_binary, "ls", "--uri", uri, "--data-dir", str(d.data_dir))
    assert both.returncode != 0 and "exactly one of --data-dir and --uri" in both.stderr
    port = d.port
    d.stop()
    gone = gridlite(gridlite_binary, "ls", "--uri", f"mongodb://127.0.0.1:{port}/")
    assert gone.returncode == 2 and "cannot connect to 127.0.0.1" in gone.stderr, gone.stderr


def test_uri_mode_authenticates_with_scram(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory("--auth")

    def tls(uri: str) -> str:  # the daemon's TLS options under GRIDLITE_TEST_TLS, else the URI as is
        extra = d.uri_options[1:]
        return uri if not extra else uri + ("&" if "?" in uri else "?") + extra
    with MongoClient(d.host, d.port, serverSelectionTimeoutMS=5000, **d.tls_client_options()) as anonymous:
        anonymous.admin.command("createUser", "ops", pwd="pä ss:@/w", roles=["root"])
    with MongoClient(d.host, d.port, username="ops", password="pä ss:@/w", serverSelectionTimeoutMS=5000,
                     **d.tls_client_options()) as root:
        root["app"].command("createUser", "writer", pwd="w", roles=[{"role": "readWrite", "db": "app"}],
                            mechanisms=["SCRAM-SHA-1"])
    password = urllib.parse.quote("pä ss:@/w", safe="")
    local = tmp_path / "f.bin"
    local.write_bytes(pattern_bytes(600_000, 5))
    base = f"mongodb://ops:{password}@{d.host}:{d.port}/"
    for mechanism in ("", "?authMechanism=SCRAM-SHA-1", "?authMechanism=SCRAM-SHA-256"):
        put = gridlite(gridlite_binary, "put", "--uri", tls(base + mechanism), "--db", "app", str(local), "--name", f"f{mechanism}")
        assert put.returncode == 0, (mechanism, put.stderr)
    # A user defined in another database (authSource from the path), SHA-1 only.
    put = gridlite(gridlite_binary, "put", "--uri", tls(f"mongodb://writer:w@{d.host}:{d.port}/app"), "--db", "app", str(local),
                   "--name", "by-writer")
    assert put.returncode == 0, put.stderr
    # Its role is readWrite on app only: another database is refused by the daemon.
    denied = gridlite(gridlite_binary, "put", "--uri", tls(f"mongodb://writer:w@{d.host}:{d.port}/app"), "--db", "other", str(local))
    assert denied.returncode == 2 and "code 13" in denied.stderr, denied.stderr
    wrong = gridlite(gridlite_binary, "ls", "--uri", tls(f"mongodb://ops:wrong@{d.host}:{d.port}/"), "--db", "app")
    assert wrong.returncode == 2 and "authentication of ops@admin" in wrong.stderr, wrong.stderr
    assert "wrong" not in wrong.stderr.replace("ops:wrong", "")  # the password is never echoed
    anonymous = gridlite(gridlite_binary, "ls", "--uri", tls(f"mongodb://{d.host}:{d.port}/"), "--db", "app")
    assert anonymous.returncode == 2 and "code 13" in anonymous.stderr, anonymous.stderr
    ls = gridlite(gridlite_binary, "ls", "--uri", tls(base), "--db", "app", "--json")
    assert ls.returncode == 0, ls.stderr
    assert sorted(f["filename"] for f in json.loads(ls.stdout)) == sorted(
        ["f", "f?authMechanism=SCRAM-SHA-1", "f?authMechanism=SCRAM-SHA-256", "by-writer"])
    got = tmp_path / "got.bin"
    get = gridlite(gridlite_binary, "get", "--uri", tls(base), "--db", "app", "by-writer", "--local", str(got))
    assert get.returncode == 0 and got.read_bytes() == pattern_bytes(600_000, 5), get.stderr


def test_export_import_round_trip_through_mongofiles_traffic(daemon_factory, gridlite_binary, tmp_path) -> None:
    """Files stored the way mongofiles stores them → `gridlite export` → `gridlite import` into
    another daemon → read back the way mongofiles reads them, and with pymongo: byte-exact."""
    source, target = daemon_factory(), daemon_factory()
    contents = {"a.txt": b"alpha\n", "dir/b.bin": pattern_bytes(70 * 255 * 1024 + 5, 6), "dir/sub/c.bin": b"",
                "d.bin": pattern_bytes(255 * 1024, 7)}
    with source.client() as client:
        mf = Mongofiles(client, "media")
        for name, data in contents.items():
            mf.put(name, data)
    out = tmp_path / "export"
    export = gridlite(gridlite_binary, "export", "--uri", source.uri, "--db", "media", "--to", str(out))
    assert export.returncode == 0, export.stderr
    assert read_tree(out) == contents
    imported = gridlite(gridlite_binary, "import", "--uri", target.uri, "--db", "media", "--from", str(out))
    assert imported.returncode == 0, imported.stderr
    with target.client() as client:
        mf = Mongofiles(client, "media")
        assert sorted(mf.list()) == sorted((n, len(b)) for n, b in contents.items())
        assert mf.get(*contents) == contents
        fs = gridfs.GridFSBucket(client["media"])
        for name, data in contents.items():
            assert fs.open_download_stream_by_name(name).read() == data, name
