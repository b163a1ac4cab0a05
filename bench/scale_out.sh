#!/usr/bin/env bash
# Scale-out benchmark: `spendstream api` + N x `spendstream process` on Kafka
# (tansu), ClickHouse and Redis, all on this machine. See bench/README.md.
#
#   bash bench/scale_out.sh
#
# Needs a Kafka-compatible broker on 127.0.0.1:9092, ClickHouse on
# http://127.0.0.1:8123 and Redis on 127.0.0.1:6379 (`bash .ci/run` starts
# them), wrk, python3 and the Rust toolchain.
#
# Knobs (environment): BENCH_PROCESSES ("1 2": the cases, by number of process
# instances), BENCH_ENTRIES (100000, imported for the report/list user),
# BENCH_DURATION (seconds per measured wrk run, 20), BENCH_PROBES (200
# freshness probes), BENCH_PARTITIONS (6), BENCH_BATCH_SIZE (5000, the
# processors' batch_size, as in config/scale-out.toml), BENCH_SKIP_BUILD=1, BENCH_WORK,
# BENCH_BIN (the binary; default the release build), BENCH_RUST_LOG (warn;
# e.g. "warn,spendstream_processors=debug,spendstream_backends=debug" logs
# where each processor batch's time goes, into the run's *.process*.err).
#
# Per case it measures:
#   ingest     a CSV of BENCH_ENTRIES rows sent to POST /v1/expenses/import,
#              and the time from the request until every row is counted in the
#              reports (API -> Kafka -> processors -> ClickHouse); once for one
#              user, once split over BENCH_INGEST_USERS (8) users importing at
#              once (one user's entries stay in one partition, so only many
#              users spread over several process instances)
#   post       POST /v1/expenses with wrk at 64 connections, then the time
#              until every accepted entry is counted (API -> Kafka ->
#              processors -> ClickHouse, sustained)
#   freshness  one entry at a time, POST -> counted in the monthly report,
#              under a background POST load
#   cold read  one at a time for the user with BENCH_ENTRIES: POST, then GET
#              the list and the month's report (bench/cold_read.py); every
#              write moves the user's version, so no cache answers these
#   report / list  GET at 64 connections for the user with BENCH_ENTRIES
# Results go to bench/SCALE_OUT_RESULTS.md; every process is stopped on exit.
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/spendstream-target}
BIN=${BENCH_BIN:-$CARGO_TARGET_DIR/release/spendstream}
WORK=${BENCH_WORK:-/var/tmp/spendstream-bench}
CASES=${BENCH_PROCESSES:-1 2}
ENTRIES=${BENCH_ENTRIES:-100000}
DURATION=${BENCH_DURATION:-20}
PROBES=${BENCH_PROBES:-200}
USERS=${BENCH_INGEST_USERS:-8}
PARTITIONS=${BENCH_PARTITIONS:-6}
PASSWORD="correct horse battery"
KAFKA=127.0.0.1:9092
CLICKHOUSE=http://127.0.0.1:8123
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/scale-out/$RUN_ID
OUT=$BENCH_DIR/SCALE_OUT_RESULTS.md
mkdir -p "$LOGS"
ROWS=$LOGS/rows.md
: >"$ROWS"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$LOGS/run.log" >&2; }
die() { log "FAILED: $*"; exit 1; }
row() { local s="" f; for f in "$@"; do s+="| $f "; done; printf '%s|\n' "$s" >>"$ROWS"; }

PIDS=()
DATABASES=()
cleanup() {
    local rc=$? pid db
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for db in "${DATABASES[@]}"; do curl -s "$CLICKHOUSE" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null || true; done
    [[ $rc -ne 0 ]] && log "exit status $rc; logs in $LOGS"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
up 9092 || die "no Kafka-compatible broker on $KAFKA (bash .ci/run starts tansu)"
up 8123 || die "no ClickHouse on $CLICKHOUSE"
up 6379 || die "no Redis on 127.0.0.1:6379"
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || die "wrk is required"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building release (log: $LOGS/build.log)"
    (cd "$ROOT" && cargo build --release --locked) >"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log" >&2; die "build"; }
