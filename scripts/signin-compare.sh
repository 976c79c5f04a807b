#!/usr/bin/env bash
# Complete OpenID Connect sign-ins, side by side in one run (issue 18, BENCHMARKS.md): the
# hand-written peer (../shared/peers/rust-openidconnect: actix-web + actix-session +
# openidconnect-rs, no accounts), the minimal app on this crate (examples/bench_server --oidc, no
# account store), and the example server with SQLite accounts and with PostgreSQL accounts.
#
# Each app signs in against its own development provider (examples/bench_server --provider-only:
# discovery, RS256 ID tokens, userinfo), in a process of its own, so that the app's CPU time is
# the app's alone. The driver (examples/signin_load) is the same browser-like client for all:
# its own cookie jar per sign-in, GET /auth/NAME, the consent page, the approval, the callback,
# GET /me naming the user. Every app runs WORKERS actix workers. Apps alternate within each
# round; the report gives each app's median over ROUNDS rounds and the ratios to the peer.
#
# Usage: scripts/signin-compare.sh   (ROUNDS, SIGNINS, CONCURRENCY, WORKERS, WARMUP, PEER_DIR,
#                                     SETTLE, DATABASE_URL (PostgreSQL, else that app is left out),
#                                     APPS (default "peer minimal sqlite postgres") may be set)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SIGNINS=${SIGNINS:-2000}
WARMUP=${WARMUP:-300}
CONCURRENCY=${CONCURRENCY:-8}
WORKERS=${WORKERS:-2}
SETTLE=${SETTLE:-5}          # seconds of quiet before each app (PostgreSQL's background work ends)
PEER_DIR=${PEER_DIR:-../peer}
APPS=${APPS:-peer minimal sqlite postgres}
APP_PORT=${APP_PORT:-18190}
PROVIDER_PORT=${PROVIDER_PORT:-18191}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
APP="http://127.0.0.1:$APP_PORT"
PROVIDER="http://127.0.0.1:$PROVIDER_PORT"
WORK=$(mktemp -d /tmp/actix-oauth-compare.XXXXXX)

if [[ ${DATABASE_URL:-} != postgres* ]]; then
    echo "note: DATABASE_URL is not PostgreSQL: the example server with PostgreSQL is left out"
    APPS=${APPS//postgres/}
fi

echo "== build (release)"
cargo build --release --example bench_server --example signin_load --example server
if [[ $APPS == *peer* ]]; then
    if [[ ! -x $PEER_DIR/target/release/rust-openidconnect-peer ]]; then
        echo "== build the peer in $PEER_DIR (outside the tree; its own Cargo project)"
        mkdir -p "$PEER_DIR"
        cp -r ../shared/peers/rust-openidconnect/. "$PEER_DIR/"
        (cd "$PEER_DIR" && cargo build --release)
    fi
fi
BENCH="$TARGET_DIR/release/examples/bench_server"
DRIVER="$TARGET_DIR/release/examples/signin_load"
EXAMPLE="$TARGET_DIR/release/examples/server"
PEER="$PEER_DIR/target/release/rust-openidconnect-peer"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() {
    for _ in $(seq 300); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The remote app's name in each app's routes.
name_of() { [[ $1 == minimal ]] && echo dev || echo idp; }

# Starts the provider for app $1 and the app itself; sets APP_PID.
start() {
    local app=$1 name
    name=$(name_of "$app")
    "$BENCH" --provider-only --bind "127.0.0.1:$PROVIDER_PORT" --users 64 \
        --callback "$APP/auth/$name/callback" >"$WORK/provider.log" 2>&1 &
    PROVIDER_PID=$!
    PIDS+=("$PROVIDER_PID")
    wait_for "$PROVIDER/.well-known/openid-configuration"
    cat >"$WORK/providers.toml" <<EOF
dev_provider = false
[providers.idp]
kind = "oidc"
issuer = "$PROVIDER"
client_id = "bench"
client_secret = "bench-secret"
scope = "openid profile email"
EOF
    case $app in
    peer)
        PEER_WORKERS=$WORKERS "$PEER" --config "$WORK/providers.toml" --bind "127.0.0.1:$APP_PORT" \
            >"$WORK/app.log" 2>&1 &
        ;;
    minimal)
        "$BENCH" --oidc --bind "127.0.0.1:$APP_PORT" --workers "$WORKERS" --provider "$PROVIDER/" \
            >"$WORK/app.log" 2>&1 &
        ;;
    sqlite | postgres)
        local db
        if [[ $app == sqlite ]]; then
            rm -rf "$WORK/data" "$WORK"/accounts.sqlite3*
            db="sqlite://$WORK/accounts.sqlite3?mode=rwc"
        else
            db=$DATABASE_URL
        fi
        DATABASE_URL=$db ACTIX_OAUTH_DATA_DIR="$WORK/data" BIND="127.0.0.1:$APP_PORT" \
            WORKERS=$WORKERS TOKEN_KEY=a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0= \
            "$EXAMPLE" --config "$WORK/providers.toml" >"$WORK/app.log" 2>&1 &
        ;;
    esac
    APP_PID=$!
    PIDS+=("$APP_PID")
    wait_for "$APP/healthz"
}

