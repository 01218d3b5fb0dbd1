#!/bin/sh
# sweeps.sh: runs the sweeps of tests/common/sweeps/ on a private sweepd
# and turns every trial into a labelled curve file (curves_from_sweep.py,
# rules in curves/README.md). Called by make_real_curves.sh --sweeps.
#     sweeps.sh BUILD_DIR OUT [SPEC...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1 out=$2
shift 2
state=$(mktemp -d /tmp/diag-sweeps.XXXXXX)
ctl() { "$build/sweepctl" --state-dir "$state" "$@"; }
"$build/sweepd" --state-dir "$state" --workers "${WORKERS:-2}" --detach
trap 'ctl shutdown >/dev/null 2>&1 || true; sleep 1; rm -rf "$state"' EXIT
mkdir -p "$out"
for spec in "$@"; do
	id=$(ctl submit "$spec")
	ctl wait "$id" >/dev/null || true
	ctl export "$id" --format json >"$state/trials.json"
	ctl export "$id" --format json --epochs >"$state/epochs.json"
	python3 "$here/curves_from_sweep.py" "$spec" "$state/trials.json" \
		"$state/epochs.json" "$out"
done
