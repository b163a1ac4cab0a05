#!/usr/bin/env bash
# spendstream benchmarks: see bench/README.md.
#
#   bash bench/run.sh
#
# Knobs (environment): BENCH_DURATION (seconds per measured wrk run, 20),
# BENCH_WORK (scratch dir, /var/tmp/spendstream-bench), BENCH_A_ENTRIES
# (100000), BENCH_B_ENTRIES (1000000), BENCH_B_TAIL (90000, entries left
# unsnapshotted before the SIGKILL), BENCH_YEARS (3), BENCH_SKIP_BUILD=1,
# BENCH_SCENARIOS ("A B C"), BENCH_C_LOAD_RATE (2000 POST/s of background
# load during the alert probes), BENCH_C_PROBES (600).
#
# Every server it starts listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/spendstream-target}
BIN=$CARGO_TARGET_DIR/release/spendstream
WORK=${BENCH_WORK:-/var/tmp/spendstream-bench}
DURATION=${BENCH_DURATION:-20}
WARMUP=3
THREADS=2
A_ENTRIES=${BENCH_A_ENTRIES:-100000}
B_ENTRIES=${BENCH_B_ENTRIES:-1000000}
B_TAIL=${BENCH_B_TAIL:-90000}
YEARS=${BENCH_YEARS:-3}
SCENARIOS=${BENCH_SCENARIOS:-A B C}
PASSWORD="correct horse battery"
TZ_NAME="Asia/Kolkata"
# The generated entries end on 2026-11-01; reports are asked for mid-2025.
REPORT_DATE=2025-06-15

RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/runs/$RUN_ID
mkdir -p "$LOGS"
RES=$LOGS/results.tsv   # kind<TAB>key<TAB>fields...
CMDS=$LOGS/commands.txt
: >"$RES"
: >"$CMDS"
RUN_START=$EPOCHREALTIME
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$LOGS/run.log" >&2; }
die() { log "FAILED: $*"; exit 1; }
# Records a command as run (with secrets as $TOKEN) for RESULTS.md.
cmd() { printf '%s\n' "$*" >>"$CMDS"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- cleanup
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    [[ $rc -ne 0 ]] && log "exit status $rc; logs in $LOGS"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- prerequisites
need_wrk() {
    command -v wrk >/dev/null && return
    log "installing wrk"
    apt-get install -y wrk >>"$LOGS/apt.log" 2>&1 || { apt-get update >>"$LOGS/apt.log" 2>&1 && apt-get install -y wrk >>"$LOGS/apt.log" 2>&1; }
    command -v wrk >/dev/null || die "wrk could not be installed (see $LOGS/apt.log)"
}
need_wrk
if ! command -v hey >/dev/null; then
    log "installing hey (fixed-rate POST runs)"
    apt-get install -y hey >>"$LOGS/apt.log" 2>&1 || { apt-get update >>"$LOGS/apt.log" 2>&1 && apt-get install -y hey >>"$LOGS/apt.log" 2>&1; }
    command -v hey >/dev/null || die "hey could not be installed (see $LOGS/apt.log)"
fi
for tool in curl python3 awk; do command -v "$tool" >/dev/null || die "$tool is required"; done

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building release into $CARGO_TARGET_DIR (log: $LOGS/build.log)"
    cmd "export CARGO_TARGET_DIR=$CARGO_TARGET_DIR; cargo build --release"
    (cd "$ROOT" && cargo build --release) >"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log" >&2; die "cargo build --release"; }
fi
[[ -x $BIN ]] || die "no binary at $BIN"
[[ ${BENCH_SKIP_BUILD:-0} != 1 ]] || cmd "# build skipped (BENCH_SKIP_BUILD=1): $BIN as built $(date -u -r "$BIN" +%FT%TZ)"
printf 'metric\tbinary_built\t%s\n' "$(date -u -r "$BIN" +%FT%TZ)" >>"$RES"

# ---------------------------------------------------------------- helpers
# gen_csv N SEED -> path of a cached CSV (regenerated when the generator changes)
gen_csv() {
    local n=$1 seed=$2 f=$WORK/entries-$1-${YEARS}y-seed$2.csv
    if [[ ! -s $f || $BENCH_DIR/gen_entries.py -nt $f ]]; then
        log "generating $n entries (seed $seed) -> $f"
        python3 "$BENCH_DIR/gen_entries.py" "$n" "$YEARS" --seed "$seed" >"$f.tmp"
        mv "$f.tmp" "$f"
    fi
    cmd "python3 bench/gen_entries.py $n $YEARS --seed $seed > $f"
    printf '%s' "$f"
}

