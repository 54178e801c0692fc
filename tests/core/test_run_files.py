"""Run files: the main job's files and each task's ``.command.*`` streamed to a path or a file
object; 404 = gone, 400 = a run launched from the Nextflow CLI; the failure report's stderr
tails; ``RunOutputs``; both clients over HTTP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from nftower import BadRequestError, NotFoundError, RunOutputs, TowerConfigError, WorkflowStatus
from nftower.testing import TowerEmulator

POLL = 0.05


def finished(tower: Any, **params: Any) -> str:
    workflow_id = tower.launch("hello", params=params or None)
    tower.wait(workflow_id, poll_interval=POLL, timeout=30)
    return str(workflow_id)


def test_run_files_stream_to_a_path_and_a_file_object(tower: Any, tmp_path: Path) -> None:
    workflow_id = finished(tower)
    log = tmp_path / "nf.log"
    size = tower.download_run_file(workflow_id, f"nf-{workflow_id}.log", log)
    assert size == log.stat().st_size > 0
    assert "N E X T F L O W" in log.read_text()
    console = io.BytesIO(b"kept:")
    console.seek(5)
    tower.download_run_file(workflow_id, f"nf-{workflow_id}.txt", console)
    assert console.getvalue().startswith(b"kept:N E X T F L O W")
    timeline = tmp_path / "timeline.html"
    tower.download_run_file(workflow_id, f"timeline-{workflow_id}.html", timeline)
    assert timeline.read_text().startswith("<!DOCTYPE html>")


def test_task_files(tower: Any, tmp_path: Path) -> None:
    workflow_id = finished(tower, emulator_outcome="fail")
    failed = tower.list_tasks(workflow_id, status="FAILED")[0]
    err = tmp_path / "err"
    tower.download_task_file(workflow_id, failed.task_id, ".command.err", err)
    assert "ERROR" in err.read_text()
    out = io.BytesIO()
    tower.download_task_file(workflow_id, failed.task_id, ".command.out", out)
    assert b"processing" in out.getvalue()
    log = io.BytesIO()
    tower.download_task_file(workflow_id, failed.task_id, ".command.log", log)
    assert log.getvalue().endswith(err.read_bytes())


def test_a_file_gone_is_a_404_and_leaves_no_file(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    workflow_id = finished(tower)
    tower_emulator.expire_run_files(workflow_id, f"nf-{workflow_id}.log")
    target = tmp_path / "nf.log"
    with pytest.raises(NotFoundError, match="is gone") as caught:
        tower.download_run_file(workflow_id, f"nf-{workflow_id}.log", target)
    assert caught.value.status_code == 404
    assert "GET /workflow/{workflowId}/download" in str(caught.value)
    assert "Error ID" not in str(caught.value)  # Tower's 404 carries none
    assert list(tmp_path.iterdir()) == []


def test_a_run_from_the_nextflow_cli_is_a_400(tower: Any, tower_emulator: TowerEmulator) -> None:
    workflow_id = finished(tower)
    tower_emulator.mark_cli_run(workflow_id)
    with pytest.raises(BadRequestError, match="launched from the Nextflow CLI"):
        tower.download_task_file(workflow_id, 1, ".command.out", io.BytesIO())


def test_a_download_retried_after_a_dropped_answer_starts_over(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path, fast_sleep: list[float]
) -> None:
    workflow_id = finished(tower)
    name = f"nf-{workflow_id}.log"
    expected = tmp_path / "expected"
    tower.download_run_file(workflow_id, name, expected)
    tower_emulator.inject("drop_after", method="GET", path="/download$")
    again = tmp_path / "again"
    tower.download_run_file(workflow_id, name, again)
    assert again.read_bytes() == expected.read_bytes()
    downloads = [r for r in tower_emulator.requests if r.path.endswith("/download")]
    assert [r.status for r in downloads] == [200, None, 200]


def test_a_sink_restarts_from_where_it_began(tmp_path: Path) -> None:
    from nftower._sinks import FileSink

    handle = io.BytesIO(b"head:")
    handle.seek(5)
    sink = FileSink(handle)
    sink.write(b"partial")
    assert sink.restart()
    assert handle.getvalue() == b"head:"
    sink.write(b"whole")
    assert handle.getvalue() == b"head:whole"
    path_sink = FileSink(tmp_path / "f")
    path_sink.write(b"partial")
    assert path_sink.restart()
    path_sink.write(b"whole")
    path_sink.finish(True)
    assert (tmp_path / "f").read_bytes() == b"whole"


def test_bad_input_fails_before_any_call(tower: Any, tower_emulator: TowerEmulator) -> None:
    with pytest.raises(TowerConfigError, match="name must be one of"):
        tower.download_task_file("abc", 1, "secrets.txt", io.BytesIO())
    with pytest.raises(TowerConfigError, match="destination"):
        tower.download_run_file("abc", "nf-abc.log", 42)
    with pytest.raises(TowerConfigError, match="task_id"):
        tower.download_task_file("abc", "1", ".command.err", io.BytesIO())
    assert tower_emulator.requests == []


def test_failure_report_has_the_failed_tasks_stderr(tower: Any) -> None:
    workflow_id = finished(tower, emulator_outcome="fail")
    report = tower.failure_report(workflow_id)
    assert report.status is WorkflowStatus.FAILED
    (task,) = report.failed_tasks
    assert "ERROR: command" in report.task_stderr[task.task_id]
    summary = report.summary()
    assert ".command.err (tail):" in summary
    assert "exited with status 1" in summary


def test_failure_report_stderr_is_bounded(monkeypatch: pytest.MonkeyPatch, tower: Any) -> None:
    monkeypatch.setattr("nftower._run_files.STDERR_TAIL_BYTES", 16)
    workflow_id = finished(tower, emulator_outcome="fail")
    report = tower.failure_report(workflow_id)
    (tail,) = report.task_stderr.values()
    assert tail.startswith("...")
    assert len(tail) <= 16 + 3


def test_failure_report_survives_missing_stderr(tower: Any, tower_emulator: TowerEmulator) -> None:
    workflow_id = finished(tower, emulator_outcome="fail")
    tower_emulator.expire_run_files(workflow_id, ".command.err")
    report = tower.failure_report(workflow_id)
    assert report.failed_tasks
    assert report.task_stderr == {}


def test_run_outputs(tower: Any) -> None:
    workflow_id = finished(tower, outdir="s3://bucket/results/", input="x.csv")
    outputs = tower.run_outputs(workflow_id)
    assert isinstance(outputs, RunOutputs)
    assert outputs.outdirs == {"outdir": "s3://bucket/results"}
    assert outputs.work_dir
    assert outputs.workflow_id == workflow_id
