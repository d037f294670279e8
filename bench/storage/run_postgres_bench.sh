#!/usr/bin/env bash
# PostgresStorage next to pgbench in the same job, on a throwaway cluster (scripts/pg-test-cluster):
# events/s with 1 and 8 sessions, then pgbench with bench/storage/pgbench_append.sql (the same
# insert into the same schema, one transaction per event) with 1 and 8 clients, in its simple and
# prepared query modes.
#
# Usage: bench/storage/run_postgres_bench.sh BUILD_DIR [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run_postgres_bench.sh BUILD_DIR [SECONDS]}
seconds=${2:-10}
dir=$(mktemp -d /tmp/salesflow-pg-bench-XXXXXX)
trap '"$root/scripts/pg-test-cluster" stop "$dir"' EXIT
conninfo=$("$root/scripts/pg-test-cluster" start "$dir")
pgbench=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pgbench
export SALESFLOW_BENCH_POSTGRES="$conninfo"
"$build/bench/storage/salesflow_bench_storage" --benchmark_filter=Postgres 2>/dev/null | grep BM_
# pgbench's query modes: simple (parsed and planned each time) and prepared (as our store does).
for mode in simple prepared; do
  for clients in 1 8; do
    tps=$("$pgbench" -n -M "$mode" -f "$root/bench/storage/pgbench_append.sql" -c "$clients" -j 2 \
          -T "$seconds" -d "$conninfo" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    echo "pgbench_append -M $mode clients=$clients: $tps events/s"
  done
done
