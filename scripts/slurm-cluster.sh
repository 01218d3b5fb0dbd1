#!/bin/sh
# scripts/slurm-cluster.sh start|stop|status: a throwaway single-node Slurm
# for tests, run as root. Everything it makes (munge key and socket, the
# config, state, spool and logs) lives in one directory, $SLURM_CLUSTER_DIR
# (default /tmp/sweepd-slurm); nothing under /etc is touched. Clients find
# it with SLURM_CONF=$SLURM_CLUSTER_DIR/slurm.conf (start and status print
# that line). See docs/slurm.md.
#
#   start   install munge, slurmctld, slurmd, slurm-client when missing
#           (apt-get, Debian 12), write the config, start munged, slurmctld
#           and slurmd, wait until the node is idle. Already up: nothing
#           to do. Exit 0 when up; 1 with the daemons' log tails if not.
#   stop    kill the three daemons, remove the directory.
#   status  exit 0 and print the node's line when the cluster answers.
#
# Environment: SLURM_CLUSTER_DIR; SLURM_CLUSTER_WAIT (seconds to wait for
# the node, default 30); SLURM_CLUSTER_NO_INSTALL=1 never runs apt-get;
# SLURM_CLUSTER_PROCTRACK=linuxproc tracks a job's processes by ancestry
# instead of a cgroup (where cgroups cannot be written; a process that
# leaves its session then escapes its job).
set -eu

dir=${SLURM_CLUSTER_DIR:-/tmp/sweepd-slurm}
wait_s=${SLURM_CLUSTER_WAIT:-30}
track=${SLURM_CLUSTER_PROCTRACK:-cgroup}
conf=$dir/slurm.conf
node=sweepd-node
export SLURM_CONF="$conf"

die() {
	echo "slurm-cluster: $*" >&2
	exit 1
}

# 0 when the process in pid file $1 is alive (its /proc state, not kill -0:
# a zombie that PID 1 has not reaped yet is dead).
alive() {
	[ -s "$1" ] || return 1
	apid=$(cat "$1" 2>/dev/null) || return 1
	[ -r "/proc/$apid/stat" ] || return 1
	state=$(sed 's/^.*) //' "/proc/$apid/stat" 2>/dev/null | cut -d' ' -f1)
	[ "$state" != Z ] && [ "$state" != X ]
}

need_packages() {
	missing=
	command -v munged >/dev/null 2>&1 || missing="$missing munge"
	command -v slurmctld >/dev/null 2>&1 || missing="$missing slurmctld"
	command -v slurmd >/dev/null 2>&1 || missing="$missing slurmd"
	command -v srun >/dev/null 2>&1 || missing="$missing slurm-client"
	[ -z "$missing" ] && return 0
	[ "${SLURM_CLUSTER_NO_INSTALL:-0}" = 1 ] &&
		die "missing:$missing (SLURM_CLUSTER_NO_INSTALL=1: not installing)"
	command -v apt-get >/dev/null 2>&1 || die "missing:$missing, and no apt-get"
	echo "slurm-cluster: installing$missing" >&2
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >"$dir/apt.log" 2>&1 ||
		{ tail -n 20 "$dir/apt.log" >&2; die "apt-get install$missing failed"; }
}

# A free TCP port on 127.0.0.1 (two clusters in two directories coexist).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Two character devices as copies of /dev/null: slurmd wants a File= for
# each GPU and refuses plain files; nothing ever opens them.
make_gpus() {
	for i in 0 1; do
		[ -c "$dir/dev/gpu$i" ] || mknod -m 0666 "$dir/dev/gpu$i" c 1 3
	done
}

write_config() {
	cpus=$(nproc)
	# half the memory, in MiB: slurmd drains a node whose RealMemory is
	# more than it finds
	mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 2048 }' /proc/meminfo)
	ctld_port=$(free_port)
	d_port=$(free_port)
	# job ids of its own for each cluster (ports are unique while it runs):
	# the step cgroups of all clusters on this machine share one path,
	# /sys/fs/cgroup/freezer/slurm_NODE/uid_U/job_N/step_S
	first_job=$((ctld_port * 1000))
	case $track in
	cgroup) task=task/cgroup ;;
	linuxproc) task=task/none ;;
	*) die "SLURM_CLUSTER_PROCTRACK=$track: cgroup or linuxproc" ;;
	esac
	cat >"$conf.tmp" <<EOF
# written by scripts/slurm-cluster.sh; removed by its stop
ClusterName=sweepd
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/$track
TaskPlugin=$task
FirstJobId=$first_job
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
SlurmdParameters=config_overrides
GresTypes=gpu
EnforcePartLimits=ALL
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=high Nodes=$node MaxTime=INFINITE State=UP PriorityTier=10
EOF
	# ConstrainDevices=no: the fake GPUs are copies of /dev/null (c 1 3),
	# so denying a job the GPUs it was not given denies it /dev/null.
	# ConstrainRAMSpace=no: the memory controller here is the container's
	# own accounting, which jobs must not be moved out of.
	cat >"$dir/cgroup.conf.tmp" <<EOF
