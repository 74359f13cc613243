# shellcheck shell=bash
# pg_cluster.sh - a throwaway PostgreSQL cluster for the tests (sourced by
# bash tests, not a test itself): initdb in a directory of the test's own,
# a server that listens on a Unix socket in that directory only (no TCP
# port, so clusters of tests running side by side never meet), and its
# removal.  Every PostgreSQL test uses it; CI starts no database of its own.
#
#   pg_cluster_start DIR   makes DIR (it must not exist; its parent is the
#                          test's scratch directory), initdb, starts the
#                          server and waits until it accepts connections.
#                          Sets PG_URI (postgresql:///ozma?host=DIR&user=postgres;
#                          the database "ozma" exists, empty) and
#                          PG_RESTART, PG_STOP and PG_START (shell commands
#                          for system(3): pg_ctl restart -m immediate, a
#                          crash and recovery as after a power cut; stop -m
#                          fast; start), and prints PG_URI.  Exits 77 (skipped) when the
#                          PostgreSQL server's programs are not installed.
#   pg_cluster_stop DIR    stops the server (fast, then immediate) and
#                          removes DIR.  Call it from the test's EXIT trap.
#
# Nothing is left running even when the test dies without its trap (a
# SIGKILL from ctest's timeout): a watchdog, started with the server, stops
# it and removes DIR once the test's shell is gone.
#
# Tests run as root, and initdb refuses root: the cluster then belongs to
# the "postgres" system user that Debian's postgresql package creates, and
# DIR's parent is opened to others (o+x, not o+r) so that user reaches DIR.
# Run as anyone else, the cluster is that user's.  The superuser is named
# "postgres" either way.  PG_BIN overrides where initdb and pg_ctl are.

PG_CLUSTER_SH=$(readlink -f "${BASH_SOURCE[0]}")
PG_BIN=${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}

# pg_as_owner CMD...: CMD as the cluster's owner, in a directory it may
# enter.
pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

pg_cluster_start() {
    local dir=$1 log
    if [[ -z $PG_BIN || ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
        echo "SKIP: the PostgreSQL server is not installed (deploy/install-deps.sh: postgresql-15)"
        exit 77
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        echo "FAIL: run as root, and no 'postgres' user to own the cluster" >&2
        exit 1
    fi
    # the socket's path, DIR/.s.PGSQL.5432, must fit sockaddr_un (107 bytes)
    if ((${#dir} + 16 > 107)); then
        echo "FAIL: $dir: too long a path for a Unix socket" >&2
        exit 1
    fi
    mkdir "$dir" || exit 1
    if [[ $(id -u) -eq 0 ]]; then
        chmod o+x "$(dirname "$dir")"
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    log=$dir/server.log
    if ! pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
            --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        echo "FAIL: initdb: $(tail -n 3 "$dir/initdb.log")" >&2
        rm -rf "$dir"
        exit 1
    fi
    # loopback only, and not even that: the socket in DIR is the one way in
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
shared_buffers = 16MB
max_connections = 200
logging_collector = off
EOF
    if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$log" -w -t 60 start >/dev/null 2>&1; then
        echo "FAIL: the PostgreSQL server did not start: $(tail -n 5 "$log")" >&2
        pg_cluster_stop "$dir"
        exit 1
    fi
    pg_cluster_watch "$dir"
    if ! pg_as_owner "$PG_BIN/createdb" -h "$dir" -U postgres ozma >>"$log" 2>&1; then
        echo "FAIL: createdb ozma: $(tail -n 3 "$log")" >&2
        pg_cluster_stop "$dir"
        exit 1
    fi
    PG_URI="postgresql:///ozma?host=$dir&user=postgres"
    local ctl
    ctl="$(pg_cluster_owner_cmd) $PG_BIN/pg_ctl -D $dir/data -w -t 60"
    PG_RESTART="$ctl -l $log -m immediate restart >/dev/null"
    PG_STOP="$ctl -m fast stop >/dev/null"
    PG_START="$ctl -l $log start >/dev/null"
    export PG_URI PG_RESTART PG_STOP PG_START
    echo "$PG_URI"
}

# How PG_RESTART becomes the owner (a command line for system(3)).
pg_cluster_owner_cmd() {
    if [[ $(id -u) -eq 0 ]]; then echo "runuser -u postgres --"; else echo "env"; fi
}

# pg_cluster_watch DIR: the watchdog (see the top of the file), its pid kept
# in DIR/watchdog.pid for pg_cluster_stop.  A bash of its own, not a
# subshell: a subshell would inherit the copies bash keeps of redirected
# descriptors (a caller's `pg_cluster_start DIR >/dev/null` keeps its
# stdout, ctest's or Python's pipe, open), and so hold that pipe open.
pg_cluster_watch() {
    local dir=$1 shell=$$
    PG_BIN=$PG_BIN bash -c 'source "$1"; trap "" HUP INT
        while kill -0 "$2" 2>/dev/null; do sleep 1; done
        pg_cluster_halt "$3"; rm -rf "$3"' _ "$PG_CLUSTER_SH" "$shell" "$dir" \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid"
}

# pg_cluster_halt DIR: the server down, whatever it takes.
pg_cluster_halt() {
    local dir=$1 pid
    [[ -f $dir/data/postmaster.pid ]] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 && return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
    # the postmaster's own pid (first line of its lock file); its backends
    # exit when it is gone
    pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null
    return 0
}

pg_cluster_stop() {
    local dir=$1 wd
    [[ -n $dir && -d $dir ]] || return 0
    if [[ -f $dir/watchdog.pid ]]; then
        wd=$(cat "$dir/watchdog.pid")
        [[ $wd =~ ^[0-9]+$ ]] && kill "$wd" 2>/dev/null
    fi
    pg_cluster_halt "$dir"
    rm -rf "$dir"
}
