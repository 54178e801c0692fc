"""The datasets and run-file operations of the emulator, driven with plain httpx (multipart
uploads with and without a header, downloads, errors), checked against the official schema."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import openapi_contract as contract
import pytest
from nftower.testing import RecordedRequest, TowerEmulator

pytestmark = pytest.mark.contract

DATA_OPERATIONS = {
    "GET /datasets",
    "POST /datasets",
    "GET /datasets/versions",
    "GET /datasets/{datasetId}/versions",
    "POST /datasets/{datasetId}/upload",
    "GET /datasets/{datasetId}/v/{version}/n/{fileName}",
    "GET /workflow/{workflowId}/download",
    "GET /workflow/{workflowId}/download/{taskId}",
}
SHEET = b"sample,fastq_1\nWT,s3://b/wt.fq.gz\n"


@pytest.fixture(scope="module")
def session() -> Iterator[list[RecordedRequest]]:
    contract.require_schema()
    with TowerEmulator(speed=0.01, rate_limit=None) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        with httpx.Client(base_url=emu.url, headers=headers) as api:
            _drive(emu, api)
        yield emu.requests


def _drive(emu: TowerEmulator, api: httpx.Client) -> None:
    ws = {"workspaceId": emu.workspace_id}
    created = api.post("/datasets", params=ws, json={"name": "sheet", "description": "d"})
    dataset_id = created.json()["dataset"]["id"]
    api.post("/datasets", params=ws, json={"name": "sheet"})  # 409
    api.post("/datasets", params=ws, json={"name": "bad name"})  # 400
    upload = f"/datasets/{dataset_id}/upload"
    csv = {"file": ("sheet.csv", SHEET, "text/csv")}
    api.post(upload, params={**ws, "header": "true"}, files=csv)
    tsv = {"file": ("sheet.tsv", SHEET.replace(b",", b"\t"), "text/tab-separated-values")}
    api.post(upload, params={**ws, "header": "false"}, files=tsv)
    api.post(upload, params=ws, files={"file": ("sheet.xlsx", b"x", "application/zip")})  # 400
    api.get("/datasets", params={**ws, "search": "she", "max": 10, "offset": 0})
    api.get("/datasets", params={**ws, "sortBy": "modified", "sortDir": "desc"})
    api.get("/datasets/versions", params={**ws, "mimeType": "text/csv"})
    versions = api.get(f"/datasets/{dataset_id}/versions", params=ws).json()["versions"]
    api.get(f"/datasets/{dataset_id}/v/1/n/{versions[0]['fileName']}", params=ws)
    api.get(f"/datasets/{dataset_id}/v/9/n/none.csv", params=ws)  # 404
    api.get("/datasets/0000/versions", params=ws)  # 404
    launch = {"pipeline": "https://github.com/nextflow-io/hello", "paramsText": "{}"}
    launch["paramsText"] = '{"emulator_outcome": "fail", "emulator_duration": 5}'
    workflow_id = api.post("/workflow/launch", params=ws, json={"launch": launch}).json()[
        "workflowId"
    ]
    files = f"/workflow/{workflow_id}/download"
    api.get(files, params={**ws, "fileName": f"timeline-{workflow_id}.html"})  # 404: not yet
    emu.advance(100)
    for name in (f"nf-{workflow_id}.log", f"nf-{workflow_id}.txt", f"timeline-{workflow_id}.html"):
        api.get(files, params={**ws, "fileName": name})
    for name in (".command.out", ".command.err", ".command.log"):
        api.get(f"{files}/1", params={**ws, "fileName": name})
    api.get(f"{files}/99", params={**ws, "fileName": ".command.err"})  # 404
    api.get(files, params=ws)  # 400: no fileName
    emu.mark_cli_run(workflow_id)
    api.get(f"{files}/1", params={**ws, "fileName": ".command.err"})  # 400: a CLI run


def test_every_operation_is_exercised(session: list[RecordedRequest]) -> None:
    seen = {f"{r.method} {contract.operation_for(r.method, r.path)[0]}" for r in session}
    assert seen == DATA_OPERATIONS | {"POST /workflow/launch"}
    assert {r.status for r in session} >= {200, 400, 404, 409}


def test_whole_session_conforms(session: list[RecordedRequest]) -> None:
    assert contract.validate_session(session) == len(session)


def test_uploads_are_recorded_as_forms(session: list[RecordedRequest]) -> None:
    uploads = [r for r in session if r.path.endswith("/upload") and r.status == 200]
    assert [r.form["file"]["filename"] for r in uploads if r.form] == ["sheet.csv", "sheet.tsv"]
    assert [r.response_json["version"]["hasHeader"] for r in uploads] == [True, False]
    downloads = [r for r in session if "/download" in r.path and r.status == 200]
    assert {r.response_content_type for r in downloads} == {"text/plain; charset=utf-8"}


def test_validator_catches_wrong_forms_and_media_types(session: list[RecordedRequest]) -> None:
    upload = next(r for r in session if r.path.endswith("/upload") and r.status == 200)
    assert upload.form is not None
    wrong = {"upload": upload.form["file"]}
    with pytest.raises(contract.ContractError, match="upload"):
        contract.validate_exchange(dataclasses.replace(upload, form=wrong))
    download = next(r for r in session if r.path.endswith("/download") and r.status == 200)
    with pytest.raises(contract.ContractError, match="download -> 200"):
        contract.validate_exchange(
            dataclasses.replace(download, response_content_type="application/json")
        )
