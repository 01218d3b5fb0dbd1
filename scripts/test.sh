#!/usr/bin/env bash
# scripts/test.sh: builds sweepd and runs the whole test suite (unit and
# integration tests, every suite) twice: first the normal build in build/,
# then the same suite under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer in build-asan/ (scripts/sanitize.sh). Arguments
# go to both `meson test` runs. The last line printed is
#   N passed, N failed[, N skipped]
# counted over the individual test cases (TAP lines) of both runs; the exit
# status is non-zero if either run failed. Installs the build dependencies
# with apt-get when they are missing (chromium renders the HTML report in
# tests/integration/test_report.py and test_views.py, tmux runs `sweepctl
# watch` at several sizes in test_views.py; the sanitizer runtimes come
# with gcc).
#
# Run as root, it starts a throwaway single-node Slurm for the slurm tests
# (scripts/slurm-cluster.sh, in a directory of its own, so runs of other
# trees can go on beside it) before the suite, prints how long that took,
# and stops it after. Not as root, with SWEEPD_NO_SLURM=1, or when it does
# not come up, the slurm tests skip saying why (SWEEPD_SLURM_SKIP); with
# SLURM_CONF already set, that cluster is used and nothing is started.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/deps.sh"

ensure_deps dataset-fashion-mnist chromium tmux || exit 1
build_tree "$top" || { echo "0 passed, 1 failed"; exit 1; }

# A run that stops before `meson test` writes its log must not be counted
# from the previous run's: count_tests.py counts a missing log as a failure.
logs=("$top/build/meson-logs/testlog.json"
      "$top/build-asan/meson-logs/testlog.json")
rm -f "${logs[@]}"

slurm_dir=
slurm_down() {
	[ -n "$slurm_dir" ] || return 0
	SLURM_CLUSTER_DIR=$slurm_dir "$top/scripts/slurm-cluster.sh" stop >&2 ||
		echo "test.sh: could not stop the Slurm test cluster in $slurm_dir" >&2
	slurm_dir=
}
slurm_up() {
	local t0 log why
	if [ -n "${SLURM_CONF:-}" ]; then
		echo "test.sh: Slurm: using SLURM_CONF=$SLURM_CONF" >&2
		return 0
	fi
	export SLURM_CONF=/nonexistent/slurm.conf   # never /etc's by accident
	if [ "${SWEEPD_NO_SLURM:-0}" = 1 ]; then
		export SWEEPD_SLURM_SKIP="SWEEPD_NO_SLURM=1: no Slurm test cluster"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		export SWEEPD_SLURM_SKIP="scripts/test.sh starts its Slurm test cluster only as root"
		return 0
	fi
	slurm_dir=$(mktemp -d /tmp/sweepd-slurm.XXXXXX) || return 0
	trap slurm_down EXIT
	t0=$(date +%s%N)
	if log=$(SLURM_CLUSTER_DIR=$slurm_dir "$top/scripts/slurm-cluster.sh" start 2>&1); then
		export SLURM_CONF=$slurm_dir/slurm.conf
		echo "test.sh: Slurm test cluster up in $(( ($(date +%s%N) - t0) / 1000000 )) ms" \
			"(loadavg $(cut -d' ' -f1-3 /proc/loadavg)), SLURM_CONF=$SLURM_CONF" >&2
	else
		printf '%s\n' "$log" | tail -n 40 >&2
		why=$(printf '%s' "$log" | tail -n 1)
		export SWEEPD_SLURM_SKIP="the Slurm test cluster did not start (scripts/slurm-cluster.sh start: $why)"
		echo "test.sh: $SWEEPD_SLURM_SKIP; the slurm tests skip" >&2
		slurm_down
	fi
}

slurm_up
meson test -C "$top/build" --num-processes 2 --print-errorlogs "$@"
status=$?
bash "$top/scripts/sanitize.sh" "$top/build-asan" "$@"
san_status=$?
slurm_down
python3 "$top/scripts/count_tests.py" "${logs[@]}"
count_status=$?
[ $status -eq 0 ] && [ $san_status -eq 0 ] && [ $count_status -eq 0 ]
