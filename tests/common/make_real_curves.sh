#!/bin/sh
# make_real_curves.sh: regenerates the labelled set of real learning curves
# in tests/common/curves/ with the built-in trainer on Fashion-MNIST.
#
# Each configuration is chosen to cause one condition (the "intended"
# verdict); test_diag_real checks that diag_curve() gives each file its
# intended verdict and prints the confusion table. Only the report lines
# are stored (no data), one file per run, named INTENDED--NAME-sSEED.jsonl,
# whose first line is a "#" comment with the params and seed.
#
# Not run by the test suite (it trains ~20 small networks, about a minute
# on one core). Run it by hand after changing the trainer:
#     tests/common/make_real_curves.sh [path/to/sweep-worker]
# The default trainer is build-common/worker/sweep-worker. Environment:
# OUT (default tests/common/curves) and SEED_OFFSET (default 0, added to
# every seed), e.g. to make a held-out set the rules were not tuned on:
#     OUT=/tmp/heldout SEED_OFFSET=100 tests/common/make_real_curves.sh
# then: build-common/tests/common/test_common_diag_real /tmp/heldout
# The data must be
# where the trainer looks for it (param data_dir, default
# /usr/share/datasets/fashion-mnist). Runs are kept short (few epochs,
# small train_fraction) because the machine is shared.
#
# With --sweeps it runs the sweeps of tests/common/sweeps/ on a private
# sweepd instead (TPE+ASHA, early stopping, chance-level learning rates, a
# trainer reporting only some metrics, the PyTorch example when
# /usr/bin/python3 has torch) and stores every trial, labelled by the rules
# of curves/README.md (label_curves.py):
#     tests/common/make_real_curves.sh --sweeps [BUILD_DIR]
# BUILD_DIR (default build) holds sweepd, sweepctl and sweep-worker. About
# 150 trials of a few epochs each; WORKERS (default 2) trials at once.
# Two workers make the order trials end in, and so TPE's choices, vary:
# write to an empty OUT and replace the stored sweep files as a whole.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "${1:-}" = "--sweeps" ]; then
	build=$(cd "${2:-$root/build}" && pwd)
	out=${OUT:-$here/curves}
	gen=$(mktemp -d /tmp/make_real_curves.XXXXXX)
	specs="$here/sweeps/tpe-asha.json $here/sweeps/early-stop.json"
	specs="$specs $here/sweeps/chance.json"
	for f in "$here"/sweeps/*.json.in; do
		g="$gen/$(basename "$f" .in)"
		sed -e "s|@HERE@|$here|g" -e "s|@WORKER@|$build/sweep-worker|g" \
		    -e "s|@ROOT@|$root|g" "$f" >"$g"
		case $g in
		*pytorch*)
			/usr/bin/python3 -c 'import torch' 2>/dev/null || {
				echo "make_real_curves.sh: no torch for" \
				     "/usr/bin/python3: the PyTorch sweep is" \
				     "skipped" >&2
				continue
			} ;;
		esac
		specs="$specs $g"
	done
	# shellcheck disable=SC2086
	"$here/sweeps.sh" "$build" "$out" $specs
	rm -rf "$gen"
	exit 0
fi
worker=${1:-$root/build-common/worker/sweep-worker}
out=${OUT:-$here/curves}
offset=${SEED_OFFSET:-0}

if [ ! -x "$worker" ]; then
	echo "make_real_curves.sh: no trainer at $worker (build it first:" \
	     "ninja -C build-common worker/sweep-worker)" >&2
	exit 1
fi
mkdir -p "$out"

# run INTENDED NAME SEED PARAMS
run() {
	set -- "$1" "$2" "$(($3 + offset))" "$4"
	file="$out/$1--$2-s$3.jsonl"
	tmp="$file.tmp"
	printf '# intended: %s | seed: %s | params: %s\n' "$1" "$3" "$4" >"$tmp"
	# The trainer writes report lines on stdout, "SWEEP "-prefixed, when
	# SWEEP_REPORT_FD is unset; the curve files hold them bare. A diverging
	# run may exit non-zero; its lines are still kept.
	{ env -u SWEEP_REPORT_FD SWEEP_SEED="$3" SWEEP_PARAMS="$4" \
		"$worker" 2>/dev/null || true; } | sed -n 's/^SWEEP //p' >>"$tmp"
	mv "$tmp" "$file"
	echo "$file: $(grep -c '"epoch"' "$file") epoch lines"
}

# good_fit: the seed's BNNet (784-48-24-10, BatchNorm, ReLU), Adam 1e-3.
bnnet='{"hidden":[48,24],"batchnorm":true,"optimizer":"adam","lr":0.001,"epochs":12,"train_fraction":0.2}'
for s in 1 2 3; do run good_fit bnnet-adam "$s" "$bnnet"; done

# overfitting: a wide network, no regularization, 1000 training samples,
# many epochs.
wide='{"hidden":[512],"optimizer":"adam","lr":0.001,"epochs":30,"train_fraction":0.02}'
for s in 1 2; do run overfitting wide-noreg "$s" "$wide"; done

# underfitting: a 2-unit hidden layer; and plain SGD at a small learning
# rate stopped after 6 epochs (still falling, not converged).
tiny='{"hidden":[2],"optimizer":"adam","lr":0.001,"epochs":10,"train_fraction":0.1}'
for s in 1 2; do run underfitting tiny-hidden "$s" "$tiny"; done
slow='{"hidden":[48,24],"optimizer":"sgd","lr":0.002,"epochs":6,"train_fraction":0.1}'
run not_converged slow-sgd 1 "$slow"

# diverged: SGD at learning rate 1 (NaN at once on the wider net; blow-up,
# dead or unstable on the narrower one), momentum at 0.5.
for s in 1 2; do
	run diverged sgd-lr1-wide "$s" \
		'{"hidden":[128,64],"optimizer":"sgd","lr":1.0,"epochs":5,"train_fraction":0.05}'
done
for s in 1 2 3; do
	run diverged sgd-lr1 "$s" \
		'{"hidden":[48,24],"optimizer":"sgd","lr":1.0,"epochs":6,"train_fraction":0.05}'
done
run diverged momentum-lr05 1 \
	'{"hidden":[48,24],"optimizer":"momentum","lr":0.5,"epochs":5,"train_fraction":0.05}'

# plateau: SGD at learning rate 1e-5: the loss barely moves.
for s in 1 2; do
	run plateau sgd-lr1e-5 "$s" \
		'{"hidden":[48,24],"optimizer":"sgd","lr":0.00001,"epochs":8,"train_fraction":0.05}'
done

# vanishing_gradients: a deep sigmoid network, tiny initial weights, no
# batch norm.
for s in 1 2; do
	run vanishing_gradients deep-sigmoid "$s" \
		'{"hidden":[64,64,64,64,64],"activation":"sigmoid","init":"small_normal","init_std":0.01,"optimizer":"sgd","lr":0.01,"epochs":8,"train_fraction":0.05}'
done

# exploding_gradients: a deep ReLU network with far too large initial
# weights (std 1 instead of about 0.05), no batch norm.
for s in 1 2; do
	run exploding_gradients deep-relu-biginit "$s" \
		'{"hidden":[64,64,64,64,64],"init":"small_normal","init_std":1.0,"optimizer":"adam","lr":0.0001,"epochs":5,"train_fraction":0.05}'
done
