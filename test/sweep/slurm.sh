#!/usr/bin/env bash
# rnnc sweep through a real Slurm: a throwaway single-node cluster (munged, slurmctld and slurmd
# from Debian's slurm-wlm, with their config, state, socket and logs in a temporary directory),
# a sweep submitted as an sbatch array with one rnnc train process killed mid-run and the sweep
# resubmitted, then the same sweep run locally with -j 2. The two must give the same run
# directories, the same parameters in each and the same summary.json.
#
#   test/sweep/slurm.sh                     # the fixture's 2 x 1 grid, 2 runs per point
#   RNNC="node /path/to/bin/rnnc.js" SWEEP_ARGS="--grid optimizer.lr=1e-3,3e-3,1e-2 --grid seq_len=20,30 --runs 3" test/sweep/slurm.sh
#   SWEEP_ARGS="$G --ensemble 3" LOCAL_ARGS="$G" test/sweep/slurm.sh   # Slurm tasks as ensembles vs separate local runs
#
# Installs slurm-wlm with apt-get when it is missing (as root). Exits 77 with "SKIP: why" when Slurm
# cannot be installed or started; 0 when everything matched; 1 otherwise. The daemons it starts are
# stopped on exit, whatever happens. test/sweep/slurm.test.ts runs it when RNNC_SLURM_TEST=1.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RNNC=${RNNC:-"node $ROOT/bin/rnnc.js"}
SPEC=${SPEC:-$ROOT/test/sweep/fixtures/tiny.rnn}
SWEEP_ARGS=${SWEEP_ARGS:-}
# the local sweep's own arguments (default: the same), e.g. SWEEP_ARGS with --ensemble 3 and LOCAL_ARGS without
LOCAL_ARGS=${LOCAL_ARGS:-$SWEEP_ARGS}
COMMON_ARGS=${COMMON_ARGS:-"--epochs 4"}
KILL=${KILL:-1}
WAIT_S=${WAIT_S:-600}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
say() { echo "slurm.sh: $*"; }

# ---- Slurm and munge, installed from Debian's packages when missing
need=(slurmctld slurmd sbatch squeue sinfo munged mungekey)
missing() { for c in "${need[@]}"; do command -v "$c" >/dev/null 2>&1 || return 0; done; return 1; }
if missing; then
  [ "$(id -u)" = 0 ] || skip "slurm-wlm is not installed, and installing it needs root (apt-get install slurm-wlm)"
  command -v apt-get >/dev/null 2>&1 || skip "slurm-wlm is not installed and there is no apt-get to install it"
  say "installing slurm-wlm and munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/rnnc-slurm-apt.log 2>&1; then
    apt-get update >>/tmp/rnnc-slurm-apt.log 2>&1 && apt-get install -y --no-install-recommends slurm-wlm munge >>/tmp/rnnc-slurm-apt.log 2>&1 ||
      skip "apt-get install slurm-wlm failed (see /tmp/rnnc-slurm-apt.log)"
  fi
  missing && skip "slurm-wlm was installed but ${need[*]} are not all on PATH"
fi
[ "$(id -u)" = 0 ] || skip "this test starts slurmd, which must run as root"

