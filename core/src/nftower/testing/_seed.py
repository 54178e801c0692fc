"""Entities of the emulated Tower (orgs, workspaces, compute environments, labels,
launchpad pipelines and saved launches) and the seeded demo world."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ._runs import TaskSpec

USER_ID = 8642
USER_NAME = "demo-user"
USER_EMAIL = "demo-user@example.com"
ORG_ID = 75028839957145
ORG_NAME = "demo-org"
WORKSPACE_ID = 138659136604200
WORKSPACE_NAME = "demo-workspace"
SANDBOX_ID = 227463125598201
SANDBOX_NAME = "sandbox"


@dataclass
class Org:
    id: int
    name: str
    full_name: str


@dataclass
class Workspace:
    id: int
    org_id: int
    name: str
    full_name: str
    visibility: str = "PRIVATE"


@dataclass
class ComputeEnv:
    id: str
    name: str
    workspace_id: int | None
    work_dir: str
    primary: bool = False
    status: str = "AVAILABLE"
    platform: str = "aws-batch"
    region: str = "eu-west-1"
    credentials_id: str = "5uy7tXx9cVbEQ8Wq1Jm2Ld"
    pre_run_script: str | None = None
    post_run_script: str | None = None
    nextflow_config: str | None = None
    created: float = field(default_factory=time.time)


@dataclass
class Label:
    id: int
    name: str
    value: str | None
    resource: bool
    workspace_id: int | None
    is_default: bool = False
    created: float = field(default_factory=time.time)


@dataclass
class SavedLaunch:
    """A launch record: a launchpad pipeline's saved launch, or the launch of one run."""

    id: str
    workspace_id: int | None
    fields: dict[str, Any]
    pipeline_id: int | None = None
    created: float = field(default_factory=time.time)


@dataclass
class Pipeline:
    id: int
    name: str
    description: str
    repository: str
    workspace_id: int | None
    launch_id: str
    label_ids: list[int] = field(default_factory=list)
    created: float = field(default_factory=time.time)


HELLO_REPOSITORY = "https://github.com/nextflow-io/hello"
RNASEQ_REPOSITORY = "https://github.com/nf-core/rnaseq"
VIRALRECON_REPOSITORY = "https://github.com/nf-core/viralrecon"

_RNASEQ = "NFCORE_RNASEQ:RNASEQ"
TASK_PLANS: dict[str, list[TaskSpec]] = {
    HELLO_REPOSITORY: [TaskSpec("sayHello", str(n)) for n in range(1, 4)],
    RNASEQ_REPOSITORY: [
        TaskSpec(f"{_RNASEQ}:PREPARE_GENOME:GUNZIP_GTF", "genes.gtf.gz"),
        TaskSpec(f"{_RNASEQ}:FASTQ_QC_TRIM_FILTER_SETSTRANDEDNESS:FASTQC", "WT_REP1"),
        TaskSpec(f"{_RNASEQ}:FASTQ_QC_TRIM_FILTER_SETSTRANDEDNESS:TRIMGALORE", "WT_REP1"),
        TaskSpec(f"{_RNASEQ}:ALIGN_STAR:STAR_ALIGN", "WT_REP1"),
        TaskSpec(f"{_RNASEQ}:QUANTIFY_STAR_SALMON:SALMON_QUANT", "WT_REP1"),
        TaskSpec(f"{_RNASEQ}:MULTIQC"),
    ],
}
GENERIC_PLAN = [TaskSpec("PREPARE"), TaskSpec("ANALYSE", "sample_1"), TaskSpec("REPORT")]


_SHORT_FORM = re.compile(r"^[A-Za-z\d][\w.-]*/[\w.-]+$")
"""Nextflow's short form of a GitHub project: ``owner/repo``."""


def is_short_form(pipeline: str) -> bool:
    """``nextflow-io/hello`` (a GitHub ``owner/repo``), as Nextflow and Tower accept it.

    >>> is_short_form("nextflow-io/hello"), is_short_form("https://github.com/nextflow-io/hello")
    (True, False)
    """
    return bool(_SHORT_FORM.match(pipeline)) and not pipeline.endswith((".", "/"))


def repository_url(pipeline: str) -> str:
    """The repository a pipeline string names: the short form is a GitHub project.

    >>> repository_url("nextflow-io/hello")
    'https://github.com/nextflow-io/hello'
    >>> repository_url("https://gitlab.com/acme/tools/align.git")
    'https://gitlab.com/acme/tools/align.git'
    """
    text = pipeline.strip()
    return f"https://github.com/{text.removesuffix('.git')}" if is_short_form(text) else text


def reported_work_dir(work_dir: str | None, user_name: str) -> str | None:
    """The work directory Nextflow reports for a launch's ``workDir`` (a run's ``workDir`` and
    its launch's ``resumeDir``): ``$USER`` / ``${USER}`` and a leading ``~`` expanded, as on an
    HPC compute environment, and no trailing slash.

    >>> reported_work_dir("/scratch/$USER/work/", "ada")
    '/scratch/ada/work'
    >>> reported_work_dir("~/work", "ada"), reported_work_dir("s3://bucket/work", "ada")
    ('/home/ada/work', 's3://bucket/work')
    """
    if not work_dir:
        return work_dir
    text = work_dir.replace("${USER}", user_name).replace("$USER", user_name)
    if text == "~" or text.startswith("~/"):
        text = f"/home/{user_name}{text[1:]}"
    return text.rstrip("/") or "/"


