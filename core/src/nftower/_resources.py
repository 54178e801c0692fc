"""Response models of workspace resources: pipelines and their launches, compute environments,
workspaces, user and service info, log pages, and the ``ensure_run`` handle.

Same conventions as :mod:`nftower._models`: every field optional, unknown fields ignored,
snake_case attributes with camelCase aliases.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from ._models import Label, Timestamp, TowerModel

__all__ = [
    "ComputeEnv",
    "LaunchConfig",
    "LogPage",
    "Pipeline",
    "RunHandle",
    "ServiceInfo",
    "UserInfo",
    "Workspace",
]


class ComputeEnv(TowerModel):
    """A compute environment (list entry or describe response).

    Example:
        >>> env = ComputeEnv.model_validate({"computeEnv": {
        ...     "id": "4ZnqLo2bX8cGSMTxA7Bi5d", "name": "aws", "primary": True,
        ...     "config": {"workDir": "s3://bucket/work"}}})
        >>> env.name, env.primary, env.effective_work_dir
        ('aws', True, 's3://bucket/work')
    """

    id: str | None = None
    name: str | None = None
    platform: str | None = None
    status: str | None = None
    primary: bool | None = None
    work_dir: str | None = None
    region: str | None = None
    credentials_id: str | None = None
    message: str | None = None
    visibility: str | None = None
    workspace_name: str | None = None
    workspace_id: int | None = None
    last_used: Timestamp | None = None
    config: dict[str, Any] | None = None

    _envelope: ClassVar[str | None] = "computeEnv"

    @property
    def effective_work_dir(self) -> str | None:
        """``workDir`` of the entry, else of its platform config."""
        return self.work_dir or (self.config or {}).get("workDir")


class Pipeline(TowerModel):
    """A launchpad pipeline.

    Example:
        >>> pipeline = Pipeline.model_validate({"pipelineId": 12, "name": "rnaseq",
        ...                                     "repository": "https://github.com/nf-core/rnaseq"})
        >>> pipeline.id, pipeline.name
        (12, 'rnaseq')
    """

    pipeline_id: int | None = None
    name: str | None = None
    description: str | None = None
    repository: str | None = None
    icon: str | None = None
    visibility: str | None = None
    deleted: bool | None = None
    workspace_id: int | None = None
    workspace_name: str | None = None
    org_id: int | None = None
    org_name: str | None = None
    user_id: int | None = None
    user_name: str | None = None
    last_updated: Timestamp | None = None
    labels: list[Label] | None = None
    compute_env: ComputeEnv | None = None
    version: dict[str, Any] | None = None

    _envelope: ClassVar[str | None] = "pipeline"

    @property
    def id(self) -> int | None:
        """Alias of ``pipeline_id``."""
        return self.pipeline_id


class LaunchConfig(TowerModel):
    """A saved launch (``LaunchDbDto``) or a run's launch (``WorkflowLaunchResponse``).

    Example:
        >>> launch = LaunchConfig.model_validate({"launch": {
        ...     "pipeline": "https://github.com/nf-core/rnaseq", "revision": "3.14.0",
        ...     "sessionId": "a1b2", "resumeCommitId": "c0ffee"}})
        >>> launch.revision, launch.resume_commit_id
        ('3.14.0', 'c0ffee')
    """

    id: str | None = None
    compute_env: ComputeEnv | None = None
    pipeline: str | None = None
    pipeline_id: int | None = None
    work_dir: str | None = None
    revision: str | None = None
    commit_id: str | None = None
    run_name: str | None = None
    params_text: str | None = None
    config_profiles: list[str] | None = None
    config_text: str | None = None
    tower_config: str | None = None
    pre_run_script: str | None = None
    post_run_script: str | None = None
    main_script: str | None = None
    entry_name: str | None = None
    schema_name: str | None = None
    pull_latest: bool | None = None
    stub_run: bool | None = None
    resume: bool | None = None
    session_id: str | None = None
    resume_commit_id: str | None = None
    resume_dir: str | None = None
    resume_launch_id: str | None = None
    user_secrets: list[str] | None = None
    workspace_secrets: list[str] | None = None
    head_job_cpus: int | None = None
    head_job_memory_mb: int | None = None
    launch_container: str | None = None
    nextflow_version: str | None = None
    output_dir: str | None = None
    workspace_id: int | None = None
    date_created: Timestamp | None = None
    last_updated: Timestamp | None = None

    _envelope: ClassVar[str | None] = "launch"


class Workspace(TowerModel):
    """A workspace the user belongs to (``OrgAndWorkspaceDto``).

    Example:
        >>> ws = Workspace.model_validate({"orgName": "acme", "workspaceName": "prod",
        ...                                "workspaceId": 42})
        >>> ws.workspace_id, ws.full_name
        (42, 'acme/prod')
    """

    org_id: int | None = None
    org_name: str | None = None
    org_type: str | None = None
    workspace_id: int | None = None
    workspace_name: str | None = None
    workspace_full_name: str | None = None
    visibility: str | None = None
    roles: list[str] | None = None

    @property
    def full_name(self) -> str | None:
        """``"org/workspace"`` (``None`` for the personal context)."""
        if self.org_name and self.workspace_name:
            return f"{self.org_name}/{self.workspace_name}"
        return None


class UserInfo(TowerModel):
    """``GET /user-info``, flattened.

    Example:
        >>> UserInfo.model_validate({"user": {"id": 8, "userName": "ada"}}).user_name
        'ada'
    """

    id: int | None = None
    user_name: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    avatar: str | None = None
    need_consent: bool | None = None
    default_workspace_id: int | None = None

    _envelope: ClassVar[str | None] = "user"


class ServiceInfo(TowerModel):
    """``GET /service-info``, flattened.

    Example:
        >>> ServiceInfo.model_validate({"serviceInfo": {"apiVersion": "1.187.0"}}).api_version
        '1.187.0'
    """

    version: str | None = None
    api_version: str | None = None
    commit_id: str | None = None
    seqera_cloud: bool | None = None
    wave_enabled: bool | None = None
    launch_params_text_max_size: int | None = None
    launch_config_text_max_size: int | None = None
    auth_types: list[str] | None = None

    _envelope: ClassVar[str | None] = "serviceInfo"


class LogPage(TowerModel):
    """One page of a run's Nextflow log.

    Example:
        >>> page = LogPage.model_validate({"log": {"entries": ["N E X T F L O W"],
        ...                                        "truncated": False, "pending": True}})
        >>> page.entries, page.pending
        (['N E X T F L O W'], True)
    """

    entries: list[str] | None = None
    truncated: bool | None = None
    pending: bool | None = None
    message: str | None = None
    rewind_token: str | None = None
    forward_token: str | None = None
    downloads: list[dict[str, Any]] | None = None

    _envelope: ClassVar[str | None] = "log"


RunAction = Literal["launched", "reattached", "resumed", "relaunched"]


class RunHandle(TowerModel):
    """What :meth:`TowerClient.ensure_run` did: the run to follow and how it came about.

    Example:
        >>> RunHandle(workflow_id="abc", run_name="nightly", action="launched").model_dump()
        {'workflow_id': 'abc', 'run_name': 'nightly', 'action': 'launched', 'repository': None}
    """

    model_config = ConfigDict(frozen=True)
    _lenient: ClassVar[bool] = False

    workflow_id: str
    run_name: str
    action: RunAction = Field(description="launched, reattached, resumed or relaunched")
    repository: str | None = Field(
        None, description="the repository this call launched the run from (None when it did not)"
    )
