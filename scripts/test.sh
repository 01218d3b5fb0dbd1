#!/usr/bin/env bash
# scripts/test.sh: builds sweepd and runs the whole test suite (unit and
# integration tests, every suite), then prints one line
#   N passed, N failed[, N skipped]
# counted over the individual test cases (TAP lines). Installs the build
# dependencies with apt-get when they are missing (chromium renders the
# HTML report in tests/integration/test_report.py).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/deps.sh"

ensure_deps dataset-fashion-mnist chromium || exit 1
build_tree "$top" || { echo "0 passed, 1 failed"; exit 1; }

meson test -C "$top/build" --num-processes 2 --print-errorlogs "$@"
status=$?
python3 "$top/scripts/count_tests.py" "$top/build/meson-logs/testlog.json"
count_status=$?
[ $status -eq 0 ] && [ $count_status -eq 0 ]
