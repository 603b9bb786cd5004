#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine (Debian's slurm-wlm and munge), started and
# stopped by this script: `ablate slurm` submits a small CPU sweep as a job array of 2 shards plus
# the report job; the test passes when every run is done and the report was written by the job.
#   tests/slurm/run_slurm_test.sh ABLATE_BINARY SWEEP.yaml
# Needs root (the daemons run as root here, in a private state directory). Exit 77 (skipped) when
# the Slurm daemons are not installed.
set -euo pipefail
ablate=$1
sweep=$2
[[ $(id -u) -eq 0 ]] || { echo "skipped: the test's Slurm daemons run as root"; exit 77; }
for program in slurmctld slurmd sbatch squeue munged; do
  command -v "$program" > /dev/null || { echo "skipped: $program not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
work=$(mktemp -d /tmp/ablate-slurm.XXXXXX)
host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/state" "$work/spool" "$work/munge" "$work/out"
export SLURM_CONF=$work/slurm.conf
cleanup() {
  [[ -f $work/slurmd.pid ]] && kill "$(cat "$work/slurmd.pid")" 2> /dev/null || true
  [[ -f $work/slurmctld.pid ]] && kill "$(cat "$work/slurmctld.pid")" 2> /dev/null || true
  [[ -f $work/munged.pid ]] && kill "$(cat "$work/munged.pid")" 2> /dev/null || true
  sleep 1
}
trap cleanup EXIT

# munge: a private key and socket, so an installed munge service is left alone.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/seed"
cat > "$SLURM_CONF" << CONF
ClusterName=ablatetest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ablate Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o '%T' 2> /dev/null | grep -q -E 'idle|mixed' && break
  sleep 1
done
sinfo -h -o '%T' | grep -q -E 'idle|mixed' || { echo "the node never became idle"; tail -20 "$work"/slurm*.log; exit 1; }

# The sweep, submitted by ablate itself: an array of 2 shards, then the report job.
ABLATE_CACHE=$work/cache "$ablate" slurm "$sweep" --tasks 2 --out "$work/out" --device cpu --threads 1 \
  --partition ablate --time 00:20:00 | tee "$work/submit.log"
grep -q "submitted job array" "$work/submit.log"
for _ in $(seq 600); do
  [[ -z $(squeue -h 2> /dev/null) ]] && break
  sleep 1
done
[[ -z $(squeue -h) ]] || { echo "jobs still queued after 10 minutes"; squeue; exit 1; }
name=$(basename "$(dirname "$(ls "$work"/out/*/sweep.json)")")
"$ablate" status "$work/out/$name" | tee "$work/status.log"
ls "$work/out/$name/slurm/"
# Every run done, both shards ran as array tasks, and the report job wrote the report.
# (Not `! grep`: set -e ignores a negated command's status, so that line could never stop the script.)
if grep -E "pending|failed|diverged|running|interrupted" <(sed 1d "$work/status.log" | head -n -1); then
  echo "not every run is done (ablate status above)"
  exit 1
fi
[[ $(tail -n 1 "$work/status.log") =~ ^[0-9]+\ done$ ]] || { echo "ablate status ends '$(tail -n 1 "$work/status.log")', not 'N done'"; exit 1; }
[[ $(ls "$work/out/$name/slurm/" | grep -c -E '^[0-9]+_[01]\.out$') -eq 2 ]]
ls "$work/out/$name/slurm/" | grep -q -- '-report.out$'
grep -q "report:" "$work/out/$name/slurm/"*-report.out
echo "slurm test passed: $work"