server_env() {
    env SPENDSTREAM__STORAGE__DATA_DIR="$1" SPENDSTREAM__SERVER__LISTEN=127.0.0.1:0 \
        SPENDSTREAM__AUTH__ACCESS_TOKEN_TTL_SECS=86400 "${@:2}"
}

# Extra environment for the next start_server (e.g. the report cache turned off).
EXTRA_ENV=()

# start_server DATA_DIR TAG: sets SERVER_PID, ADDR, BASE, START_SECS (launch -> "listening" line)
start_server() {
    local data=$1 tag=$2 out=$LOGS/$2.stdout err=$LOGS/$2.stderr
    cmd "${EXTRA_ENV[*]} SPENDSTREAM__STORAGE__DATA_DIR=$data SPENDSTREAM__SERVER__LISTEN=127.0.0.1:0 SPENDSTREAM__AUTH__ACCESS_TOKEN_TTL_SECS=86400 $BIN serve"
    START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
    local t0=$EPOCHREALTIME
    # env execs the binary, so $! is the server's own pid (signals reach it directly).
    env SPENDSTREAM__STORAGE__DATA_DIR="$data" SPENDSTREAM__SERVER__LISTEN=127.0.0.1:0 \
        SPENDSTREAM__AUTH__ACCESS_TOKEN_TTL_SECS=86400 "${EXTRA_ENV[@]}" "$BIN" serve >"$out" 2>"$err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 600))
    until grep -q 'spendstream listening on' "$out" 2>/dev/null; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then tail -20 "$err" >&2; die "server ($tag) exited before listening"; fi
        ((SECONDS < deadline)) || die "server ($tag) not listening after 600 s"
        sleep 0.01
    done
    START_SECS=$(elapsed "$t0" "$EPOCHREALTIME")
    [[ $(readlink "/proc/$SERVER_PID/exe") == "$(readlink -f "$BIN")"* ]] || die "pid $SERVER_PID is not the server"
    ADDR=$(sed -n 's|.*listening on http://||p' "$out" | head -1)
    BASE=http://$ADDR
    log "server $tag (pid $SERVER_PID) listening on $ADDR after ${START_SECS} s"
}

# stop_server SIGNAL: sets STOP_SECS (signal -> process gone)
stop_server() {
    local sig=$1 pid=$SERVER_PID t0=$EPOCHREALTIME
    cmd "kill -$sig \$SERVER_PID"
    kill "-$sig" "$pid"
    wait "$pid" 2>/dev/null || true
    STOP_SECS=$(elapsed "$t0" "$EPOCHREALTIME")
    forget_pid "$pid"
    log "server pid $pid stopped by SIG$sig in ${STOP_SECS} s"
}

mem_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

signup() {
    local email=$1 body
    cmd "curl -sS -X POST $BASE/v1/auth/signup -H 'Content-Type: application/json' -d '{\"email\":\"$email\",\"password\":\"$PASSWORD\",\"time_zone\":\"$TZ_NAME\"}'"
    body=$(curl -sS --fail-with-body -X POST "$BASE/v1/auth/signup" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$PASSWORD\",\"time_zone\":\"$TZ_NAME\"}") || die "signup: $body"
    TOKEN=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' <<<"$body")
}

# import_csv DATA_DIR EMAIL FILE TAG: sets IMPORT_SECS
import_csv() {
    local data=$1 email=$2 file=$3 tag=$4 t0=$EPOCHREALTIME
    cmd "SPENDSTREAM__STORAGE__DATA_DIR=$data $BIN import --email $email $file"
    server_env "$data" "$BIN" import --email "$email" "$file" >"$LOGS/$tag.import.log" 2>&1 \
        || { tail -20 "$LOGS/$tag.import.log" >&2; die "import $tag"; }
    IMPORT_SECS=$(elapsed "$t0" "$EPOCHREALTIME")
    log "$(tail -1 "$LOGS/$tag.import.log") in ${IMPORT_SECS} s"
}

