"""docs/quickstart-core.md, docs/cli.md and the `tw` part of docs/migration.md say what the
command line and the client do: their shell and Python examples run against the emulator as
written, and the commands and options they name are the command line's own."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from nftower import TowerClient
from nftower.cli._commands import cli
from nftower.testing import TowerEmulator

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUICKSTART = (DOCS / "quickstart-core.md").read_text(encoding="utf-8")
CLI_PAGE = (DOCS / "cli.md").read_text(encoding="utf-8")
MIGRATION = (DOCS / "migration.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
FAST = pytest.mark.tower_emulator(speed=200, rate_limit=None)


def blocks(text: str, language: str, containing: str = "") -> list[str]:
    return [b for b in re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL) if containing in b]


def one_block(text: str, language: str, containing: str) -> str:
    (found,) = blocks(text, language, containing)
    return found


def shell(emu: TowerEmulator, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with bash, the TOWER_* variables of ``emu`` exported as the page says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        TOWER_API_ENDPOINT=emu.url,
        TOWER_ACCESS_TOKEN=emu.token,
        TOWER_WORKSPACE_ID=str(emu.workspace_id),
        NFTOWER_RATE_LIMIT_BACKEND="memory://",
    )
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def short(script: str) -> str:
    """The script with 1-second polls shortened (the emulator is fast)."""
    return script.replace("nftower launch hello --wait", "nftower launch hello --wait "
                          "--poll-interval 0.1").replace(
        "--params params.yaml --wait", "--params params.yaml --wait --poll-interval 0.1"
    )  # fmt: skip


# -- the quick start ---------------------------------------------------------------------------


def test_the_emulator_prints_the_variables_the_quick_start_exports() -> None:
    exports = one_block(QUICKSTART, "bash", "export TOWER_API_ENDPOINT")
    names = re.findall(r"^export (\w+)=", exports, re.MULTILINE)
    assert names == ["TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN", "TOWER_WORKSPACE_ID"]
    assert "nftower emulator --speed 10" in one_block(QUICKSTART, "bash", "nftower emulator")
    with TowerEmulator() as emu:
        assert f"export TOWER_WORKSPACE_ID={emu.workspace_id}\n" in exports
        assert "http://127.0.0.1:8800" in exports  # the command's default port


@FAST
def test_the_quick_start_commands_run(tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    result = shell(tower_emulator, short(one_block(QUICKSTART, "bash", "runs list")), tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(r"SUCCEEDED \w+ \w+", first)  # as the comment says
    assert "ID" in result.stdout.splitlines()[1]  # the runs table
    assert result.stdout.rstrip().endswith("No runs found.") or "No runs found." in result.stderr


@FAST
def test_the_quick_start_failure_exits_1(tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    result = shell(tower_emulator, short(one_block(QUICKSTART, "bash", "params.yaml")), tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "exit code 1"
    assert "ended FAILED" in result.stderr  # the failure report
    assert "Nextflow log" in result.stderr


@FAST
def test_the_quick_start_python_examples_run(
    tower_emulator: TowerEmulator, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", tower_emulator.url)
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", tower_emulator.token)
    monkeypatch.setenv("TOWER_WORKSPACE_ID", str(tower_emulator.workspace_id))
    exec(one_block(QUICKSTART, "python", 'launch("hello")'), {})
    url, status = capsys.readouterr().out.splitlines()
    assert url.startswith(f"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/")
    assert status == "SUCCEEDED"
    exec(one_block(QUICKSTART, "python", "failure_report"), {})
    assert re.match(r"Run \w+ \(\w+\) ended FAILED, exit status 1: ", capsys.readouterr().out)


# -- the command line page ---------------------------------------------------------------------


def commands(group: click.Group = cli, prefix: str = "nftower") -> dict[str, click.Command]:
    """Every command of the command line by its full name (``nftower runs view``)."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(commands(command, f"{prefix} {name}"))
        else:
            found[f"{prefix} {name}"] = command
    return found


def written_rows() -> dict[str, str]:
    """The commands table: ``nftower runs view`` -> its options cell."""
    table = CLI_PAGE.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `(nftower [a-z ]+?)(?: [A-Z]+)?` \| (.*?) \|", table, re.MULTILINE)
    return dict(rows)


def test_the_commands_table_lists_every_command_and_option() -> None:
    rows = written_rows()
    assert set(rows) == set(commands())
    for name, command in commands().items():
        if name == "nftower emulator":
            assert "nftower-emulator" in rows[name]  # its options are the emulator's
            continue
        written = set(re.findall(r"--[a-z-]+", rows[name]))
        options = {o for p in command.params for o in p.opts if o.startswith("--")} - {"--help"}
        assert written == options, name


