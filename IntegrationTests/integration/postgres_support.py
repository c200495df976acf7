"""PostgreSQL for the integration tests: the cluster comes from IntegrationTests/postgres/pgcluster.sh
(``GRIDLITE_TEST_POSTGRES_URL``, a superuser URL); each daemon or test gets a database of its own,
created here with ``psql``."""

from __future__ import annotations

import os
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit


def base_url() -> str | None:
    """The cluster's URL, or None when no cluster was started."""
    url = os.environ.get("GRIDLITE_TEST_POSTGRES_URL", "")
    return url or None


def enabled() -> bool:
    """True when every daemon should run on PostgreSQL (GRIDLITE_TEST_STORAGE=postgresql)."""
    if os.environ.get("GRIDLITE_TEST_STORAGE", "sqlite").lower() not in ("postgresql", "postgres"):
        return False
    if base_url() is None:
        raise RuntimeError("GRIDLITE_TEST_STORAGE=postgresql needs GRIDLITE_TEST_POSTGRES_URL "
                           "(eval \"$(IntegrationTests/postgres/pgcluster.sh start)\")")
    return True


def psql(sql: str, url: str | None = None) -> str:
    """Runs one SQL statement with psql against the cluster (or `url`) and returns its output."""
    target = url or base_url()
    assert target, "GRIDLITE_TEST_POSTGRES_URL is not set"
    result = subprocess.run(["psql", target, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def fresh_database_url(prefix: str = "gl") -> str:
    """Creates an empty database and returns its URL."""
    base = base_url()
    assert base, "GRIDLITE_TEST_POSTGRES_URL is not set"
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
