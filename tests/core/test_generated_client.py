"""A client generated from the official schema (openapi-python-client, every schema nullable as
in :func:`openapi_relax.relax`) drives the emulator: what it parses is what Tower sends.

The client is generated at test time into a temporary directory (about 10 s), so nothing
generated is checked in.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import openapi_contract as contract
import pytest
from nftower.testing import TowerEmulator
from openapi_relax import walk_schemas

PACKAGE = "tower_generated"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    contract.require_schema()
    tool = shutil.which("openapi-python-client") or str(
        Path(sys.executable).with_name("openapi-python-client")
    )
    if not Path(tool).is_file():
        pytest.skip("openapi-python-client is not installed (it needs Python 3.11+)")
    where = tmp_path_factory.mktemp("generated")
    spec = where / "seqera-api.relaxed.json"
    spec.write_text(json.dumps(_for_the_generator(contract.load_spec())), encoding="utf-8")
    config = where / "config.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    command = [tool, "generate", "--path", str(spec), "--config", str(config), "--meta", "none",
               "--output-path", str(where / PACKAGE)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert (where / PACKAGE / "client.py").is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _for_the_generator(spec: dict[str, Any]) -> dict[str, Any]:
    """The relaxed schema as openapi-python-client 0.29 can take it: it cannot model a nullable
    object schema holding a map property ("Invalid property in union"), so object schemas are
    not nullable themselves; instead every property that refers to one is (as every plain
    property already is), so a nested ``null`` still parses."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for schema in walk_schemas(schemas):
        if "properties" in schema:
            schema.pop("nullable", None)
            for name, prop in list(schema["properties"].items()):
                if isinstance(prop, dict) and "$ref" in prop:  # a nested object may be null
                    schema["properties"][name] = {"allOf": [prop], "nullable": True}
    return spec


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_the_generated_client_drives_the_emulator(generated: ModuleType) -> None:
    with TowerEmulator(speed=50.0, rate_limit=None) as emu:
        client = generated.AuthenticatedClient(base_url=emu.url, token=emu.token)
        ws = emu.workspace_id
        user = api("users.user_info").sync(client=client)
        assert user.user.user_name == emu.user_name
        rows = api("workspaces.list_workspaces_user").sync(user.user.id, client=client)
        names = {row.workspace_name for row in rows.orgs_and_workspaces}
        assert {None, emu.workspace_name} <= names  # an organization row has no workspace
        envs = api("compute_envs.list_compute_envs").sync(client=client, workspace_id=ws)
        primary = next(env for env in envs.compute_envs if env.primary)
        models = importlib.import_module(f"{PACKAGE}.models")
        request = models.SubmitWorkflowLaunchRequest.from_dict(
            {
                "launch": {
                    "computeEnvId": primary.id,
                    "workDir": primary.work_dir,
                    "pipeline": "https://github.com/nextflow-io/hello",
                }
            }
        )
        launched = api("workflows.create_workflow_launch").sync(
            client=client, body=request, workspace_id=ws
        )
        workflow_id = launched.workflow_id
        describe = api("workflows.describe_workflow")
        deadline = time.monotonic() + 30
        while True:
            described = describe.sync(workflow_id, client=client, workspace_id=ws)
            status = str(getattr(described.workflow.status, "value", described.workflow.status))
            if status in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status == "SUCCEEDED"
        assert described.workflow.complete is not None
        assert described.workflow.project_name == "nextflow-io/hello"
        tasks = api("workflows.list_workflow_tasks").sync(
            workflow_id, client=client, workspace_id=ws
        )
        assert tasks.total == len(tasks.tasks) > 0
        assert all(row.task.exit_status == 0 for row in tasks.tasks)
        log = api("workflows.get_workflow_log").sync(workflow_id, client=client, workspace_id=ws)
        assert log.log.pending is False
