#!/usr/bin/env bash
# A real single-node SLURM cluster on this host, for the workflow's cluster test.
#   cluster.sh start DIR   install slurm-wlm + munge when missing (Debian, as root),
#                          write DIR/slurm.conf, start munged, slurmctld, slurmd
#   cluster.sh stop DIR    stop the daemons started from DIR
# Clients find the cluster through SLURM_CONF=DIR/slurm.conf, and through
# /etc/slurm/slurm.conf too (installed for the cluster's lifetime, any earlier
# file restored on stop): the jobstep executor plugin strips every SLURM_*
# variable, SLURM_CONF included, before its nested srun, which then only finds
# the default path, as on a real cluster.
set -euo pipefail
cmd=${1:?start|stop}; dir=$(realpath -m "${2:?state dir}")
mkdir -p "$dir"

stop() {
    for name in slurmd slurmctld munged; do
        if [ -f "$dir/$name.pid" ]; then
            kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
        fi
    done
    sleep 1
    for name in slurmd slurmctld munged; do
        if [ -f "$dir/$name.pid" ]; then
            kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true
            rm -f "$dir/$name.pid"
        fi
    done
    if [ -f "$dir/etc-slurm.conf.orig" ]; then
        mv "$dir/etc-slurm.conf.orig" /etc/slurm/slurm.conf
    elif [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$dir/slurm.conf" ]; then
        rm -f /etc/slurm/slurm.conf
    fi
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge (Debian packages)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
if (exec 3<>/dev/tcp/127.0.0.1/46817) 2>/dev/null; then
    echo "port 46817 is taken: another test cluster (or slurmctld) is running; stop it first" >&2
    exit 1
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 755 "$dir/munge"  # clients need to reach the socket; the key itself stays 0400
dd if=/dev/urandom bs=1 count=1024 of="$dir/munge/munge.key" status=none
chmod 400 "$dir/munge/munge.key"

cat > "$dir/slurm.conf" <<CONF
ClusterName=hipdrive-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=46817
SlurmdPort=46818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerType=sched/backfill
NodeName=$host CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

mkdir -p /etc/slurm
if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
    mv /etc/slurm/slurm.conf "$dir/etc-slurm.conf.orig"
fi
ln -sfn "$dir/slurm.conf" /etc/slurm/slurm.conf

munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" --num-threads=10 --force
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "slurm cluster up: $(sinfo -h -o '%N %c CPUs %T')" >&2
        exit 0
    fi
    sleep 1
done
echo "slurm cluster did not come up; logs in $dir" >&2
tail -n 20 "$dir"/*.log >&2 || true
stop
exit 1
