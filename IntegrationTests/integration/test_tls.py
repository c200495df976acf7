"""TLS (`--tlsMode`, `--tlsCertificateKeyFile`, `--tlsCAFile`, `--tlsAllowConnectionsWithoutCertificates`)
with real clients: pymongo, Python's ssl module, libmongoc. Certificates are made at test time
(tls_support.py)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import gridfs
import pytest
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from conftest import TEST_PASSWORD, TEST_USER, credentials, gridlite_bin


def tls_client(daemon, pki, **kwargs) -> MongoClient:
    # credentials(): the fixtures' root user under GRIDLITE_TEST_AUTH=1 (every fixture daemon has --auth then).
    options = {"tls": True, "tlsCAFile": pki.ca, "serverSelectionTimeoutMS": 5000,
               "connectTimeoutMS": 5000, "socketTimeoutMS": 10000, **credentials()}
    options.update(kwargs)
    return MongoClient(f"mongodb://127.0.0.1:{daemon.port}/", **options)


def plain_client(daemon, **kwargs) -> MongoClient:
    options = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "socketTimeoutMS": 10000, **credentials()}
    options.update(kwargs)
    return MongoClient(f"mongodb://127.0.0.1:{daemon.port}/", **options)


def own_op(client: MongoClient) -> dict:
    """This connection's own currentOp entry."""
    ops = client.admin.command({"currentOp": 1, "$ownOps": True})["inprog"]
    assert len(ops) == 1, ops
    return ops[0]


def gridfs_round_trip(client: MongoClient, name: str) -> None:
    db = client[name]
    client.drop_database(name)
    bucket = gridfs.GridFSBucket(db)
    payload = os.urandom(600_000)
    file_id = bucket.upload_from_stream("tls.bin", payload)
    assert bucket.open_download_stream(file_id).read() == payload
    client.drop_database(name)


def refused(client: MongoClient) -> bool:
    try:
        client.admin.command("ping")
    except ServerSelectionTimeoutError:
        return True
    return False


def test_require_tls_serves_pymongo_with_ca(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server)
    with tls_client(d, tls_pki) as c:
        assert c.admin.command("ping")["ok"] == 1
        gridfs_round_trip(c, "tls_require")
        entry = own_op(c)
        assert entry["tls"]["version"] in ("TLS1_2", "TLS1_3"), entry
        assert "clientCertificateSubject" not in entry["tls"], entry
    with tls_client(d, tls_pki) as c:
        opts = c.admin.command("getCmdLineOpts")["parsed"]["net"]["tls"]
    assert opts["mode"] == "requireTLS" and opts["certificateKeyFile"] == tls_pki.server


def test_require_tls_refuses_plain_client_with_logged_reason(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server)
    start = d.log_offset()
    with plain_client(d, serverSelectionTimeoutMS=1500) as c:
        assert refused(c)
    assert d.wait_for_log(r"plain \(non-TLS\) client and --tlsMode requireTLS", since=start)
    # The refusal is immediate: a raw plain hello gets EOF, not a hang.
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(hello_op_msg())
        assert s.recv(100) == b""


