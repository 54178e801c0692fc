"""JSON shapes of the Tower API for users, workspaces, compute environments, labels and
pipelines (field names and types as in the official schema)."""

from __future__ import annotations

from typing import Any

from ._errors import iso
from ._launch import LAUNCH_FIELD_TYPES
from ._seed import ComputeEnv, Label, Pipeline, SavedLaunch
from ._world import Context, World

API_VERSION = "1.187.0"
SERVICE_VERSION = "25.2.0"


def service_info() -> dict[str, Any]:
    return {
        "serviceInfo": {
            "version": SERVICE_VERSION,
            "apiVersion": API_VERSION,
            "commitId": "e0c5a1f",
            "authTypes": ["github", "google", "oidc"],
            "loginPath": "/login",
            "seqeraCloud": False,
            "waveEnabled": False,
            "groundswellEnabled": False,
            "userWorkspaceEnabled": True,
            "allowInstanceCredentials": False,
            "allowNextflowCliLogs": True,
            "launchParamsTextMaxSize": 1048576,
            "launchConfigTextMaxSize": 1048576,
            "contentMaxFileSize": 5242880,
            "heartbeatInterval": 60,
        }
    }


def user_info(world: World) -> dict[str, Any]:
    return {
        "user": {
            "id": world.user_id,
            "userName": world.user_name,
            "email": world.user_email,
            "firstName": "Demo",
            "lastName": "User",
            "organization": "Demo Organization",
            "description": "Tower emulator user",
            "dateCreated": iso(1704067200.0),
            "lastAccess": iso(world.clock()),
            "notification": False,
            "termsOfUseConsent": True,
            "marketingConsent": False,
            "deleted": False,
        },
        "needConsent": False,
    }


def user_workspaces(world: World) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for org in world.orgs.values():
        base = {"orgId": org.id, "orgName": org.name, "orgType": "pro", "orgLogoUrl": None}
        rows.append({**base, "roles": ["owner"]})
        for ws in world.workspaces.values():
            if ws.org_id == org.id:
                rows.append(
                    {
                        **base,
                        "workspaceId": ws.id,
                        "workspaceName": ws.name,
                        "workspaceFullName": ws.full_name,
                        "visibility": ws.visibility,
                        "roles": ["owner"],
                    }
                )
    return {"orgsAndWorkspaces": rows}


def organizations(world: World) -> dict[str, Any]:
    orgs = [
        {
            "orgId": o.id,
            "name": o.name,
            "fullName": o.full_name,
            "description": f"{o.full_name} (emulated)",
            "memberId": 5301,
            "memberRole": "owner",
            "type": "pro",
        }
        for o in world.orgs.values()
    ]
    return {"organizations": orgs, "totalSize": len(orgs)}


def org_workspaces(world: World, org_id: int) -> dict[str, Any]:
    return {
        "workspaces": [
            {
                "id": w.id,
                "name": w.name,
                "fullName": w.full_name,
                "description": f"{w.full_name} (emulated)",
                "visibility": w.visibility,
            }
            for w in world.workspaces.values()
            if w.org_id == org_id
        ]
    }


def context_names(world: World, ctx: Context) -> dict[str, Any]:
    ws = world.workspaces.get(ctx) if ctx is not None else None
    org = world.orgs.get(ws.org_id) if ws else None
    return {
        "orgId": org.id if org else None,
        "orgName": org.name if org else None,
        "workspaceId": ws.id if ws else None,
        "workspaceName": ws.name if ws else None,
    }


def label(item: Label) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "value": item.value,
        "resource": item.resource,
        "isDefault": item.is_default,
        "isDynamic": False,
        "isInterpolated": False,
        "dateCreated": iso(item.created),
    }


def created_label(item: Label) -> dict[str, Any]:
    """``CreateLabelResponse``: the label without its flags and date."""
    keep = ("id", "name", "value", "resource", "isDefault")
    return {key: value for key, value in label(item).items() if key in keep}


def compute_config(ce: ComputeEnv) -> dict[str, Any]:
    return {
        "discriminator": ce.platform,
        "workDir": ce.work_dir,
        "preRunScript": ce.pre_run_script,
        "postRunScript": ce.post_run_script,
        "nextflowConfig": ce.nextflow_config,
        "region": ce.region,
        "computeQueue": f"{ce.name}-queue",
        "headQueue": f"{ce.name}-head-queue",
        "environment": [],
    }