# total_count: sum of `count` of the yearly reports over every year the data covers.
# wait_count EXPECTED TIMEOUT: polls until the total reaches EXPECTED; prints it.
count_py='
import json, sys, time, urllib.request
base, token, expected, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
years = range(2023, 2027)
def total():
    n = 0
    for y in years:
        req = urllib.request.Request(f"{base}/v1/reports?period=year&date={y}-06-15",
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=30) as r:
            n += json.load(r)["count"]
    return n
t0 = time.monotonic(); last = -1; last_print = 0
while True:
    n = total()
    now = time.monotonic()
    if n >= expected or now - t0 > timeout:
        print(n); sys.exit(0 if n >= expected else 1)
    if now - last_print >= 10:
        print(f"  ... {n} of {expected} entries in reports", file=sys.stderr); last_print = now
    time.sleep(0.1)
'
wait_count() {
    ((${2%.*} == 0)) || cmd "# poll (python3 urllib) GET $BASE/v1/reports?period=year&date={2023..2026}-06-15 until the counts add up to $1"
    python3 -c "$count_py" "$BASE" "$TOKEN" "$1" "$2"
}

# thread_cpu PID: "name ticks" per thread name (for where the CPU goes)
thread_cpu() {
    local t
    for t in /proc/"$1"/task/*; do
        # comm may hold spaces; fields 14 and 15 come after the ") ".
        awk -v c="$(cat "$t/comm" 2>/dev/null)" '{ sub(/.*\) /, ""); print c "\t" ($12 + $13) }' "$t/stat" 2>/dev/null || true  # threads come and go
    done | awk -F'\t' '{ s[$1] += $2 } END { for (k in s) print k "\t" s[k] }'
}

# record_run LABEL CONNS BENCH_LINE: the server's CPU per thread name, in cores
# (CPU seconds per wall second, from $LABEL.cpu0/.cpu1 taken around the run),
# into $LABEL.cpu; the run into RES; prints the CPU summary.
record_run() {
    local label=$1 conns=$2 line=$3 secs
    secs=$(sed -n 's/.*duration_us=\([0-9]*\).*/\1/p' <<<"$line")
    join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 "$LOGS/$label.cpu0" "$LOGS/$label.cpu1" \
        | awk -F'\t' -v tck="$CLK_TCK" -v us="$secs" '{ c = ($3 - $2) / tck / (us / 1e6); if (c >= 0.005) printf "%s=%.2f\n", $1, c; t += c }
            END { printf "TOTAL=%.2f\n", t }' | sort -t= -k2 -rn >"$LOGS/$label.cpu"
    local cpu; cpu=$(paste -sd' ' "$LOGS/$label.cpu")
    printf 'wrk\t%s\t%s\t%s\t%s\n' "$label" "$conns" "$line" "$cpu" >>"$RES"
    printf '%s\n' "$cpu"
}

# wrk_run LABEL CONNS MODE URL: warm-up, measured run, parse the BENCH line into RES.
wrk_run() {
    local label=$1 conns=$2 mode=$3 url=$4 out=$LOGS/$1.wrk
    local THREADS=$THREADS
    ((conns >= THREADS)) || THREADS=$conns   # wrk needs connections >= threads
    wait_quiet "$label"
    BENCH_TOKEN=$TOKEN BENCH_MODE=$mode wrk -t"$THREADS" -c"$conns" -d"${WARMUP}s" --timeout 10s \
        -s "$BENCH_DIR/wrk.lua" "$url" >"$LOGS/$label.warmup.wrk" 2>&1 || die "wrk warm-up $label"
    cmd "BENCH_TOKEN=\$TOKEN BENCH_MODE=$mode wrk -t$THREADS -c$conns -d${DURATION}s --timeout 10s --latency -s bench/wrk.lua '$url'"
    # Other work on the machine skews the figures: keep the load and the busiest processes.
    printf 'load\t%s\t%s\n' "$label" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
    # (top is sampled halfway through the measured run)
    { sleep $((DURATION / 2)); top -b -n1 -w 200 2>/dev/null | head -20 >"$LOGS/$label.top"; } &
    local top_pid=$!
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu0"
    BENCH_TOKEN=$TOKEN BENCH_MODE=$mode wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH_DIR/wrk.lua" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk $label"; }
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu1"
    wait "$top_pid" 2>/dev/null || true
    grep -v '^BENCH ' "$out" | sed 's/^/    /' >&2
    local line; line=$(grep '^BENCH ' "$out") || die "wrk $label printed no BENCH line"
    local cpu; cpu=$(record_run "$label" "$conns" "$line")
    log "$label: $(sed 's/^BENCH //' <<<"$line")"
    log "$label: server CPU cores by thread: $cpu"
    local non2xx errs
    non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")
    errs=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(connect|read|write|timeout)=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' <<<"$line")
    if ((non2xx > 0 || errs > 0)); then
        log "$label: $non2xx non-2xx responses and $errs socket errors; 5 s diagnostic run counting statuses"
        BENCH_TOKEN=$TOKEN BENCH_MODE=$mode BENCH_STATUS=1 wrk -t"$THREADS" -c"$conns" -d5s --timeout 10s \
            -s "$BENCH_DIR/wrk.lua" "$url" >"$LOGS/$label.status.wrk" 2>&1 || true
        local st; st=$(sed -n 's/.*statuses=\([^ ]*\).*/\1/p' "$LOGS/$label.status.wrk")
        printf 'note\t%s\tstatus codes in a 5 s diagnostic run: %s\n' "$label" "$st" >>"$RES"
        log "$label: statuses: $st"
    fi
}

