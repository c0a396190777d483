#!/usr/bin/env bash
# Why this exists: the drain checks (`dbos-gitops retire`) must be tested against a real
# PostgreSQL holding the real DBOS system tables, not a mock. This script starts a throwaway
# PostgreSQL cluster for those tests and tears it down again.
#
#   tests/support/postgres.sh start   initdb + start (idempotent); prints `export ...` lines:
#                                       eval "$(bash tests/support/postgres.sh start)"
#   tests/support/postgres.sh url     prints the connection URL of the running cluster
#   tests/support/postgres.sh stop    stops the cluster and deletes its directory (idempotent)
#
# The cluster listens on 127.0.0.1 only, on port ${PGPORT_TEST:-54329}, with unix sockets inside
# its own temporary directory and `trust` authentication: it is for local tests only and holds
# nothing of value. Its directory is recorded in a state file under ${TMPDIR:-/tmp}.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (or a
# `dbos-test` user created on the fly when there is none).
set -euo pipefail

PORT="${PGPORT_TEST:-54329}"
TMP_ROOT="${TMPDIR:-/tmp}"
STATE_FILE="$TMP_ROOT/dbos-gitops-test-postgres-$PORT.state"
DB_USER="postgres"

die() {
    echo "postgres.sh: error: $*" >&2
    exit 1
}
note() { echo "postgres.sh: $*" >&2; }

case "$PORT" in
'' | *[!0-9]*) die "PGPORT_TEST must be a port number, got \`$PORT\`" ;;
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
    echo "postgresql://$DB_USER@127.0.0.1:$PORT/postgres"
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
    echo "export DBOS_GITOPS_TEST_DATABASE_URL=$(url)"
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
            pg_isready -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres && return 0
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
        pg_isready -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres
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
    "$TMP_ROOT"/dbos-gitops-test-pg.*) rm -rf "$dir" ;;
    *) die "refusing to delete unexpected directory \`$dir\` named in $STATE_FILE" ;;
    esac
    rm -f "$STATE_FILE"
}

cmd_start() {
    local dir
    if dir="$(state_dir)"; then
        if is_running "$dir" && is_ready; then
            note "already running (cluster in $dir, port $PORT)"
            print_exports
            return 0
        fi
        # A throwaway cluster that is down or half-dead: start over rather than repair it.
        note "test cluster in $dir is not answering; recreating it"
        teardown "$dir"
    fi
    rm -f "$STATE_FILE"

    if port_in_use; then
        die "port $PORT on 127.0.0.1 is already in use by another program; set PGPORT_TEST to a free port"
    fi

    [ -d "$TMP_ROOT" ] || die "temporary directory \`$TMP_ROOT\` does not exist"
    dir="$(mktemp -d "$TMP_ROOT/dbos-gitops-test-pg.XXXXXX")"
    chmod 0755 "$dir"
    if [ -n "$RUN_AS" ]; then
        chown "$RUN_AS" "$dir"
        as_server_user test -w "$dir" ||
            die "user \`$RUN_AS\` cannot write to \`$dir\` (is \`$TMP_ROOT\` traversable?); set TMPDIR=/tmp"
    fi
    echo "$dir" >"$STATE_FILE"

    if ! as_server_user "$INITDB" -D "$dir/data" -U "$DB_USER" --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed (cluster in \`$dir\`); run \`$0 stop\` to clean up"
    fi

    # Local test cluster only: TCP on loopback, sockets in our own directory, no durability.
    as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# --- dbos-gitops test cluster ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    start_server "$dir"
    wait_ready "$dir"
    note "started PostgreSQL on 127.0.0.1:$PORT (cluster in $dir)"
    print_exports
}

cmd_url() {
    local dir
    dir="$(state_dir)" || die "no test cluster for port $PORT; run \`$0 start\` first"
    is_running "$dir" || die "test cluster in \`$dir\` is not running; run \`$0 start\`"
    url
}

cmd_stop() {
    local dir
    if ! dir="$(state_dir)"; then
        rm -f "$STATE_FILE"
        note "no test cluster for port $PORT; nothing to stop"
        return 0
    fi
    teardown "$dir"
    if is_ready; then
        die "removed the cluster directory \`$dir\` but something still answers on 127.0.0.1:$PORT"
    fi
    note "stopped and removed the test cluster (port $PORT)"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
url) cmd_url ;;
*)
    echo "usage: $0 start|stop|url" >&2
    exit 64
    ;;
esac
