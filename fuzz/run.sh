#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60), one after another, one job.
# Usage: fuzz/run.sh [SECONDS]   (needs a nightly toolchain; installs cargo-fuzz when missing)
set -euo pipefail
seconds="${1:-60}"
cd "$(dirname "$0")"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
targets=(parse_headers verify_arbitrary verify_mutation generic_config memory_store_model)
cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "=== $t: ${seconds}s"
    # Seeds committed in corpus/$t; new inputs go to a scratch dir (not committed).
    mkdir -p "target/corpus/$t"
    cargo +nightly fuzz run -O "$t" "target/corpus/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -jobs=1 -workers=1 -print_final_stats=1 2>&1 |
        tee "target/$t.log" | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY|Done)" || true
    if grep -q "SUMMARY\|panicked\|deadly signal" "target/$t.log"; then
        echo "!!! $t found a crash: see fuzz/target/$t.log and fuzz/artifacts/$t"
        exit 1
    fi
done