# log_problems TAG...: notes WARN/ERROR lines the server wrote to stderr
log_problems() {
    local tag w
    for tag in "$@"; do
        w=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/$tag.stderr" | grep -cE '^\S+ +(WARN|ERROR) ' || true)
        ((w == 0)) || note "$tag.server_log" "$w WARN/ERROR lines in $tag.stderr, e.g. $(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/$tag.stderr" | grep -E '^\S+ +(WARN|ERROR) ' | head -1 | cut -c1-200)"
    done
}

# pyclient_run LABEL CONNS MODE URL: the same measurement with bench/closed_loop.py,
# which keeps every latency (wrk's POST histograms fail Little's law when the
# server stalls; see README).
pyclient_run() {
    local label=$1 conns=$2 mode=$3 url=$4 out=$LOGS/$1.wrk
    cmd "python3 bench/closed_loop.py '$url' \$TOKEN --mode $mode --conns $conns --secs $DURATION"
    wait_quiet "$label"
    printf 'load\t%s\t%s\n' "$label" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu0"
    python3 "$BENCH_DIR/closed_loop.py" "$url" "$TOKEN" --mode "$mode" --conns "$conns" --secs "$DURATION" >"$out" 2>&1 \
        || { cat "$out" >&2; die "closed_loop $label"; }
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu1"
    local line; line=$(grep '^BENCH ' "$out") || die "closed_loop $label printed no BENCH line"
    record_run "$label" "$conns" "$line" >/dev/null
    log "$label: $(sed 's/^BENCH //' <<<"$line")"
    local pending; pending=$(sed -n 's/.* pending=\([0-9]*\).*/\1/p' <<<"$line")
    [[ $mode != post ]] || note "$label" "${pending:-?} of the 201 answers were \"status\":\"pending\" (the processors had not applied the entry within api.read_your_writes_ms)"
}

# hey_run LABEL CONNS RATE URL: POST entries at a fixed total RATE per second
# (hey -q is per connection), the way "sustained at 5,000/s" is meant; every
# request's latency comes from hey's CSV output.
hey_run() {
    local label=$1 conns=$2 rate=$3 url=$4 out=$LOGS/$1.hey
    local per=$(((rate + conns - 1) / conns))
    local body='{"amount":"12.50","merchant":"Bench Cafe","occurred_at":"2026-10-15"}'
    cmd "hey -z ${DURATION}s -c $conns -q $per -m POST -T application/json -H 'Authorization: Bearer \$TOKEN' -d '$body' -o csv '$url/v1/expenses'"
    wait_quiet "$label"
    printf 'load\t%s\t%s\n' "$label" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu0"
    local t0=$EPOCHREALTIME
    hey -z "${DURATION}s" -c "$conns" -q "$per" -m POST -T application/json -H "Authorization: Bearer $TOKEN" \
        -d "$body" -o csv "$url/v1/expenses" >"$out" 2>&1 || { tail -5 "$out" >&2; die "hey $label"; }
    local wall_us; wall_us=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1e6 }')
    thread_cpu "$SERVER_PID" | sort >"$LOGS/$label.cpu1"
    local line; line=$(python3 - "$out" "$wall_us" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] != "response-time"]