def test_tls_1_2_is_accepted_and_1_3_negotiated_by_default(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server)
    for version, expected in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3")):
        context = ssl.create_default_context(cafile=tls_pki.ca)
        context.maximum_version = version
        with socket.create_connection(("127.0.0.1", d.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.version() == expected
                s.sendall(hello_op_msg())
                assert len(s.recv(16)) > 0


def test_wrong_ca_fails_the_handshake(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server)
    with tls_client(d, tls_pki, tlsCAFile=tls_pki.other_ca, serverSelectionTimeoutMS=1500) as c:
        assert refused(c)
    # tlsAllowInvalidCertificates skips the client's check: the same server then works.
    with tls_client(d, tls_pki, tlsCAFile=tls_pki.other_ca, tlsAllowInvalidCertificates=True) as c:
        assert c.admin.command("ping")["ok"] == 1


def test_allow_and_prefer_tls_serve_both_on_one_port(daemon_factory, tls_pki) -> None:
    for mode in ("allowTLS", "preferTLS"):
        d = daemon_factory("--tlsMode", mode, "--tlsCertificateKeyFile", tls_pki.server)
        with tls_client(d, tls_pki) as secure, plain_client(d) as plain:
            gridfs_round_trip(secure, f"tls_{mode}_secure")
            gridfs_round_trip(plain, f"tls_{mode}_plain")
            assert own_op(secure)["tls"]["version"] in ("TLS1_2", "TLS1_3")
            assert "tls" not in own_op(plain)
            # Both see each other in currentOp.
            everyone = secure.admin.command({"currentOp": 1, "$all": True})["inprog"]
            assert any("tls" in e for e in everyone) and any("tls" not in e for e in everyone)


def test_client_certificate_required_with_ca_file(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server,
                       "--tlsCAFile", tls_pki.ca)
    with tls_client(d, tls_pki, tlsCertificateKeyFile=tls_pki.client) as c:
        gridfs_round_trip(c, "tls_client_cert")
        subject = own_op(c)["tls"]["clientCertificateSubject"]
        assert "CN=gridlite-test-client" in subject, subject
    start = d.log_offset()
    with tls_client(d, tls_pki, serverSelectionTimeoutMS=1500) as c:  # no client certificate
        assert refused(c)
    assert d.wait_for_log(r"TLS handshake failed", since=start)
    with tls_client(d, tls_pki, tlsCertificateKeyFile=tls_pki.other_client, serverSelectionTimeoutMS=1500) as c:
        assert refused(c)


def test_allow_connections_without_certificates(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server,
                       "--tlsCAFile", tls_pki.ca, "--tlsAllowConnectionsWithoutCertificates")
    with tls_client(d, tls_pki) as c:
        assert "clientCertificateSubject" not in own_op(c)["tls"]
    with tls_client(d, tls_pki, tlsCertificateKeyFile=tls_pki.client) as c:
        assert "CN=gridlite-test-client" in own_op(c)["tls"]["clientCertificateSubject"]
    # A certificate that is presented must still verify.
    with tls_client(d, tls_pki, tlsCertificateKeyFile=tls_pki.other_client, serverSelectionTimeoutMS=1500) as c:
        assert refused(c)


def test_client_hello_to_plain_server_is_closed_at_once(daemon_factory) -> None:
    d = daemon_factory("--tlsMode", "disabled")  # the default, said so that GRIDLITE_TEST_TLS leaves it
    start = d.log_offset()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)) as info:
            context.wrap_socket(raw, server_hostname="localhost")
    assert not isinstance(info.value, socket.timeout)
    assert time.monotonic() - began < 3, "the daemon did not close the TLS connection at once"
    assert d.wait_for_log(r"TLS handshake \(ClientHello\) but TLS is disabled", since=start)
    # Plain clients are unaffected.
    with plain_client(d) as c:
        assert c.admin.command("ping")["ok"] == 1


def test_stalled_handshake_is_closed_after_the_read_timeout(daemon_factory, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "allowTLS", "--tlsCertificateKeyFile", tls_pki.server,
                       "--frameReadTimeoutSecs", "1")
    # A ClientHello's first 24 bytes (record header, handshake header, version, part of the random).
    partial = bytes([0x16, 0x03, 0x01, 0x00, 0xf0, 0x01, 0x00, 0x00, 0xec, 0x03, 0x03]) + os.urandom(13)
    for prefix, reason in ((partial[:5], "no complete first message"), (partial, "TLS handshake not finished")):
        start = d.log_offset()
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            s.sendall(prefix)
            assert s.recv(100) == b""
        assert time.monotonic() - began < 5
        assert d.wait_for_log(reason, since=start)


