#!/usr/bin/env bash
# Run examples/airflow/nightly_launch.py once with `airflow dags test` against the Tower emulator.
# Usage (from the repository root, after `make envs`): bash examples/airflow/run_demo.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/.venvs/airflow/bin"
export PATH="$BIN:$PATH"

export AIRFLOW_HOME="$(mktemp -d -t nftower-airflow-demo-XXXXXX)"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$AIRFLOW_HOME/dags"
export NFTOWER_DEMO_POLL_INTERVAL=1
EMULATOR_PID=""

cleanup() {
    if [[ -n "$EMULATOR_PID" ]]; then kill "$EMULATOR_PID" 2>/dev/null || true; fi
    rm -rf "$AIRFLOW_HOME"
}
trap cleanup EXIT

echo "Starting the Tower emulator..."
PYTHONUNBUFFERED=1 "$BIN/nftower-emulator" --host 127.0.0.1 --port 0 --speed 20 >"$AIRFLOW_HOME/emulator.out" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 100); do
    grep -q '^export TOWER_WORKSPACE_ID=' "$AIRFLOW_HOME/emulator.out" 2>/dev/null && break
    kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$AIRFLOW_HOME/emulator.out"; exit 1; }
    sleep 0.1
done
# shellcheck disable=SC1090
source <(grep '^export ' "$AIRFLOW_HOME/emulator.out")

export AIRFLOW_CONN_TOWER_DEFAULT="$("$BIN/python" - <<'PY'
import json, os
print(json.dumps({
    "conn_type": "tower",
    "host": os.environ["TOWER_API_ENDPOINT"],
    "password": os.environ["TOWER_ACCESS_TOKEN"],
    "extra": {"workspace": os.environ["TOWER_WORKSPACE_ID"]},
}))
PY
)"
# the connection carries the settings; keep the token out of the DAG run's environment
unset TOWER_ACCESS_TOKEN TOWER_API_ENDPOINT TOWER_WORKSPACE_ID

mkdir -p "$AIRFLOW__CORE__DAGS_FOLDER"
cp "$ROOT/examples/airflow/nightly_launch.py" "$AIRFLOW__CORE__DAGS_FOLDER/"
echo "Preparing Airflow (SQLite in $AIRFLOW_HOME)..."
airflow db migrate >"$AIRFLOW_HOME/migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/migrate.log"; exit 1; }

echo "Running the nightly_rnaseq DAG with airflow dags test..."
status=0
airflow dags test nightly_rnaseq >"$AIRFLOW_HOME/dags_test.log" 2>&1 || status=$?

"$BIN/python" - "$AIRFLOW_HOME/airflow.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id, state = db.execute(
    "SELECT run_id, state FROM dag_run WHERE dag_id='nightly_rnaseq' ORDER BY id DESC LIMIT 1"
).fetchone()
xcom = dict(db.execute(
    "SELECT key, value FROM xcom WHERE dag_id='nightly_rnaseq' AND run_id=? AND task_id='rnaseq'",
    (run_id,),
).fetchall())
value = lambda key: json.loads(xcom[key]) if key in xcom else None
sheet = db.execute(
    "SELECT value FROM xcom WHERE dag_id='nightly_rnaseq' AND run_id=? AND task_id='samplesheet'"
    " AND key='return_value'",
    (run_id,),
).fetchone()
print(f"Samplesheet:       {json.loads(sheet[0]) if sheet else None}")
print(f"Tower workflow id: {value('workflow_id')}")
print(f"Tower run URL:     {value('run_url')}")
for task_id, ti_state in db.execute(
    "SELECT task_id, state FROM task_instance WHERE dag_id='nightly_rnaseq' AND run_id=?",
    (run_id,),
):
    print(f"Task {task_id}: {ti_state}")
print(f"DAG run {run_id}: {state}")
sys.exit(0 if state == "success" else 1)
PY
summary=$?
if [[ $status -ne 0 || $summary -ne 0 ]]; then
    tail -n 60 "$AIRFLOW_HOME/dags_test.log"
    exit 1
fi
