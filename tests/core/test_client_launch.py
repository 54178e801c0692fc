"""launch() and relaunch(): the request Tower receives, checked on the emulator's records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from nftower import TowerConfigError, WorkflowStatus
from nftower.testing import TowerEmulator

POLL = 0.05


def last_launch(emu: TowerEmulator) -> dict[str, Any]:
    body = emu.launches[-1].json
    assert isinstance(body, dict)
    launch = body["launch"]
    assert isinstance(launch, dict)
    return launch


def params_of(launch: dict[str, Any]) -> dict[str, Any]:
    loaded = json.loads(launch["paramsText"])
    assert isinstance(loaded, dict)
    return loaded


def test_launchpad_launch_merges_over_the_saved_launch(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    workflow_id = tower.launch("rnaseq", params={"outdir": "s3://out/2024-06-01", "extra": 1})
    launch = last_launch(tower_emulator)
    assert launch["pipeline"] == "https://github.com/nf-core/rnaseq"
    assert launch["computeEnvId"]
    assert launch["workDir"]
    assert launch["id"]  # the saved launch's id
    assert params_of(launch) == {
        "input": "s3://demo-bucket/samplesheet.csv",  # from the saved YAML params
        "outdir": "s3://out/2024-06-01",
        "extra": 1,
    }
    assert tower_emulator.launches[-1].query["workspaceId"] == str(tower_emulator.workspace_id)
    assert tower.get_workflow(workflow_id).id == workflow_id


def test_params_mode_replace(tower: Any, tower_emulator: TowerEmulator) -> None:
    tower.launch("rnaseq", params={"only": "this"}, params_mode="replace")
    assert params_of(last_launch(tower_emulator)) == {"only": "this"}


def test_params_from_files(tower: Any, tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(json.dumps({"outdir": "s3://json"}))
    as_yaml = tmp_path / "p.yml"
    as_yaml.write_text(yaml.safe_dump({"outdir": "s3://yaml", "date": "2024-06-01"}))
    tower.launch("rnaseq", params=as_json)
    assert params_of(last_launch(tower_emulator))["outdir"] == "s3://json"
    tower.launch("rnaseq", params=str(as_yaml))
    assert params_of(last_launch(tower_emulator))["outdir"] == "s3://yaml"


def test_dates_in_params_become_iso_strings(tower: Any, tower_emulator: TowerEmulator) -> None:
    import datetime as dt

    tower.launch("rnaseq", params={"day": dt.date(2024, 6, 1)})
    assert params_of(last_launch(tower_emulator))["day"] == "2024-06-01"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": "missing.json"}, "not found"),
        ({"params": "params.txt"}, ".json"),
        ({"params": 42}, "dict"),
        ({"params": {"x": object()}}, "cannot be sent"),
        ({"params_mode": "append"}, "params_mode"),
        ({"run_name": "Not Valid"}, "run name"),
        ({"labels": ["ok", ""]}, "labels"),
        ({"labels": [0]}, "labels"),
        ({"config_profiles": [""]}, "config_profiles"),
        ({"pull_latest": "yes"}, "pull_latest"),
        ({"revision": 3}, "revision"),
        ({"headJobCPUs": 2}, "headJobCpus"),
        ({"runName": "x"}, "run_name="),
        ({"params_text": "{}"}, "params="),
        ({"nosuchfield": 1}, "Unknown launch field"),
    ],
)
def test_bad_input_rejected_before_any_call(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    if kwargs.get("params") == "params.txt":
        kwargs = {"params": tmp_path / "params.txt"}
        kwargs["params"].write_text("x")
    with pytest.raises(TowerConfigError, match=message):
        tower.launch("hello", **kwargs)
    assert tower_emulator.requests == []


def test_bad_params_file_content(tower: Any, tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [unclosed")
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    for path, message in ((broken, "not valid YAML"), (listing, "mapping")):
        with pytest.raises(TowerConfigError, match=message):
            tower.launch("hello", params=path)
    assert tower_emulator.requests == []


def test_launch_fields_and_extras(tower: Any, tower_emulator: TowerEmulator) -> None:
    tower.launch(
        "hello",
        run_name="fields-1",
        revision="v1.2",
        config_profiles=["docker", "test"],
        config_text="process.cpus = 2",
        pre_run_script="echo pre",
        post_run_script="echo post",
        pull_latest=True,
        stub_run=False,
        work_dir="s3://demo-bucket/other",
        headJobCpus=2,
        head_job_memory_mb=4096,
    )
    launch = last_launch(tower_emulator)
    expected = {
        "runName": "fields-1",
        "revision": "v1.2",
        "configProfiles": ["docker", "test"],
        "configText": "process.cpus = 2",
        "preRunScript": "echo pre",
        "postRunScript": "echo post",
        "pullLatest": True,
        "stubRun": False,
        "workDir": "s3://demo-bucket/other",
        "headJobCpus": 2,
        "headJobMemoryMb": 4096,
    }
    assert {key: launch.get(key) for key in expected} == expected


def test_repository_url_uses_the_primary_compute_env(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    primary = next(env for env in tower.list_compute_envs() if env.primary)
    tower.launch("https://github.com/nextflow-io/hello")
    launch = last_launch(tower_emulator)
    assert launch["pipeline"] == "https://github.com/nextflow-io/hello"
    assert launch["computeEnvId"] == primary.id
    assert launch["workDir"] == primary.work_dir
    assert "id" not in launch


def test_compute_env_by_name_or_id(tower: Any, tower_emulator: TowerEmulator) -> None:
    spot = next(env for env in tower.list_compute_envs() if env.name == "demo-ce-spot")
    tower.launch("https://github.com/nextflow-io/hello", compute_env="demo-ce-spot")
    assert last_launch(tower_emulator)["computeEnvId"] == spot.id
    assert last_launch(tower_emulator)["workDir"] == "s3://demo-bucket/spot"
    tower.launch("hello", compute_env=spot.id)
    assert last_launch(tower_emulator)["computeEnvId"] == spot.id
    with pytest.raises(TowerConfigError, match="no compute environment"):
        tower.launch("hello", compute_env="nope")


def test_labels_by_name(tower: Any, tower_emulator: TowerEmulator) -> None:
    known = {(label.name, label.value): label.id for label in tower.list_labels()}
    tower.launch("hello", labels=["nightly", "team=genomics", 100002])
    assert sorted(last_launch(tower_emulator)["labelIds"]) == sorted(
        [known[("nightly", None)], known[("team", "genomics")], 100002]
    )
    launches = len(tower_emulator.launches)
    with pytest.raises(TowerConfigError, match="create_labels=True"):
        tower.launch("hello", labels=["brand-new"])
    assert len(tower_emulator.launches) == launches
    assert not [r for r in tower_emulator.requests if r.operation == "POST /labels"]
    tower.launch("hello", labels=["brand-new", "nightly"], create_labels=True)
    created = {label.name: label.id for label in tower.list_labels()}["brand-new"]
    assert created in last_launch(tower_emulator)["labelIds"]


def test_relaunch_with_resume(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.launch("hello", run_name="resume-me", params={"emulator_outcome": "fail_once"})
    failed = tower.wait(first, poll_interval=POLL, timeout=30)
    assert failed.status is WorkflowStatus.FAILED
    second = tower.relaunch(first, run_name="resume-me-r1")
    launch = last_launch(tower_emulator)
    assert launch["resume"] is True
    assert launch["sessionId"] == failed.session_id
    assert launch["id"] == failed.launch_id
    assert launch["revision"]  # the resumeCommitId
    assert launch["runName"] == "resume-me-r1"
    resumed = tower.wait(second, poll_interval=POLL, timeout=30)
    assert resumed.status is WorkflowStatus.SUCCEEDED
    assert resumed.session_id == failed.session_id


def test_relaunch_without_resume(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.launch("hello", params={"emulator_outcome": "fail"})
    tower.wait(first, poll_interval=POLL, timeout=30)
    tower.relaunch(first, resume=False, params={"emulator_outcome": "succeed"})
    launch = last_launch(tower_emulator)
    assert launch["resume"] is False
    assert "sessionId" not in launch
    assert params_of(launch)["emulator_outcome"] == "succeed"


@pytest.mark.tower_emulator(speed=1)
def test_relaunch_falls_back_to_fresh_when_never_started(
    tower: Any, tower_emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    first = tower.launch("hello")
    tower.cancel(first)  # still SUBMITTED: it never started, so there is nothing to resume
    assert tower.get_workflow(first).status is WorkflowStatus.CANCELLED
    with caplog.at_level("WARNING", logger="nftower"):
        tower.relaunch(first, resume=True)
    assert last_launch(tower_emulator)["resume"] is False
    assert any("cannot be resumed" in r.getMessage() for r in caplog.records)
