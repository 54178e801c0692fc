"""Datasets: create (409 on a duplicate), get-or-create, exact lookups, upload from every kind
of source (multipart ``file``, media type by name, ``header``), reuse of a version with the same
content, the version URL and ``launch(dataset=...)``; both clients over HTTP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from nftower import (
    ConflictError,
    Dataset,
    DatasetUpload,
    DatasetVersion,
    NotFoundError,
    TowerConfigError,
    TowerConnectionError,
)
from nftower.testing import TowerEmulator

SHEET = "sample,fastq_1,fastq_2\nWT_REP1,s3://b/wt1_R1.fq.gz,s3://b/wt1_R2.fq.gz\n"


class FakeFrame:
    """Anything with ``to_csv()`` (a DataFrame) without pandas."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def to_csv(self, handle: Any, index: bool = True, sep: str = ",") -> None:
        assert index is False
        for row in self.rows:
            handle.write(sep.join(row) + "\n")


def uploads(emu: TowerEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/upload")]


def test_create_then_duplicate_name_is_a_conflict(tower: Any) -> None:
    created = tower.create_dataset("nightly", description="Tonight's samplesheet")
    assert isinstance(created, Dataset)
    assert (created.name, created.description) == ("nightly", "Tonight's samplesheet")
    with pytest.raises(ConflictError) as caught:
        tower.create_dataset("nightly")
    assert caught.value.status_code == 409
    assert "POST /datasets" in str(caught.value)
    assert "Error ID" not in str(caught.value)  # Tower's 409 carries none
    again = tower.get_or_create_dataset("nightly")
    assert again.id == created.id


def test_lookup_is_exact_over_every_page(tower: Any, tower_emulator: TowerEmulator) -> None:
    for n in range(105):
        tower.create_dataset(f"sheet-{n:03d}")
    target = tower.create_dataset("sheet")
    assert tower.get_dataset("sheet").id == target.id
    assert tower.get_dataset(target.id).name == "sheet"
    assert tower.get_dataset("sheet-104").name == "sheet-104"
    assert len(list(tower.list_datasets())) == 106
    with pytest.raises(NotFoundError, match="No dataset named exactly 'sheet-9'"):
        tower.get_dataset("sheet-9")


def test_upload_sources_media_types_and_header(tower: Any, tmp_path: Path) -> None:
    ds = tower.create_dataset("kinds")
    path = tmp_path / "from-disk.tsv"
    path.write_text(SHEET.replace(",", "\t"))
    from_path = tower.upload_dataset_version(ds, path)
    assert (from_path.file_name, from_path.media_type) == (
        "from-disk.tsv",
        "text/tab-separated-values",
    )
    from_bytes = tower.upload_dataset_version("kinds", b"a,b\n1,2\n", header=False)
    assert (from_bytes.file_name, from_bytes.media_type) == ("samplesheet.csv", "text/csv")
    assert from_bytes.has_header is False
    from_text = tower.upload_dataset_version(ds, io.StringIO(SHEET), file_name="text.csv")
    assert from_text.has_header is True
    assert from_text.file_size == len(SHEET.encode())
    frame = tower.upload_dataset_version(ds, FakeFrame([["x", "y"], ["1", "2"]]), file_name="f.tsv")
    assert frame.file_size == len(b"x\ty\n1\t2\n")
    versions = tower.list_dataset_versions("kinds")
    assert [v.version for v in versions] == [4, 3, 2, 1]
    assert tower.dataset_url("kinds") == versions[0].url
    assert tower.dataset_url(ds, version=1) == from_path.url
    assert from_path.url.endswith(f"/datasets/{ds.id}/v/1/n/from-disk.tsv")


def test_multipart_request_as_tower_takes_it(tower: Any, tower_emulator: TowerEmulator) -> None:
    ds = tower.create_dataset("wire")
    tower.upload_dataset_version(ds, SHEET.encode(), file_name="s.csv")
    (upload,) = uploads(tower_emulator)
    assert upload.query["header"] == "true"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert upload.status == 200


def test_same_content_is_reused_not_uploaded_twice(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    ds = tower.create_dataset("retry")
    first = tower.upload_dataset_version(ds, SHEET.encode())
    again = tower.upload_dataset_version(ds, io.StringIO(SHEET))  # the task's retry
    assert (again.version, again.url) == (first.version, first.url)
    assert len(uploads(tower_emulator)) == 1
    changed = tower.upload_dataset_version(ds, (SHEET + "KO,a,b\n").encode())
    assert changed.version == 2
    no_header = tower.upload_dataset_version(ds, SHEET.encode(), header=False)
    assert no_header.version == 3  # same bytes, other header setting: a new version
    assert len(uploads(tower_emulator)) == 3


def test_upload_is_not_retried_blindly_and_a_landed_version_is_found(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    ds = tower.create_dataset("lost")
    tower_emulator.inject("drop_after", method="POST", path=f"/datasets/{ds.id}/upload")
    version = tower.upload_dataset_version(ds, SHEET.encode())
    assert version.version == 1
    assert len(uploads(tower_emulator)) == 1  # the answer was lost; the version was found
    tower_emulator.inject("drop_before", method="POST", path=f"/datasets/{ds.id}/upload")
    with pytest.raises(TowerConnectionError):
        tower.upload_dataset_version(ds, b"other,content\n")
    assert len(uploads(tower_emulator)) == 2
    assert [v.version for v in tower.list_dataset_versions(ds)] == [1]


def test_launch_with_a_dataset_passes_the_version_url(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    sheet = DatasetUpload("tonight", SHEET.encode())
    workflow_id = tower.launch("hello", dataset=sheet)
    url = tower.dataset_url("tonight")
    assert tower_emulator.workflow(workflow_id)["params"]["input"] == url
    named = tower.launch("hello", dataset="tonight", dataset_param="samplesheet")
    assert tower_emulator.workflow(named)["params"]["samplesheet"] == url


def test_ensure_run_with_a_dataset_on_a_task_retry(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    sheet = DatasetUpload("retry-sheet", SHEET.encode(), description="nightly")
    first = tower.ensure_run("hello", run_name="nightly-ds", dataset=sheet)
    again = tower.ensure_run("hello", run_name="nightly-ds", dataset=sheet)
    assert again.workflow_id == first.workflow_id
    assert len(tower_emulator.launches) == 1
    assert len(uploads(tower_emulator)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": 42}, "dataset must be"),
        ({"dataset": "x", "dataset_param": ""}, "dataset_param"),
        ({"dataset": DatasetUpload("bad name", b"a")}, "Dataset name"),
    ],
)
def test_bad_dataset_arguments_fail_before_any_call(
    tower: Any, tower_emulator: TowerEmulator, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TowerConfigError, match=message):
        tower.launch("hello", **kwargs)
    assert tower_emulator.requests == []


def test_bad_upload_input_fails_before_any_call(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    with pytest.raises(TowerConfigError, match=r"\.csv or \.tsv"):
        tower.upload_dataset_version("x", b"a", file_name="sheet.xlsx")
    with pytest.raises(TowerConfigError, match="does not exist"):
        tower.upload_dataset_version("x", tmp_path / "missing.csv")
    with pytest.raises(TowerConfigError, match="to_csv"):
        tower.upload_dataset_version("x", 3.14)
    assert tower_emulator.requests == []


def test_version_model_is_exported() -> None:
    assert DatasetVersion.model_validate({"version": {"version": 3}}).version == 3
