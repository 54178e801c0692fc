"""A full client session whose every HTTP exchange is validated against the official schema.

The stricter checks of ``openapi_contract`` (no undeclared query parameters, no unknown body
fields) catch a misspelt parameter or launch field that Tower would silently ignore.
"""

from __future__ import annotations

from typing import Any

import pytest
from nftower.testing import TowerEmulator

pytestmark = pytest.mark.contract


def test_full_session_conforms_to_the_openapi_schema(
    tower_emulator: TowerEmulator, make_client: Any
) -> None:
    import openapi_contract

    openapi_contract.require_schema()
    tower = make_client(tower_emulator.url, tower_emulator.token, "demo-org/demo-workspace")
    tower.service_info()
    tower.list_workspaces()
    list(tower.list_pipelines(search="hello"))
    tower.get_pipeline(tower.get_pipeline("rnaseq").pipeline_id)
    tower.list_compute_envs(status="AVAILABLE")
    list(tower.list_labels(search="night"))
    launched = tower.launch(
        "rnaseq",
        params={"outdir": "s3://demo-bucket/results/2024-06-01"},
        run_name="contract-1",
        revision="3.14.0",
        config_profiles=["test"],
        labels=["nightly", "contract"],
        create_labels=True,
        pull_latest=True,
        headJobCpus=2,
    )
    tower.launch("https://github.com/nextflow-io/hello", compute_env="demo-ce-spot")
    wf = tower.wait(launched, poll_interval=0.05, timeout=30)
    tower.get_progress(launched)
    tower.list_tasks(launched)
    tower.get_log(launched)
    tower.find_workflow("contract-1")
    list(tower.list_workflows(search="status:succeeded"))
    handle = tower.ensure_run("hello", run_name="contract-2", params={"emulator_outcome": "fail"})
    tower.wait(handle.workflow_id, poll_interval=0.05, timeout=30)
    tower.failure_report(handle.workflow_id)
    resumed = tower.ensure_run("hello", run_name="contract-2")
    tower.cancel(resumed.workflow_id, force=True)
    tower.relaunch(wf.id or "", resume=False)
    tower.request("GET", "/user-info")

    records = tower_emulator.requests
    operations = {r.operation for r in records}
    assert len(operations) >= 15
    checked = openapi_contract.validate_session(records)
    assert checked == len(records)
