#!/usr/bin/env bash
# scripts/quickstart.sh: the README's main command. Builds sweepd, starts
# the daemon (unless one already serves the state dir), submits the default
# sweep configs/quickstart.json (the built-in trainer on Fashion-MNIST),
# shows its progress live and prints the best trial with its diagnosis.
#
#   SWEEP_STATE_DIR  where the database and socket live
#                    (default: build/quickstart-state)
#   SWEEP_SPEC       another spec to run instead of configs/quickstart.json
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/deps.sh"

ensure_deps dataset-fashion-mnist
# the programs only: the test suite is the other command's to build
build_tree "$top" sweepd sweepctl sweep-worker

state=${SWEEP_STATE_DIR:-$top/build/quickstart-state}
spec=${SWEEP_SPEC:-$top/configs/quickstart.json}
ctl() { "$top/build/sweepctl" --state-dir "$state" "$@"; }

if ! ctl stats >/dev/null 2>&1; then
	"$top/build/sweepd" --state-dir "$state" --detach
	echo "sweepd started on $state (log: $state/sweepd.log)"
fi
id=$(ctl submit "$spec")
echo "submitted $spec as sweep $id"
ctl watch "$id" || true
echo
ctl status "$id"
echo
ctl best "$id"
echo
echo "sweepd is still running: '$top/build/sweepctl --state-dir $state trials $id'"
echo "shows every trial; '... shutdown' stops the daemon."
