"""Odd answers from Tower, property-based: unknown fields, unknown enum values, nulls
everywhere and values of the wrong type never break a response model.

Every response model takes any JSON object: a field whose value does not fit its type is
dropped (None), the rest is kept, unknown keys are ignored, and an unknown status becomes a
pseudo-member that is neither active nor terminal.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nftower import Task, TaskStatus, Workflow, WorkflowStatus
from nftower._dataset_models import Dataset, DatasetVersion
from nftower._models import JobInfo, Label, ProcessLoad, Progress, TowerModel, WorkflowLoad
from nftower._resources import (
    ComputeEnv,
    LaunchConfig,
    LogPage,
    Pipeline,
    ServiceInfo,
    UserInfo,
    Workspace,
)
from nftower.status import is_active, is_terminal

MODELS: list[type[TowerModel]] = [
    Workflow,
    Task,
    Progress,
    WorkflowLoad,
    ProcessLoad,
    JobInfo,
    Label,
    ComputeEnv,
    Pipeline,
    LaunchConfig,
    Workspace,
    UserInfo,
    ServiceInfo,
    LogPage,
    Dataset,
    DatasetVersion,
]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _aliases(model: type[TowerModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _plain(annotation: Any) -> type | None:
    """``str`` for ``str | None`` (and the same for int and bool), else None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1 and args[0] in (str, int, bool):
            return typing.cast(type, args[0])
    return None


def _good(kind: type) -> st.SearchStrategy[Any]:
    if kind is str:
        return st.text(max_size=20)
    if kind is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    return st.booleans()


@st.composite
def answers(draw: st.DrawFn, model: type[TowerModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JSON object for ``model``: known keys with any JSON (or a value of the right type),
    and unknown keys. Returns it with the well-typed plain values it must keep."""
    body: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        choice = draw(st.sampled_from(["absent", "any", "null", "good"]))
        kind = _plain(field.annotation)
        if choice == "any":
            body[alias] = draw(json_values)
        elif choice == "null":
            body[alias] = None
            kept[name] = None
        elif choice == "good" and kind is not None:
            body[alias] = kept[name] = draw(_good(kind))
    known = set(_aliases(model)) | set(model.model_fields)
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=4))
    body.update({key: value for key, value in extra.items() if key not in known})
    return body, kept


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@PROPERTY
@given(data=st.data())
def test_any_json_object_parses_and_keeps_what_fits(
    model: type[TowerModel], data: st.DataObject
) -> None:
    body, kept = data.draw(answers(model))
    parsed = model.model_validate(body)
    for name, value in kept.items():
        assert getattr(parsed, name) == value, name
    parsed.model_dump_json()  # and it can be written out again


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_nulls_everywhere_give_an_empty_model(model: type[TowerModel]) -> None:
    parsed = model.model_validate(dict.fromkeys(_aliases(model)))
    assert all(value is None for value in parsed.model_dump().values())


@PROPERTY
@given(status=st.text(max_size=30))
def test_any_workflow_status_text_parses(status: str) -> None:
    workflow = Workflow.model_validate({"workflow": {"id": "w1", "status": status}})
    parsed = workflow.status
    assert parsed is not None
    if parsed.is_known:
        assert parsed.value == status.strip().upper() or parsed.value == status
    else:
        assert parsed.value == status
        assert not is_active(parsed)
        assert not is_terminal(parsed)


@PROPERTY
@given(status=st.text(max_size=30))
def test_any_task_status_text_parses(status: str) -> None:
    task = Task.model_validate({"task": {"taskId": 1, "status": status}})
    assert isinstance(task.status, TaskStatus)


@PROPERTY
@given(
    when=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.none()
    )
)
def test_timestamps_without_an_offset_are_utc(when: datetime) -> None:
    workflow = Workflow.model_validate({"workflow": {"dateCreated": when.isoformat()}})
    assert workflow.date_created == when.replace(tzinfo=timezone.utc)


def test_a_future_status_is_neither_active_nor_terminal() -> None:
    status = WorkflowStatus("PAUSED_FOR_LUNCH")
    assert not status.is_known
    assert not is_active(status)
    assert not is_terminal(status)
