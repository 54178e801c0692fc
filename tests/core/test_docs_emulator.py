"""docs/emulator.md says what the emulator does: its examples run, and its signatures, command
line, operations, records and admin API are the ones the code has."""

from __future__ import annotations

import dataclasses
import inspect
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from nftower import TowerClient
from nftower.testing import RecordedRequest, TowerEmulator
from nftower.testing._faults import FAULT_KINDS
from nftower.testing.cli import _parser
from test_contract_data import DATA_OPERATIONS
from test_contract_emulator import EXPECTED_OPERATIONS

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"
TEXT = DOC.read_text(encoding="utf-8")


def block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", TEXT, flags=re.DOTALL)
    found: list[str] = [code for code in blocks if containing in code]
    assert len(found) == 1, f"expected one {language} block with {containing!r}"
    return found[0]


def test_context_manager_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(block("python", "TowerEmulator(speed=20.0) as emu"), {})
    assert re.fullmatch(r"\{'workflowId': '\w+'\}\n", capsys.readouterr().out)


def test_constructor_is_written_as_it_is() -> None:
    signature = inspect.signature(TowerEmulator.__init__)
    written = ", ".join(
        str(p.replace(annotation=inspect.Parameter.empty)).replace("'", '"')
        for p in list(signature.parameters.values())[1:]
    )
    assert f"`TowerEmulator({written})`" in re.sub(r"\s+", " ", TEXT)


def test_command_line_options_are_the_parsers() -> None:
    usage = block("bash", "nftower-emulator [")
    written = set(re.findall(r"\[(--[\w-]+)", usage))
    actual = {
        option
        for action in _parser("nftower-emulator")._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert written == actual


def test_command_line_prints_what_the_page_shows() -> None:
    shown = block("text", "Tower emulator listening on").splitlines()
    command = [str(Path(sys.executable).parent / "nftower-emulator"), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 20
        while len(printed) < len(shown) and time.monotonic() < deadline:
            printed.append(process.stdout.readline().rstrip("\n"))
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    for line, example in zip(printed, shown, strict=True):
        # the example's URL, port and token differ; the shape of every line does not
        pattern = re.escape(example)
        pattern = pattern.replace(re.escape("127.0.0.1:8800"), r"127\.0\.0\.1:\d+")
        pattern = pattern.replace(re.escape("8c2..."), r"\S+")
        assert re.fullmatch(pattern, line), (line, example)


def test_fixture_example_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(block("python", "def test_from_env(tower_env)"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=3)


def test_outcome_example_steers_a_run(tower_emulator: TowerEmulator) -> None:
    namespace: dict[str, Any] = {}
    exec(block("python", "emulator_outcome"), namespace)
    emu = tower_emulator
    with TowerClient(emu.url, emu.token, emu.workspace_id) as tower:
        answer = tower.request(
            "POST",
            "/workflow/launch",
            params={"workspaceId": emu.workspace_id},
            json={"launch": namespace["launch"]},
        )
    record = emu.workflow(answer["workflowId"])
    assert (record["outcome"], record["duration"]) == ("fail_once", 5.0)
    assert record["params"]["input"] == "s3://bucket/samples.csv"


def documented_calls(heading: str) -> list[tuple[str, str]]:
    """(method, path) of every call in the first column of the table under ``heading``."""
    section = TEXT.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    calls: list[tuple[str, str]] = []
    for row in re.findall(r"^\| (.*?) \|", section, flags=re.MULTILINE):
        method, path = "", ""
        for item in re.findall(r"`([^`]+)`", row):
            if item.startswith("/") and method:  # `/tasks` after `GET /workflow/{id}/progress`
                path = path.rsplit("/", 1)[0] + item
            elif re.fullmatch(r"[A-Z]+ /\S*", item):
                method, path = item.split(" ", 1)
            else:
                continue
            calls.append((method, path))
    return calls


def test_every_documented_operation_is_served() -> None:
    calls = documented_calls("## Operations")
    shape = {(method, re.sub(r"\{\w+\}", "{}", path)) for method, path in calls}
    served = {
        tuple(re.sub(r"\{\w+\}", "{}", op).split(" ", 1))
        for op in EXPECTED_OPERATIONS | DATA_OPERATIONS
    }
    assert shape == served
    with TowerEmulator(rate_limit=None) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        for method, path in calls:
            url = emu.url + re.sub(r"\{\w+\}", "1", path)
            answer = httpx.request(
                method, url, headers=headers, params={"workspaceId": emu.workspace_id}
            )
            message = answer.json().get("message", "") if answer.content else ""
            assert answer.status_code != 405, (method, path)
            assert not message.startswith("Resource not found"), (method, path)


ADMIN_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/_emulator/faults"): {"kind": "status", "status": 502, "times": 1},
    ("POST", "/_emulator/workflows/{id}/status"): {"status": "FAILED"},
    ("POST", "/_emulator/advance"): {"seconds": 60},
    ("POST", "/_emulator/tokens"): {"token": "another-token"},
}


def test_every_documented_admin_call_works() -> None:
    calls = documented_calls("## Admin API")
    assert set(ADMIN_BODIES) <= set(calls)
    with TowerEmulator() as emu:
        with TowerClient(emu.url, emu.token, emu.workspace_id) as tower:
            workflow_id = tower.launch("hello")
        for method, path in calls:
            url = emu.url + path.replace("{id}", workflow_id)
            answer = httpx.request(method, url, json=ADMIN_BODIES.get((method, path)))
            assert answer.status_code < 300, (method, path, answer.text)
            assert emu.token not in answer.text
        assert emu.workflow(workflow_id)["status"] == "FAILED"


def test_records_and_stats_are_listed_in_full(tower_emulator: TowerEmulator) -> None:
    records = TEXT.split("each a\n`RecordedRequest` with", 1)[1].split(". Also:", 1)[0]
    fields = {f.name for f in dataclasses.fields(RecordedRequest)}
    assert set(re.findall(r"`([a-z_]+)`", records)) == fields
    stats = TEXT.split("- `emu.stats()`:", 1)[1].split(";", 1)[0]
    assert set(re.findall(r"`(\w+)`", stats)) == set(tower_emulator.stats())


def test_fault_kinds_are_the_emulators(tower_emulator: TowerEmulator) -> None:
    section = TEXT.split("## Fault injection", 1)[1].split("\n## ", 1)[0]
    kinds = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert tuple(kinds) == FAULT_KINDS
    for kind in kinds:
        tower_emulator.inject(kind, path="^/never$")
    with pytest.raises(ValueError):
        tower_emulator.inject("no_such_fault")
