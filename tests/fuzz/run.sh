#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) in their own build dir and runs each
# for N seconds, then prints one summary line per target: executions,
# execs/s, coverage (edges, features), corpus size, peak RSS and crashes.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (default 600; all targets)
#
# Environment: FUZZ_BUILD (default build-fuzz at the top of the tree),
# FUZZ_JOBS (targets run at once, default 1: the machine is shared),
# FUZZ_ARGS (extra libFuzzer flags). The working corpus grows in
# $FUZZ_BUILD/fuzz/corpus/<t> (seeded from tests/fuzz/corpus/<t>); crash,
# leak, timeout and oom inputs land in $FUZZ_BUILD/fuzz/artifacts/<t>/ and
# the full log in $FUZZ_BUILD/fuzz/<t>.log. A crash does not stop the run:
# -fork=1 -ignore_crashes=1 keeps fuzzing and keeps every crasher. Once a
# crash is fixed, copy its input to tests/fuzz/regress/<t>/ so the suite
# replays it (test_fuzz_regress_<t>). Exits 1 when any target crashed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}
shift || true
targets=${*:-report spec request}
build=${FUZZ_BUILD:-$top/build-fuzz}
jobs=${FUZZ_JOBS:-1}
here=$top/tests/fuzz

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$top" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' \
		>"$build.setup.log" 2>&1 || { cat "$build.setup.log"; exit 1; }
fi
ninja -C "$build" $(for t in $targets; do printf 'tests/fuzz/fuzz_%s ' "$t"; done) \
	>"$build/fuzz-ninja.log" 2>&1 || { tail -40 "$build/fuzz-ninja.log"; exit 1; }

out=$build/fuzz
mkdir -p "$out"
# The request target's state dirs: one root per run, removed at the end.
state=$(mktemp -d "${TMPDIR:-/dev/shm}/sweepd-fuzz-run.XXXXXX") || exit 1
trap 'rm -rf "$state"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export SWEEPD_FUZZ_DIR=$state

run_one() {
	local t=$1 corpus=$out/corpus/$1 art=$out/artifacts/$1/ dict=
	mkdir -p "$corpus" "$art"
	cp -n "$here/corpus/$t"/* "$corpus"/ 2>/dev/null
	[ -f "$here/$t.dict" ] && dict=-dict=$here/$t.dict
	local t0=$(date +%s)
	"$build/tests/fuzz/fuzz_$t" "$corpus" $dict -artifact_prefix="$art" \
		-max_total_time="$secs" -max_len=8192 -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		${FUZZ_ARGS:-} >"$out/$t.log" 2>&1
	summarize "$t" $(( $(date +%s) - t0 ))
}

# One line from the log: the last status line (cov, ft, corp, exec/s,
# rss) and, in fork mode, the totals libFuzzer prints at the end.
summarize() {
	local t=$1 wall=$2 log=$out/$1.log crashes
	crashes=$(find "$out/artifacts/$t" -type f \( -name 'crash-*' -o \
		-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	awk -v t="$t" -v secs="$wall" -v crashes="$crashes" '
		/#[0-9]+: cov: / {
			for (i = 1; i <= NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
				if ($i == "corp:") corp = $(i + 1)
				if ($i == "exec/s:" || $i == "exec/s") eps = $(i + 1)
				if ($i == "rss:") rss = $(i + 1)
			}
			n = $1; sub(/^#/, "", n); sub(/:$/, "", n); execs = n
		}
		END {
			rate = secs > 0 ? int(execs / secs) : 0
			printf "%-8s %ss wall: %s execs (%s/s overall, %s/s last), cov %s, ft %s, corpus %s, crashes %d\n", \
				t, secs, execs, rate, eps, cov, ft, corp, crashes
		}' "$log"
}

pids=()
for t in $targets; do
	run_one "$t" &
	pids+=($!)
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
done
wait
status=0
for t in $targets; do
	if [ -n "$(find "$out/artifacts/$t" -type f 2>/dev/null)" ]; then
		echo "$t: crashers in $out/artifacts/$t/:"
		ls "$out/artifacts/$t/"
		status=1
	fi
done
exit $status
