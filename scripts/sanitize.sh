#!/usr/bin/env bash
# scripts/sanitize.sh: the whole test suite under AddressSanitizer (leaks
# included) and UndefinedBehaviorSanitizer, in its own build dir.
#
#   scripts/sanitize.sh [BUILD_DIR] [meson test args...]
#
# Configures BUILD_DIR (default build-asan at the top of the tree) with
# -Db_sanitize=address,undefined -Db_lundef=false, builds, and runs
# `meson test` over every suite with the sanitizers set to stop at the first
# report. Prints the failing tests' logs and the time taken; exits non-zero
# on any failure (a sanitizer report fails the test that triggered it).
# Needs the same build dependencies as scripts/test.sh (run that once).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-asan}
shift || true
start=$(date +%s)

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" -Db_sanitize=address,undefined \
		-Db_lundef=false || exit 1
fi
ninja -C "$build" || exit 1

# abort_on_error: a report kills the test with SIGABRT, so no test can
# mistake it for a pass; halt_on_error makes UBSan's recoverable checks
# fatal too. Programs a test spawns (sweepd, sweep-worker, trainers)
# inherit these.
# quarantine_size_mb: ASan keeps 256 MiB of freed memory by default, which
# a test bounding sweepd's RSS would count against the daemon.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:quarantine_size_mb=16
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# For tests that cannot hold under a sanitizer (an address-space rlimit
# leaves ASan no room for its shadow memory): they may skip on this.
export SWEEPD_SANITIZED=address,undefined
# Tests that time daemon work get slower under the sanitizers.
meson test -C "$build" --num-processes 2 --print-errorlogs \
	--timeout-multiplier 3 "$@"
status=$?
echo "sanitize.sh: $(( $(date +%s) - start ))s, meson test exit status $status"
exit $status
