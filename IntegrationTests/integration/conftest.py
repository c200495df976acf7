"""Fixtures that run the gridlite daemon for the integration tests.

The binary comes from the GRIDLITE_BIN environment variable (default: .build/debug/gridlite in the
repository). Every daemon gets a fresh temporary data directory and a free port: it is started with
``--port 0`` and the real port is read from its ``listening on HOST:PORT`` log line; if the daemon
reports port 0 there, a free port chosen here is used instead. The HTTP gateway is started with
``--http-port 0`` too (``Daemon.http_port`` reads the bound port from the ``HTTP gateway on`` line), so
no two daemons race for the default 27080; a test that passes ``--http-port``/``--no-http`` keeps its
choice, and ``Daemon(..., default_http_port=True)`` runs the daemon with the default. Daemons are
always stopped at teardown, also when a test fails or the session is interrupted.

Fixtures:
- ``daemon``: one daemon shared by the whole session (most tests).
- ``daemon_factory``: ``daemon_factory(*extra_args)`` starts a daemon owned by one test.
- ``test_commands_daemon``: a second shared daemon with ``--setParameter enableTestCommands=1``.
- ``client``: a pymongo client connected to the session daemon.
- ``c_program``: ``c_program("handshake")`` returns the path of a compiled C test program.
- ``tls_pki``: test certificates (a CA, server and client certificates) made with openssl.

With ``GRIDLITE_TEST_STORAGE=postgresql`` (and ``GRIDLITE_TEST_POSTGRES_URL``, see
IntegrationTests/postgres/pgcluster.sh) every daemon runs on the PostgreSQL engine instead, each on a
database of its own (kept across restarts of the same daemon); tests marked ``sqlite_only`` (they
look at the SQLite engine's files) are skipped then.

With ``GRIDLITE_TEST_AUTH=1`` (``make integration-test-auth``) every daemon these fixtures start is
run with ``--auth`` and gets a root user (created through the localhost exception); ``uri``,
``client()`` and ``connect_raw()`` are then authenticated as that user, so the whole suite runs
against an authenticating server. Tests that pass ``--auth`` themselves manage their own users.

``GRIDLITE_TEST_TLS=1`` runs every daemon with ``--tlsMode requireTLS`` and a certificate made at
test time (unless a test passes its own ``--tlsMode``), and every client of these fixtures
(``client()``, ``uri``, ``uri_with()``, ``uri_options``, ``connect_raw``) connects over TLS
(``make test-tls``). Both switches may be combined.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from pymongo import MongoClient

import postgres_support

from gridfs_support import fresh_database
from tls_support import PKI, make_pki

REPO_ROOT = Path(__file__).resolve().parents[2]
C_SRC_DIR = Path(__file__).resolve().parent / "c"
C_BIN_DIR = Path(os.environ.get("GRIDLITE_C_BIN_DIR", Path(__file__).resolve().parent / "bin"))

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LISTENING = re.compile(r"listening on (\S+):(\d+)")
HTTP_LISTENING = re.compile(r"HTTP gateway on http://(\S+):(\d+)")

_running: set["Daemon"] = set()

TEST_AUTH = os.environ.get("GRIDLITE_TEST_AUTH", "") == "1"
TEST_USER, TEST_PASSWORD = "gridlite-test-root", "gridlite-test-Passw0rd"
TEST_TLS = os.environ.get("GRIDLITE_TEST_TLS", "") not in ("", "0")
_suite_pki: PKI | None = None


def suite_pki() -> PKI:
    """The certificates of this test run (made once, in a temporary directory removed at exit)."""
    global _suite_pki
    if _suite_pki is None:
        directory = Path(tempfile.mkdtemp(prefix="gridlite-pki-"))
        atexit.register(shutil.rmtree, directory, True)
        _suite_pki = make_pki(directory)
    return _suite_pki


def gridlite_bin() -> Path:
    """The daemon binary under test (GRIDLITE_BIN, or the debug build)."""
    path = Path(os.environ.get("GRIDLITE_BIN", REPO_ROOT / ".build" / "debug" / "gridlite"))
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve()
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def credentials() -> dict:
    """pymongo keyword arguments for the fixtures' user under GRIDLITE_TEST_AUTH=1 (for clients built
    from a host and port, e.g. through a proxy); empty otherwise."""
    return {"username": TEST_USER, "password": TEST_PASSWORD} if TEST_AUTH else {}


def tls_options() -> dict:
    """pymongo keyword arguments for TLS under GRIDLITE_TEST_TLS=1 (for clients built from a host and
    port, e.g. through a proxy, to a fixture daemon); empty otherwise."""
    return {"tls": True, "tlsCAFile": suite_pki().ca} if TEST_TLS else {}


def tls_wrap(sock: socket.socket, host: str = "127.0.0.1") -> socket.socket:
    """`sock` over TLS (verified against the run's CA) under GRIDLITE_TEST_TLS=1; `sock` otherwise."""
    if not TEST_TLS:
        return sock
    return ssl.create_default_context(cafile=suite_pki().ca).wrap_socket(sock, server_hostname=host)


class DaemonError(RuntimeError):
    """The daemon did not start, or exited."""


class Daemon:
    """One gridlite process, its log file and data directory."""

    def __init__(self, binary: Path, workdir: Path, extra_args: tuple[str, ...] = (),
                 default_http_port: bool = False) -> None:
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "gridlite.log"
        self.extra_args = tuple(extra_args)
        # GRIDLITE_TEST_AUTH=1: --auth and an authenticated root user, unless the test chose --auth itself.
        self.test_auth = TEST_AUTH and "--auth" not in self.extra_args
        if self.test_auth:
            self.extra_args = ("--auth", *self.extra_args)
        # Under GRIDLITE_TEST_TLS every daemon requires TLS, unless the test chose its own mode.
        self.tls = TEST_TLS and "--tlsMode" not in self.extra_args
        if self.tls:
            self.extra_args = ("--tlsMode", "requireTLS", "--tlsCertificateKeyFile", suite_pki().server,
                               *self.extra_args)
        # The HTTP gateway gets a free port (`--http-port 0`, read back from its log line) unless the
        # test chose `--http-port`/`--no-http` itself, or asked for the default port (27080).
        if not default_http_port and not any(a in ("--no-http", "--http-port") or a.startswith("--http-port=")
                                             for a in self.extra_args):
            self.extra_args = ("--http-port", "0", *self.extra_args)
        self._http_port: int | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.args: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None
        # Under GRIDLITE_TEST_STORAGE=postgresql: this daemon's own PostgreSQL database.
        self.storage_url: str | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "Daemon":
        """Starts the daemon and waits for its `listening on` line."""
        if not self.binary.is_file() or not os.access(self.binary, os.X_OK):
            raise DaemonError(f"gridlite binary not found or not executable: {self.binary} "
                              f"(build it, or set GRIDLITE_BIN)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self._launch(0)
        if port != 0:
            self.port = port
            self._ensure_test_user()
            return self
        # The daemon printed the requested port rather than the bound one: use a port picked here.
        self.stop()
        last_error: Exception | None = None
        for _ in range(5):
            try:
                self.port = self._launch(free_port())
                self._ensure_test_user()
                return self
            except DaemonError as error:  # lost the race for the port; pick another
                last_error = error
                self.stop()
        raise DaemonError(f"could not start gridlite on a free port: {last_error}")

    def _ensure_test_user(self) -> None:
        """In GRIDLITE_TEST_AUTH mode: the root user, through the localhost exception (once per data directory)."""
        if not self.test_auth:
            return
        from pymongo.errors import OperationFailure
        # Over TLS when the daemon requires it (the suite's or the test's own certificates: both are suite_pki()).
        requires_tls = any(a == "requireTLS" for a in self.extra_args)
        tls = {"tls": True, "tlsCAFile": suite_pki().ca, "tlsCertificateKeyFile": suite_pki().client} \
            if requires_tls else {}
        with MongoClient(self.host, self.port, serverSelectionTimeoutMS=5000, **tls) as anonymous:
            try:
                anonymous.admin.command("createUser", TEST_USER, pwd=TEST_PASSWORD, roles=["root"])
            except OperationFailure as error:
                if error.code != 13:  # 13: users exist already (a restart on the same data directory)
                    raise

    def _launch(self, port: int) -> int:
        storage: list[str] = []
        if postgres_support.enabled() and not any(a.startswith("--storage") for a in self.extra_args):
            self.storage_url = self.storage_url or postgres_support.fresh_database_url()
            storage = ["--storage", self.storage_url]
        self.args = ["serve", "--host", self.host, "--port", str(port),
                     "--data-dir", str(self.data_dir), "--log-level", "debug", *storage, *self.extra_args]
        self._http_port = None
        with open(self.log_path, "ab") as log:
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                [str(self.binary), *self.args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.workdir, start_new_session=True,
            )
        _running.add(self)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            match = LISTENING.search(self._read_log(self._log_start))
            if match:
                return int(match.group(2))
            if self.process.poll() is not None:
                raise DaemonError(f"gridlite exited with status {self.process.returncode} before "
                                  f"listening; log:\n{self._read_log(self._log_start)}")
            time.sleep(0.05)
        raise DaemonError(f"gridlite did not log 'listening on' within {STARTUP_TIMEOUT}s; "
                          f"log:\n{self._read_log(self._log_start)}")

    def stop(self) -> int | None:
        """Stops the daemon (SIGTERM, then SIGKILL) and returns its exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        _running.discard(self)
        return process.returncode

    @property
    def http_port(self) -> int:
        """The port of this run's HTTP gateway (from its `HTTP gateway on` log line)."""
        if self._http_port is None:
            match = self.wait_for_log(HTTP_LISTENING.pattern, since=self._log_start, timeout=STARTUP_TIMEOUT)
            if match is None:
                raise DaemonError(f"no 'HTTP gateway on' line; log:\n{self._read_log(self._log_start)[-5000:]}")
            self._http_port = int(match.group(2))
        return self._http_port

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- connecting ------------------------------------------------------------------------------

    @property
    def uri(self) -> str:
        """`mongodb://[user:password@]host:port/`, with `?tls=true&tlsCAFile=…` when the daemon requires TLS."""
        return self.uri_with("")

    def uri_with(self, options: str) -> str:
        """The URI with `options` (`a=1&b=2`) and, when the daemon requires TLS, the TLS options."""
        credentials = f"{TEST_USER}:{TEST_PASSWORD}@" if self.test_auth else ""
        query = "&".join(part for part in (options, self.uri_options[1:]) if part)
        return f"mongodb://{credentials}{self.host}:{self.port}/" + (f"?{query}" if query else "")

    @property
    def uri_options(self) -> str:
        """`&tls=true&tlsCAFile=…` when the daemon requires TLS (append to a URI's options), else ""."""
        return f"&tls=true&tlsCAFile={suite_pki().ca}" if self.tls else ""

    def tls_client_options(self) -> dict:
        """pymongo keyword arguments for TLS when this daemon requires it (GRIDLITE_TEST_TLS), else {}."""
        return {"tls": True, "tlsCAFile": suite_pki().ca} if self.tls else {}

    def client(self, **kwargs) -> MongoClient:
        """A new pymongo client for this daemon (close it, or use it in a `with`)."""
        options = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000,
                   "socketTimeoutMS": 10000}
        options.update(kwargs)
        return MongoClient(self.uri, **options)

    def connect_raw(self, timeout: float = 5.0) -> socket.socket:
        """A TCP connection to the daemon (TLS when it requires TLS) with a timeout on every operation."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.settimeout(timeout)
        if self.tls:
            try:
                sock = tls_wrap(sock, self.host)
            except (ssl.SSLError, OSError):
                # The server closed it during the handshake (e.g. beyond maxConns): hand the test a
                # socket that reads EOF, as the plain connection would.
                closed, peer = socket.socketpair()
                peer.close()
                return closed
        if self.test_auth:
            from wire_helpers import scram_sha256_authenticate
            try:
                scram_sha256_authenticate(sock, TEST_USER, TEST_PASSWORD)
            except (EOFError, OSError):
                pass  # the server closed it (e.g. beyond maxConns): the test sees a closed socket
        return sock

    # --- the log ---------------------------------------------------------------------------------

    def _read_log(self, offset: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_offset(self) -> int:
        """The current end of the log; pass it to `log` or `wait_for_log` to see only newer lines."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log(self, since: int = 0) -> str:
        """The daemon's log (stdout and stderr) from byte offset `since`."""
        return self._read_log(since)

    def wait_for_log(self, pattern: str, since: int = 0, timeout: float = 5.0) -> re.Match[str] | None:
        """Waits until the log after `since` matches the regular expression `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self._read_log(since))
            if match or time.monotonic() >= deadline:
                return match
            time.sleep(0.05)


@atexit.register
def _stop_all() -> None:
    """Last resort (e.g. KeyboardInterrupt): stop every daemon these fixtures started."""
    for daemon in list(_running):
        try:
            daemon.stop()
        except Exception:
            pass


@pytest.fixture(scope="session", autouse=True)
def _authenticated_http_clients() -> Iterator[None]:
    """GRIDLITE_TEST_AUTH=1: HTTP requests to the gateway carry the root user's Basic credentials
    unless a test sets its own (requests' `auth=`, or an Authorization header with http.client);
    curl gets them from a .curlrc."""
    if not TEST_AUTH:
        yield
        return
    import base64
    import http.client

    import requests

    original_request = requests.Session.request
    original_putheader = http.client.HTTPConnection.putheader
    original_endheaders = http.client.HTTPConnection.endheaders

    def request(self, method, url, *args, **kwargs):
        headers = kwargs.get("headers") or {}
        if kwargs.get("auth") is None and not any(k.lower() == "authorization" for k in headers):
            kwargs["auth"] = (TEST_USER, TEST_PASSWORD)
        return original_request(self, method, url, *args, **kwargs)

    def putheader(self, header, *values):
        if str(header).lower() == "authorization":
            self._gridlite_has_auth = True
        return original_putheader(self, header, *values)

    def endheaders(self, *args, **kwargs):
        if not getattr(self, "_gridlite_has_auth", False):
            token = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
            original_putheader(self, "Authorization", f"Basic {token}")
        self._gridlite_has_auth = False
        return original_endheaders(self, *args, **kwargs)

    # curl (run as a subprocess) reads its defaults from $CURL_HOME/.curlrc.
    curl_home = tempfile.mkdtemp(prefix="gridlite-curl-")
    Path(curl_home, ".curlrc").write_text(f'user = "{TEST_USER}:{TEST_PASSWORD}"\n')
    previous_curl_home = os.environ.get("CURL_HOME")
    os.environ["CURL_HOME"] = curl_home
    requests.Session.request = request
    http.client.HTTPConnection.putheader = putheader
    http.client.HTTPConnection.endheaders = endheaders
    try:
        yield
    finally:
        requests.Session.request = original_request
        http.client.HTTPConnection.putheader = original_putheader
        http.client.HTTPConnection.endheaders = original_endheaders
        if previous_curl_home is None:
            os.environ.pop("CURL_HOME", None)
        else:
            os.environ["CURL_HOME"] = previous_curl_home
        shutil.rmtree(curl_home, ignore_errors=True)


@pytest.fixture(scope="session")
def gridlite_binary() -> Path:
    path = gridlite_bin()
    if not path.is_file():
        pytest.fail(f"gridlite binary not found: {path} (run `swift build`, or set GRIDLITE_BIN)")
    return path


@pytest.fixture(scope="session")
def daemon(gridlite_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The session's shared daemon."""
    d = Daemon(gridlite_binary, tmp_path_factory.mktemp("gridlite-session"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="session")
def test_commands_daemon(gridlite_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A second shared daemon, started with `--setParameter enableTestCommands=1` (fail points)."""
    d = Daemon(gridlite_binary, tmp_path_factory.mktemp("gridlite-testcommands"),
               ("--setParameter", "enableTestCommands=1"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(autouse=True)
def _session_daemon_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """Prints the shared daemon's log lines written during a test (pytest shows them on failure)."""
    if "daemon" not in request.fixturenames:
        yield
        return
    d: Daemon = request.getfixturevalue("daemon")
    start = d.log_offset()
    yield
    print(f"--- gridlite log during this test (pid {d.pid}, port {d.port}) ---")
    print(d.log(start)[-20000:])


@pytest.fixture
def daemon_factory(gridlite_binary: Path, tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Starts daemons owned by one test: `daemon_factory(*extra_args)`; all stopped at teardown."""
    started: list[Daemon] = []

    def start(*extra_args: str) -> Daemon:
        d = Daemon(gridlite_binary, Path(tempfile.mkdtemp(prefix="gridlite-", dir=tmp_path)), extra_args)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.stop()
        print(f"--- gridlite log (port {d.port}) ---")
        print(d.log()[-20000:])


@pytest.fixture(scope="session")
def tls_pki() -> PKI:
    """Test certificates (see tls_support.py), made once per run with openssl."""
    return suite_pki()


@pytest.fixture
def client(daemon: Daemon) -> Iterator[MongoClient]:
    """A pymongo client on the session daemon, closed after the test."""
    with daemon.client() as c:
        yield c


def _compile_c_program(name: str) -> Path:
    source = C_SRC_DIR / f"{name}.c"
    binary = C_BIN_DIR / name
    if binary.is_file() and binary.stat().st_mtime >= source.stat().st_mtime:
        return binary
    cc = os.environ.get("CC", "cc")
    if shutil.which("pkg-config") is None:
        pytest.fail("pkg-config not found; run `make deps`")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmongoc-1.0"],
                           capture_output=True, text=True)
    if flags.returncode != 0:
        pytest.fail(f"pkg-config libmongoc-1.0 failed: {flags.stderr}; run `make deps`")
    C_BIN_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([cc, "-O1", "-g", "-Wall", "-Wextra", "-std=gnu11", "-o", str(binary),
                             str(source), *flags.stdout.split()], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"compiling {source} failed:\n{result.stderr}")
    return binary


@pytest.fixture(scope="session")
def c_program() -> Callable[[str], Path]:
    """`c_program(name)`: IntegrationTests/integration/bin/<name>, compiled from c/<name>.c when missing or stale."""
    return _compile_c_program


def pytest_configure(config: pytest.Config) -> None:
    """Registers the `slow` marker (slow tests still run by default; deselect with -m 'not slow')."""
    config.addinivalue_line("markers", "slow: a long test (e.g. 2 GiB GridFS files); runs by default")
    config.addinivalue_line("markers", "sqlite_only: tests the SQLite engine's own files; skipped under "
                                       "GRIDLITE_TEST_STORAGE=postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skips `sqlite_only` tests when the daemons run on PostgreSQL."""
    if not postgres_support.enabled():
        return
    skip = pytest.mark.skip(reason="tests the SQLite engine's files (GRIDLITE_TEST_STORAGE=postgresql)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def db(client: MongoClient, request: pytest.FixtureRequest):
    """A database of the test's own (named after its module and name), dropped before and after."""
    prefix = request.module.__name__.removeprefix("test_")[:14]
    database = fresh_database(client, request, prefix=prefix)
    yield database
    client.drop_database(database.name)
