"""Every client operation, in every variant, with each HTTP exchange (request the client sent,
response the emulator gave) validated against the official schema.

The stricter checks of ``openapi_contract`` (no undeclared query parameters, no unknown body
fields) catch a misspelt parameter or launch field that Tower would silently ignore. Runs for
the sync and the async client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from nftower import DatasetUpload, WorkflowStatus
from nftower import _operations as ops
from nftower.testing import TowerEmulator
from test_contract_data import DATA_OPERATIONS
from test_contract_emulator import EXPECTED_OPERATIONS

pytestmark = pytest.mark.contract

POLL = 0.05
QUICK = {"emulator_duration": 1}
#: Every endpoint the client uses (all the emulator serves but these); the session reaches each.
CLIENT_ENDPOINTS = (EXPECTED_OPERATIONS | DATA_OPERATIONS) - {
    "GET /datasets/versions",
    "GET /orgs",
    "GET /orgs/{orgId}/workspaces",
    "DELETE /workflow/{workflowId}",
    "POST /workflow/labels/add",
    "GET /workflow/random-name",
}


class Recording:
    """A client proxy that notes which operations were called."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.called.add(name)
        return getattr(self.client, name)


def _identity_and_launchpad(tower: Any) -> None:
    assert tower.service_info().api_version
    assert tower.user_info().user_name
    assert tower.list_workspaces()
    assert tower.workspace_id()
    assert [p.name for p in tower.list_pipelines(search="hello")] == ["hello"]
    assert tower.get_pipeline(tower.get_pipeline("rnaseq").pipeline_id).name == "rnaseq"
    assert tower.list_compute_envs(status="AVAILABLE")
    assert list(tower.list_labels(search="night"))


def _launch_variants(tower: Any, tmp_path: Path) -> list[str]:
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump({"input": "s3://in.csv", **QUICK}))
    nightly = next(label.id for label in tower.list_labels(search="nightly"))
    return [
        tower.launch(  # launchpad name, merged params, labels by name (one created), extras
            "rnaseq",
            params={"outdir": "s3://out/2024-06-01", **QUICK},
            run_name="contract-1",
            revision="3.14.0",
            config_profiles=["test"],
            labels=["nightly", "contract"],
            create_labels=True,
            pull_latest=True,
            headJobCpus=2,
            head_job_memory_mb=4096,
        ),
        tower.launch(  # launchpad id, params file replacing the saved ones, label id
            tower.get_pipeline("hello").pipeline_id,
            params=params_file,
            params_mode="replace",
            labels=[nightly],
            config_text="process.cpus = 2",
            stub_run=True,
        ),
        tower.launch(  # repository URL: compute environment by name, own work dir and scripts
            "https://github.com/nextflow-io/hello",
            params=QUICK,
            compute_env="demo-ce-spot",
            work_dir="s3://demo-bucket/scratch",
            pre_run_script="echo pre",
            post_run_script="echo post",
            run_name="contract-url",
        ),
    ]


def _runs(tower: Any, launched: list[str]) -> None:
    first = launched[0]
    for workflow_id in launched:
        assert tower.wait(workflow_id, poll_interval=POLL, timeout=30).status.is_terminal
    assert tower.get_workflow(first).run_name == "contract-1"
    assert tower.find_workflow("contract-1") is not None
    assert tower.get_progress(first).workflow_progress is not None
    assert tower.list_tasks(first)
    assert tower.list_tasks(first, status="FAILED") == []
    assert tower.get_log(first, tail=5)
    assert list(tower.list_workflows(search="status:succeeded"))
    assert tower.request("GET", "/user-info")["user"]


def _failures_and_relaunches(tower: Any) -> None:
    failed = tower.launch(
        "hello",
        run_name="contract-2",
        params={"emulator_outcome": "fail"},
        launch_container="quay.io/seqeralabs/nf-launcher:j17-24.10.4",
    )
    assert tower.wait(failed, poll_interval=POLL, timeout=30).status is WorkflowStatus.FAILED
    assert tower.failure_report(failed).failed_tasks
    session = tower.get_workflow(failed).session_id
    handle = tower.ensure_run("hello", run_name="contract-2")
    assert (handle.action, handle.run_name) == ("resumed", "contract-2-r1")
    assert tower.wait(handle.workflow_id, poll_interval=POLL, timeout=30).session_id == session
    resumed = tower.relaunch(handle.workflow_id, resume=True, run_name="contract-2-manual")
    assert tower.get_workflow(resumed).session_id == session
    fresh = tower.relaunch(failed, resume=False, params=QUICK)
    assert tower.get_workflow(fresh).session_id != session
    hanging = tower.ensure_run("hello", run_name="contract-3", params={"emulator_outcome": "hang"})
    assert hanging.action == "launched"
    tower.cancel(hanging.workflow_id)
    tower.cancel(resumed, force=True)
    final = tower.wait(hanging.workflow_id, poll_interval=POLL, timeout=30)
    assert final.status is WorkflowStatus.CANCELLED


def _datasets_and_files(tower: Any, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("sample,fastq_1\nWT,s3://b/wt.fq.gz\n")
    dataset = tower.get_or_create_dataset("contract-sheet", description="contract")
    version = tower.upload_dataset_version(dataset, sheet)
    assert tower.upload_dataset_version(dataset, sheet.read_bytes()).version == version.version
    assert [d.name for d in tower.list_datasets(search="contract")] == ["contract-sheet"]
    assert tower.dataset_url("contract-sheet") == version.url
    workflow_id = tower.launch(
        "hello", dataset=DatasetUpload("contract-sheet", sheet), params=QUICK
    )
    assert tower.wait(workflow_id, poll_interval=POLL, timeout=30).status.is_terminal
    assert tower.download_run_file(workflow_id, f"nf-{workflow_id}.log", tmp_path / "nf.log")
    assert tower.download_task_file(workflow_id, 1, ".command.out", tmp_path / "out") > 0
    assert tower.run_outputs(workflow_id).work_dir


def test_every_operation_conforms_to_the_openapi_schema(
    tower_emulator: TowerEmulator, make_client: Any, tmp_path: Path
) -> None:
    import openapi_contract

    openapi_contract.require_schema()
    tower = Recording(
        make_client(tower_emulator.url, tower_emulator.token, "demo-org/demo-workspace")
    )
    _identity_and_launchpad(tower)
    launched = _launch_variants(tower, tmp_path)
    _runs(tower, launched)
    _failures_and_relaunches(tower)
    _datasets_and_files(tower, tmp_path)
    personal = make_client(tower_emulator.url, tower_emulator.token)  # no workspaceId at all
    assert personal.get_workflow(personal.launch("hello")).user_name == tower_emulator.user_name

    assert tower.called >= set(ops.__all__)
    records = tower_emulator.requests
    seen = {f"{r.method} {openapi_contract.operation_for(r.method, r.path)[0]}" for r in records}
    assert seen == CLIENT_ENDPOINTS
    assert any("workspaceId" not in r.query for r in records if r.path == "/workflow/launch")
    assert openapi_contract.validate_session(records) == len(records)
