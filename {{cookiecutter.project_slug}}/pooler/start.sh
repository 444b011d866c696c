#!/bin/bash
# Writes pgbouncer.ini and its user list to /tmp (memory in the pod, tmpfs in compose) from
# DATABASE_URL, the server's own postgresql://user:password@host:port/dbname?sslmode=...,
# then becomes pgbouncer. Clients log in as that user with that password, on port 6432.
set -euo pipefail
umask 077
url=${DATABASE_URL:?set DATABASE_URL to the PostgreSQL server the pooler connects to}
pattern='^postgres(ql)?://([^:@/]+):([^@/]*)@([^:/?]+)(:([0-9]+))?/([^?]+)(\?(.*))?$'
if [[ ! $url =~ $pattern ]]; then
  echo "DATABASE_URL is not postgresql://user:password@host[:port]/dbname" >&2
  exit 1
fi
# Percent-decoding (a URL's user info keeps "+"); a backslash in it stays a backslash.
decode() { local s=${1//\\/\\\\}; printf '%b' "${s//%/\\x}"; }
user=$(decode "${BASH_REMATCH[2]}") password=$(decode "${BASH_REMATCH[3]}")
host=${BASH_REMATCH[4]} port=${BASH_REMATCH[6]:-5432} dbname=$(decode "${BASH_REMATCH[7]}")
query=${BASH_REMATCH[9]:-} sslmode=prefer
[[ $query =~ (^|&)sslmode=([a-z-]+) ]] && sslmode=${BASH_REMATCH[2]}
timeout=${DATABASE_STATEMENT_TIMEOUT_MS:-5000}
if [[ ! $timeout =~ ^[0-9]+$ ]]; then
  echo "DATABASE_STATEMENT_TIMEOUT_MS is not a number of milliseconds: $timeout" >&2
  exit 1
fi
quote() { printf '"%s"' "${1//\"/\"\"}"; }
dir=/tmp/pgbouncer
mkdir -p "$dir"
printf '%s %s\n' "$(quote "$user")" "$(quote "$password")" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
; Each server connection starts with the service's statement_timeout (below: why).
$dbname = host=$host port=$port dbname=$dbname connect_query='SET statement_timeout = $timeout'

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
; A server connection serves one transaction, then the next client's.
pool_mode = transaction
default_pool_size = ${POOLER_POOL_SIZE:-20}
reserve_pool_size = 0
max_client_conn = ${POOLER_MAX_CLIENTS:-1000}
; psycopg prepares a query run 5 times on a connection; PgBouncer (>= 1.21) maps those
; protocol-level statements onto whichever server connection the transaction gets.
max_prepared_statements = 200
; The service sends "-c statement_timeout=..." at login: PgBouncer refuses an untracked
; parameter, and cannot pass a tracked one on (PostgreSQL never reports its value), so the
; value the service asks for (the same DATABASE_STATEMENT_TIMEOUT_MS) is the connect_query's.
track_extra_parameters = IntervalStyle, statement_timeout
; A client waiting this long for a server connection gets an error, not an endless queue.
query_wait_timeout = ${POOLER_WAIT_TIMEOUT:-10}
server_tls_sslmode = $sslmode
server_check_query = SELECT 1
log_connections = 0
log_disconnections = 0
INI
exec pgbouncer "$dir/pgbouncer.ini"
