#!/bin/sh
# A throw-away PostgreSQL cluster for tests: initdb + pg_ctl in a temporary directory, on a free
# port on 127.0.0.1, sockets in that directory. PostgreSQL refuses to run as root, so as root the
# cluster belongs to (and runs as) the `postgres` user that Debian's package creates.
#
#   eval "$(IntegrationTests/postgres/pgcluster.sh start)"   # exports GRIDLITE_TEST_POSTGRES_URL, GRIDLITE_TEST_PGDIR,
#                                                            # GRIDLITE_TEST_PG_CA (the cluster also accepts TLS)
#   IntegrationTests/postgres/pgcluster.sh stop "$GRIDLITE_TEST_PGDIR"
#   IntegrationTests/postgres/pgcluster.sh run COMMAND...   # start, run COMMAND with the variables set, stop
#   IntegrationTests/postgres/pgcluster.sh pause DIR         # stop the server only (tests of an outage)
#   IntegrationTests/postgres/pgcluster.sh resume DIR        # start it again, same port and settings
#
# Extra server settings: PGCLUSTER_OPTS (e.g. "-c synchronous_commit=off"). Tests run with fsync
# off (a throw-away cluster needs no power-loss durability; a PostgreSQL restart is clean anyway).
set -eu

bindir() {
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    echo "pgcluster: initdb not found (apt-get install postgresql)" >&2
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A throw-away certificate authority and a server certificate for localhost / 127.0.0.1, made at
# every start (never committed): the cluster accepts TLS as well as plain connections.
make_certificates() {
    tls=$1
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gridlite test PostgreSQL CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" >"$tls/openssl.log" 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" \
        >>"$tls/openssl.log" 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
        -extfile "$tls/san.ext" -out "$tls/server.crt" >>"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; exit 1; }
    chmod 600 "$tls/server.key"
    [ "$(id -u)" = 0 ] && chown -R postgres "$tls"
    chmod 644 "$tls/ca.crt"
}

start() {
    bin=$(bindir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/gridlite-pg.XXXXXX")
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    user=$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)
    as_owner "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    make_certificates "$dir/tls"
    echo "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
         "-c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key ${PGCLUSTER_OPTS:-}" >"$dir/options"
    resume "$dir"
    echo "export GRIDLITE_TEST_POSTGRES_URL='postgresql://$user@127.0.0.1:$port/postgres'"
    echo "export GRIDLITE_TEST_PGDIR='$dir'"
    echo "export GRIDLITE_TEST_PGBIN='$bin'"
    echo "export GRIDLITE_TEST_PG_CA='$dir/tls/ca.crt'"
}

resume() {
    dir=$1
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" \
        start >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; exit 1; }
}

pause() {
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null
}

stop() {
    dir=$1
    [ -d "$dir/data" ] || return 0
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:?directory}" ;;
    pause) pause "${2:?directory}" ;;
    resume) resume "${2:?directory}" ;;
    run)
        shift
        eval "$(start)"
        trap 'stop "$GRIDLITE_TEST_PGDIR"' EXIT INT TERM
        "$@"
        ;;
    *) echo "usage: $0 start | stop DIR | run COMMAND..." >&2; exit 2 ;;
esac