fi
[[ -x $BIN ]] || die "no binary at $BIN"

CSV=$WORK/entries-$ENTRIES-3y-seed7.csv
[[ -s $CSV && $CSV -nt $BENCH_DIR/gen_entries.py ]] || python3 "$BENCH_DIR/gen_entries.py" "$ENTRIES" 3 --seed 7 >"$CSV"

# The whole case shares these (a fresh topic prefix, database and data dir per case).
# A consumer group of its own per case, like the topics: in the group all runs
# shared, a new process once waited 6.7 minutes for partitions (tansu 0.6).
case_env() {
    export SPENDSTREAM__PROCESSORS__GROUP="bench-$1" SPENDSTREAM__BACKENDS__EVENT_LOG=kafka SPENDSTREAM__BACKENDS__STORE=clickhouse \
        SPENDSTREAM__BACKENDS__SHARED=redis SPENDSTREAM__KAFKA__BROKERS=$KAFKA \
        SPENDSTREAM__KAFKA__TOPIC_PREFIX="bench-$1." SPENDSTREAM__KAFKA__PARTITIONS=$PARTITIONS \
        SPENDSTREAM__CLICKHOUSE__URL=$CLICKHOUSE SPENDSTREAM__CLICKHOUSE__DATABASE="bench_$1" \
        SPENDSTREAM__STORAGE__DATA_DIR="$LOGS/$1.data" SPENDSTREAM__AUTH__JWT_SECRET="bench-secret-$RUN_ID-0123456789abcdef" \
        SPENDSTREAM__AUTH__ACCESS_TOKEN_TTL_SECS=86400 SPENDSTREAM__SERVER__LISTEN=127.0.0.1:0 RUST_LOG=${BENCH_RUST_LOG:-warn} \
        SPENDSTREAM__PROCESSORS__BATCH_SIZE=${BENCH_BATCH_SIZE:-5000}
}

signup() { # email -> token
    local body
    body=$(curl -sS --fail-with-body -X POST "$BASE/v1/auth/signup" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\",\"time_zone\":\"Asia/Kolkata\"}") || die "signup: $body"
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' <<<"$body"
}

total() { # token -> entries counted in the yearly reports 2023..2026
    python3 - "$BASE" "$1" <<'EOF'
import json, sys, urllib.request
n = 0
for y in range(2023, 2027):
    req = urllib.request.Request(f"{sys.argv[1]}/v1/reports?period=year&date={y}-06-15",
                                 headers={"Authorization": "Bearer " + sys.argv[2]})
    with urllib.request.urlopen(req, timeout=30) as r:
        n += json.load(r)["count"]
print(n)
EOF
}

import_csv() { # token file log -> POST /v1/expenses/import; the answer goes to log
    curl -sS --fail-with-body -X POST "$BASE/v1/expenses/import" -H "Authorization: Bearer $1" \
        -H 'Content-Type: text/csv' --data-binary @"$2" >"$3" 2>&1
}

ingest_row() { # label import-word t0 t_import -> logs and appends the row of an ingest, counted now
    local t_seen=$EPOCHREALTIME imp e2e rate
    imp=$(awk -v a="$3" -v b="$4" 'BEGIN{printf "%.2f", b - a}')
    e2e=$(awk -v a="$3" -v b="$t_seen" 'BEGIN{printf "%.2f", b - a}')
    rate=$(awk -v n="$ENTRIES" -v a="$3" -v b="$t_seen" 'BEGIN{printf "%.0f", n / (b - a)}')
    log "$CASE $1: $2 ${imp} s, all $ENTRIES counted after ${e2e} s: $rate entries/s"
    row "$CASE" "$1: POST /v1/expenses/import -> Kafka -> processors -> ClickHouse, $ENTRIES entries" "-" \
        "$rate entries/s" "$2 ${imp} s" "all counted ${e2e} s" "-"
}

wait_total() { # token expected timeout_s -> prints seconds waited
    local t0=$EPOCHREALTIME n
    while :; do
        n=$(total "$1")
        ((n >= $2)) && break
        awk -v a="$t0" -v b="$EPOCHREALTIME" -v t="$3" 'BEGIN { exit !(b - a > t) }' && die "only $n of $2 entries counted after $3 s"
        sleep 0.05
    done
}

