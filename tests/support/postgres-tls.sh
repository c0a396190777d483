#!/usr/bin/env bash
# Why this exists: managed PostgreSQL (RDS, Cloud SQL, Azure, Supabase, Neon) refuses unencrypted
# connections, so the drain check's TLS (`sslmode=require`, `verify-full` + `sslrootcert`) must be
# tested against a real server that does the same. This script starts a throwaway PostgreSQL
# with `ssl = on`, a server certificate from a CA it makes with the `openssl` CLI, and a
# `pg_hba.conf` that admits TCP clients only over `hostssl` with a password (scram-sha-256).
# It is modelled on postgres.sh (same root handling, state file, idempotent start/stop).
#
#   tests/support/postgres-tls.sh start   initdb + certificates + start (idempotent); prints
#                                           `export ...` lines:
#                                           eval "$(bash tests/support/postgres-tls.sh start)"
#   tests/support/postgres-tls.sh stop    stops the cluster and deletes its directory (idempotent)
#
# Exports:
#   DBOS_GITOPS_TEST_TLS_DATABASE_URL  postgresql://postgres:PASSWORD@localhost:PORT/postgres
#                                      (no sslmode: tests add theirs)
#   DBOS_GITOPS_TEST_TLS_ADMIN_URL     the same cluster over its unix socket (trust, no TLS),
#                                      for creating and dropping test databases
#   DBOS_GITOPS_TEST_TLS_CA            the CA that signed the server certificate (PEM)
#   DBOS_GITOPS_TEST_TLS_OTHER_CA      a second CA that signed nothing the server presents
#   DBOS_GITOPS_TEST_TLS_WRONG_HOST    an address the server listens on that its certificate
#                                      does not name (127.0.0.2)
# The certificate names `localhost` and `127.0.0.1`. The cluster listens on 127.0.0.1 and
# 127.0.0.2, port ${PGPORT_TLS_TEST:-54339}, with its unix socket inside its own temporary
# directory. It is for local tests only and holds nothing of value (the password is random per
# start). As root the server runs as the `postgres` user (or `dbos-test`), as postgres.sh does.
set -euo pipefail

PORT="${PGPORT_TLS_TEST:-54339}"
TMP_ROOT="${TMPDIR:-/tmp}"
STATE_FILE="$TMP_ROOT/dbos-gitops-test-postgres-tls-$PORT.state"
DB_USER="postgres"

die() {
    echo "postgres-tls.sh: error: $*" >&2
    exit 1
}
note() { echo "postgres-tls.sh: $*" >&2; }

case "$PORT" in
'' | *[!0-9]*) die "PGPORT_TLS_TEST must be a port number, got \`$PORT\`" ;;
esac

find_bin() {
    local name="$1" dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/$name" ]; then
            echo "$dir/$name"
            return 0
        fi
    done
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return 0
    fi
    die "\`$name\` not found: install PostgreSQL 15 server binaries (Debian: apt-get install postgresql-15)"
}

INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"
command -v openssl >/dev/null 2>&1 ||
    die "\`openssl\` not found: it makes the test CA and certificates (Debian: apt-get install openssl)"

# Who runs the server: ourselves, unless we are root.
RUN_AS=""
if [ "$(id -u)" = 0 ]; then
    if id -u postgres >/dev/null 2>&1; then
        RUN_AS="postgres"
    else
        if ! id -u dbos-test >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin dbos-test ||
                die "running as root, no \`postgres\` user, and \`useradd dbos-test\` failed"
        fi
        RUN_AS="dbos-test"
    fi
fi

as_server_user() {
    if [ -z "$RUN_AS" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$RUN_AS" -- "$@"
    else
        local quoted
        printf -v quoted '%q ' "$@"
        su -s /bin/sh "$RUN_AS" -c "$quoted"
    fi
}

url() {
    echo "postgresql://$DB_USER:$(cat "$1/password")@localhost:$PORT/postgres"
}

state_dir() {
    [ -f "$STATE_FILE" ] || return 1
    local dir
    dir="$(cat "$STATE_FILE")"
    [ -n "$dir" ] && [ -d "$dir" ] || return 1
    echo "$dir"
}

is_running() {
    as_server_user "$PG_CTL" -D "$1/data" status >/dev/null 2>&1
}

print_exports() {
    local dir="$1"
    echo "export DBOS_GITOPS_TEST_TLS_DATABASE_URL=$(url "$dir")"
    echo "export DBOS_GITOPS_TEST_TLS_ADMIN_URL='postgresql:///postgres?host=$dir&port=$PORT&user=$DB_USER'"
    echo "export DBOS_GITOPS_TEST_TLS_CA=$dir/ca.crt"
    echo "export DBOS_GITOPS_TEST_TLS_OTHER_CA=$dir/other-ca.crt"
    echo "export DBOS_GITOPS_TEST_TLS_WRONG_HOST=127.0.0.2"
}

show_log() {
    if [ -f "$1/postgres.log" ]; then
        echo "---- $1/postgres.log (tail) ----" >&2
        tail -n 30 "$1/postgres.log" >&2 || true
    fi
}

start_server() {
    local dir="$1"
    if ! as_server_user "$PG_CTL" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
        show_log "$dir"
        die "PostgreSQL did not start (cluster in \`$dir\`)"
    fi
}

wait_ready() {
    local i
    for i in $(seq 1 60); do
        if command -v pg_isready >/dev/null 2>&1; then
            pg_isready -q -h "$1" -p "$PORT" -U "$DB_USER" -d postgres && return 0
        else
            (: </dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && return 0
        fi
        sleep 0.5
    done
    show_log "$1"
    die "PostgreSQL started but does not accept connections on 127.0.0.1:$PORT"
}

port_in_use() {
    (: </dev/tcp/127.0.0.1/"$PORT") 2>/dev/null
}

is_ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "${1:-127.0.0.1}" -p "$PORT" -U "$DB_USER" -d postgres
    else
        port_in_use
    fi
}

# Stops the cluster in $1 (fast, then immediate) and deletes its directory.
teardown() {
    local dir="$1"
    if is_running "$dir"; then
        if ! as_server_user "$PG_CTL" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
            as_server_user "$PG_CTL" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
        fi
    fi
    case "$dir" in
    "$TMP_ROOT"/dbos-gitops-test-pgtls.*) rm -rf "$dir" ;;
    *) die "refusing to delete unexpected directory \`$dir\` named in $STATE_FILE" ;;
    esac
    rm -f "$STATE_FILE"
}