def compute_env_entry(world: World, ce: ComputeEnv, attributes: set[str]) -> dict[str, Any]:
    entry = {
        "id": ce.id,
        "name": ce.name,
        "platform": ce.platform,
        "status": ce.status,
        "primary": ce.primary,
        "workDir": ce.work_dir,
        "region": ce.region,
        "credentialsId": ce.credentials_id,
        "message": None,
        "lastUsed": iso(ce.created),
        "visibility": "PRIVATE",
        "workspaceName": context_names(world, ce.workspace_id)["workspaceName"],
    }
    if "labels" in attributes:
        entry["labels"] = []
    return entry


def compute_env(world: World, ce: ComputeEnv) -> dict[str, Any]:
    return {
        "id": ce.id,
        "name": ce.name,
        "description": f"Emulated {ce.platform} compute environment",
        "platform": ce.platform,
        "status": ce.status,
        "primary": ce.primary,
        "config": compute_config(ce),
        "credentialsId": ce.credentials_id,
        "workspaceId": ce.workspace_id,
        "orgId": context_names(world, ce.workspace_id)["orgId"],
        "dateCreated": iso(ce.created),
        "lastUpdated": iso(ce.created),
        "lastUsed": iso(ce.created),
        "deleted": False,
        "labels": [],
    }


def compute_env_with_config(world: World, ce: ComputeEnv) -> dict[str, Any]:
    """``ComputeEnv_ComputeConfig_`` (the CE embedded in launch records)."""
    keep = ("id", "name", "platform", "status", "primary", "config", "credentialsId",
            "workspaceId", "dateCreated", "lastUpdated")  # fmt: skip
    return {key: value for key, value in compute_env(world, ce).items() if key in keep}


def pipeline(world: World, item: Pipeline, attributes: set[str]) -> dict[str, Any]:
    saved = world.launches[item.launch_id]
    names = context_names(world, item.workspace_id)
    data: dict[str, Any] = {
        "pipelineId": item.id,
        "name": item.name,
        "description": item.description,
        "repository": item.repository,
        "userId": world.user_id,
        "userName": world.user_name,
        "userFirstName": "Demo",
        "userLastName": "User",
        **names,
        "visibility": "SHARED" if item.workspace_id is not None else "PRIVATE",
        "deleted": False,
        "lastUpdated": iso(item.created),
    }
    if "labels" in attributes:
        data["labels"] = [label(world.labels[i]) for i in item.label_ids if i in world.labels]
    ce = world.compute_envs.get(str(saved.fields.get("computeEnvId")))
    if "computeEnv" in attributes and ce is not None:
        data["computeEnv"] = {
            "id": ce.id,
            "name": ce.name,
            "platform": ce.platform,
            "region": ce.region,
        }
    if "optimized" in attributes:
        data["optimizationStatus"] = "UNAVAILABLE"
    return data


#: Fields of a launch record echoed as they were sent (the others are set below).
_LAUNCH_FIELDS = [
    name
    for name in LAUNCH_FIELD_TYPES
    if name not in ("id", "computeEnvId", "runName", "sessionId", "resume", "dateCreated")
]


def launch_fields(world: World, saved: SavedLaunch) -> dict[str, Any]:
    data = {name: saved.fields.get(name) for name in _LAUNCH_FIELDS}
    ce = world.compute_envs.get(str(saved.fields.get("computeEnvId")))
    data["id"] = saved.id
    data["computeEnv"] = compute_env_with_config(world, ce) if ce else None
    data["dateCreated"] = iso(saved.created)
    data["resume"] = bool(saved.fields.get("resume", False))
    data["sessionId"] = saved.fields.get("sessionId")
    return data


def saved_launch(world: World, saved: SavedLaunch) -> dict[str, Any]:
    """``LaunchDbDto`` (``GET /pipelines/{id}/launch``)."""
    data = launch_fields(world, saved)
    data["workspaceId"] = saved.workspace_id
    data["lastUpdated"] = iso(saved.created)
    data["runName"] = saved.fields.get("runName")
    return data
