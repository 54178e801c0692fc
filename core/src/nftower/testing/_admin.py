"""The admin API under ``/_emulator`` (no auth, not recorded, not rate limited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._errors import bad_request
from ._faults import Fault
from ._seed import ORG_NAME, WORKSPACE_ID, WORKSPACE_NAME

if TYPE_CHECKING:
    from ._app import EmulatorState


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise bad_request("Malformed JSON request body") from None
    if not isinstance(data, dict):
        raise bad_request("Expected a JSON object")
    return data


def admin_routes(state: EmulatorState) -> list[Route]:
    """Routes of the admin API, bound to one emulator's state."""
    world = state.world

    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "workspaceId": WORKSPACE_ID if WORKSPACE_ID in world.workspaces else None,
                "orgName": ORG_NAME,
                "workspaceName": WORKSPACE_NAME,
                "userName": world.user_name,
                "userId": world.user_id,
                "speed": world.speed,
                "rateLimit": state.limiter.limit,
                "rateLimitWindow": state.limiter.window,
            }
        )

    async def list_requests(request: Request) -> Response:
        return JSONResponse({"requests": [r.to_dict() for r in state.log.snapshot()]})

    async def clear_requests(request: Request) -> Response:
        state.log.clear()
        return Response(status_code=204)

    async def stats(request: Request) -> Response:
        data = state.log.stats(state.limiter.window)
        with world.lock:
            data["workflows"] = len(world.runs)
        return JSONResponse(data)

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"faults": state.faults.active()})

    async def add_fault(request: Request) -> Response:
        data = await _body(request)
        try:
            fault = Fault(**data)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"Invalid fault: {exc}") from None
        state.faults.add(fault)
        return JSONResponse({"fault": fault.describe()}, status_code=201)

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return Response(status_code=204)

    async def workflow(request: Request) -> Response:
        with world.lock:
            return JSONResponse(world.raw(request.path_params["workflowId"]))

    async def set_status(request: Request) -> Response:
        data = await _body(request)
        with world.lock:
            world.set_status(request.path_params["workflowId"], data.get("status", ""))
            return JSONResponse(world.raw(request.path_params["workflowId"]))

    async def advance(request: Request) -> Response:
        data = await _body(request)
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise bad_request('Expected {"seconds": <emulated seconds>}')
        with world.lock:
            world.advance(float(seconds))
        return Response(status_code=204)

    async def add_token(request: Request) -> Response:
        data = await _body(request)
        try:
            state.add_token(data.get("token", ""))
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        return Response(status_code=204)

    prefix = "/_emulator"
    return [
        Route(prefix, info, methods=["GET"]),
        Route(prefix + "/", info, methods=["GET"]),
        Route(prefix + "/requests", list_requests, methods=["GET"]),
        Route(prefix + "/requests", clear_requests, methods=["DELETE"]),
        Route(prefix + "/stats", stats, methods=["GET"]),
        Route(prefix + "/faults", list_faults, methods=["GET"]),
        Route(prefix + "/faults", add_fault, methods=["POST"]),
        Route(prefix + "/faults", clear_faults, methods=["DELETE"]),
        Route(prefix + "/workflows/{workflowId}", workflow, methods=["GET"]),
        Route(prefix + "/workflows/{workflowId}/status", set_status, methods=["POST"]),
        Route(prefix + "/tokens", add_token, methods=["POST"]),
        Route(prefix + "/advance", advance, methods=["POST"]),
    ]