wrk_line() { # label conns mode url token [nowarm] -> appends a row; sets WRK_OUT
    local out=$LOGS/$CASE.$(tr -c 'a-zA-Z0-9\n' _ <<<"$1").wrk
    WRK_OUT=$out
    [[ ${6:-} == nowarm ]] || BENCH_TOKEN=$5 BENCH_MODE=$3 wrk -t2 -c"$2" -d3s --timeout 10s -s "$BENCH_DIR/wrk.lua" "$4" >/dev/null 2>&1
    BENCH_TOKEN=$5 BENCH_MODE=$3 wrk -t2 -c"$2" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/wrk.lua" "$4" >"$out" 2>&1 \
        || die "wrk $1"
    local line; line=$(grep '^BENCH ' "$out") || die "wrk $1 printed no BENCH line"
    log "$CASE $1: ${line#BENCH }"
    eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=/W_\1=/g' <<<"$line")"
    row "$CASE" "$1" "$2" "$W_rps" "$(awk -v u="$W_p50_us" 'BEGIN{printf "%.2f ms", u/1000}')" \
        "$(awk -v u="$W_p99_us" 'BEGIN{printf "%.2f ms", u/1000}')" "$W_non2xx"
}

for P in $CASES; do
    CASE="p$P-$RUN_ID"
    CASE=${CASE//[^a-zA-Z0-9]/_}
    case_env "$CASE"
    DATABASES+=("bench_$CASE")
    log "case: $P process instance(s), topic prefix bench-$CASE., database bench_$CASE"
    "$BIN" migrate >"$LOGS/$CASE.migrate.log" 2>&1 || { cat "$LOGS/$CASE.migrate.log" >&2; die "migrate"; }
    for i in $(seq "$P"); do
        "$BIN" process >"$LOGS/$CASE.process$i.out" 2>"$LOGS/$CASE.process$i.err" &
        PIDS+=($!)
    done
    "$BIN" api >"$LOGS/$CASE.api.out" 2>"$LOGS/$CASE.api.err" &
    API_PID=$!
    PIDS+=("$API_PID")
    for _ in $(seq 600); do grep -q 'listening on' "$LOGS/$CASE.api.out" 2>/dev/null && break; sleep 0.1; done
    BASE=http://$(sed -n 's|.*listening on http://||p' "$LOGS/$CASE.api.out" | head -1)
    [[ $BASE != http:// ]] || die "api did not start (see $LOGS/$CASE.api.err)"

    A=$(signup "a@$CASE.test")
    t0=$EPOCHREALTIME
    import_csv "$A" "$CSV" "$LOGS/$CASE.import.log" || die "import (see $LOGS/$CASE.import.log)"
    t_import=$EPOCHREALTIME
    wait_total "$A" "$ENTRIES" 900
    ingest_row "ingest" "import" "$t0" "$t_import"

    # The same volume from several users at once. One user's entries stay in one
    # partition (their order matters), so only this spreads the work over every
    # process instance.
    PARTS=$LOGS/$CASE.parts
    mkdir -p "$PARTS"
    python3 - "$CSV" "$PARTS" "$USERS" <<'EOF'
import sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src) as f:
    header = f.readline()
    parts = [open(f"{out}/{i}.csv", "w") for i in range(n)]
    for p in parts:
        p.write(header)
    for i, line in enumerate(f):
        parts[i % n].write(line)
    for p in parts:
        p.close()
EOF
    TOKENS=()
    for i in $(seq 0 $((USERS - 1))); do TOKENS+=("$(signup "u$i@$CASE.test")"); done
    t0=$EPOCHREALTIME
    IMPORTS=()
    for i in $(seq 0 $((USERS - 1))); do
        import_csv "${TOKENS[$i]}" "$PARTS/$i.csv" "$LOGS/$CASE.import-u$i.log" &
        IMPORTS+=($!)
    done
    for pid in "${IMPORTS[@]}"; do wait "$pid" || die "import of several users (see $LOGS/$CASE.import-u*.log)"; done
    t_import=$EPOCHREALTIME
    for i in $(seq 0 $((USERS - 1))); do
        wait_total "${TOKENS[$i]}" "$(($(wc -l <"$PARTS/$i.csv") - 1))" 900
    done
    ingest_row "ingest, $USERS users at once" "imports" "$t0" "$t_import"

    B=$(signup "b@$CASE.test")
    t0=$EPOCHREALTIME
    # No warm-up here: every 2xx of the measured run must show up in the reports.
    wrk_line "POST /v1/expenses" 64 post "$BASE/v1/expenses" "$B" nowarm
    accepted=$(total "$B")
    posted=$(grep -o 'requests=[0-9]*' "$WRK_OUT" | cut -d= -f2)
    wait_total "$B" "$((posted - W_non2xx))" 300
    drain=$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v d="$DURATION" 'BEGIN{printf "%.2f", b - a - d}')
    log "$CASE post: $posted in the measured run ($accepted counted at its end), all counted ${drain} s after it"
    row "$CASE" "POST: every accepted entry counted after the run ends" "64" "-" "-" "${drain} s" "-"

    C=$(signup "c@$CASE.test")
    BENCH_TOKEN=$B BENCH_MODE=post wrk -t1 -c8 -d600s --timeout 10s -s "$BENCH_DIR/wrk.lua" "$BASE/v1/expenses" \
        >"$LOGS/$CASE.background.wrk" 2>&1 &
    BG=$!
    PIDS+=("$BG")
    line=$(python3 "$BENCH_DIR/freshness.py" "$BASE" "$C" --probes "$PROBES" --date "$(date -u +%F)") || die "freshness"
    kill "$BG" 2>/dev/null || true
    log "$CASE freshness: ${line#BENCH }"
    eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=/F_\1=/g' <<<"$line")"
    row "$CASE" "freshness: POST -> counted in the monthly report, under a POST load of 8 conns" "1" "-" \
        "$F_p50_ms ms" "$F_p99_ms ms" "missing $F_missing"

    # Reads right after a write (no cache can answer): what a user waits for after
    # adding an expense.
    line=$(python3 "$BENCH_DIR/cold_read.py" "$BASE" "$A" --probes "$PROBES" --date "$(date -u +%F)") || die "cold read"
    log "$CASE cold read: ${line#BENCH }"
    eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=/C_\1=/g' <<<"$line")"
    row "$CASE" "POST /v1/expenses alone, $ENTRIES entries (answered once processed)" "1" "-" "$C_post_p50_ms ms" "$C_post_p99_ms ms" "0"
    row "$CASE" "GET list (limit 50) right after that POST" "1" "-" "$C_list_p50_ms ms" "$C_list_p99_ms ms" "0"
    row "$CASE" "GET monthly report right after that POST" "1" "-" "$C_report_p50_ms ms" "$C_report_p99_ms ms" "0"

    wrk_line "GET monthly report, $ENTRIES entries" 64 get "$BASE/v1/reports?period=month&date=2025-06-15" "$A"
    wrk_line "GET list (limit 50), $ENTRIES entries" 64 get "$BASE/v1/expenses?limit=50" "$A"

    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
done

# The results file itself does not count as a change (the redirection below
# truncates it before this would be asked inside).
COMMIT="\`$(git -C "$ROOT" rev-parse --short HEAD)\`$(git -C "$ROOT" diff --quiet -- . ':!bench/SCALE_OUT_RESULTS.md' || echo ' plus uncommitted changes')"
{
    echo "# spendstream scale-out benchmark"
    echo
    echo "Run $RUN_ID (UTC), commit $COMMIT,"
    echo "on $(nproc) cores: \`spendstream api\` and N \`spendstream process\` on tansu $(tansu --version 2>/dev/null | head -1 | awk '{print $NF}'),"
    echo "ClickHouse $(curl -s "$CLICKHOUSE/?query=SELECT%20version()") and Redis, all on this machine, $PARTITIONS partitions."
    echo "Written by \`bash bench/scale_out.sh\`; raw logs in \`$LOGS\`."
    echo
    echo "| case | run | conns | rate | p50 / first | p99 / last | non-2xx |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    cat "$ROWS"
} >"$OUT"
log "wrote $OUT"