lat = sorted(float(r[0]) * 1e6 for r in rows)
# hey's offsets say when each request started; the run lasts until the last answer.
span = max(float(r[7]) + float(r[0]) for r in rows) * 1e6
non2xx = sum(1 for r in rows if not r[6].startswith("2"))
pct = lambda p: int(lat[min(len(lat) - 1, int(len(lat) * p / 100))])
print(f"BENCH requests={len(lat)} duration_us={int(span)} rps={len(lat) / span * 1e6:.1f} p50_us={pct(50)} "
      f"p90_us={pct(90)} p99_us={pct(99)} max_us={int(lat[-1])} non2xx={non2xx} connect=0 read=0 write=0 timeout=0")
PY
) || die "hey $label: no results"
    record_run "$label" "$conns" "$line" >/dev/null
    # summary.py prints each run's raw output; keep hey's CSV out of RESULTS.md.
    printf '%s\n(per-request CSV: %s)\n' "$line" "$out" >"$LOGS/$label.wrk"
    log "$label: $(sed 's/^BENCH //' <<<"$line") (wall ${wall_us} us)"
}

# cpu_busy: percent of all CPUs busy over the next second (all processes)
cpu_busy() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; p = 0; if (d > 0) p = 100 * (y[1] - x[1]) / d; printf "%.0f", p }'
}

# wait_quiet LABEL: before a measurement, wait (up to 120 s) until the machine
# is nearly idle, since other work (builds, tests) takes CPU from the server.
wait_quiet() {
    local busy deadline=$((SECONDS + 120))
    busy=$(cpu_busy)
    while ((busy > 15 && SECONDS < deadline)); do
        log "$1: machine is ${busy}% busy before the run; waiting for it to settle"
        sleep 4
        busy=$(cpu_busy)
    done
    ((busy <= 15)) || note "$1" "started with the machine ${busy}% busy after waiting 120 s"
}

# snapshot_note TAG: what the server logged about loading its snapshot at start
snapshot_note() {
    local f=$LOGS/$1.stderr snap ready
    snap=$(sed 's/\x1b\[[0-9;]*m//g' "$f" | sed -n 's/.*loaded snapshot next_offset=\([0-9]*\) elapsed_ms=\([0-9]*\).*/offset \1 in \2 ms/p' | head -1)
    ready=$(sed 's/\x1b\[[0-9;]*m//g' "$f" | sed -n 's/.*ready_ms=\([0-9]*\).*/\1/p' | head -1)
    note "$1.start" "server log: snapshot loaded (${snap:-none}), ready_ms=${ready:-?}; load average at start ${START_LOAD}"
}

note() { printf 'note\t%s\t%s\n' "$1" "$2" >>"$RES"; log "$1: $2"; }
metric() { printf 'metric\t%s\t%s\n' "$1" "$2" >>"$RES"; log "$1 = $2"; }

# ---------------------------------------------------------------- scenario A
scenario_a() {
    log "=== scenario A: one user, $A_ENTRIES entries over $YEARS years"
    metric A.entries "$A_ENTRIES"
    local data=$WORK/data-A csv
    csv=$(gen_csv "$A_ENTRIES" 20261101)
    rm -rf "$data"
    start_server "$data" A
    signup "bench-a@example.com"
    local t0=$EPOCHREALTIME
    import_csv "$data" bench-a@example.com "$csv" A
    metric A.import_secs "$IMPORT_SECS"
    local n; n=$(wait_count "$A_ENTRIES" 600) || die "A: reports count $n of $A_ENTRIES"
    metric A.loaded_secs "$(elapsed "$t0" "$EPOCHREALTIME")"
    note A.loaded "reports count $n entries (import started -> counted)"

    wrk_run A.report_month_c64 64 get "$BASE/v1/reports?period=month&date=$REPORT_DATE"
    wrk_run A.report_month_c1 1 get "$BASE/v1/reports?period=month&date=$REPORT_DATE"
    wrk_run A.list_c64 64 get "$BASE/v1/expenses?limit=50"
    wrk_run A.list_c1 1 get "$BASE/v1/expenses?limit=50"
    # The same report with the report cache off: every request aggregates.
    stop_server TERM
    EXTRA_ENV=(SPENDSTREAM__API__REPORT_CACHE_USERS=0)
    start_server "$data" A-nocache
    EXTRA_ENV=()
    wrk_run A.report_month_nocache_c64 64 get "$BASE/v1/reports?period=month&date=$REPORT_DATE"
    local before; before=$(wait_count 0 0)
    wrk_run A.post_c64 64 post "$BASE"
    wrk_run A.post_c16 16 post "$BASE"
    pyclient_run A.post_c16_pyclient 16 post "$BASE"
    hey_run A.post_rate5000_c64 64 5000 "$BASE"
    local after; after=$(wait_count 0 0)
    note A.posts "entries counted in reports went from $before to $after during the POST runs (+$((after - before)), warm-ups and the closed_loop.py run included)"
    metric A.vmhwm_kib "$(mem_kib "$SERVER_PID" VmHWM)"
    stop_server TERM
    metric A.sigterm_stop_secs "$STOP_SECS"
    log_problems A
}

