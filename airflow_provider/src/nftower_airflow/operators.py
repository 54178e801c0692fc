"""TowerLaunchOperator: launch a Tower pipeline run once per task, then wait for it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, ResumableJobMixin, conf

from nftower_airflow._assets import emit_run_assets, outputs_alias
from nftower_airflow._events import failure_reason, validate_event
from nftower_airflow._naming import names_to_look_up, try_number
from nftower_airflow._runs import (
    TowerHookMixin,
    cancel_quietly,
    check_wait_values,
    execution_deadline,
    pull_run_url,
    push_run,
    raise_for_failure,
    seconds,
    status_text,
)
from nftower_airflow.exceptions import TowerRunTimeoutError, TowerTriggerEventError
from nftower_airflow.links import TowerRunLink

if TYPE_CHECKING:
    from nftower import TowerClient, Workflow


class TowerLaunchOperator(TowerHookMixin, ResumableJobMixin, BaseOperator):
    """Launch a pipeline on Nextflow Tower / Seqera Platform and wait until the run ends.

    .. important::
        Nextflow parameters go in ``pipeline_params``, **not** ``params``. ``params`` is Airflow's
        own argument on every operator (DAG-level Params, merged with the DAG's and validated by
        Airflow); whatever is passed there never reaches Tower. DAG Params can be used inside
        ``pipeline_params``: ``{"genome": "{{ params.genome }}"}``.

    Each task instance owns one run, named ``<dag_id>-<logical date>-<task_id>[-<map
    index>]-<hash of the DAG run id>`` (or ``run_name``). The run is looked up by that name
    (and by its former, longer name) before launching, so a retry or a crashed worker
    reattaches to the run it started instead of launching a second one; a retry of a FAILED
    run relaunches it with Nextflow resume (``resume_on_retry``). ``workflow_id`` and
    ``run_url`` go to XCom as soon as the run exists; the return value is the workflow id.

    Example:
        >>> from nftower_airflow.operators import TowerLaunchOperator
        >>> launch = TowerLaunchOperator(
        ...     task_id="rnaseq",
        ...     pipeline="rnaseq",                       # launchpad name, id or repository URL
        ...     pipeline_params={"input": "s3://bucket/{{ params.batch }}/samplesheet.csv"},
        ...     deferrable=True,
        ...     poll_interval=60,
        ... )

    :param pipeline: launchpad pipeline name or id, or a repository URL.
    :param pipeline_params: Nextflow params merged over the saved ones (dict or path to a JSON or
        YAML file); templated. Not ``params``: that is Airflow's DAG-level Params (see above).
    :param run_name: run name; default = a deterministic name for this task instance.
    :param tower_conn_id: Airflow connection id (type ``tower``).
    :param workspace: overrides the connection's workspace (id or ``"org/workspace"``).
    :param wait_for_completion: wait until the run ends (else return after the launch).
    :param deferrable: wait in the triggerer instead of the worker.
    :param poll_interval: seconds between status checks.
    :param timeout: how long to wait (seconds or timedelta); the run is then cancelled.
    :param unknown_timeout: seconds a run may stay UNKNOWN before it counts as failed.
    :param resume_on_retry: on a task retry, relaunch a FAILED run with Nextflow resume.
    :param cancel_on_kill: cancel the run when the task is killed or times out.
    :param dataset: a dataset name, id or version URL (templated, e.g. the URL a
        ``TowerDatasetUploadOperator`` returned); its version URL becomes ``dataset_param``.
    :param dataset_param: the pipeline parameter taking the dataset URL (``input``).
    :param tower_outputs_as_assets: on success, emit an asset event for each output location
        of the run (its ``outdir``-like params) through the alias ``tower-outputs-<task_id>``.
        Declared ``outlets`` get the run's id and URL in their event's extra.
    :param launch_kwargs: further ``nftower`` launch fields (``params_mode``, ``create_labels``,
        ``pull_latest``, ``stub_run``, or raw launch JSON fields).
    """

    template_fields: Sequence[str] = (
        "pipeline",
        "pipeline_params",
        "run_name",
        "revision",
        "labels",
        "compute_env",
        "work_dir",
        "config_profiles",
        "config_text",
        "pre_run_script",
        "post_run_script",
        "workspace",
        "dataset",
        "launch_kwargs",
    )
    template_fields_renderers = {"pipeline_params": "json", "launch_kwargs": "json"}
    operator_extra_links = (TowerRunLink(),)
    external_id_key = "tower_workflow_id"
    ui_color = "#0dc09d"

    def __init__(
        self,
        *,
        pipeline: str,
        pipeline_params: dict[str, Any] | str | None = None,
        run_name: str | None = None,
        revision: str | None = None,
        compute_env: str | None = None,
        work_dir: str | None = None,
        config_profiles: list[str] | None = None,
        config_text: str | None = None,
        labels: list[str] | None = None,
        pre_run_script: str | None = None,
        post_run_script: str | None = None,
        launch_kwargs: dict[str, Any] | None = None,
        dataset: str | None = None,
        dataset_param: str = "input",
        tower_outputs_as_assets: bool = False,
        tower_conn_id: str = "tower_default",
        workspace: str | int | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 60.0,
        timeout: float | timedelta | None = None,
        unknown_timeout: float = 3600.0,
        resume_on_retry: bool = True,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not pipeline:
            raise ValueError("pipeline is required: a launchpad name or id, or a repository URL")
        check_wait_values(poll_interval, unknown_timeout)
        self.pipeline = pipeline
        self.pipeline_params = pipeline_params
        self.run_name = run_name
        self.revision = revision
        self.compute_env = compute_env
        self.work_dir = work_dir
        self.config_profiles = config_profiles
        self.config_text = config_text
        self.labels = labels
        self.pre_run_script = pre_run_script
        self.post_run_script = post_run_script
        self.launch_kwargs = launch_kwargs or {}
        self.dataset = dataset
        self.dataset_param = dataset_param
        self.tower_outputs_as_assets = tower_outputs_as_assets
        if tower_outputs_as_assets:
            self.outlets = [*self.outlets, outputs_alias(self.task_id)]
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = float(poll_interval)
        self.timeout = seconds(timeout)
        self.unknown_timeout = float(unknown_timeout)
        self.resume_on_retry = resume_on_retry
        self.cancel_on_kill = cancel_on_kill
        self.workflow_id: str | None = None
        self.run_url: str | None = None  # read by TowerRunLink when the task instance ends

    @cached_property
    def _client(self) -> TowerClient:
        return self.hook.get_conn()

    def _close_client(self) -> None:
        client = self.__dict__.pop("_client", None)
        if client is not None:
            client.close()

    # -- execute -------------------------------------------------------------------------------

    def execute(self, context: Any) -> str:
        try:
            if self.wait_for_completion and not self.deferrable:
                self.execute_resumable(context)
                assert self.workflow_id is not None
                self._emit_assets(context)
                return self.workflow_id
            workflow = self._start(context)
            if not self.wait_for_completion:
                return self.workflow_id or ""
            from nftower.status import is_terminal

            if workflow is not None and is_terminal(workflow.status):
                done = self._finish(workflow)
                self._emit_assets(context)
                return done
            self._defer(context)
        finally:
            self._close_client()
        raise AssertionError("unreachable")  # pragma: no cover - defer() raises

    def _defer(self, context: Any) -> None:
        from nftower_airflow.triggers import TowerRunTrigger

        assert self.workflow_id is not None
        end_time = time.time() + self.timeout if self.timeout is not None else None
        trigger = TowerRunTrigger(
            workflow_id=self.workflow_id,
            tower_conn_id=self.tower_conn_id,
            workspace=self.workspace,
            poll_interval=self.poll_interval,
            end_time=end_time,
            execution_deadline=execution_deadline(context, self.execution_timeout),
            unknown_timeout=self.unknown_timeout,
            cancel_on_kill=self.cancel_on_kill,
        )
        self.log.info("Deferring: the triggerer watches run %s", self.workflow_id)
        # timeout=None on purpose: the trigger enforces both deadlines and the run is cancelled
        self.defer(trigger=trigger, method_name="execute_complete", timeout=None)

    def _run_names(self, context: Any) -> tuple[str, list[str]]:
        """The run name, and the former names a run of this task instance may have."""
        if self.run_name:
            return str(self.run_name), []
        return names_to_look_up(context)

    def _launch_fields(self) -> dict[str, Any]:
        fields = {
            "params": self.pipeline_params,
            "revision": self.revision,
            "compute_env": self.compute_env,
            "work_dir": self.work_dir,
            "config_profiles": self.config_profiles,
            "config_text": self.config_text,
            "labels": self.labels,
            "pre_run_script": self.pre_run_script,
            "post_run_script": self.post_run_script,
        }
        fields = {key: value for key, value in fields.items() if value not in (None, "", [], {})}
        if self.dataset:
            fields.update(dataset=self.dataset, dataset_param=self.dataset_param)
        fields.update(self.launch_kwargs or {})
        return fields

    def _start(self, context: Any) -> Workflow | None:
        """Find this task instance's run or launch it; push the id and URL; return the run as
        described, or None for a run this call has just launched (SUBMITTED: nothing to read
        yet, so no describe call when the link is known without one)."""
        run_name, former_names = self._run_names(context)
        resume = bool(self.resume_on_retry and try_number(context) > 1)
        handle = self._client.ensure_run(
            self.pipeline,
            run_name=run_name,
            resume_failed=resume,
            former_names=former_names,
            **self._launch_fields(),
        )
        link = self._client.run_url(handle) if handle.action == "launched" else None
        if link is None:
            return self._attach(context, handle.workflow_id, action=str(handle.action))
        self._announce(context, handle.workflow_id, handle.run_name, "launched", link)
        return None

    def _attach(self, context: Any, workflow_id: str, *, action: str) -> Workflow:
        workflow = self._client.get_workflow(workflow_id)
        link = self._client.run_url(workflow)
        self._announce(context, workflow_id, workflow.run_name, action, link)
        return workflow

    def _announce(
        self, context: Any, workflow_id: str, name: str | None, action: str, link: str | None
    ) -> None:
        """Remember the run, push its id and URL to XCom and log them."""
        self.workflow_id = workflow_id
        self.run_url = link
        push_run(context, workflow_id, link)
        self.log.info("Tower run %s (%s, %s): %s", workflow_id, name, action, link)

    def _finish(self, workflow: Workflow, *, reason: str | None = None) -> str:
        from nftower.status import SUCCEEDED

        if status_text(workflow.status) == SUCCEEDED:
            from nftower_airflow._progress import success_line

            self.log.info("%s", success_line(workflow))
            return str(workflow.id)
        raise_for_failure(self._client, workflow, self.log, reason=reason)

    # -- ResumableJobMixin (worker wait) ---------------------------------------------------------

    def submit_job(self, context: Any) -> str:
        self._start(context)
        assert self.workflow_id is not None
        return self.workflow_id

    def get_job_status(self, external_id: Any, context: Any) -> str:
        from nftower import NotFoundError

        try:
            return status_text(self._client.get_workflow(str(external_id)).status)
        except NotFoundError:
            return "NOT_FOUND"

    def is_job_active(self, status: str) -> bool:
        from nftower.status import is_active

        return is_active(status)

    def is_job_succeeded(self, status: str) -> bool:
        from nftower.status import SUCCEEDED

        return status == SUCCEEDED

    def poll_until_complete(self, external_id: Any, context: Any) -> None:
        from nftower.status import Ending

        workflow_id = str(external_id)
        if self.workflow_id != workflow_id:
            self._attach(context, workflow_id, action="reattached")

        from nftower_airflow._progress import ProgressLog

        outcome = self._client.follow(
            workflow_id,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            unknown_timeout=self.unknown_timeout,
            on_change=ProgressLog(workflow_id, self.log),
        )
        if outcome.kind is Ending.DEADLINE or outcome.workflow is None:
            self._cancel_after_timeout()
            raise TowerRunTimeoutError(f"{outcome.explain()} (run {self._run_url(context)})")
        reason = outcome.explain() if outcome.kind is Ending.UNKNOWN else None
        self._finish(outcome.workflow, reason=reason)

    def get_job_result(self, external_id: Any, context: Any) -> str:
        workflow_id = str(external_id)
        if self.workflow_id != workflow_id:
            self._attach(context, workflow_id, action="already succeeded")
        return workflow_id

    # -- deferred completion, kill -------------------------------------------------------------

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Resume after the trigger fired; succeed, or raise with the run's failure report."""
        event = validate_event(event, workflow_id=self.workflow_id)
        self.workflow_id = workflow_id = str(event["workflow_id"])
        self.run_url = pull_run_url(context, self.task_id)
        status = event["status"]
        try:
            if status == "success":
                self._log_success(workflow_id)
                self._emit_assets(context)
                return workflow_id
            if status == "timeout":
                self._cancel_after_timeout()
                raise TowerRunTimeoutError(
                    f"{event.get('message') or 'Timed out'} "
                    f"({event.get('reason')}; run {self._run_url(context)})"
                )
            if status == "error":
                raise TowerTriggerEventError(
                    f"Watching Tower run {workflow_id} failed: {event.get('message')} "
                    f"(run {self._run_url(context)})"
                )
            workflow = self._client.get_workflow(workflow_id)
            return self._finish(workflow, reason=failure_reason(event))
        finally:
            self._close_client()

    def _log_success(self, workflow_id: str) -> None:
        """The success line (duration, task counts); the run's record is read once more."""
        from nftower import TowerError

        from nftower_airflow._progress import success_line

        try:
            self.log.info("%s", success_line(self._client.get_workflow(workflow_id)))
        except TowerError as err:
            self.log.info(
                "Tower run %s succeeded (its record could not be read: %s)", workflow_id, err
            )

    def _emit_assets(self, context: Any) -> None:
        assert self.workflow_id is not None
        emit_run_assets(
            context,
            list(self.outlets),
            self._client,
            self.workflow_id,
            self.run_url,
            outputs_as_assets=self.tower_outputs_as_assets,
            log=self.log,
        )

    def _run_url(self, context: Any) -> str:
        if self.run_url is None:
            self.run_url = pull_run_url(context, self.task_id)
        return self.run_url or str(self.workflow_id)

    def _cancel_after_timeout(self) -> None:
        if self.cancel_on_kill and self.workflow_id:
            cancel_quietly(self.hook.config, self.workflow_id, self.log)

    def on_kill(self) -> None:
        """Cancel the run (best-effort, a few seconds at most) when the task is killed."""
        if self.cancel_on_kill and self.workflow_id:
            cancel_quietly(self.hook.config, self.workflow_id, self.log)
