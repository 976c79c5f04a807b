#!/usr/bin/env bash
# Load benchmarks of BENCHMARKS.md, in one go, on loopback only, bounded in time (about three
# minutes after the build):
#   (a) /auth/{provider} redirect throughput against the floor (/floor: one session value and a
#       redirect), same server, same session middleware, same worker count — wrk;
#   (b) complete sign-ins per second and app CPU time per sign-in at concurrency 8 and 64 —
#       examples/signin_load.rs against the development provider in a process of its own;
#   (c) the app's resident memory with 10 000 handshakes in flight, with cookie sessions and
#       (when Redis answers at REDIS_URL, default redis://127.0.0.1:6379) Redis sessions.
#
# Usage: scripts/load-bench.sh            (APP_PORT, PROVIDER_PORT, WORKERS, ROUNDS, DURATION,
#                                          SIGNINS, CONNECTIONS, REDIS_URL may be set)
set -euo pipefail
cd "$(dirname "$0")/.."

APP_PORT=${APP_PORT:-18090}
PROVIDER_PORT=${PROVIDER_PORT:-18091}
WORKERS=${WORKERS:-1}
ROUNDS=${ROUNDS:-3}          # wrk rounds per route, alternating
DURATION=${DURATION:-5}      # seconds per wrk round
CONNECTIONS=${CONNECTIONS:-64}
SIGNINS=${SIGNINS:-5000}     # sign-ins per concurrency level
HANDSHAKES=10000
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
APP="http://127.0.0.1:$APP_PORT"
TARGET_DIR=${CARGO_TARGET_DIR:-target}

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)"
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

echo "== build (release)"
cargo build --release --example bench_server --example signin_load
SERVER="$TARGET_DIR/release/examples/bench_server"
DRIVER="$TARGET_DIR/release/examples/signin_load"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# Waits (at most 20 s) until $1 answers.
wait_for() {
    for _ in $(seq 200); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

# CPU time (utime + stime, in clock ticks of 10 ms) of process $1.
cpu_ticks() { awk '{ s = substr($0, index($0, ")") + 2); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

start_app() {  # extra environment in "$@"
    env "$@" "$SERVER" --bind "127.0.0.1:$APP_PORT" --workers "$WORKERS" \
        --provider "http://127.0.0.1:$PROVIDER_PORT/" >/tmp/actix-oauth-bench-app.log 2>&1 &
    APP_PID=$!
    PIDS+=("$APP_PID")
    wait_for "$APP/me"
}

stop_app() {
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
}

"$SERVER" --provider-only --bind "127.0.0.1:$PROVIDER_PORT" \
    --callback "$APP/auth/dev/callback" >/tmp/actix-oauth-bench-provider.log 2>&1 &
PROVIDER_PID=$!
PIDS+=("$PROVIDER_PID")
wait_for "http://127.0.0.1:$PROVIDER_PORT/"
start_app

echo
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(rustc --version)"
echo "== (a) redirect throughput: wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds each, server with $WORKERS worker(s)"
for route in floor floor/dev auth/dev; do
    timeout 30 wrk -t1 -c"$CONNECTIONS" -d2s "$APP/$route" >/dev/null   # warm-up
done
declare -A RPS CPU
for round in $(seq "$ROUNDS"); do
    for route in floor floor/dev auth/dev; do
        before=$(cpu_ticks "$APP_PID")
        out=$(timeout $((DURATION + 20)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$APP/$route")
        after=$(cpu_ticks "$APP_PID")
        rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
        cpu=$(awk -v t=$((after - before)) -v n="$requests" 'BEGIN { printf "%.2f", t * 10000 / n }')
        echo "  round $round /$route: $rps req/s, app CPU $cpu µs per request ${errors:+($errors)}"
        RPS[$route]+="$rps "
        CPU[$route]+="$cpu "
    done
done
floor_rps=$(tr ' ' '\n' <<<"${RPS[floor]}" | grep . | median)
auth_rps=$(tr ' ' '\n' <<<"${RPS[auth/dev]}" | grep . | median)
floor_cpu=$(tr ' ' '\n' <<<"${CPU[floor]}" | grep . | median)
auth_cpu=$(tr ' ' '\n' <<<"${CPU[auth/dev]}" | grep . | median)
routed_rps=$(tr ' ' '\n' <<<"${RPS[floor/dev]}" | grep . | median)
routed_cpu=$(tr ' ' '\n' <<<"${CPU[floor/dev]}" | grep . | median)
echo "  median: /floor $floor_rps req/s ($floor_cpu µs CPU), /floor/dev $routed_rps req/s ($routed_cpu µs CPU), /auth/dev $auth_rps req/s ($auth_cpu µs CPU)"
awk -v a="$auth_rps" -v f="$floor_rps" -v ac="$auth_cpu" -v fc="$floor_cpu" 'BEGIN {
    printf "  /auth/dev = %.1f %% of the floor'"'"'s throughput; floor CPU / auth CPU = %.1f %%\n", 100 * a / f, 100 * fc / ac }'
awk -v a="$auth_rps" -v f="$routed_rps" -v ac="$auth_cpu" -v fc="$routed_cpu" 'BEGIN {
    printf "  /auth/dev = %.1f %% of the same-route floor'"'"'s throughput; floor CPU / auth CPU = %.1f %%\n", 100 * a / f, 100 * fc / ac }'

echo
echo "== (b) complete sign-ins (cookie sessions), $SIGNINS per run"
for c in 8 64; do
    timeout 300 "$DRIVER" --target "$APP/" --count "$SIGNINS" --concurrency "$c" --pid "$APP_PID"
done

echo
echo "== (c) memory with $HANDSHAKES handshakes in flight"
echo "  cookie sessions: app VmRSS before $(rss_mib "$APP_PID") MiB"
timeout 300 "$DRIVER" --target "$APP/" --count "$HANDSHAKES" --concurrency 64 --pid "$APP_PID" --handshakes-only
stop_app

if command -v redis-cli >/dev/null && redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
    redis_before=$(redis-cli -u "$REDIS_URL" info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
    start_app REDIS_URL="$REDIS_URL" SESSION_KEY="$(head -c 48 /dev/urandom | base64 -w0)"
    echo "  Redis sessions: app VmRSS before $(rss_mib "$APP_PID") MiB"
    timeout 300 "$DRIVER" --target "$APP/" --count "$HANDSHAKES" --concurrency 64 --pid "$APP_PID" --handshakes-only
    redis_after=$(redis-cli -u "$REDIS_URL" info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
    awk -v a="$redis_after" -v b="$redis_before" -v n="$HANDSHAKES" 'BEGIN {
        printf "  Redis used_memory grew %.1f MiB (%.0f bytes per handshake)\n", (a - b) / 1048576, (a - b) / n }'
    echo "== (b) complete sign-ins (Redis sessions), concurrency 64"
    timeout 300 "$DRIVER" --target "$APP/" --count "$SIGNINS" --concurrency 64 --pid "$APP_PID"
    stop_app
    # The run's sessions (15-minute TTL) go now rather than later.
    redis-cli -u "$REDIS_URL" --scan --pattern 'actix-oauth-bench:*' | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null
else
    echo "  Redis sessions: skipped (no Redis answering at $REDIS_URL)"
fi