# ---------------------------------------------------------------- scenario B
scenario_b() {
    log "=== scenario B: one user, $B_ENTRIES entries over $YEARS years"
    metric B.entries "$B_ENTRIES"
    metric B.tail "$B_TAIL"
    local data=$WORK/data-B csv tail_csv
    csv=$(gen_csv "$B_ENTRIES" 20261101)
    tail_csv=$(gen_csv "$B_TAIL" 424242)
    rm -rf "$data"
    start_server "$data" B1
    signup "bench-b@example.com"
    local t0=$EPOCHREALTIME
    import_csv "$data" bench-b@example.com "$csv" B
    metric B.import_secs "$IMPORT_SECS"
    local n; n=$(wait_count "$B_ENTRIES" 900) || die "B: reports count $n of $B_ENTRIES"
    metric B.loaded_secs "$(elapsed "$t0" "$EPOCHREALTIME")"
    metric B.vmhwm_kib_after_load "$(mem_kib "$SERVER_PID" VmHWM)"
    metric B.vmrss_kib_after_load "$(mem_kib "$SERVER_PID" VmRSS)"

    wrk_run B.report_year_c64 64 get "$BASE/v1/reports?period=year&date=$REPORT_DATE"
    wrk_run B.report_year_c1 1 get "$BASE/v1/reports?period=year&date=$REPORT_DATE"
    metric B.vmhwm_kib_after_wrk "$(mem_kib "$SERVER_PID" VmHWM)"

    # Clean restart: SIGTERM writes a snapshot, the new process loads it.
    stop_server TERM
    metric B.sigterm_stop_secs "$STOP_SECS"
    wait_quiet B2.start
    EXTRA_ENV=(SPENDSTREAM__API__REPORT_CACHE_USERS=0)
    start_server "$data" B2
    EXTRA_ENV=()
    metric B.sigterm_restart_ready_secs "$START_SECS"
    snapshot_note B2
    n=$(wait_count 0 0)
    note B.after_sigterm "reports count $n entries right after the restart (expected $B_ENTRIES)"
    ((n == B_ENTRIES)) || note B.after_sigterm "MISMATCH: $n != $B_ENTRIES"
    metric B.vmhwm_kib_after_restart "$(mem_kib "$SERVER_PID" VmHWM)"
    # B2 runs with the report cache off: the yearly report from monthly cells every time.
    wrk_run B.report_year_nocache_c64 64 get "$BASE/v1/reports?period=year&date=$REPORT_DATE"

    # Crash: add a tail that no snapshot holds yet, then SIGKILL while it is
    # unsnapshotted (below processors.snapshot_every_events and within
    # processors.snapshot_interval_secs of the last change).
    import_csv "$data" bench-b@example.com "$tail_csv" B-tail
    n=$(wait_count $((B_ENTRIES + B_TAIL)) 600) || die "B: tail count $n"
    stop_server KILL
    wait_quiet B3.start
    start_server "$data" B3
    metric B.sigkill_restart_ready_secs "$START_SECS"
    snapshot_note B3
    n=$(wait_count 0 0)
    note B.after_sigkill "reports count $n entries right after the crash restart (expected $((B_ENTRIES + B_TAIL)); tail of $B_TAIL replayed)"
    ((n == B_ENTRIES + B_TAIL)) || note B.after_sigkill "MISMATCH: $n != $((B_ENTRIES + B_TAIL))"
    sed 's/\x1b\[[0-9;]*m//g' "$LOGS/B3.stderr" | grep -E 'snapshot|replaying|ready' | head -5 >"$LOGS/B3.ready.txt" || true
    local snap head
    snap=$(sed -n 's/.*loaded snapshot next_offset=\([0-9]*\).*/\1/p' "$LOGS/B3.ready.txt" | head -1)
    head=$(sed -n 's/.*replaying the log tail events=\([0-9]*\).*/\1/p' "$LOGS/B3.ready.txt" | head -1)
    [[ -n $snap && -n $head ]] && note B.crash_replay "server log: snapshot at offset $snap, log head $head, so $((head - snap)) events replayed before listening"
    metric B.vmhwm_kib_after_crash_restart "$(mem_kib "$SERVER_PID" VmHWM)"
    stop_server TERM
    log_problems B1 B2 B3
}

