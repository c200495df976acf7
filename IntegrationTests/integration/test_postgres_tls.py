"""TLS between gridlite and PostgreSQL (`?sslmode=` in the postgresql:// URL, issue #15).

The test cluster (IntegrationTests/postgres/pgcluster.sh) accepts TLS with a server certificate
for localhost / 127.0.0.1 signed by a CA made when the cluster starts (``GRIDLITE_TEST_PG_CA``);
plain connections stay allowed, so what a daemon really used is read from PostgreSQL's
``pg_stat_ssl`` for the daemon's own database.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gridfs
import pytest

import postgres_support
from gridfs_support import pattern_bytes

pytestmark = pytest.mark.skipif(postgres_support.base_url() is None or not os.environ.get("GRIDLITE_TEST_PG_CA"),
                                reason="needs the pgcluster.sh cluster (GRIDLITE_TEST_POSTGRES_URL, GRIDLITE_TEST_PG_CA)")


def with_options(url: str, host: str | None = None, **options: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if host is not None:
        user, _, hostport = netloc.rpartition("@")
        port = hostport.rsplit(":", 1)[1]
        netloc = f"{user}@{host}:{port}"
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connections(database: str) -> list[tuple[bool, str]]:
    """(ssl, TLS version) of every connection to `database` (the daemon's pool)."""
    out = postgres_support.psql(
        "SELECT s.ssl, coalesce(s.version, '') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        f"WHERE a.datname = '{database}'")
    return [(line.split("|")[0] == "t", line.split("|")[1]) for line in out.splitlines() if line]


def round_trip(daemon) -> None:
    with daemon.client() as c:
        bucket = gridfs.GridFSBucket(c.tlsdb)
        data = pattern_bytes(600_000, seed=11)
        file_id = bucket.upload_from_stream("over-tls.bin", io.BytesIO(data))
        assert bucket.open_download_stream(file_id).read() == data


def test_verify_full_by_host_name_encrypts_every_connection(daemon_factory):
    url = postgres_support.fresh_database_url("tls")
    daemon = daemon_factory("--storage", with_options(url, host="localhost", sslmode="verify-full",
                                                       sslrootcert=os.environ["GRIDLITE_TEST_PG_CA"]))
    round_trip(daemon)
    seen = connections(database_of(url))
    assert seen, "the daemon holds no connection to its database"
    assert all(ssl for ssl, _ in seen), seen
    assert all(version.startswith("TLSv1.") for _, version in seen), seen


def test_require_without_a_root_certificate_encrypts(daemon_factory):
    url = postgres_support.fresh_database_url("tls")
    daemon = daemon_factory("--storage", with_options(url, sslmode="require"))
    round_trip(daemon)
    seen = connections(database_of(url))
    assert seen and all(ssl for ssl, _ in seen), seen


def test_disable_stays_plain(daemon_factory):
    url = postgres_support.fresh_database_url("tls")
    daemon = daemon_factory("--storage", with_options(url, sslmode="disable"))
    round_trip(daemon)
    seen = connections(database_of(url))
    assert seen and not any(ssl for ssl, _ in seen), seen


def serve_fails(gridlite_binary: Path, tmp_path: Path, storage: str) -> str:
    result = subprocess.run([str(gridlite_binary), "serve", "--no-http", "--port", "0", "--data-dir", str(tmp_path / "data"),
                             "--storage", storage], capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Fatal error" not in output and "Stack dump" not in output, output
    return output


def test_a_certificate_from_another_authority_is_refused(gridlite_binary, tmp_path):
    other_ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=some other CA", "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other_ca)],
                   check=True, capture_output=True)
    url = postgres_support.fresh_database_url("tls")
    output = serve_fails(gridlite_binary, tmp_path, with_options(url, sslmode="verify-ca", sslrootcert=str(other_ca)))
    line = [l for l in output.splitlines() if "PostgreSQL at" in l]
    assert line and "TLS" in line[0], output


def test_verify_ca_with_the_right_authority_by_address(daemon_factory):
    url = postgres_support.fresh_database_url("tls")
    daemon = daemon_factory("--storage", with_options(url, sslmode="verify-ca", sslrootcert=os.environ["GRIDLITE_TEST_PG_CA"]))
    round_trip(daemon)
    seen = connections(database_of(url))
    assert seen and all(ssl for ssl, _ in seen), seen


def test_url_errors_are_one_line(gridlite_binary, tmp_path):
    url = postgres_support.base_url()
    # verify-full cannot check an address (the TLS library matches host names only).
    output = serve_fails(gridlite_binary, tmp_path, with_options(url, sslmode="verify-full",
                                                                  sslrootcert=os.environ["GRIDLITE_TEST_PG_CA"]))
    assert "verify-full needs a host name" in output, output
    output = serve_fails(gridlite_binary, tmp_path, with_options(url, sslmode="sometimes"))
    assert "sslmode=sometimes" in output, output
    output = serve_fails(gridlite_binary, tmp_path, with_options(url, sslmode="verify-ca", sslrootcert=str(tmp_path / "missing.crt")))
    assert "TLS set-up failed" in output and "missing.crt" in output, output