def task_plan(repository: str) -> list[TaskSpec]:
    """The tasks a run of ``repository`` goes through."""
    key = repository_url(repository).rstrip("/").removesuffix(".git")
    return list(TASK_PLANS.get(key, GENERIC_PLAN))


def project_name(repository: str) -> str:
    """Nextflow's project name: the repository path without host and ``.git``.

    >>> project_name("https://github.com/nf-core/rnaseq.git")
    'nf-core/rnaseq'
    >>> project_name("nextflow-io/hello"), project_name("git@bitbucket.org:acme/tools.git")
    ('nextflow-io/hello', 'acme/tools')
    >>> project_name("https://gitlab.com/acme/genomics/align")
    'acme/genomics/align'
    """
    path = repository_url(repository).rstrip("/").removesuffix(".git")
    if path.startswith("git@"):
        path = path.split(":", 1)[-1]
    elif "://" in path:
        path = path.split("://", 1)[-1].split("/", 1)[-1]
    return path


@dataclass
class SeedData:
    """Everything the world starts with."""

    orgs: list[Org] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    compute_envs: list[ComputeEnv] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    launches: list[SavedLaunch] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)


def _saved_pipeline(
    data: SeedData,
    *,
    pipeline_id: int,
    launch_id: str,
    name: str,
    description: str,
    repository: str,
    ce: ComputeEnv,
    revision: str,
    params_text: str | None = None,
    profiles: list[str] | None = None,
    label_ids: list[int] | None = None,
) -> None:
    fields: dict[str, Any] = {
        "pipeline": repository,
        "computeEnvId": ce.id,
        "workDir": ce.work_dir,
        "revision": revision,
        "configProfiles": profiles or [],
        "pullLatest": False,
        "stubRun": False,
        "resume": False,
        "mainScript": "main.nf",
    }
    if params_text is not None:
        fields["paramsText"] = params_text
    data.launches.append(SavedLaunch(launch_id, ce.workspace_id, fields, pipeline_id))
    data.pipelines.append(
        Pipeline(
            pipeline_id, name, description, repository, ce.workspace_id, launch_id, label_ids or []
        )
    )


def demo_world() -> SeedData:
    """The seeded demo world described in docs/emulator.md."""
    data = SeedData()
    data.orgs.append(Org(ORG_ID, ORG_NAME, "Demo Organization"))
    data.workspaces += [
        Workspace(WORKSPACE_ID, ORG_ID, WORKSPACE_NAME, "Demo workspace"),
        Workspace(SANDBOX_ID, ORG_ID, SANDBOX_NAME, "Sandbox workspace", "SHARED"),
    ]
    demo_ce = ComputeEnv(
        "4ZnqLo2bX8cGSMTxA7Bi5d", "demo-ce", WORKSPACE_ID, "s3://demo-bucket/work", primary=True
    )
    data.compute_envs += [
        demo_ce,
        ComputeEnv(
            "7HsWk1PvQe3RtY6uIo9PaS",
            "demo-ce-spot",
            WORKSPACE_ID,
            "s3://demo-bucket/spot",
            pre_run_script="export NXF_OPTS='-Xms512m'",
            post_run_script="echo 'spot run done'",
        ),
        ComputeEnv(
            "2DfGh4JkL6zXcV8bNm1QwE", "sandbox-ce", SANDBOX_ID, "s3://sandbox-bucket/work", True
        ),
        ComputeEnv(
            "9PoIu7YtR5eWq3AsDf1GhJ", "personal-ce", None, "s3://demo-user-bucket/work", True
        ),
    ]
    data.labels += [
        Label(100001, "nightly", None, False, WORKSPACE_ID),
        Label(100002, "production", None, False, WORKSPACE_ID),
        Label(100003, "team", "genomics", True, WORKSPACE_ID),
    ]
    _saved_pipeline(
        data,
        pipeline_id=211144565412001,
        launch_id="3KcbTJgAk0PLvJ1EomJ8lM",
        name="hello",
        description="A tiny Nextflow pipeline saying hello in a few languages",
        repository=HELLO_REPOSITORY,
        ce=demo_ce,
        revision="master",
        label_ids=[100001],
    )
    _saved_pipeline(
        data,
        pipeline_id=211144565412002,
        launch_id="6BGrWCYnT3dXPE7uHx5Ky2",
        name="rnaseq",
        description="RNA sequencing analysis pipeline (nf-core)",
        repository=RNASEQ_REPOSITORY,
        ce=demo_ce,
        revision="3.14.0",
        params_text="input: s3://demo-bucket/samplesheet.csv\noutdir: s3://demo-bucket/results\n",
        profiles=["docker"],
    )
    _saved_pipeline(
        data,
        pipeline_id=211144565412003,
        launch_id="1QaZ2WsX3EdC4RfV5TgB6y",
        name="hello",
        description="Personal copy of the hello pipeline",
        repository=HELLO_REPOSITORY,
        ce=data.compute_envs[3],
        revision="master",
    )
    _saved_pipeline(
        data,
        pipeline_id=211144565412004,
        launch_id="8XvB3nM5qR7tY9uI1oP2aS",
        name="viralrecon",
        description="Viral assembly and variant calling (nf-core), shared by the sandbox",
        repository=VIRALRECON_REPOSITORY,
        ce=data.compute_envs[2],
        revision="2.6.0",
    )
    return data
