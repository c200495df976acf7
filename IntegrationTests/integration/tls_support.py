"""Test certificates made with the openssl CLI at test time (never committed).

``make_pki(directory)`` writes, with P-256 keys:
- ``ca.pem`` (the CA certificate) and ``other-ca.pem`` (an unrelated CA);
- ``server.pem`` and ``server2.pem``: certificate + key for localhost/127.0.0.1 signed by the CA
  (two different certificates, for the SIGHUP reload test);
- ``client.pem``: a client certificate + key (CN=gridlite-test-client) signed by the CA;
- ``other-client.pem``: a client certificate + key signed by the other CA;
- ``mismatched.pem``: the server certificate with the client's key.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PKI:
    directory: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    @property
    def ca(self) -> str:
        return self.path("ca.pem")

    @property
    def other_ca(self) -> str:
        return self.path("other-ca.pem")

    @property
    def server(self) -> str:
        return self.path("server.pem")

    @property
    def server2(self) -> str:
        return self.path("server2.pem")

    @property
    def client(self) -> str:
        return self.path("client.pem")

    @property
    def other_client(self) -> str:
        return self.path("other-client.pem")

    @property
    def mismatched(self) -> str:
        return self.path("mismatched.pem")


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def _make_ca(d: Path, name: str, cn: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={cn}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=d)


def _make_leaf(d: Path, name: str, ca: str, cn: str, extensions: str) -> None:
    ext = d / f"{name}.ext"
    ext.write_text(extensions)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}/O=gridlite tests", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", ext.name, cwd=d)
    (d / f"{name}.pem").write_text((d / f"{name}.crt").read_text() + (d / f"{name}.key").read_text())


SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
CLIENT_EXT = "extendedKeyUsage=clientAuth\n"


def make_pki(directory: Path) -> PKI:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _make_ca(d, "ca", "gridlite test CA")
    _make_ca(d, "other-ca", "unrelated test CA")
    _make_leaf(d, "server", "ca", "localhost", SERVER_EXT)
    _make_leaf(d, "server2", "ca", "localhost-reloaded", SERVER_EXT)
    _make_leaf(d, "client", "ca", "gridlite-test-client", CLIENT_EXT)
    _make_leaf(d, "other-client", "other-ca", "unrelated-client", CLIENT_EXT)
    (d / "mismatched.pem").write_text((d / "server.crt").read_text() + (d / "client.key").read_text())
    return PKI(d)
