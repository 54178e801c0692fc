"""Nightly launch of the "rnaseq" launchpad pipeline with the core client.

Runs against a real Tower / Seqera Platform when ``TOWER_ACCESS_TOKEN`` is set (with
``TOWER_API_ENDPOINT`` and ``TOWER_WORKSPACE_ID`` as usual), otherwise against a local Tower
emulator started here. It generates the day's samplesheet, uploads it as a version of the
``rnaseq-samplesheet`` dataset and launches with that version's URL as ``input``. Run it twice
on the same day: the second run reuses the version (same content) and reattaches to the run
instead of launching a duplicate (``ensure_run`` with a deterministic run name).

    python examples/core/nightly_launch.py [--date 2024-06-01] [--timeout 600] [--fail]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator

from nftower import TowerClient, Workflow, make_run_name

SAMPLES = ("WT_REP1", "WT_REP2", "KO_REP1")


def samplesheet(day: dt.date) -> str:
    """The day's samplesheet (nf-core/rnaseq columns): one row per sample of that night."""
    rows = ["sample,fastq_1,fastq_2,strandedness"]
    for sample in SAMPLES:
        prefix = f"s3://demo-bucket/fastq/{day:%Y/%m/%d}/{sample}"
        rows.append(f"{sample},{prefix}_R1.fastq.gz,{prefix}_R2.fastq.gz,auto")
    return "\n".join(rows) + "\n"


@contextlib.contextmanager
def tower_client() -> Iterator[tuple[TowerClient, float]]:
    """A client of the configured Tower, or of a local emulator (fast poll interval)."""
    if os.environ.get("TOWER_ACCESS_TOKEN"):
        with TowerClient() as client:
            yield client, 30.0
        return
    from nftower.testing import TowerEmulator

    with TowerEmulator(speed=20) as emulator:
        print(f"No TOWER_ACCESS_TOKEN set: using a local Tower emulator at {emulator.url}")
        workspace = f"{emulator.org_name}/{emulator.workspace_name}"
        with TowerClient(emulator.url, emulator.token, workspace) as client:
            yield client, 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--timeout", type=float, default=6 * 3600.0)
    parser.add_argument(
        "--fail", action="store_true", help="emulator only: make the run fail, to see the report"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is too chatty

    day: dt.date = args.date
    params = {
        "outdir": f"s3://demo-bucket/results/rnaseq/{day:%Y/%m/%d}",
        "run_date": day,
    }
    if args.fail:
        params["emulator_outcome"] = "fail"
    run_name = make_run_name("rnaseq-nightly", day.isoformat())

    with tower_client() as (tower, poll_interval):
        dataset = tower.get_or_create_dataset("rnaseq-samplesheet", "Nightly rnaseq samples")
        version = tower.upload_dataset_version(
            dataset, samplesheet(day).encode(), file_name=f"samplesheet-{day.isoformat()}.csv"
        )
        print(f"Samplesheet: version {version.version} of {dataset.name}: {version.url}")
        handle = tower.ensure_run("rnaseq", run_name=run_name, params=params, dataset=version)
        print(f"{handle.action.capitalize()} run {handle.run_name} ({handle.workflow_id})")
        print(f"Run page: {tower.run_url(tower.get_workflow(handle.workflow_id))}")

        def show(workflow: Workflow) -> None:
            print(f"  status: {workflow.status}")

        final = tower.wait(
            handle.workflow_id,
            poll_interval=poll_interval,
            timeout=args.timeout,
            on_change=show,
        )
        print(f"Final status: {final.status}")
        if final.status is not None and final.status.value == "SUCCEEDED":
            return 0
        print(tower.failure_report(final).summary(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