def test_libmongoc_gridfs_over_tls(daemon_factory, tls_pki, c_program) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server,
                       "--tlsCAFile", tls_pki.ca)
    user = f"{TEST_USER}:{TEST_PASSWORD}@" if credentials() else ""
    uri = (f"mongodb://{user}127.0.0.1:{d.port}/?serverSelectionTimeoutMS=5000&connectTimeoutMS=5000"
           f"&tls=true&tlsCAFile={tls_pki.ca}&tlsCertificateKeyFile={tls_pki.client}")
    result = subprocess.run([str(c_program("gridfs_bucket")), uri, "c_tls_bucket"], capture_output=True,
                            text=True, timeout=120)
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    assert "FAIL" not in result.stdout and result.stdout.strip().endswith("0 failed"), output
    assert d.wait_for_log(r"tls=TLS1_[23]")


def peer_certificate_cn(port: int, ca: str) -> str:
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            subject = dict(item[0] for item in s.getpeercert()["subject"])
            return subject["commonName"]


def test_sighup_reloads_the_certificate_for_new_connections(daemon_factory, tls_pki, tmp_path) -> None:
    live = tmp_path / "live.pem"
    shutil.copy(tls_pki.server, live)
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", str(live))
    assert peer_certificate_cn(d.port, tls_pki.ca) == "localhost"
    with tls_client(d, tls_pki, maxPoolSize=1) as kept:
        kept.admin.command("ping")
        before = own_op(kept)["connectionId"]
        shutil.copy(tls_pki.server2, live)
        start = d.log_offset()
        os.kill(d.pid, signal.SIGHUP)
        assert d.wait_for_log(r"TLS certificate reloaded", since=start)
        assert peer_certificate_cn(d.port, tls_pki.ca) == "localhost-reloaded"
        # The open connection was not dropped.
        assert own_op(kept)["connectionId"] == before
        # A broken file on reload: logged, and the previous certificate stays.
        live.write_text("not a certificate\n")
        start = d.log_offset()
        os.kill(d.pid, signal.SIGHUP)
        assert d.wait_for_log(r"TLS certificate not reloaded", since=start)
        assert peer_certificate_cn(d.port, tls_pki.ca) == "localhost-reloaded"
        assert d.is_running()


def run_serve(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(gridlite_bin()), "serve", "--no-http", "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", ["missing", "no-key", "not-pem", "mismatched", "bad-mode", "no-cert", "ca-missing",
                                  "cert-without-mode", "allow-without-ca"])
def test_bad_tls_configuration_is_a_one_line_startup_error(tmp_path, tls_pki, case: str) -> None:
    (tmp_path / "garbage.pem").write_text("hello\n")
    args, expected = {
        "missing": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", str(tmp_path / "nope.pem")],
                    "cannot read --tlsCertificateKeyFile"),
        "no-key": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.path("server.crt")],
                   "no PEM private key"),
        "not-pem": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", str(tmp_path / "garbage.pem")],
                    "no PEM certificate"),
        "mismatched": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.mismatched],
                       "does not match"),
        "bad-mode": (["--tlsMode", "sometimes", "--tlsCertificateKeyFile", tls_pki.server], "--tlsMode 'sometimes'"),
        "no-cert": (["--tlsMode", "requireTLS"], "needs --tlsCertificateKeyFile"),
        "ca-missing": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server,
                        "--tlsCAFile", str(tmp_path / "nope.pem")], "cannot read --tlsCAFile"),
        "cert-without-mode": (["--tlsCertificateKeyFile", tls_pki.server], "need --tlsMode"),
        "allow-without-ca": (["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server,
                              "--tlsAllowConnectionsWithoutCertificates"], "needs --tlsCAFile"),
    }[case]
    result = run_serve(tmp_path, *args)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gridlite: ") and expected in lines[0], lines
    assert "Error Domain" not in lines[0] and "listening on" not in result.stderr


def hello_op_msg() -> bytes:
    """An OP_MSG `hello` on `admin`."""
    import bson
    body = bson.encode({"hello": 1, "$db": "admin"})
    payload = (0).to_bytes(4, "little") + b"\x00" + body
    header = (16 + len(payload)).to_bytes(4, "little") + (1).to_bytes(4, "little") + (0).to_bytes(4, "little") \
        + (2013).to_bytes(4, "little")
    return header + payload
