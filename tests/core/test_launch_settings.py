"""What a launch takes from where: compute environments (listed AVAILABLE, an override's work
directory and scripts), resume in the run's resumeDir, the copy of a saved launch, labels, run
names and workspaces as users give them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from nftower import NotFoundError, TowerConfigError, WorkflowStatus
from nftower.testing import TowerEmulator

POLL = 0.05
HELLO = "https://github.com/nextflow-io/hello"


def last_launch(emu: TowerEmulator) -> dict[str, Any]:
    body = emu.launches[-1].json
    assert isinstance(body, dict)
    launch: dict[str, Any] = body["launch"]
    return launch


# --- compute environments -------------------------------------------------------------------------


def test_compute_environments_are_listed_available(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch(HELLO)
    tower.launch("hello", compute_env="demo-ce-spot")
    listed = [r for r in tower_emulator.requests if r.path == "/compute-envs"]
    assert len(listed) == 2
    assert all(r.query.get("status") == "AVAILABLE" for r in listed)


def test_a_compute_env_override_takes_its_work_dir_and_scripts(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello", compute_env="demo-ce-spot")  # the saved launch uses demo-ce
    launch = last_launch(tower_emulator)
    assert launch["workDir"] == "s3://demo-bucket/spot"
    assert launch["preRunScript"] == "export NXF_OPTS='-Xms512m'"
    assert launch["postRunScript"] == "echo 'spot run done'"
    tower.launch("hello", compute_env="demo-ce-spot", pre_run_script="echo mine")
    launch = last_launch(tower_emulator)
    assert launch["preRunScript"] == "echo mine"  # given: it wins
    assert launch["postRunScript"] == "echo 'spot run done'"
    tower.launch("hello", compute_env="demo-ce-spot", work_dir="s3://demo-bucket/mine")
    assert last_launch(tower_emulator)["workDir"] == "s3://demo-bucket/mine"


@pytest.mark.parametrize("pipeline", [HELLO, "nextflow-io/hello"])
def test_an_unavailable_primary_compute_env_is_an_error_before_the_launch(
    tower: Any, tower_emulator: TowerEmulator, pipeline: str
) -> None:
    tower_emulator.set_compute_env_status("demo-ce", "INVALID")
    with pytest.raises(TowerConfigError, match=r"primary compute environment 'demo-ce'.* INVALID"):
        tower.launch(pipeline)
    assert tower_emulator.launches == []


def test_an_unavailable_or_missing_named_compute_env_is_an_error_before_the_launch(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower_emulator.set_compute_env_status("demo-ce-spot", "ERRORED")
    with pytest.raises(TowerConfigError, match=r"'demo-ce-spot'.* ERRORED"):
        tower.launch("hello", compute_env="demo-ce-spot")
    with pytest.raises(TowerConfigError, match="no compute environment with id or name 'nope'"):
        tower.launch("hello", compute_env="nope")
    assert tower_emulator.launches == []


def test_no_primary_compute_env_is_an_error_before_the_launch(
    tower_emulator: TowerEmulator, make_client: Any
) -> None:
    tower_emulator.set_compute_env_status("sandbox-ce", "DISABLED")
    sandbox = make_client(tower_emulator.url, tower_emulator.token, "demo-org/sandbox")
    with pytest.raises(TowerConfigError, match="sandbox-ce"):
        sandbox.launch(HELLO)
    assert tower_emulator.launches == []


# --- resume ---------------------------------------------------------------------------------------


def test_a_resume_runs_in_the_resume_dir_of_the_run(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    first = tower.launch(
        "hello", work_dir="/scratch/$USER/work/", params={"emulator_outcome": "fail_once"}
    )
    failed = tower.wait(first, poll_interval=POLL, timeout=30)
    assert failed.status is WorkflowStatus.FAILED
    assert failed.work_dir == "/scratch/demo-user/work"  # as Nextflow reports it
    second = tower.relaunch(first)
    assert last_launch(tower_emulator)["workDir"] == "/scratch/demo-user/work"
    assert tower.wait(second, poll_interval=POLL, timeout=30).status is WorkflowStatus.SUCCEEDED


def test_the_emulator_refuses_a_resume_in_another_work_dir(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    first = tower.launch("hello", work_dir="~/work", params={"emulator_outcome": "fail"})
    failed = tower.wait(first, poll_interval=POLL, timeout=30)
    resume = {
        "launch": {
            "id": failed.launch_id,
            "pipeline": HELLO,
            "sessionId": failed.session_id,
            "resume": True,
            "workDir": "~/work",  # the launch's workDir, not the run's resumeDir
        }
    }
    answer = httpx.post(
        f"{tower_emulator.url}/workflow/launch",
        params={"workspaceId": tower_emulator.workspace_id},
        headers={"Authorization": f"Bearer {tower_emulator.token}"},
        json=resume,
    )
    assert answer.status_code == 400
    assert "/home/demo-user/work" in answer.json()["message"]


def test_a_work_dir_with_a_resume_is_refused_before_any_call(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    with pytest.raises(TowerConfigError, match="work_dir cannot be changed when resuming"):
        tower.relaunch("1a2b3c4d5e6f7g", work_dir="s3://demo-bucket/other")
    assert tower_emulator.requests == []


def test_ensure_run_resumes_in_the_resume_dir_even_with_a_work_dir(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    options = {"work_dir": "/scratch/$USER/nightly", "params": {"emulator_outcome": "fail_once"}}
    first = tower.ensure_run("hello", run_name="nightly-resume", **options)
    tower.wait(first.workflow_id, poll_interval=POLL, timeout=30)
    again = tower.ensure_run("hello", run_name="nightly-resume", **options)
    assert again.action == "resumed"
    assert last_launch(tower_emulator)["workDir"] == "/scratch/demo-user/nightly"


# --- saved launches -------------------------------------------------------------------------------


def test_copying_a_saved_launch_drops_its_session_resume_date_and_schema(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    saved = {
        "revision": "master",
        "sessionId": "7f4c1f0e-4b43-4c4e-9a36-52d0a4f1e1aa",
        "resume": True,
        "pipelineSchemaId": 4242,
    }
    tower_emulator.add_pipeline("hello-resumable", HELLO, launch=saved)
    workflow_id = tower.launch("hello-resumable")  # a resume of that session would answer 400
    launch = last_launch(tower_emulator)
    assert launch["revision"] == "master"
    assert not {"sessionId", "resume", "dateCreated", "pipelineSchemaId"} & set(launch)
    assert tower.get_workflow(workflow_id).session_id != saved["sessionId"]


# --- labels, run names, workspaces ----------------------------------------------------------------


@pytest.mark.parametrize("label", ["x", "y" * 40, "-nightly", "night--ly", "a b", "team="])
def test_invalid_labels_are_refused_before_any_call(
    tower: Any, tower_emulator: TowerEmulator, label: str
) -> None:
    with pytest.raises(TowerConfigError, match="label"):
        tower.launch("hello", labels=[label], create_labels=True)
    assert tower_emulator.requests == []


def test_labels_of_2_and_39_characters_are_created(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello", labels=["ab", "c" * 39], create_labels=True)
    names = {label.name for label in tower.list_labels()}
    assert {"ab", "c" * 39} <= names


def test_run_names_are_case_insensitive(tower: Any, tower_emulator: TowerEmulator) -> None:
    workflow_id = tower.launch("hello", run_name="Nightly-Run")
    assert tower.get_workflow(workflow_id).run_name == "Nightly-Run"


@pytest.mark.parametrize(
    ("workspace", "close"),
    [
        ("Demo-Org/Demo-Workspace", "demo-org/demo-workspace"),
        ("demo-org/sandbx", "demo-org/sandbox"),
    ],
)
def test_an_unknown_workspace_lists_close_matches(
    tower_emulator: TowerEmulator, make_client: Any, workspace: str, close: str
) -> None:
    tower = make_client(tower_emulator.url, tower_emulator.token, workspace)
    with pytest.raises(TowerConfigError, match=f"close matches: {close}"):
        tower.launch("hello")
    assert tower_emulator.launches == []


@pytest.mark.parametrize("workspace", [138659136604200.0, -138659136604200, True, False, 0])
def test_a_workspace_of_the_wrong_type_is_refused_before_any_call(
    tower_emulator: TowerEmulator, make_client: Any, workspace: Any
) -> None:
    with pytest.raises(TowerConfigError, match="workspace"):
        make_client(tower_emulator.url, tower_emulator.token, workspace)
    assert tower_emulator.requests == []


def test_an_unknown_pipeline_costs_no_launch(tower: Any, tower_emulator: TowerEmulator) -> None:
    with pytest.raises(NotFoundError, match="close matches: rnaseq"):
        tower.launch("rnaseqq")
    assert tower_emulator.launches == []