# A CA, a server certificate it signs for localhost and 127.0.0.1, and a second CA that
# signs nothing (the "wrong CA"), all with the openssl CLI.
make_certificates() {
    local dir="$1" ca
    for ca in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
            -subj "/CN=dbos-gitops test $ca" -keyout "$dir/$ca.key" -out "$dir/$ca.crt" \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign >"$dir/openssl.log" 2>&1 ||
            { cat "$dir/openssl.log" >&2; die "openssl could not make the $ca"; }
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" \
        >"$dir/openssl.log" 2>&1 ||
        { cat "$dir/openssl.log" >&2; die "openssl could not make the server key"; }
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 30 -extfile "$dir/server.ext" -out "$dir/server.crt" \
        >"$dir/openssl.log" 2>&1 ||
        { cat "$dir/openssl.log" >&2; die "openssl could not sign the server certificate"; }
    chmod 0600 "$dir/server.key"
    chmod 0644 "$dir/ca.crt" "$dir/other-ca.crt" "$dir/server.crt"
}

cmd_start() {
    local dir
    if dir="$(state_dir)"; then
        if is_running "$dir" && is_ready "$dir"; then
            note "already running (cluster in $dir, port $PORT)"
            print_exports "$dir"
            return 0
        fi
        # A throwaway cluster that is down or half-dead: start over rather than repair it.
        note "test cluster in $dir is not answering; recreating it"
        teardown "$dir"
    fi
    rm -f "$STATE_FILE"

    if port_in_use; then
        die "port $PORT on 127.0.0.1 is already in use by another program; set PGPORT_TLS_TEST to a free port"
    fi

    [ -d "$TMP_ROOT" ] || die "temporary directory \`$TMP_ROOT\` does not exist"
    dir="$(mktemp -d "$TMP_ROOT/dbos-gitops-test-pgtls.XXXXXX")"
    chmod 0755 "$dir"
    if [ -n "$RUN_AS" ]; then
        chown "$RUN_AS" "$dir"
        as_server_user test -w "$dir" ||
            die "user \`$RUN_AS\` cannot write to \`$dir\` (is \`$TMP_ROOT\` traversable?); set TMPDIR=/tmp"
    fi
    echo "$dir" >"$STATE_FILE"

    (umask 077 && openssl rand -hex 16 >"$dir/password")
    make_certificates "$dir"
    if [ -n "$RUN_AS" ]; then
        chown "$RUN_AS" "$dir/password" "$dir/server.key" "$dir/server.crt"
    fi
    if ! as_server_user "$INITDB" -D "$dir/data" -U "$DB_USER" --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$dir/password" \
        --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed (cluster in \`$dir\`); run \`$0 stop\` to clean up"
    fi

    # Local test cluster only: TCP on loopback, sockets in our own directory, no durability.
    as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# --- dbos-gitops TLS test cluster ---
listen_addresses = '127.0.0.1,127.0.0.2'
port = $PORT
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
password_encryption = 'scram-sha-256'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # TCP only over TLS: no `host` line, so a plaintext client gets PostgreSQL's
    # "no pg_hba.conf entry for host ..., no encryption".
    as_server_user tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
local   all all                trust
hostssl all all 127.0.0.1/32   scram-sha-256
hostssl all all 127.0.0.2/32   scram-sha-256
EOF

    start_server "$dir"
    wait_ready "$dir"
    note "started PostgreSQL with TLS only on 127.0.0.1:$PORT (cluster in $dir)"
    print_exports "$dir"
}

cmd_stop() {
    local dir
    if ! dir="$(state_dir)"; then
        rm -f "$STATE_FILE"
        note "no test cluster for port $PORT; nothing to stop"
        return 0
    fi
    teardown "$dir"
    if port_in_use; then
        die "removed the cluster directory \`$dir\` but something still answers on 127.0.0.1:$PORT"
    fi
    note "stopped and removed the test cluster (port $PORT)"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 64
    ;;
esac
