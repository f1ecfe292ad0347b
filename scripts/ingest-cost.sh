#!/usr/bin/env bash
# What one webhook delivery costs the example server under wrk: deliveries/s, p50, p99, peak
# RSS, CPU time per delivery for each kind of thread (from /proc/<pid>/task/*/stat) and bytes
# written per delivery by each (from /proc/<pid>/task/*/io: the request threads' are the WAL,
# since they commit the SQLite groups; the checkpoint thread's are the pages it copies into the
# database file) and context switches per delivery by each (from /proc/<pid>/task/*/status:
# counts, so they hold on a slow day, when the VM's CPU time drifts too much to compare builds
# by it).
#
#   cargo build --release --example server --example loadgen
#   scripts/ingest-cost.sh [SERVER_BINARY] [LABEL]
#
# Env: DATABASE_URL (default: a new SQLite file under /tmp), DURATION (default 15s),
# PORT (default 8000), RUST_LOG (default warn; the server's own default is info), WRK_THREADS
# (default 2). Needs wrk
# (Debian package `wrk`). Compare builds by alternating runs in the same hour: the VM's speed
# drifts.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${1:-target/release/examples/server}
label=${2:-$(basename "$server")}
port=${PORT:-8000}
work=$(mktemp -d)
db=${DATABASE_URL:-sqlite://$work/ingest.db}
script=$work/kova.lua
target/release/examples/loadgen --secret s3cret --wrk-script "$script" > /dev/null

GITHUB_WEBHOOK_SECRET=s3cret KOVA_WORKERS=0 KOVA_BIND=127.0.0.1:$port DATABASE_URL=$db \
    RUST_LOG=${RUST_LOG:-warn} "$server" > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null; wait $pid 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
    grep -q listening "$work/server.log" && break
    sleep 0.1
done

# One line per thread kind: name, CPU ticks (user + system), bytes written, context switches.
sample() {
    for t in /proc/$pid/task/*; do
        echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat") $(awk '/^wchar/ {print $2}' "$t/io")" \
            "$(awk '/ctxt_switches/ {n += $2} END {print n}' "$t/status")"
    done | awk '{cpu[$1] += $2; io[$1] += $3; cs[$1] += $4}
        END {for (k in cpu) print k, cpu[k], io[k], cs[k]}'
}
before=$(sample)
out=$(wrk -t"${WRK_THREADS:-2}" -c64 -d"${DURATION:-15s}" --latency -s "$script" "http://127.0.0.1:$port/webhooks/github")
after=$(sample)
hwm=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")

n=$(echo "$out" | awk '/requests in/ {print $1}')
hz=$(getconf CLK_TCK)
echo "$label: $(echo "$out" | awk '/Requests\/sec/ {print $2}')/s, p50 $(echo "$out" | awk '$1 == "50%" {print $2}'), p99 $(echo "$out" | awk '$1 == "99%" {print $2}'), non-2xx $(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0), peak RSS ${hwm} MB"
join <(echo "$before" | sort) <(echo "$after" | sort) | awk -v n="$n" -v hz="$hz" '
    {printf "  %-16s %6.1f us CPU, %6.1f KB written, %5.2f context switches per delivery\n",
        $1, ($5 - $2) / hz * 1e6 / n, ($6 - $3) / 1024 / n, ($7 - $4) / n}'
