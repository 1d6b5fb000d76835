#!/usr/bin/env bash
# A local Postgres primary and streaming replica on 127.0.0.1 for toyapp.
# See postgres/README.md. Usage: postgres/cluster.sh COMMAND DIR
set -euo pipefail

PROG=cluster.sh
DEFAULT_OS_USER=toyapp-pg
APP_DB=toyapp
APP_ROLE=toyapp
REPL_ROLE=replicator
SLOT=toyapp_replica
REPLICA_APP_NAME=toyapp-replica
WAIT=${PG_WAIT_SECONDS:-60}
export PGCONNECT_TIMEOUT=5

usage() {
    cat <<EOF
usage: $PROG COMMAND DIR

  init DIR           create (if missing) and start a primary and a streaming
                     replica under DIR; running it again changes nothing
  start DIR          start both nodes and wait for streaming
  stop DIR           stop both nodes (fast shutdown)
  status DIR         one line per node: role, port, up/down, streaming, lag
  env DIR            print DATABASE_URL=... and DATABASE_REPLICA_URL=...
  stop-primary DIR   stop only the primary (failover tests)
  start-primary DIR  start only the primary
  stop-replica DIR   stop only the replica (the primary then has no
                     synchronous standby: see SYNC_REPLICA in README.md)
  start-replica DIR  start only the replica
  promote DIR        make the replica a primary (after losing the primary):
                     it takes writes, with no standby of its own
  sql DIR NODE SQL   run SQL as the superuser on NODE (primary or replica),
                     print the rows unaligned (benchmarks: CHECKPOINT, ...)
  catchup DIR        wait (PG_WAIT_SECONDS) until the replica has replayed
                     all the WAL the primary has written

Environment: PG_PRIMARY_PORT (default 5432), PG_REPLICA_PORT (default 5433),
used by init and fixed from then on; PG_BIN (default: the newest
/usr/lib/postgresql/*/bin); PG_WAIT_SECONDS (default 60).
EOF
}

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

# ---- setup ------------------------------------------------------------------

find_pg_bin() {
    if [[ -n ${PG_BIN:-} ]]; then
        [[ -x $PG_BIN/pg_ctl ]] || die "PG_BIN=$PG_BIN has no pg_ctl"
        return
    fi
    local d
    PG_BIN=
    while IFS= read -r d; do
        [[ -x $d/pg_ctl ]] && PG_BIN=$d
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    [[ -n $PG_BIN ]] || die "no Postgres found in /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BIN)"
}

# Value of KEY=value in a file of such lines.
conf_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

# Reads DIR/cluster.conf if it exists (ports and OS user are fixed at init),
# otherwise takes them from the environment.
load_conf() {
    CONF=$DIR/cluster.conf
    SECRETS=$DIR/secrets
    if [[ -f $CONF ]]; then
        PRIMARY_PORT=$(conf_get "$CONF" PRIMARY_PORT)
        REPLICA_PORT=$(conf_get "$CONF" REPLICA_PORT)
        OS_USER=$(conf_get "$CONF" OS_USER)
        if [[ -z $OS_USER ]] || ! valid_port "$PRIMARY_PORT" || ! valid_port "$REPLICA_PORT"; then
            die "$CONF is damaged"
        fi
        if [[ -n ${PG_PRIMARY_PORT:-} && $PG_PRIMARY_PORT != "$PRIMARY_PORT" ]]; then
            die "$DIR was initialized with primary port $PRIMARY_PORT, but PG_PRIMARY_PORT=$PG_PRIMARY_PORT"
        fi
        if [[ -n ${PG_REPLICA_PORT:-} && $PG_REPLICA_PORT != "$REPLICA_PORT" ]]; then
            die "$DIR was initialized with replica port $REPLICA_PORT, but PG_REPLICA_PORT=$PG_REPLICA_PORT"
        fi
    else
        PRIMARY_PORT=${PG_PRIMARY_PORT:-5432}
        REPLICA_PORT=${PG_REPLICA_PORT:-5433}
        valid_port "$PRIMARY_PORT" || die "PG_PRIMARY_PORT=$PRIMARY_PORT is not a port number"
        valid_port "$REPLICA_PORT" || die "PG_REPLICA_PORT=$REPLICA_PORT is not a port number"
        [[ $PRIMARY_PORT != "$REPLICA_PORT" ]] || die "primary and replica need different ports (both $PRIMARY_PORT)"
        if ((EUID == 0)); then OS_USER=$DEFAULT_OS_USER; else OS_USER=$(id -un); fi
    fi
    if ((EUID != 0)) && [[ $OS_USER != "$(id -un)" ]]; then
        die "$DIR belongs to OS user $OS_USER: run this as root or as $OS_USER"
    fi
}

require_cluster() {
    [[ -f $DIR/cluster.conf ]] || die "$DIR is not a cluster directory (run: $PROG init $DIR)"
    load_conf
    if ((EUID == 0)); then
        id -u "$OS_USER" >/dev/null 2>&1 || die "OS user $OS_USER is missing (run: $PROG init $DIR)"
    fi
}

# Runs a command as the cluster's OS user.
as_pg() {
    if ((EUID == 0)); then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
}

# Creates a directory owned by the cluster's OS user, mode 0700.
pg_mkdir() {
    if ((EUID == 0)); then
        install -d -m 0700 -o "$OS_USER" -g "$(id -gn "$OS_USER")" "$1"
    else
        install -d -m 0700 "$1"
    fi
}

# Writes a file (from stdin) into a data directory, owned by the OS user.
pg_write() {
    cat >"$1"
    chmod 0600 "$1"
    if ((EUID == 0)); then chown "$OS_USER:$(id -gn "$OS_USER")" "$1"; fi
}

# The superuser's own statements (bootstrap, benchmarks' CHECKPOINT) do not
# wait for the synchronous replica: at init it does not exist yet.
psql_su() {
    local port=$1
    shift
    as_pg env PGOPTIONS='-c synchronous_commit=local -c client_min_messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$port" -U postgres -d postgres "$@"
}

# ---- nodes ------------------------------------------------------------------

node_port() { if [[ $1 == primary ]]; then echo "$PRIMARY_PORT"; else echo "$REPLICA_PORT"; fi; }

node_running() {
    [[ -f $DIR/$1/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" status -D "$DIR/$1" >/dev/null 2>&1
}

node_ready() { as_pg "$PG_BIN/pg_isready" -q -h "$DIR/run" -p "$(node_port "$1")" -t 3 >/dev/null 2>&1; }

# True if something accepts TCP connections on 127.0.0.1:PORT.
# shellcheck disable=SC2016 # $1 is expanded by the inner bash
port_in_use() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

check_port_free() {
    local node=$1 port
    port=$(node_port "$1")
    node_running "$node" && return 0
    if port_in_use "$port"; then
        die "$node: port $port on 127.0.0.1 is in use by another process (stop it, or init another DIR with PG_PRIMARY_PORT/PG_REPLICA_PORT set)"
    fi
}

start_node() {
    local node=$1 port log
    port=$(node_port "$node")
    log=$DIR/log/$node.log
    if node_running "$node"; then
        say "$node: already running on 127.0.0.1:$port"
        return 0
    fi
    check_port_free "$node"
    # Our settings file is rewritten at every start, so that a cluster made
    # by an older cluster.sh gets today's settings (ALTER SYSTEM still wins).
    write_node_conf "$node" "$DIR/$node"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$DIR/$node" -l "$log" -w -t "$WAIT" -s >/dev/null 2>&1; then
        tail -n 5 "$log" >&2 || true
        die "$node: failed to start on 127.0.0.1:$port (log: $log)"
    fi
    say "$node: started on 127.0.0.1:$port"
}

stop_node() {
    local node=$1
    if ! node_running "$node"; then
        say "$node: already stopped"
        return 0
    fi
    as_pg "$PG_BIN/pg_ctl" stop -D "$DIR/$node" -m fast -w -t "$WAIT" -s >/dev/null \
        || die "$node: did not stop within ${WAIT}s (log: $DIR/log/$node.log)"
    say "$node: stopped"
}

# Settings for one node, included from its postgresql.conf.
write_node_conf() {
    local node=$1 datadir=$2
    pg_write "$datadir/toyapp.conf" <<EOF
# Written by postgres/cluster.sh for the $node node; see postgres/README.md.
cluster_name = 'toyapp-$node'
listen_addresses = '127.0.0.1'
port = $(node_port "$node")
unix_socket_directories = '$DIR/run'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'

# Streaming replication.
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = '1GB'
hot_standby = on
wal_retrieve_retry_interval = '1s'

# Durability: a commit returns once its WAL is flushed on the primary and
# on the replica (synchronous replication, the replica named by its
# application_name).  toyapp chooses per session what a commit does while
# the replica is away (SYNC_REPLICA: wait up to a bound then refuse, or
# degrade to the primary alone).  A standby ignores this until promoted;
# promote clears it there (no standby follows a promoted replica).
synchronous_commit = on
synchronous_standby_names = '"$REPLICA_APP_NAME"'
fsync = on
full_page_writes = on
wal_compression = lz4

# Checkpoints by time, not by WAL volume.  Under a sustained load of
# submissions (about 10 MB of WAL a second) the default max_wal_size (1 GB)
# started a checkpoint every 20 to 40 s, and after each one the first change
# of every page writes the whole page to the WAL (full-page images): more
# WAL, so the next checkpoint sooner.  The price of the larger bound: a
# crash replays up to that much WAL before the server takes writes again.
max_wal_size = '8GB'
checkpoint_timeout = '15min'
EOF
}

wait_streaming() {
    local deadline=$((SECONDS + WAIT)) state
    while :; do
        state=$(psql_su "$PRIMARY_PORT" -tAc \
            "SELECT state FROM pg_stat_replication WHERE application_name = '$REPLICA_APP_NAME'" 2>/dev/null || true)
        [[ $state == streaming ]] && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

replica_in_recovery() {
    [[ $(psql_su "$REPLICA_PORT" -tAc "SELECT pg_is_in_recovery()" 2>/dev/null) == t ]]
}

# Starts the replica and waits for it to stream, unless it has been promoted.
start_replica_and_wait() {
    start_node replica
    if ! replica_in_recovery; then
        say "replica: promoted (no longer a standby), not waiting for streaming"
        return 0
    fi
    if ! node_ready primary; then
        say "replica: primary is down, replica serves reads only"
        return 0
    fi
    wait_streaming || die "replica is not streaming after ${WAIT}s (log: $DIR/log/replica.log)"
    say "replica: streaming from primary"
}

# ---- init -------------------------------------------------------------------

gen_password() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

ensure_os_user() {
    ((EUID == 0)) || return 0
    id -u "$OS_USER" >/dev/null 2>&1 && return 0
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$OS_USER" || die "could not create system user $OS_USER"
    say "created system user $OS_USER"
}

prepare_dir() {
    local created=0
    if [[ ! -d $DIR ]]; then
        mkdir -p "$DIR"
        chmod 0711 "$DIR"
        created=1
    fi
    # The OS user needs to reach DIR (search permission only).
    if ! as_pg test -x "$DIR"; then
        if ((EUID == 0)) && [[ $(stat -c %u "$DIR") == 0 ]]; then
            chmod go+x "$DIR"
            say "made $DIR searchable by $OS_USER"
        fi
        as_pg test -x "$DIR" \
            || die "$OS_USER cannot reach $DIR (a parent directory is not searchable); pick a path such as /var/lib/toyapp-pg or one under /tmp"
    fi
    [[ -f $CONF ]] || printf 'PRIMARY_PORT=%s\nREPLICA_PORT=%s\nOS_USER=%s\n' \
        "$PRIMARY_PORT" "$REPLICA_PORT" "$OS_USER" >"$CONF"
    [[ -d $DIR/run ]] || pg_mkdir "$DIR/run"
    [[ -d $DIR/log ]] || pg_mkdir "$DIR/log"
    ((created)) && say "created $DIR"
    return 0
}

ensure_secrets() {
    if [[ ! -f $SECRETS ]]; then
        [[ ! -f $DIR/primary/PG_VERSION ]] \
            || die "$DIR/primary exists but $SECRETS is missing; the passwords are lost (remove $DIR to start over)"
        (
            umask 077
            printf 'TOYAPP_PASSWORD=%s\nREPLICATION_PASSWORD=%s\n' "$(gen_password)" "$(gen_password)" >"$SECRETS.tmp"
        )
        mv "$SECRETS.tmp" "$SECRETS"
        say "generated passwords in $SECRETS (mode 0600)"
    fi
    [[ -r $SECRETS ]] || die "cannot read $SECRETS (run as root or as its owner)"
    TOYAPP_PASSWORD=$(conf_get "$SECRETS" TOYAPP_PASSWORD)
    REPLICATION_PASSWORD=$(conf_get "$SECRETS" REPLICATION_PASSWORD)
    [[ $TOYAPP_PASSWORD =~ ^[0-9a-f]{16,}$ && $REPLICATION_PASSWORD =~ ^[0-9a-f]{16,}$ ]] \
        || die "$SECRETS is damaged"
}

# A data directory is built in NAME.tmp and renamed when complete, so an
# interrupted init leaves no half-made node behind.
check_target() {
    local d=$DIR/$1
    if [[ -e $d && ! -f $d/PG_VERSION ]]; then
        die "$d exists but is not a Postgres data directory; move it away"
    fi
    rm -rf "$d.tmp"
    pg_mkdir "$d.tmp"
}

init_primary() {
    [[ -f $DIR/primary/PG_VERSION ]] && return 0
    check_target primary
    local tmp=$DIR/primary.tmp
    if ! as_pg "$PG_BIN/initdb" -D "$tmp" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C --data-checksums >"$DIR/log/initdb.log" 2>&1; then
        tail -n 5 "$DIR/log/initdb.log" >&2
        die "initdb failed (log: $DIR/log/initdb.log)"
    fi
    write_node_conf primary "$tmp"
    printf "\ninclude 'toyapp.conf'\n" >>"$tmp/postgresql.conf"
    pg_write "$tmp/pg_hba.conf" <<EOF
# Written by postgres/cluster.sh. The Unix socket lives in $DIR/run (mode
# 0700), so only the cluster's OS user and root reach it; TCP is loopback only
# and needs a password.
# TYPE  DATABASE     USER         ADDRESS        METHOD
local   all          all                         trust
host    all          all          127.0.0.1/32   scram-sha-256
host    replication  $REPL_ROLE   127.0.0.1/32   scram-sha-256
EOF
    mv "$tmp" "$DIR/primary"
    say "primary: initialized $DIR/primary ($("$PG_BIN/postgres" --version))"
}

# Roles and database, each created only if missing.
init_roles() {
    psql_su "$PRIMARY_PORT" <<EOF
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') AS missing \gset
\if :missing
CREATE ROLE $APP_ROLE LOGIN PASSWORD '$TOYAPP_PASSWORD';
\echo 'primary: created role $APP_ROLE'
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$REPL_ROLE') AS missing \gset
\if :missing
CREATE ROLE $REPL_ROLE REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';
\echo 'primary: created role $REPL_ROLE'
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$APP_DB') AS missing \gset
\if :missing
CREATE DATABASE $APP_DB OWNER $APP_ROLE;
REVOKE ALL ON DATABASE $APP_DB FROM PUBLIC;
\echo 'primary: created database $APP_DB'
\endif
-- toyapp reads whether its synchronous standby is attached (pg_stat_replication).
GRANT pg_read_all_stats TO $APP_ROLE;
EOF
}

init_replica() {
    [[ -f $DIR/replica/PG_VERSION ]] && return 0
    check_target replica
    local tmp=$DIR/replica.tmp
    # A slot left by an interrupted earlier attempt would make -C fail.
    psql_su "$PRIMARY_PORT" -tAc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
        WHERE slot_name = '$SLOT' AND NOT active" >/dev/null
    if ! PGPASSWORD=$REPLICATION_PASSWORD as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" \
        -U "$REPL_ROLE" -D "$tmp" -R -X stream -C -S "$SLOT" -c fast -w >"$DIR/log/basebackup.log" 2>&1; then
        tail -n 5 "$DIR/log/basebackup.log" >&2
        die "pg_basebackup failed (log: $DIR/log/basebackup.log)"
    fi
    write_node_conf replica "$tmp"
    mv "$tmp" "$DIR/replica"
    say "replica: copied from primary with pg_basebackup into $DIR/replica"
}

cmd_init() {
    load_conf
    local fresh=1
    [[ -f $DIR/primary/PG_VERSION && -f $DIR/replica/PG_VERSION ]] && fresh=0
    if [[ -e $DIR && ! -f $DIR/cluster.conf ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty and holds no cluster; give a new or empty directory"
    fi
    # Unix socket paths are limited to 107 bytes.
    ((${#DIR} + 20 <= 107)) || die "$DIR is too long for a Unix socket path; use a shorter one"
    [[ $DIR != *[\'\\]* ]] || die "$DIR must not contain quotes or backslashes"
    if ((EUID == 0)); then ensure_os_user; fi
    check_port_free primary
    check_port_free replica
    prepare_dir
    ensure_secrets
    init_primary
    start_node primary
    init_roles
    init_replica
    start_replica_and_wait
    if ((fresh)); then
        say "cluster ready: primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT; URLs: $PROG env $DIR"
    else
        say "cluster already initialized in $DIR: data and settings kept, nothing changed"
    fi
}

# ---- other commands ---------------------------------------------------------

cmd_start() {
    require_cluster
    start_node primary
    start_replica_and_wait
}

cmd_stop() {
    require_cluster
    stop_node replica
    stop_node primary
}

cmd_status() {
    require_cluster
    local node port line recov wal_status lag
    for node in primary replica; do
        port=$(node_port "$node")
        line="$node  port $port"
        if node_ready "$node"; then
            line+="  up"
            recov=$(psql_su "$port" -tAc "SELECT pg_is_in_recovery()" 2>/dev/null || echo '?')
            if [[ $node == primary ]]; then
                [[ $recov == t ]] && line+="  (in recovery: not accepting writes)"
            elif [[ $recov == f ]]; then
                line+="  promoted (no longer a standby)"
            else
                wal_status=$(psql_su "$port" -tAc "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null || true)
                if [[ $wal_status == streaming ]]; then line+="  streaming"; else line+="  not streaming"; fi
                lag=
                if node_ready primary; then
                    lag=$(psql_su "$PRIMARY_PORT" -tAc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
                        FROM pg_stat_replication WHERE application_name = '$REPLICA_APP_NAME'" 2>/dev/null || true)
                fi
                if [[ -z $lag ]]; then
                    lag=$(psql_su "$port" -tAc "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())" \
                        2>/dev/null || true)
                fi
                line+="  replay lag ${lag:-unknown} bytes"
            fi
        elif node_running "$node"; then
            line+="  starting (not accepting connections yet)"
        else
            line+="  down"
        fi
        say "$line"
    done
}

cmd_promote() {
    require_cluster
    node_ready replica || die "the replica is not running (start it, or: $PROG start $DIR)"
    if ! replica_in_recovery; then
        say "replica: already promoted"
        return 0
    fi
    as_pg "$PG_BIN/pg_ctl" promote -D "$DIR/replica" -w -t "$WAIT" -s >/dev/null \
        || die "replica: promotion did not finish within ${WAIT}s (log: $DIR/log/replica.log)"
    # No standby follows a promoted replica: its commits must not wait for one.
    if ! psql_su "$REPLICA_PORT" -qtAc "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null \
        || ! psql_su "$REPLICA_PORT" -qtAc "SELECT pg_reload_conf()" >/dev/null; then
        die "replica: could not clear synchronous_standby_names"
    fi
    say "replica: promoted on 127.0.0.1:$REPLICA_PORT; it takes writes now (with no standby of its own)"
}

cmd_sql() {
    require_cluster
    [[ $1 == primary || $1 == replica ]] || die "sql: NODE is primary or replica, not '$1'"
    psql_su "$(node_port "$1")" -tAc "$2"
}

cmd_catchup() {
    require_cluster
    local lsn i
    lsn=$(psql_su "$PRIMARY_PORT" -tAc "SELECT pg_current_wal_lsn()")
    for ((i = 0; i < WAIT * 2; i++)); do
        [[ $(psql_su "$REPLICA_PORT" -tAc \
            "SELECT coalesce(pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn, false)" 2>/dev/null) == t ]] \
            && return 0
        sleep 0.5
    done
    die "the replica has not replayed up to $lsn after $WAIT s"
}

cmd_env() {
    require_cluster
    [[ -f $SECRETS ]] || die "$SECRETS is missing"
    [[ -r $SECRETS ]] || die "cannot read $SECRETS (run as root or as its owner)"
    local pw
    pw=$(conf_get "$SECRETS" TOYAPP_PASSWORD)
    [[ -n $pw ]] || die "$SECRETS has no TOYAPP_PASSWORD"
    say "DATABASE_URL=postgresql://$APP_ROLE:$pw@127.0.0.1:$PRIMARY_PORT/$APP_DB"
    say "DATABASE_REPLICA_URL=postgresql://$APP_ROLE:$pw@127.0.0.1:$REPLICA_PORT/$APP_DB"
}

# ---- main -------------------------------------------------------------------

main() {
    if [[ $# -eq 1 && ($1 == -h || $1 == --help || $1 == help) ]]; then
        usage
        exit 0
    fi
    if [[ -z ${2:-} || ($# -ne 2 && ! ($1 == sql && $# -eq 4)) ]]; then
        usage >&2
        exit 2
    fi
    local cmd=$1
    DIR=$(realpath -m -- "$2")
    find_pg_bin
    # Postgres tools complain when the OS user cannot read the current directory.
    cd /
    case $cmd in
        init) cmd_init ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        env) cmd_env ;;
        sql) cmd_sql "$3" "$4" ;;
        catchup) cmd_catchup ;;
        stop-primary)
            require_cluster
            stop_node primary
            ;;
        start-primary)
            require_cluster
            start_node primary
            ;;
        stop-replica)
            require_cluster
            stop_node replica
            ;;
        start-replica)
            require_cluster
            start_node replica
            ;;
        promote) cmd_promote ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
