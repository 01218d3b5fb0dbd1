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

meson test -C "$top/build" --num-processes 2 --print-errorlogs "$@"
status=$?
bash "$top/scripts/sanitize.sh" "$top/build-asan" "$@"
san_status=$?
python3 "$top/scripts/count_tests.py" "${logs[@]}"
count_status=$?
[ $status -eq 0 ] && [ $san_status -eq 0 ] && [ $count_status -eq 0 ]
