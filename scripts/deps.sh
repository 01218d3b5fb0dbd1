# scripts/deps.sh: sourced by the README commands. Installs, with apt-get,
# whatever sweepd needs that this machine lacks; does nothing when all of
# it is there already.
#
#   ensure_deps [extra-debian-package ...]

# The sanitizer build (scripts/sanitize.sh, gcc's -fsanitize=address,undefined)
# needs nothing more: libasan8 and libubsan1 come with build-essential
# (gcc-12 depends on libgcc-12-dev, which depends on them). Clang is needed
# only for the libFuzzer targets (tests/fuzz/run.sh), not by scripts/test.sh.
SWEEPD_BUILD_PKGS="build-essential pkg-config meson ninja-build libuv1-dev \
libsqlite3-dev libcjson-dev zlib1g-dev libopenblas-dev libncurses-dev \
libmicrohttpd-dev python3 python3-pytest"

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			printf '%s ' "$p"
	done
}

ensure_deps() {
	local missing
	missing=$(missing_pkgs $SWEEPD_BUILD_PKGS "$@")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "sweepd: missing Debian packages: $missing" >&2
		echo "sweepd: run as root, or: sudo apt-get install $missing" >&2
		return 1
	fi
	echo "sweepd: installing $missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || return 1
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2 || return 1
}

# Configures (once) and builds the tree in build/: everything, or only the
# targets named after the top (e.g. sweepd sweepctl).
build_tree() {
	local top=$1
	shift
	if [ ! -f "$top/build/build.ninja" ]; then
		meson setup "$top/build" "$top" >/dev/null || return 1
	fi
	ninja -C "$top/build" "$@" >&2 || return 1
}