stop() {
    kill "$APP_PID" "$PROVIDER_PID" 2>/dev/null || true
    wait "$APP_PID" "$PROVIDER_PID" 2>/dev/null || true
}

echo
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(rustc --version)"
echo "== $SIGNINS complete sign-ins per app and round at concurrency $CONCURRENCY, $WORKERS workers per app, $ROUNDS rounds"
declare -A CPU RATE P50 P99
for round in $(seq "$ROUNDS"); do
    for app in $APPS; do
        sleep "$SETTLE"
        start "$app"
        name=$(name_of "$app")
        "$DRIVER" --target "$APP/" --provider "$name" --count "$WARMUP" --concurrency "$CONCURRENCY" \
            >/dev/null || { echo "$app: the warm-up failed" >&2; tail -5 "$WORK/app.log" >&2; exit 1; }
        out=$("$DRIVER" --target "$APP/" --provider "$name" --count "$SIGNINS" \
            --concurrency "$CONCURRENCY" --pid "$APP_PID") || { echo "$out" >&2; exit 1; }
        stop
        rate=$(sed -n 's/.* = \([0-9.]*\)\/s;.*/\1/p' <<<"$out")
        p50=$(sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p' <<<"$out")
        p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' <<<"$out")
        cpu=$(sed -n 's/.* = \([0-9.]*\) ms per sign-in.*/\1/p' <<<"$out")
        printf '  round %s %-8s %8s sign-ins/s  CPU %6s ms/sign-in  p50 %6s ms  p99 %6s ms\n' \
            "$round" "$app" "$rate" "$cpu" "$p50" "$p99"
        CPU[$app]+="$cpu "
        RATE[$app]+="$rate "
        P50[$app]+="$p50 "
        P99[$app]+="$p99 "
    done
done

echo
echo "== medians over $ROUNDS rounds (ratio: app CPU per sign-in / the peer's)"
peer_cpu=""
[[ -n ${CPU[peer]:-} ]] && peer_cpu=$(tr ' ' '\n' <<<"${CPU[peer]}" | grep . | median)
for app in $APPS; do
    cpu=$(tr ' ' '\n' <<<"${CPU[$app]}" | grep . | median)
    rate=$(tr ' ' '\n' <<<"${RATE[$app]}" | grep . | median)
    p50=$(tr ' ' '\n' <<<"${P50[$app]}" | grep . | median)
    p99=$(tr ' ' '\n' <<<"${P99[$app]}" | grep . | median)
    ratio=""
    [[ -n $peer_cpu ]] && ratio=$(awk -v a="$cpu" -v p="$peer_cpu" 'BEGIN { printf "%.2fx", a / p }')
    printf '  %-8s CPU %6s ms/sign-in %7s   %8s sign-ins/s   p50 %6s ms   p99 %6s ms\n' \
        "$app" "$cpu" "$ratio" "$rate" "$p50" "$p99"
done