# ---- a private cluster in a temporary directory; everything it starts is stopped on exit
T=$(mktemp -d /tmp/rnnc-slurm-XXXXXX)
chmod 755 "$T"
cleanup() {
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$T/slurmctld.pid" ]; then scancel --quiet --user=root >/dev/null 2>&1 || true; fi
  for d in slurmd slurmctld munged; do
    if [ -f "$T/$d.pid" ]; then
      pid=$(cat "$T/$d.pid" 2>/dev/null)
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
    fi
  done
  if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$T/state" "$T/spool" "$T/munge"
chmod 700 "$T/munge"
mungekey --create --keyfile="$T/munge/munge.key" >/dev/null 2>&1 || skip "mungekey could not create a key"
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge.socket" --pid-file="$T/munged.pid" \
  --log-file="$T/munged.log" --seed-file="$T/munge/munged.seed" >/dev/null 2>&1 || skip "munged did not start ($(tail -n 2 "$T/munged.log" 2>/dev/null))"

HOST=$(hostname -s)
PORT=$((20000 + RANDOM % 9000))
CPUS=$(nproc)
cat >"$T/slurm.conf" <<EOF
ClusterName=rnnctest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=rnnc Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
slurmctld -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmctld did not start: $(tail -n 3 "$T/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmd did not start: $(tail -n 3 "$T/slurmd.log" 2>/dev/null)"
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "${state:-}" = idle ] || skip "the Slurm node did not become idle (state '${state:-none}'): $(tail -n 3 "$T/slurmctld.log" 2>/dev/null)"
say "single-node Slurm up ($HOST, $CPUS CPUs, $(slurmctld -V))"

# ---- the sweep through Slurm, with one worker killed mid-run
START=$(date +%s)
# shellcheck disable=SC2086
$RNNC sweep "$SPEC" $SWEEP_ARGS $COMMON_ARGS --out "$T/slurm" --emit slurm --time 00:30:00 --mem 500M || fail "rnnc sweep --emit slurm failed"
grep -q '^#SBATCH --array=0-' "$T/slurm/sweep.sbatch" || fail "sweep.sbatch has no array line"
JOB=$(sbatch --parsable "$T/slurm/sweep.sbatch") || fail "sbatch refused the script"
say "submitted array job $JOB"

index_field() { # prints "pid dirs" of a running run with a checkpoint, if any (dirs: every run of that process, tab-separated; several with --ensemble)
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    let ix; try { ix = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")); } catch { process.exit(0); }
    for (const r of ix.runs) if (r.status === "running" && r.pid && fs.existsSync(path.join(dir, r.dir, "checkpoints", "last.json"))) {
      console.log(r.pid + " " + ix.runs.filter((x) => x.status === "running" && x.pid === r.pid).map((x) => x.dir).join("\t"));
      break;
    }
  ' "$1"
}
KILLED=""
if [ "$KILL" = 1 ]; then
  for _ in $(seq 2000); do
    read -r pid dir <<<"$(index_field "$T/slurm")"
    if [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; then KILLED=$dir; say "killed rnnc train (pid $pid) of $dir mid-run"; break; fi
    squeue -h -j "$JOB" 2>/dev/null | grep -q . || break
    sleep 0.05
  done
  [ -n "$KILLED" ] || fail "found no running run to kill (did the sweep finish too fast?)"
fi
waited=0
while squeue -h -j "$JOB" 2>/dev/null | grep -q .; do
  sleep 1; waited=$((waited + 1))
  [ $waited -lt "$WAIT_S" ] || fail "the array job did not finish in $WAIT_S s"
done

if [ -n "$KILLED" ]; then
  node -e '
    const ix = JSON.parse(require("fs").readFileSync(process.argv[1] + "/index.json", "utf8"));
    const bad = ix.runs.filter((r) => r.status !== "done");
    const killed = process.argv[2].split("\t");
    if (bad.length !== killed.length || bad.some((r) => !killed.includes(r.dir) || r.status !== "failed" || !/SIGKILL/.test(r.error || ""))) {
      console.error("expected exactly the killed run to have failed, got: " + JSON.stringify(bad.map((r) => [r.dir, r.status, r.error])));
      process.exit(1);
    }' "$T/slurm" "$KILLED" || fail "the index does not record the killed run (and only it) as failed"
  say "the other runs finished; $KILLED recorded as failed; resubmitting the unfinished runs"
  # shellcheck disable=SC2086
  $RNNC sweep "$SPEC" $SWEEP_ARGS $COMMON_ARGS --out "$T/slurm" --emit slurm --resume --time 00:30:00 --mem 500M || fail "rnnc sweep --emit slurm --resume failed"
  grep -q '^#SBATCH --array=[0-9]*$' "$T/slurm/sweep.sbatch" || fail "the resubmitted array is not the one unfinished run: $(grep array "$T/slurm/sweep.sbatch")"
  sbatch --wait "$T/slurm/sweep.sbatch" >/dev/null || fail "the resubmitted job failed: $(cat "$T"/slurm/logs/*.out | tail -n 20)"
  grep -q -- "--resume" "$T/slurm/${KILLED%%$'\t'*}/train.log" || fail "the killed run was not continued from its checkpoint"
fi
SLURM_S=$(( $(date +%s) - START ))
say "Slurm sweep done in ${SLURM_S} s"

# ---- the same sweep locally, two workers
START=$(date +%s)
# shellcheck disable=SC2086
$RNNC sweep "$SPEC" $LOCAL_ARGS $COMMON_ARGS --out "$T/local" -j 2 >"$T/local.out" 2>&1 || fail "the local sweep failed: $(tail -n 20 "$T/local.out")"
LOCAL_S=$(( $(date +%s) - START ))
say "local sweep (-j 2) done in ${LOCAL_S} s"

# ---- the same runs, parameters and summary
node -e '
  const fs = require("fs"), path = require("path");
  const [a, b] = process.argv.slice(1);
  const runs = (d) => JSON.parse(fs.readFileSync(path.join(d, "index.json"), "utf8")).runs;
  const ra = runs(a), rb = runs(b);
  const key = (r) => `${r.dir} seed ${r.seed} ${JSON.stringify(r.settings)} ${r.status}`;
  if (JSON.stringify(ra.map(key)) !== JSON.stringify(rb.map(key))) { console.error("different runs:\n" + ra.map(key).join("\n") + "\n---\n" + rb.map(key).join("\n")); process.exit(1); }
  for (const r of ra) {
    const files = (d) => fs.readdirSync(path.join(d, r.dir)).sort().join(" ");
    if (files(a) !== files(b)) { console.error(`${r.dir}: different files: ${files(a)} | ${files(b)}`); process.exit(1); }
    for (const f of ["params.npz", "best.npz"]) {
      const x = path.join(a, r.dir, f), y = path.join(b, r.dir, f);
      if (fs.existsSync(x) && !fs.readFileSync(x).equals(fs.readFileSync(y))) { console.error(`${r.dir}/${f} differs`); process.exit(1); }
    }
  }
  const sa = fs.readFileSync(path.join(a, "summary.json"), "utf8"), sb = fs.readFileSync(path.join(b, "summary.json"), "utf8");
  if (sa !== sb) { console.error("summary.json differs"); process.exit(1); }
  console.log(`slurm.sh: ${ra.length} run directories, their parameters and summary.json are the same`);
' "$T/slurm" "$T/local" || fail "the Slurm and the local sweep differ"
cat "$T/local/summary.txt"
echo "PASS: slurm ${SLURM_S} s, local ${LOCAL_S} s"
