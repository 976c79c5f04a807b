#!/usr/bin/env bash
# Mutation testing of the security-critical code with cargo-mutants
# (`cargo install cargo-mutants --locked`).
#
#   scripts/mutants.sh                 every security-critical file, one after the other
#   scripts/mutants.sh FILE...         only these files (paths as in the list below)
#   scripts/mutants.sh --in-diff [REF] only the lines changed since REF (default: origin/main,
#                                      else main), in any file: run before submitting a change
#
# Each file is tested with the test binaries that exercise it, not the whole suite, so that a
# file takes minutes on two cores. Results go to ${MUTANTS_OUT:-/tmp/mutants-out}/<name>/
# (outcomes.json, missed.txt, caught.txt, …), never into the repository. A missed mutant must be
# killed by a new test or explained in docs/mutants.md. Exit status: 0 when none was missed.
#
# Environment: DATABASE_URL and REDIS_URL as for `cargo test` (tests needing them are skipped
# without), MUTANTS_TIMEOUT (seconds per mutant's test run, default 300), MUTANTS_JOBS (default 1),
# MUTANTS_TESTS (test targets instead of the list's, e.g. "--lib --test=signin": a quicker run),
# MUTANTS_TARGET_DIR (a target directory for mutated builds only, kept from run to run so that
# the dependencies are built once).
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-mutants builds in a copy of the tree, with that copy's own target directory: a shared
# CARGO_TARGET_DIR would let a mutated build replace other builds' artifacts. MUTANTS_TARGET_DIR
# must be one that only this script uses (mutants are built one after the other in it, and
# every mutant's source file is newer than the previous build's artifacts).
unset CARGO_TARGET_DIR
if [[ -n ${MUTANTS_TARGET_DIR:-} ]]; then
    if [[ ${MUTANTS_JOBS:-1} != 1 ]]; then
        echo "MUTANTS_TARGET_DIR needs MUTANTS_JOBS=1 (parallel mutants would share its artifacts)" >&2
        exit 2
    fi
    export CARGO_TARGET_DIR=$MUTANTS_TARGET_DIR
fi

out_root=${MUTANTS_OUT:-/tmp/mutants-out}
timeout=${MUTANTS_TIMEOUT:-300}
jobs=${MUTANTS_JOBS:-1}

common=(--timeout "$timeout" --build-timeout 1200 --jobs "$jobs" --no-shuffle)

# file; features (all when empty: fewer features build faster); test targets (arguments for
# `cargo test`); optional name filter (cargo-mutants --re, for a file of which
# only some functions are security-critical)
targets() {
    cat <<'LIST'
src/oidc/id_token.rs;oidc;--lib --test=oidc;
src/oauth1/signature.rs;oidc,rsa-sha1;--lib --test=oauth1_vectors --test=oauth1_fake --test=oauth1_signin;
src/replay.rs;;--lib --test=security --test=signin;
src/session.rs;;--lib --test=security --test=signin;
src/handshake.rs;;--lib --test=security --test=signin --test=oidc --test=token_store --test=form_post --test=step_up;
src/callback_query.rs;;--lib --test=security;
src/oauth2/mod.rs;;--lib --test=security --test=oidc;check_callback_issuer
src/oidc/mod.rs;;--lib --test=security --test=oidc;check_callback_issuer
src/accounts/sign_in.rs;;--lib --test=accounts;
src/accounts/sql.rs;;--lib --test=accounts;link
LIST
}

run_file() {
    local file=$1 features=$2 tests=${MUTANTS_TESTS:-$3} filter=$4
    local name=${file#src/}
    name=${name//\//_}
    name=${name%.rs}
    local args=("${common[@]}" --file "$file" --output "$out_root/$name")
    if [[ -n $features ]]; then
        args+=(--no-default-features --features "$features")
    else
        args+=(--all-features)
    fi
    if [[ -n $filter ]]; then
        args+=(--re "$filter")
    fi
    # The test targets go to `cargo test` (which builds them, and only them, for each mutant).
    local target
    for target in $tests; do
        args+=("--cargo-arg=$target")
    done
    echo "== $file (features: ${features:-all}; tests: $tests${filter:+; only: $filter})"
    cargo mutants "${args[@]}"
}

mkdir -p "$out_root"
if [[ ${1:-} == --in-diff ]]; then
    base=${2:-}
    if [[ -z $base ]]; then
        base=$(git rev-parse --verify -q origin/main >/dev/null && echo origin/main || echo main)
    fi
    diff_file=$(mktemp /tmp/mutants-diff.XXXXXX)
    trap 'rm -f "$diff_file"' EXIT
    git diff "$base"... -- src/ >"$diff_file"
    if [[ ! -s $diff_file ]]; then
        echo "no change under src/ since $base"
        exit 0
    fi
    # Every test binary: a changed line may be anywhere in the crate.
    cargo mutants "${common[@]}" --all-features --in-diff "$diff_file" --output "$out_root/in-diff" \
        --cargo-arg=--lib --cargo-arg=--tests
    exit
fi

status=0
while IFS=';' read -r file features tests filter; do
    if [[ $# -gt 0 ]]; then
        wanted=false
        for f in "$@"; do [[ $f == "$file" ]] && wanted=true; done
        $wanted || continue
    fi
    run_file "$file" "$features" "$tests" "$filter" || status=$?
done < <(targets)
exit $status