# cgroup v1 or v2, as mounted; no systemd here to delegate a v2 tree
CgroupPlugin=autodetect
CgroupMountpoint=/sys/fs/cgroup
IgnoreSystemd=yes
ConstrainCores=yes
ConstrainDevices=no
ConstrainRAMSpace=no
ConstrainSwapSpace=no
EOF
	mv "$dir/cgroup.conf.tmp" "$dir/cgroup.conf"
	cat >"$dir/gres.conf.tmp" <<EOF
AutoDetect=off
NodeName=$node Name=gpu File=$dir/dev/gpu[0-1]
EOF
	mv "$dir/gres.conf.tmp" "$dir/gres.conf"
	mv "$conf.tmp" "$conf"
}

start_munge() {
	alive "$dir/munged.pid" && return 0
	[ -s "$dir/munge.key" ] || mungekey --create --keyfile="$dir/munge.key" ||
		die "mungekey --create failed"
	chmod 0600 "$dir/munge.key"
	munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
		--pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
		--seed-file="$dir/munged.seed" 2>>"$dir/munged.log" ||
		fail "munged did not start"
}

tails() {
	for f in munged.log slurmctld.log slurmd.log; do
		[ -s "$dir/$f" ] || continue
		echo "--- $dir/$f (last lines)" >&2
		tail -n 15 "$dir/$f" >&2
	done
}

fail() {
	tails
	die "$*"
}

# The node's state in sinfo (idle, mixed, ...), empty when nobody answers.
node_state() {
	sinfo --noheader --nodes="$node" --format=%T 2>/dev/null | head -n 1
}

start() {
	[ "$(id -u)" = 0 ] || die "start must run as root (slurmd runs jobs as any user)"
	mkdir -p "$dir"
	# 0755: the munge socket in it must be reachable by every user who runs
	# srun; the key in it is 0600
	chmod 0755 "$dir"
	need_packages
	if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" &&
	   [ -n "$(node_state)" ]; then
		echo "export SLURM_CONF=$conf"
		return 0
	fi
	# a half-started cluster: begin again from nothing but the key
	kill_daemons
	mkdir -p "$dir/state" "$dir/spool/$node" "$dir/dev"
	make_gpus
	write_config
	start_munge
	slurmctld -f "$conf" -i 2>>"$dir/slurmctld.log" || fail "slurmctld did not start"
	slurmd -f "$conf" -N "$node" 2>>"$dir/slurmd.log" || fail "slurmd did not start"
	t=0
	while :; do
		st=$(node_state)
		case $st in
		idle*|mixed*|alloc*) break ;;
		esac
		[ "$t" -ge $((wait_s * 10)) ] &&
			fail "node $node not idle after ${wait_s}s (sinfo: '${st:-no answer}')"
		alive "$dir/slurmctld.pid" || [ "$t" -lt 20 ] || fail "slurmctld died"
		alive "$dir/slurmd.pid" || [ "$t" -lt 20 ] || fail "slurmd died"
		sleep 0.1
		t=$((t + 1))
	done
	echo "export SLURM_CONF=$conf"
}

# SIGTERM, then SIGKILL after 5 s, each daemon by its pid file.
kill_daemons() {
	for d in slurmd slurmctld munged; do
		alive "$dir/$d.pid" || continue
		pid=$(cat "$dir/$d.pid")
		kill "$pid" 2>/dev/null || true
		t=0
		while alive "$dir/$d.pid" && [ "$t" -lt 50 ]; do
			sleep 0.1
			t=$((t + 1))
		done
		if alive "$dir/$d.pid"; then
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$dir/$d.pid"
	done
}

stop() {
	[ -d "$dir" ] || return 0
	# steps still running: their slurmstepd would outlive slurmd
	if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid"; then
		scancel --quiet --nodelist="$node" 2>/dev/null || true
		t=0
		while [ -n "$(squeue --noheader --states=RUNNING,COMPLETING \
			--format=%i 2>/dev/null)" ] && [ "$t" -lt 100 ]; do
			sleep 0.1
			t=$((t + 1))
		done
	fi
	kill_daemons
	rm -rf "$dir"
}

status() {
	st=$(node_state)
	[ -n "$st" ] || { echo "slurm-cluster: not running (SLURM_CONF=$conf)" >&2; return 1; }
	echo "export SLURM_CONF=$conf"
	sinfo --nodes="$node" --format="%P %T %c %m %G"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
