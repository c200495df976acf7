"""The operator commands' `--uri` client over TLS (issue 11 + 14): `tls=true` with `tlsCAFile`,
a client certificate (`tlsCertificateKeyFile`) when the daemon asks for one, the insecure options,
and one-line refusals of a wrong CA or a plain connection to a TLS-only daemon. Certificates are
made at test time (tls_support.py)."""

from __future__ import annotations

import json
import urllib.parse

import gridfs

from gridfs_support import pattern_bytes
from integrity_support import gridlite


def uri(daemon, host: str = "127.0.0.1", **options: str) -> str:
    return f"mongodb://{host}:{daemon.port}/?" + urllib.parse.urlencode(options)


def test_put_ls_get_over_tls(daemon_factory, gridlite_binary, tls_pki, tmp_path) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server)
    local = tmp_path / "over-tls.bin"
    data = pattern_bytes(2 * 1024 * 1024 + 5, 4)
    local.write_bytes(data)
    secure = uri(d, tls="true", tlsCAFile=tls_pki.ca)
    if d.test_auth:  # the suite's root user under GRIDLITE_TEST_AUTH
        from conftest import TEST_PASSWORD, TEST_USER
        secure = secure.replace("mongodb://", f"mongodb://{TEST_USER}:{TEST_PASSWORD}@")
    put = gridlite(gridlite_binary, "put", "--uri", secure, "--db", "tlsops", str(local), "--name", "t.bin", "--json")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["filename"] == "t.bin"
    listed = gridlite(gridlite_binary, "ls", "--uri", secure, "--db", "tlsops", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "t.bin" in listed.stdout
    out = tmp_path / "back.bin"
    got = gridlite(gridlite_binary, "get", "--uri", secure, "--db", "tlsops", "t.bin", "--local", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == data
    # the name "localhost" is checked against the certificate (DNS:localhost) as well as the address
    by_name = gridlite(gridlite_binary, "ls", "--uri", uri(d, "localhost", tls="true", tlsCAFile=tls_pki.ca)
                       .replace("mongodb://", secure[:secure.index("127.0.0.1")]), "--db", "tlsops")
    assert by_name.returncode == 0, by_name.stderr
    with d.client(tls=True, tlsCAFile=tls_pki.ca) as c:
        assert gridfs.GridFSBucket(c.tlsops).open_download_stream_by_name("t.bin").read() == data

    # refusals, one line each, never a hang
    wrong_ca = gridlite(gridlite_binary, "ls", "--uri", uri(d, tls="true", tlsCAFile=tls_pki.other_ca), "--db", "tlsops")
    assert wrong_ca.returncode != 0
    assert "TLS" in wrong_ca.stderr and len(wrong_ca.stderr.strip().splitlines()) == 1, wrong_ca.stderr
    plain = gridlite(gridlite_binary, "ls", "--uri", uri(d), "--db", "tlsops")
    assert plain.returncode != 0 and "tls=true" in plain.stderr, plain.stderr
    # tlsAllowInvalidCertificates (and tlsInsecure) accept the unknown CA, as drivers do
    for option in ("tlsAllowInvalidCertificates", "tlsInsecure"):
        insecure = gridlite(gridlite_binary, "ls", "--uri", uri(d, tls="true", tlsCAFile=tls_pki.other_ca, **{option: "true"})
                            .replace("mongodb://", secure[:secure.index("127.0.0.1")]), "--db", "tlsops")
        assert insecure.returncode == 0, (option, insecure.stderr)
    bad_flag = gridlite(gridlite_binary, "ls", "--uri", uri(d, tls="maybe"), "--db", "tlsops")
    assert bad_flag.returncode != 0 and "tls must be true or false" in bad_flag.stderr


def test_client_certificate_when_the_daemon_requires_one(daemon_factory, gridlite_binary, tls_pki) -> None:
    d = daemon_factory("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls_pki.server, "--tlsCAFile", tls_pki.ca)
    prefix = ""
    if d.test_auth:
        from conftest import TEST_PASSWORD, TEST_USER
        prefix = f"{TEST_USER}:{TEST_PASSWORD}@"
    without = gridlite(gridlite_binary, "ls", "--uri", uri(d, tls="true", tlsCAFile=tls_pki.ca).replace("mongodb://", "mongodb://" + prefix))
    assert without.returncode != 0
    with_cert = gridlite(gridlite_binary, "ls", "--uri",
                         uri(d, tls="true", tlsCAFile=tls_pki.ca, tlsCertificateKeyFile=tls_pki.client)
                         .replace("mongodb://", "mongodb://" + prefix))
    assert with_cert.returncode == 0, with_cert.stderr
