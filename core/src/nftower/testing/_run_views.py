"""JSON shapes of the Tower API for runs: workflow, progress, tasks, launch records."""

from __future__ import annotations

import uuid
from typing import Any

from ._errors import iso
from ._runs import NEXTFLOW_VERSION, Run, RunState, TaskState
from ._seed import reported_work_dir
from ._views import context_names, label, launch_fields
from ._world import World


def _words(text: str) -> list[str]:
    return text.split()


def workflow_launch(world: World, run: Run, state: RunState) -> dict[str, Any]:
    """``WorkflowLaunchResponse`` (``GET /workflow/{id}/launch``): it has no
    ``launchContainer``."""
    data = launch_fields(world, world.launches[run.launch_id])
    data.pop("launchContainer", None)
    data["pipelineId"] = run.pipeline_id
    data["sessionId"] = run.session_id
    data["resume"] = run.resumed
    if state.start is not None:
        data["resumeCommitId"] = run.commit_id
        data["resumeDir"] = reported_work_dir(run.launch.get("workDir"), run.user_name)
    return data


_ZERO_LOAD = _words(
    "pending submitted running succeeded failed cached ignored aborted retries loadCpus "
    "loadMemory peakCpus peakMemory peakTasks cpus cpuTime cpuLoad memoryRss memoryReq "
    "readBytes writeBytes volCtxSwitch invCtxSwitch loadTasks"
)


def _load(tasks: list[TaskState]) -> dict[str, Any]:
    load: dict[str, Any] = dict.fromkeys(_ZERO_LOAD, 0)
    key = {
        "SUBMITTED": "submitted",
        "RUNNING": "running",
        "COMPLETED": "succeeded",
        "FAILED": "failed",
        "CACHED": "cached",
        "ABORTED": "aborted",
    }
    for task in tasks:
        load[key[task.status]] += 1
    load["loadTasks"] = load["running"]
    load["loadCpus"] = load["running"]
    load["loadMemory"] = load["running"] * 2 * 1024**3
    load["peakTasks"] = 1 if tasks else 0
    load["peakCpus"] = load["peakTasks"]
    load["peakMemory"] = load["peakTasks"] * 2 * 1024**3
    load["cpus"] = len(tasks)
    load["cpuTime"] = sum(
        int(((t.complete or 0) - (t.start or 0)) * 1000) for t in tasks if t.complete
    )
    return load


def progress(run: Run, state: RunState) -> dict[str, Any]:
    """``ProgressData``."""
    processes: dict[str, list[TaskState]] = {spec.process: [] for spec in run.tasks}
    for task in state.tasks:
        processes[task.spec.process].append(task)
    workflow_load = _load(state.tasks)
    workflow_load.update(executors=["awsbatch"], cost=0.0)
    return {
        "workflowProgress": workflow_load,
        "processesProgress": [{"process": name, **_load(ts)} for name, ts in processes.items()],
        "totalProcesses": len(processes),
    }


def task(run: Run, item: TaskState) -> dict[str, Any]:
    """``Task``: what Nextflow reports of a task, metrics once it has run (plausible values
    shaped like tw's recorded tasks)."""
    started = item.start is not None
    done = item.complete is not None and started
    realtime = int(((item.complete or 0) - (item.start or 0)) * 1000) if done else None
    duration = int(((item.complete or 0) - item.submit) * 1000) if done else None
    native = uuid.uuid5(uuid.NAMESPACE_URL, f"{run.id}/{item.index}")
    ran = done and item.status != "ABORTED"
    memory = 2 * 1024**3
    return {
        "id": item.index + 1,
        "taskId": item.index + 1,
        "hash": item.hash,
        "name": item.spec.name,
        "process": item.spec.process,
        "tag": item.spec.tag,
        "status": item.status,
        "attempt": 1,
        "submit": iso(item.submit),
        "start": iso(item.start),
        "complete": iso(item.complete),
        "duration": duration,
        "realtime": realtime,
        "exit": item.exit,
        "exitStatus": item.exit,
        "errorAction": "TERMINATE" if item.status == "FAILED" else None,
        "workdir": run.task_workdir(item.index),
        "scratch": None,
        "executor": "awsbatch",
        "nativeId": str(native),
        "logStreamId": f"tower-{run.id}/default/{native}" if started else None,
        "container": "quay.io/nextflow/bash",
        "queue": "demo-ce-queue",
        "machineType": "m5.large" if started else None,
        "cloudZone": "eu-west-1a" if started else None,
        "priceModel": "standard" if started else None,
        "module": [],
        "script": f"\n    echo '{item.spec.name} on {run.run_name}'\n    ",
        "env": None,
        "cpus": 1,
        "memory": memory,
        "disk": None,
        "time": 14400000,
        "cost": round((realtime or 0) / 3_600_000 * 0.096, 6) if done else None,
        "pcpu": 87.5 if ran else None,
        "pmem": 0.4 if ran else None,
        "rss": 9_830_400 if ran else None,
        "vmem": 33_239_040 if ran else None,
        "peakRss": 10_067_968 if ran else None,
        "peakVmem": 33_243_136 if ran else None,
        "rchar": 673_556 if ran else None,
        "wchar": 1_428 if ran else None,
        "syscr": 242 if ran else None,
        "syscw": 17 if ran else None,
        "readBytes": 7_213_056 if ran else None,
        "writeBytes": 12_288 if ran else None,
        "volCtxt": 15 if ran else None,
        "invCtxt": 4 if ran else None,
        "numSpotInterruptions": 0 if started else None,
        "errorMessage": None,
        "dateCreated": iso(item.submit),
        "lastUpdated": iso(item.complete or item.start or item.submit),
    }


