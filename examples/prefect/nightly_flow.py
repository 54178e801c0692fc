"""Nightly nf-core/rnaseq on Tower, orchestrated by Prefect.

The flow writes the night's samplesheet, uploads it as a version of the `rnaseq-samplesheet`
dataset (a retry reuses the version: same content, no second upload), launches the "rnaseq"
launchpad pipeline with that version's URL as `input` and parameters for the night's date,
waits for it (one task run, polling every minute) and fails with the Tower failure report
if the run fails. A retry of the flow run reattaches to the Tower run instead of launching
a second one; cancelling the flow run cancels the Tower run.

Credentials: a saved `TowerCredentials` block (`--block NAME`, or the TOWER_CREDENTIALS_BLOCK
variable), else the `tw` variables TOWER_ACCESS_TOKEN / TOWER_API_ENDPOINT / TOWER_WORKSPACE_ID.

Serve it with a 02:00 schedule (a process that runs the deployment's flow runs):

    python examples/prefect/nightly_flow.py

or run it once: `python -c "from nightly_flow import nightly; nightly()"`.
"""

from __future__ import annotations

import os
from datetime import date

from nftower import Workflow
from prefect import flow
from prefect_nftower import TowerCredentials
from prefect_nftower.datasets import upload_dataset
from prefect_nftower.hooks import cancel_tower_runs
from prefect_nftower.tasks import launch_workflow, wait_for_workflow

SAMPLES = ("WT_REP1", "WT_REP2", "KO_REP1")


def samplesheet(day: str, data_root: str) -> str:
    """The night's samplesheet (nf-core/rnaseq columns)."""
    rows = ["sample,fastq_1,fastq_2,strandedness"]
    for sample in SAMPLES:
        prefix = f"{data_root}/fastq/{day}/{sample}"
        rows.append(f"{sample},{prefix}_R1.fastq.gz,{prefix}_R2.fastq.gz,auto")
    return "\n".join(rows) + "\n"


def load_credentials(block: str | None) -> TowerCredentials:
    """A saved credentials block by name, else credentials from the TOWER_* variables."""
    name = block or os.environ.get("TOWER_CREDENTIALS_BLOCK")
    return TowerCredentials.load(name) if name else TowerCredentials()


@flow(
    name="nightly-rnaseq",
    retries=1,
    retry_delay_seconds=300,
    on_cancellation=[cancel_tower_runs],
)
def nightly(
    run_date: str | None = None,
    data_root: str = "s3://demo-bucket",
    credentials_block: str | None = None,
    poll_interval: float = 60.0,
    timeout_hours: float = 12.0,
) -> Workflow:
    """Run rnaseq on the night's samplesheet and return the final Tower workflow."""
    day = run_date or date.today().isoformat()
    credentials = load_credentials(credentials_block)
    sheet = samplesheet(day, data_root).encode()
    url = upload_dataset(
        credentials, "rnaseq-samplesheet", sheet, file_name=f"samplesheet-{day}.csv"
    )
    print(f"Samplesheet: {url}")
    workflow_id = launch_workflow(
        credentials,
        "rnaseq",
        params={"outdir": f"{data_root}/results/rnaseq/{day}"},
        run_name=f"nightly-{day}",
        launch_options={"dataset": url},
    )
    return wait_for_workflow(
        credentials, workflow_id, poll_interval=poll_interval, timeout=timeout_hours * 3600
    )


if __name__ == "__main__":
    nightly.serve(name="nightly-rnaseq", cron="0 2 * * *")
