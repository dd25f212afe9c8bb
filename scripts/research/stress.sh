#!/usr/bin/env bash
# Stress the exactness checks: run the parity and notebook tests RUNS times (default 10) while
# another copy of the whole test suite runs beside them, as happens on a busy CI machine.
# Every run's log is kept under target/stress/; the script exits 1 if any run failed.
# Question it answered: do the exact (bit-for-bit) tests hold on a loaded machine? (They did.)
# Usage: scripts/research/stress.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
runs=${1:-10}

# The test executables run outside cargo, so they get what cargo would give them.
BIGRAM_PYTHON=$(scripts/setup.sh --print-python)
LIBTORCH=$(sed -n 's/^LIBTORCH = "\(.*\)"$/\1/p' .cargo/config.toml)
export BIGRAM_PYTHON LIBTORCH
# Build once, then run the test executables directly: two cargo processes would wait on each
# other's lock on target/.
built=$(cargo test --release --no-run 2>&1) || { printf '%s\n' "$built" >&2; exit 1; }
# The integration tests are one executable (tests/it); parity and notebook are its modules.
it=$(sed -n 's/.*Executable tests\/it\/main.rs (\(.*\))$/\1/p' <<<"$built")
everything=$(sed -n 's/.*Executable .* (\(.*\))$/\1/p' <<<"$built")
[ -n "$it" ] || { echo "stress: test executables not found" >&2; exit 1; }

logs=target/stress
rm -rf "$logs"
mkdir -p "$logs"

# The load beside: every test executable of the suite, over and over, in its own process group.
setsid bash -c "while :; do for t in $(echo $everything); do \"\$t\" -q >/dev/null 2>&1 || true; done; done" &
load=$!
trap 'kill -- -"$load" 2>/dev/null || true' EXIT

failed=0
for i in $(seq 1 "$runs"); do
  for name in parity notebook; do
    log="$logs/$name-$i.log"
    start=$(date +%s)
    if "$it" "$name::" >"$log" 2>&1; then result=ok; else result=FAILED; failed=$((failed + 1)); fi
    printf 'run %2d  %-8s %-6s %3d s  load %s\n' "$i" "$name" "$result" $(($(date +%s) - start)) \
      "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
  done
done
echo "stress: $failed failed of $((2 * runs)) runs (logs in $logs)"
[ "$failed" -eq 0 ]
