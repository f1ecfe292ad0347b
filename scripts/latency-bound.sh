#!/usr/bin/env bash
# What p99 a server of a given CPU cost gets from wrk (64 connections, closed loop) on this
# machine: the floor receiver (HMAC only) burning N more microseconds of CPU per request, for
# each N. Such a server does no I/O, waits for nothing and batches nothing, so its latency is
# only the sharing of two cores between its threads and wrk's. Read a real server's p99 against
# this curve at the same throughput: at or under it, the server adds no tail of its own.
#
#   cargo build --release --example floor_receiver --example loadgen
#   scripts/latency-bound.sh [MICROSECONDS...]      # default: 0 10 20 30 40 50
#
# Env: DURATION (default 10s), PORT (default 8001), WRK_THREADS (default 2: wrk's threads share
# the two cores with the server's, and how many there are moves the p99). Needs wrk (Debian
# package `wrk`). The VM's speed drifts: measure the server of interest in the same hour.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PORT:-8001}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2> /dev/null; rm -rf "$work"' EXIT
target/release/examples/loadgen --secret s3cret --wrk-script "$work/kova.lua" > /dev/null

for us in ${@:-0 10 20 30 40 50}; do
    FLOOR_BUSY_US=$us GITHUB_WEBHOOK_SECRET=s3cret KOVA_BIND=127.0.0.1:$port \
        target/release/examples/floor_receiver > "$work/floor.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        grep -q "on http" "$work/floor.log" && break
        sleep 0.1
    done
    out=$(wrk -t"${WRK_THREADS:-2}" -c64 -d"${DURATION:-10s}" --latency -s "$work/kova.lua" \
        "http://127.0.0.1:$port/webhooks/github")
    kill $pid
    wait $pid 2> /dev/null || true
    pid=
    pct() { echo "$out" | awk -v p="$1" '$1 == p {print $2}'; }
    printf '+%3s us CPU per request: %9s/s  p50 %7s  p90 %7s  p99 %7s\n' "$us" \
        "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" "$(pct 50%)" "$(pct 90%)" "$(pct 99%)"
done
