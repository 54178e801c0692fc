"""The click commands of ``nftower`` (see the package docstring for exit codes)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nftower import __version__

from ._errors import EXIT_FAILED, EXIT_OK, CommandError, errors_for_people
from ._render import run_details, runs_table, to_json
from ._watch import follow, open_display

if TYPE_CHECKING:
    from nftower import TowerClient, Workflow

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = ("submitted", "running", "succeeded", "failed", "cancelled", "unknown")


def connection_options(command: F) -> F:
    """``--url``, ``--workspace`` and ``--json``, shared by every command talking to Tower."""
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (API field names) for scripts."
    )(command)
    command = click.option(
        "-w",
        "--workspace",
        metavar="ID|ORG/NAME",
        help="Workspace id or 'org/workspace' (default: $TOWER_WORKSPACE_ID, else personal).",
    )(command)
    return click.option(
        "--url",
        metavar="URL",
        help="Tower API URL (default: $TOWER_API_ENDPOINT, else https://api.cloud.seqera.io).",
    )(command)


def wait_options(command: F) -> F:
    """``--poll-interval`` and ``--timeout`` of the commands that wait for a run."""
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        help="Give up (exit 1) after this many seconds.",
    )(command)
    return click.option(
        "--poll-interval",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Seconds between status checks.",
    )(command)


def _client(url: str | None, workspace: str | None) -> TowerClient:
    """A client from the options, the rest from the TOWER_* environment variables."""
    from nftower import TowerClient

    return TowerClient(api_url=url, workspace=workspace)


def _echo_json(value: Any) -> None:
    click.echo(to_json(value))


def _finish(client: TowerClient, workflow: Workflow, as_json: bool) -> int:
    """Print the final run; exit code 0 for SUCCEEDED, else 1 with the failure report."""
    url = client.run_url(workflow)
    succeeded = workflow.status is not None and workflow.status.value == "SUCCEEDED"
    if as_json:
        _echo_json({**_dump(workflow), "runUrl": url})
    else:
        click.echo(f"{workflow.status} {workflow.id} {workflow.run_name or ''}".rstrip())
    if not succeeded:
        click.echo(client.failure_report(workflow).summary(), err=True)
    return EXIT_OK if succeeded else EXIT_FAILED


def _dump(workflow: Workflow) -> dict[str, Any]:
    return workflow.model_dump(mode="json", by_alias=True, exclude_none=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nftower", message="%(prog)s %(version)s")
def cli() -> None:
    """Launch, list, watch and cancel Nextflow Tower (Seqera Platform) runs.

    The access token is read from TOWER_ACCESS_TOKEN only (never an option, so it stays out of
    shell history and process lists). Exit codes: 0 done (a waited-for run SUCCEEDED),
    1 run FAILED / CANCELLED / timed out or Tower error, 2 usage or configuration error.
    """


@cli.command()
@click.argument("pipeline")
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, readable=True),
    help="JSON or YAML file of Nextflow params, merged over the pipeline's saved params.",
)
@click.option("--name", "run_name", help="Run name (default: Tower picks one).")
@click.option("--revision", help="Git revision (branch, tag or commit).")
@click.option("--compute-env", help="Compute environment name or id.")
@click.option("--work-dir", help="Work directory.")
@click.option("--profile", "profiles", multiple=True, help="Nextflow config profile (repeatable).")
@click.option("--label", "labels", multiple=True, help="Label name or key=value (repeatable).")
@click.option("--wait", "wait_for_it", is_flag=True, help="Wait for the run; exit by its outcome.")
@wait_options
@connection_options
def launch(
    pipeline: str,
    params_file: str | None,
    run_name: str | None,
    revision: str | None,
    compute_env: str | None,
    work_dir: str | None,
    profiles: Sequence[str],
    labels: Sequence[str],
    wait_for_it: bool,
    poll_interval: float,
    timeout: float | None,
    url: str | None,
    workspace: str | None,
    as_json: bool,
) -> None:
    """Launch PIPELINE: a launchpad pipeline (name or id) or a repository URL."""
    with errors_for_people(), _client(url, workspace) as client:
        workflow_id = client.launch(
            pipeline,
            params=params_file,
            run_name=run_name,
            revision=revision,
            compute_env=compute_env,
            work_dir=work_dir,
            config_profiles=list(profiles) or None,
            labels=list(labels) or None,
        )
        workflow = client.get_workflow(workflow_id)
        if not wait_for_it:
            if as_json:
                _echo_json({**_dump(workflow), "runUrl": client.run_url(workflow)})
            else:
                click.echo(f"Launched run {workflow.run_name} ({workflow_id})")
                click.echo(f"Run URL: {client.run_url(workflow) or '-'}")
            return
        click.echo(f"Launched run {workflow.run_name} ({workflow_id})", err=True)
        click.echo(f"Run URL: {client.run_url(workflow) or '-'}", err=True)
        with open_display() as display:
            final = follow(
                client, workflow_id, display, poll_interval=poll_interval, timeout=timeout
            )
        sys.exit(_finish(client, final, as_json))


@cli.group()
def runs() -> None:
    """List and inspect runs."""


@runs.command("list")
@click.option(
    "--status",
    type=click.Choice(STATUSES, case_sensitive=False),
    help="Only runs with this status.",
)
@click.option("--search", help="Free text: part of the run name, pipeline or user.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many runs, newest first.",
)
@connection_options
def list_runs(
    status: str | None,
    search: str | None,
    limit: int,
    url: str | None,
    workspace: str | None,
    as_json: bool,
) -> None:
    """List the runs of the workspace, newest first."""
    terms = [search] if search else []
    if status:
        terms.append(f"status:{status.lower()}")
    with errors_for_people(), _client(url, workspace) as client:
        found = list(itertools.islice(client.list_workflows(search=" ".join(terms) or None), limit))
        if as_json:
            _echo_json([{**_dump(wf), "runUrl": client.run_url(wf)} for wf in found])
        elif found:
            click.echo(runs_table(found))
        else:
            click.echo("No runs found.", err=True)


@runs.command("view")
@click.argument("workflow_id", metavar="ID")
@connection_options
def view_run(workflow_id: str, url: str | None, workspace: str | None, as_json: bool) -> None:
    """Show one run: status, times, task counts, tasks and run URL."""
    with errors_for_people(), _client(url, workspace) as client:
        workflow = client.get_workflow(workflow_id)
        tasks = client.list_tasks(workflow_id)
        run_url = client.run_url(workflow)
        if as_json:
            _echo_json({**_dump(workflow), "runUrl": run_url, "tasks": tasks})
        else:
            click.echo(run_details(workflow, run_url, tasks))


@cli.command()
@click.argument("workflow_id", metavar="ID")
@wait_options
@connection_options
def wait(
    workflow_id: str,
    poll_interval: float,
    timeout: float | None,
    url: str | None,
    workspace: str | None,
    as_json: bool,
) -> None:
    """Wait for run ID to end; exit 0 if it SUCCEEDED, 1 otherwise."""
    with errors_for_people(), _client(url, workspace) as client:
        with open_display() as display:
            final = follow(
                client, workflow_id, display, poll_interval=poll_interval, timeout=timeout
            )
        sys.exit(_finish(client, final, as_json))


@cli.command()
@click.argument("workflow_id", metavar="ID")
@click.option("--force", is_flag=True, help="Mark it cancelled even if the compute env cannot.")
@connection_options
def cancel(
    workflow_id: str, force: bool, url: str | None, workspace: str | None, as_json: bool
) -> None:
    """Cancel run ID (a run that already ended is left as it is)."""
    with errors_for_people(), _client(url, workspace) as client:
        client.cancel(workflow_id, force=force)
        workflow = client.get_workflow(workflow_id)
        if as_json:
            _echo_json({**_dump(workflow), "runUrl": client.run_url(workflow)})
        else:
            click.echo(
                f"Cancel requested: {workflow.run_name} ({workflow_id}) is {workflow.status}"
            )


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def emulator(ctx: click.Context) -> None:
    """Serve a local Tower emulator (the nftower-emulator options; --help lists them)."""
    from nftower.testing.cli import main as emulator_main

    sys.exit(emulator_main(ctx.args, prog="nftower emulator"))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns its exit code instead of exiting."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="nftower")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_FAILED)
    return EXIT_OK


__all__ = ["CommandError", "cli", "run"]