def _stats(state: RunState) -> dict[str, Any]:
    counts = {"COMPLETED": 0, "FAILED": 0, "CACHED": 0}
    for item in state.tasks:
        if item.status in counts:
            counts[item.status] += 1
    total = sum(counts.values()) or 1
    return {
        "succeedCount": counts["COMPLETED"],
        "failedCount": counts["FAILED"],
        "cachedCount": counts["CACHED"],
        "ignoredCount": 0,
        "succeedPct": round(100.0 * counts["COMPLETED"] / total, 1),
        "failedPct": round(100.0 * counts["FAILED"] / total, 1),
        "cachedPct": round(100.0 * counts["CACHED"] / total, 1),
        "ignoredPct": 0.0,
        "computeTimeFmt": "(a few seconds)",
    }


def workflow(
    run: Run, state: RunState, *, full: bool = True, params: bool = True
) -> dict[str, Any]:
    """``WorkflowMaxDbDto`` when ``full``, else ``WorkflowDbDto`` (``params`` optional)."""
    launch = run.launch
    command = f"nextflow run '{run.repository}' -name {run.run_name} -with-tower"
    if run.revision:
        command += f" -r {run.revision}"
    if run.resumed:
        command += f" -resume {run.session_id}"
    terminal = state.is_terminal
    data: dict[str, Any] = {
        "id": run.id,
        "runName": run.run_name,
        "sessionId": run.session_id,
        "launchId": run.launch_id,
        "ownerId": run.owner_id,
        "userName": run.user_name,
        "status": state.status,
        "submit": iso(run.submitted),
        "start": iso(state.start),
        "complete": iso(state.complete),
        "dateCreated": iso(run.submitted),
        "lastUpdated": iso(state.last_updated),
        "duration": int((state.complete - state.start) * 1000)
        if state.complete is not None and state.start is not None
        else None,
        "exitStatus": (0 if state.status == "SUCCEEDED" else 1) if terminal else None,
        "success": state.status == "SUCCEEDED" if terminal else None,
        "errorMessage": state.error_message,
        "errorReport": state.error_report,
        "requiresAttention": False,
        "resume": run.resumed,
        "deleted": False,
        "projectName": run.project_name,
        "repository": run.repository,
        "revision": run.revision or None,
        "commitId": run.commit_id if state.start is not None else None,
        "scriptName": "main.nf",
        "workDir": reported_work_dir(launch.get("workDir"), run.user_name),
        "launchDir": reported_work_dir(launch.get("workDir"), run.user_name),
        "commandLine": command,
        "profile": ",".join(launch.get("configProfiles") or []) or None,
        "container": "quay.io/nextflow/bash",
        "containerEngine": "docker",
        "configText": launch.get("configText"),
        "manifest": {
            "name": run.project_name,
            "mainScript": "main.nf",
            "defaultBranch": "master",
            "nextflowVersion": f">={NEXTFLOW_VERSION.rsplit('.', 1)[0]}",
        },
        "nextflow": {"version": NEXTFLOW_VERSION, "build": "5935", "timestamp": iso(1735689600.0)},
        "stats": _stats(state) if state.start is not None else None,
    }
    if params:
        data["params"] = dict(run.params)
    if full:
        data.update(
            configProfiles=list(launch.get("configProfiles") or []),
            preRunScript=launch.get("preRunScript"),
            postRunScript=launch.get("postRunScript"),
            towerConfig=launch.get("towerConfig"),
            nextflowVersion=NEXTFLOW_VERSION,
            logFile=f"{launch.get('workDir')}/tower/{run.id}/nf-{run.id}.log",
            outFile=f"{launch.get('workDir')}/tower/{run.id}/nf-{run.id}.txt",
            operationId=f"arn:aws:batch:eu-west-1:000000000000:job/{run.id}",
            fusion={"enabled": False},
            wave={"enabled": False},
        )
    return data


def job_info(run: Run, state: RunState) -> dict[str, Any]:
    status = {"SUBMITTED": "PENDING", "RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED"}
    return {
        "id": 7000000 + run.seq,
        "operationId": f"arn:aws:batch:eu-west-1:000000000000:job/{run.id}",
        "status": status.get(state.status, "FAILED" if state.is_terminal else "UNKNOWN"),
        "exitCode": (0 if state.status == "SUCCEEDED" else 1) if state.is_terminal else None,
        "message": state.error_message,
    }


def _extras(world: World, run: Run, state: RunState, attributes: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(context_names(world, run.workspace_id))
    if "labels" in attributes:
        data["labels"] = [label(world.labels[i]) for i in run.label_ids if i in world.labels]
    if "optimized" in attributes:
        data["optimized"] = False
    if "pipelineInfo" in attributes and run.pipeline_id is not None:
        data["pipelineInfo"] = {"id": run.pipeline_id, "workspaceId": run.workspace_id}
    return data


def describe_workflow(
    world: World, run: Run, state: RunState, attributes: set[str]
) -> dict[str, Any]:
    """``DescribeWorkflowResponse``."""
    data = {
        "workflow": workflow(run, state, params="minimal" not in attributes),
        "progress": progress(run, state),
        "jobInfo": job_info(run, state),
        "platform": {"id": "aws-batch", "name": "Amazon Batch"},
        **_extras(world, run, state, attributes),
    }
    if "messages" in attributes:
        data["messages"] = [state.error_message] if state.error_message else []
    return data


def workflow_list_element(
    world: World, run: Run, state: RunState, attributes: set[str]
) -> dict[str, Any]:
    """``ListWorkflowsResponse.ListWorkflowsElement``."""
    data = {
        "workflow": workflow(run, state, full=False, params="minimal" not in attributes),
        "progress": None,  # Tower sends list items without progress
        "starred": False,
        **_extras(world, run, state, attributes),
    }
    return data
