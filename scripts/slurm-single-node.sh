#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (slurmctld + slurmd + munge from Debian packages) whose
# state, logs and sockets live under one directory, for testing `npusim sweep --slurm` on one
# machine. Needs root (the daemons run as root) and no systemd.
#
#   scripts/slurm-single-node.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-single-node.sh stop DIR
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
dir=$(realpath -m "$dir")
export SLURM_CONF="$dir/slurm.conf"

stop() {
  if [[ -f "$SLURM_CONF" ]]; then
    scancel --full --quiet --partition=npusim 2>/dev/null || true
  fi
  local pids=()
  for f in slurmd.pid slurmctld.pid munged.pid; do
    [[ -f "$dir/$f" ]] && pids+=("$(cat "$dir/$f")")
  done
  [[ ${#pids[@]} -gt 0 ]] && kill "${pids[@]}" 2>/dev/null || true
  # the daemons take a couple of seconds to stop; wait for all of them together
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  rm -f "$dir"/*.pid
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
if [[ "$cmd" != start ]]; then
  echo "$0: unknown command '$cmd' (use start or stop)" >&2
  exit 2
fi
for tool in slurmctld slurmd sbatch munged mungekey; do
  command -v "$tool" >/dev/null || {
    echo "$0: $tool not found; run scripts/bootstrap.sh (it installs Slurm and munge)" >&2
    exit 1
  }
done

mkdir -p "$dir/state" "$dir/spool" "$dir/log"
[[ -f "$dir/munge.key" ]] || mungekey -c -k "$dir/munge.key"
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed"

read -r cpus mem < <(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*RealMemory=\([0-9]*\).*/\1 \2/p')
cat >"$SLURM_CONF" <<EOF
ClusterName=npusim
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=npusim Nodes=localhost Default=YES MaxTime=INFINITE State=UP
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
EOF

slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 300); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  if [[ "$state" == idle* ]]; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "$0: the node did not become idle; logs in $dir/log" >&2
stop
exit 1
