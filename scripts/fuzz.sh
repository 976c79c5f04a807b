#!/usr/bin/env bash
# Fuzzes every parser that reads what outsiders send (fuzz/fuzz_targets/), each for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Installs cargo-fuzz from crates.io when it is missing. cargo-fuzz needs nightly compiler
# flags (-Zsanitizer=address, SanitizerCoverage); RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. Fails when any target crashes (a panic, an ASan report), hangs on one input for
# more than 10 s, or grows past 2 GiB of memory; the input that did it is kept under
# fuzz/artifacts/TARGET/. Each run starts from the seeds in fuzz/corpus/TARGET and from what
# earlier runs found (fuzz/target/corpus/TARGET, not committed); logs go to fuzz/target/logs/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

# cargo-fuzz's default build: optimized, with debug assertions and overflow checks (an integer
# overflow is a crash too), under AddressSanitizer.
echo "== building ${targets[*]}"
cargo fuzz build

mkdir -p target/logs
failed=()
for target in "${targets[@]}"; do
    work="target/corpus/$target"
    log="target/logs/$target.log"
    mkdir -p "$work" "artifacts/$target"
    echo "== $target: ${seconds}s"
    # New inputs go to the first directory (the work corpus); the seeds are only read.
    if cargo fuzz run "$target" "$work" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" | tr '\n' ' '
        echo
    else
        echo "!! $target failed; the last lines of $log:"
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written to' "$log" || true
        tail -n 40 "$log"
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: crashes, hangs or out-of-memory in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash, hang or out-of-memory"
