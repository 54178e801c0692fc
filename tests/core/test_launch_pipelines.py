"""Which pipeline a launch starts: launchpad names (own and shared), GitHub's short form
``owner/repo``, Git URLs of GitHub, GitLab and Bitbucket; unknown and ambiguous names."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from nftower import NotFoundError, TowerConfigError
from nftower.testing import TowerEmulator

HELLO = "https://github.com/nextflow-io/hello"
SANDBOX = 227463125598201  # the seeded workspace that shares its pipelines (viralrecon)


def last_launch(emu: TowerEmulator) -> dict[str, Any]:
    body = emu.launches[-1].json
    assert isinstance(body, dict)
    launch: dict[str, Any] = body["launch"]
    return launch


def operations(emu: TowerEmulator, operation: str) -> list[Any]:
    """Recorded requests of ``operation`` (``"GET /pipelines/*/launch"``: ``*`` is one segment)."""
    pattern = re.compile("^" + re.escape(operation).replace(r"\*", "[^/]+") + "$")
    return [r for r in emu.requests if pattern.match(r.operation)]


def test_short_form_launches_the_github_repository(
    tower: Any, tower_emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="nftower"):
        workflow_id = tower.launch("nextflow-io/hello")
    launch = last_launch(tower_emulator)
    assert launch["pipeline"] == "nextflow-io/hello"
    assert "id" not in launch  # no saved launch: the repository itself
    run = tower.get_workflow(workflow_id)
    assert run.project_name == "nextflow-io/hello"
    assert run.repository == HELLO
    assert any("as the GitHub repository" in r.getMessage() for r in caplog.records)


def test_short_form_prefers_a_launchpad_pipeline_of_that_exact_name(
    tower: Any, tower_emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline_id = tower_emulator.add_pipeline(
        "nf-core/rnaseq", "https://github.com/nf-core/rnaseq", launch={"revision": "3.14.0"}
    )
    with caplog.at_level("INFO", logger="nftower"):
        tower.launch("nf-core/rnaseq")
    launch = last_launch(tower_emulator)
    assert launch["id"]  # the launchpad pipeline's saved launch
    assert launch["revision"] == "3.14.0"
    assert [r.path for r in operations(tower_emulator, "GET /pipelines/*/launch")] == [
        f"/pipelines/{pipeline_id}/launch"
    ]
    assert any(
        "launchpad pipeline named 'nf-core/rnaseq'" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    ("url", "project"),
    [
        ("https://github.com/nextflow-io/hello.git", "nextflow-io/hello"),
        ("https://gitlab.com/acme/genomics/align", "acme/genomics/align"),
        ("https://bitbucket.org/acme/variants.git", "acme/variants"),
        ("git@github.com:nextflow-io/hello.git", "nextflow-io/hello"),
    ],
)
def test_git_urls_of_github_gitlab_and_bitbucket(
    tower: Any, tower_emulator: TowerEmulator, url: str, project: str
) -> None:
    workflow_id = tower.launch(url)
    assert last_launch(tower_emulator)["pipeline"] == url
    assert tower.get_workflow(workflow_id).project_name == project


def test_pipeline_look_ups_ask_for_every_visibility(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello")
    tower.launch("nextflow-io/hello")
    looked_up = operations(tower_emulator, "GET /pipelines")
    assert len(looked_up) == 2
    assert all(r.query.get("visibility") == "all" for r in looked_up)


def test_a_shared_pipeline_is_launched_with_its_source_workspace(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    primary = next(env for env in tower.list_compute_envs() if env.primary)
    workflow_id = tower.launch("viralrecon")  # shared by the sandbox workspace
    described = operations(tower_emulator, "GET /pipelines/*/launch")[-1]
    assert described.query["sourceWorkspaceId"] == str(SANDBOX)
    assert tower_emulator.launches[-1].query["sourceWorkspaceId"] == str(SANDBOX)
    launch = last_launch(tower_emulator)
    assert launch["computeEnvId"] == primary.id  # the launching workspace's environment
    assert launch["workDir"] == primary.work_dir
    assert tower.get_workflow(workflow_id).project_name == "nf-core/viralrecon"


def test_the_emulator_needs_the_source_workspace_of_a_shared_pipeline(
    tower_emulator: TowerEmulator,
) -> None:
    ws = {"workspaceId": tower_emulator.workspace_id}
    headers = {"Authorization": f"Bearer {tower_emulator.token}"}
    with httpx.Client(base_url=tower_emulator.url, headers=headers) as api:
        own = api.get("/pipelines", params=ws).json()["pipelines"]
        every = api.get("/pipelines", params={**ws, "visibility": "all"}).json()["pipelines"]
        shared = api.get("/pipelines", params={**ws, "visibility": "shared"}).json()["pipelines"]
        assert "viralrecon" not in {p["name"] for p in own}
        assert [p["name"] for p in shared] == ["viralrecon"]
        assert {p["name"] for p in every} == {p["name"] for p in own} | {"viralrecon"}
        viralrecon = shared[0]
        assert viralrecon["workspaceId"] == SANDBOX
        path = f"/pipelines/{viralrecon['pipelineId']}/launch"
        assert api.get(path, params=ws).status_code == 403
        sourced = {**ws, "sourceWorkspaceId": SANDBOX}
        saved = api.get(path, params=sourced).json()["launch"]
        primary = next(e for e in api.get("/compute-envs", params=ws).json()["computeEnvs"])
        body = {
            "launch": {
                "id": saved["id"],
                "pipeline": saved["pipeline"],
                "computeEnvId": primary["id"],
            }
        }
        refused = api.post("/workflow/launch", params=ws, json=body)
        assert refused.status_code == 400
        assert "not found" in refused.json()["message"]
        accepted = api.post("/workflow/launch", params=sourced, json=body)
        assert accepted.status_code == 200, accepted.text
        assert api.get("/pipelines", params={**ws, "visibility": "everything"}).status_code == 400


def test_two_launchpad_pipelines_of_one_name_is_an_ambiguity_error(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    seeded = next(p.id for p in tower.list_pipelines(search="hello") if p.name == "hello")
    second = tower_emulator.add_pipeline("hello", HELLO)
    with pytest.raises(TowerConfigError, match="2 launchpad pipelines are named 'hello'") as caught:
        tower.launch("hello")
    assert str(seeded) in str(caught.value)
    assert str(second) in str(caught.value)
    assert tower_emulator.launches == []
    tower.launch(second)  # by id, it launches
    assert len(tower_emulator.launches) == 1


@pytest.mark.parametrize(("name", "close"), [("helo", "hello"), ("RNAseq", "rnaseq")])
def test_an_unknown_pipeline_lists_close_matches(
    tower: Any, tower_emulator: TowerEmulator, name: str, close: str
) -> None:
    with pytest.raises(NotFoundError, match=f"close matches: {close}"):
        tower.launch(name)
    assert tower_emulator.launches == []