def test_the_arguments_the_page_names_are_the_commands() -> None:
    for name, command in commands().items():
        arguments = [p.name.upper() for p in command.params if isinstance(p, click.Argument)]
        row = next(line for line in CLI_PAGE.splitlines() if line.startswith(f"| `{name}"))
        for argument in arguments:
            assert argument in {"PIPELINE", "WORKFLOW_ID"}
            assert ("PIPELINE" if argument == "PIPELINE" else "ID") in row


def test_the_configuration_table_is_the_options_help() -> None:
    help_text = cli.commands["launch"].get_help(click.Context(cli.commands["launch"]))
    for variable in ("TOWER_API_ENDPOINT", "TOWER_WORKSPACE_ID"):
        assert variable in help_text
        assert variable in CLI_PAGE
    assert "--token" not in help_text  # the page says the token has no option


@FAST
def test_the_json_example_runs(tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    script = one_block(CLI_PAGE, "bash", "jq -r .id")
    jq = tmp_path / "jq"  # a stand-in for jq that reads one field, so the test needs no jq
    jq.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "print(json.load(sys.stdin)[sys.argv[2].lstrip('.')])\n"
    )
    jq.chmod(0o755)
    script = f'export PATH="{tmp_path}:$PATH"\n' + script.replace(
        'wait "$id"', 'wait "$id" --poll-interval 0.1'
    )
    result = shell(tower_emulator, script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "SUCCEEDED\n"


@FAST
def test_the_exit_codes_are_the_commands(tower_emulator: TowerEmulator, tmp_path: Path) -> None:
    with TowerClient(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id) as t:
        failed = t.launch("hello", params={"emulator_outcome": "fail"})
    codes = dict(re.findall(r"^\| (\d) \| (.*?) \|$", CLI_PAGE.split("## Exit codes", 1)[1], re.M))
    assert set(codes) == {"0", "1", "2"}
    checks = {
        "0": "nftower runs list",
        "1": f"nftower wait {failed} --poll-interval 0.1",
        "2": "nftower runs list --status sideways",
    }
    for code, command in checks.items():
        assert shell(tower_emulator, command, tmp_path).returncode == int(code), command
    no_token = shell(tower_emulator, "TOWER_ACCESS_TOKEN= nftower runs list", tmp_path)
    assert no_token.returncode == 2  # "a missing token"
    assert "missing token" in codes["2"]


@FAST
def test_runs_view_prints_the_run_url_the_page_describes(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    with TowerClient(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id) as t:
        workflow_id = t.launch("hello")
    result = shell(tower_emulator, f"nftower runs view {workflow_id}", tmp_path)
    url = f"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/{workflow_id}"
    assert re.search(rf"^Run URL\s+{re.escape(url)}$", result.stdout, re.MULTILINE)
    assert "/orgs/ORG/workspaces/WORKSPACE/watch/ID" in CLI_PAGE


# -- tw equivalents ----------------------------------------------------------------------------


def migration_commands() -> list[tuple[str, str]]:
    table = MIGRATION.split("### Command equivalents", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `(tw [^`]+)` \| `([^`]+)`", table, re.MULTILINE)


@pytest.mark.parametrize(("tw", "ours"), migration_commands())
def test_each_tw_equivalent_is_a_valid_command(
    tw: str, ours: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "params.yaml").write_text("outdir: s3://bucket/out\n")
    monkeypatch.chdir(tmp_path)
    if not ours.startswith("nftower "):
        assert ours == 'TowerClient().relaunch("4Bi5xBK6E2Nbhj")'
        assert callable(TowerClient.relaunch)
        return
    words = shlex.split(ours)[1:]
    command: click.Command = cli
    while isinstance(command, click.Group):
        command = command.commands[words.pop(0)]
    command.make_context(command.name or "", words)  # raises a UsageError if it does not parse


# -- the emulator in a CI job ------------------------------------------------------------------


def test_the_ci_job_of_the_emulator_page_runs(tmp_path: Path) -> None:
    text = (DOCS / "emulator.md").read_text(encoding="utf-8")
    script = one_block(text.split("### In a CI job", 1)[1], "bash", "nftower emulator")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", NFTOWER_RATE_LIMIT_BACKEND="memory://"
    )
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"SUCCEEDED \w+ \w+", lines[0])
    assert lines[1].startswith("FAILED ")
    assert "ended FAILED" in result.stderr