# ---------------------------------------------------------------- scenario C
# Alert freshness: probes whose entries each raise an alert, timed from the
# POST being sent to the alert showing at GET /v1/alerts, while hey keeps a
# steady POST load on another user.
scenario_c() {
    local rate=${BENCH_C_LOAD_RATE:-2000} probes=${BENCH_C_PROBES:-600} secs
    log "=== scenario C: alert freshness, $probes probes under $rate POST/s"
    local data=$WORK/data-C tokens=() i
    rm -rf "$data"
    start_server "$data" C
    for i in 1 2 3 4; do
        signup "bench-c-probe$i@example.com"
        tokens+=("$TOKEN")
    done
    signup "bench-c-load@example.com"
    secs=$((probes / 25 + 10))
    local body='{"amount":"12.50","merchant":"Bench Cafe"}' out=$LOGS/C.load.hey
    wait_quiet C.alerts
    cmd "hey -z ${secs}s -c 32 -q $(((rate + 31) / 32)) -m POST -T application/json -H 'Authorization: Bearer \$TOKEN' -d '$body' -o csv '$BASE/v1/expenses' &"
    hey -z "${secs}s" -c 32 -q $(((rate + 31) / 32)) -m POST -T application/json -H "Authorization: Bearer $TOKEN" \
        -d "$body" -o csv "$BASE/v1/expenses" >"$out" 2>&1 &
    local hey_pid=$!
    cmd "python3 bench/alert_freshness.py '$BASE' \$TOKEN1 \$TOKEN2 \$TOKEN3 \$TOKEN4 --probes $probes --rate 25"
    python3 "$BENCH_DIR/alert_freshness.py" "$BASE" "${tokens[@]}" --probes "$probes" --rate 25 >"$LOGS/C.alerts" 2>&1 \
        || { cat "$LOGS/C.alerts" >&2; die "alert probes"; }
    wait "$hey_pid" || die "hey background load"
    local line; line=$(grep '^ALERTS ' "$LOGS/C.alerts") || die "no ALERTS line"
    log "C: $line"
    metric C.alert_probes "$(sed -n 's/.*probes=\([0-9]*\).*/\1/p' <<<"$line")"
    metric C.alert_p50_ms "$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
    metric C.alert_p99_ms "$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
    metric C.alert_max_ms "$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$line")"
    metric C.background_posts_per_sec "$(python3 -c '
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] != "response-time"]
span = max(float(r[7]) + float(r[0]) for r in rows)
ok = sum(1 for r in rows if r[6].startswith("2"))
print(f"{ok / span:.0f}")' "$out")"
    stop_server TERM
    log_problems C
}

for s in $SCENARIOS; do
    case $s in
        A) scenario_a ;;
        B) scenario_b ;;
        C) scenario_c ;;
        *) die "unknown scenario $s" ;;
    esac
done
metric total_run_secs "$(elapsed "$RUN_START" "$EPOCHREALTIME")"

# ---------------------------------------------------------------- summary
python3 "$BENCH_DIR/summary.py" "$LOGS" "$ROOT" >"$LOGS/RESULTS.md"
cp "$LOGS/RESULTS.md" "$BENCH_DIR/RESULTS.md"
echo
sed -n '/^## Summary/,/^## Machine/p' "$LOGS/RESULTS.md" | sed '$d'
log "written $BENCH_DIR/RESULTS.md (raw logs: $LOGS)"
