"""The contract validator itself: it flags what Tower would silently ignore, and only that."""

from __future__ import annotations

from typing import Any

import openapi_contract as contract
import pytest
from nftower.testing import RecordedRequest

pytestmark = pytest.mark.contract

WS = "138659136604200"


@pytest.fixture(autouse=True)
def _schema() -> None:
    contract.require_schema()


def record(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    query_string: str = "",
    body: Any = None,
) -> RecordedRequest:
    """A request without a response (only the request side is checked)."""
    return RecordedRequest(method, path, query or {}, body, None, None, None, 0.0, None, None,
                           query_string=query_string)  # fmt: skip


@pytest.mark.parametrize(
    "exchange",
    [
        record("GET", "/workflow", query={"workspaceId": WS, "serch": "nightly"}),
        record("GET", "/workflow", query_string=f"workspaceId={WS}&serch=nightly"),
        record("GET", "/workflow", query={"serch": "x"}, query_string=f"workspaceId={WS}"),
        record("GET", "/pipelines", query={"status": "FAILED"}),
    ],
    ids=["query", "query_string", "either", "other-operation"],
)
def test_undeclared_query_parameter_is_flagged(exchange: RecordedRequest) -> None:
    problems = contract.exchange_problems(exchange)
    assert len(problems) == 1
    assert "undeclared query parameters" in problems[0]
    with pytest.raises(contract.ContractError, match="undeclared query parameters"):
        contract.validate_exchange(exchange)


def test_declared_query_parameters_pass() -> None:
    query = {"workspaceId": WS, "search": "status:failed", "max": "10", "offset": "0"}
    assert contract.exchange_problems(record("GET", "/workflow", query=query)) == []


@pytest.mark.parametrize(
    ("path", "body", "unknown"),
    [
        ("/labels", {"name": "nightly", "resource": False, "colour": "red"}, "colour"),
        (
            "/workflow/launch",
            {"launch": {"pipeline": "https://github.com/nextflow-io/hello", "computeEnvID": "x"}},
            "computeEnvID",
        ),
        ("/workflow/launch", {"launch": {"pipeline": "hello"}, "dryRun": True}, "dryRun"),
    ],
)
def test_unknown_body_field_is_flagged(path: str, body: dict[str, Any], unknown: str) -> None:
    bad = record("POST", path, query={"workspaceId": WS}, body=body)
    problems = contract.exchange_problems(bad)
    assert problems
    assert unknown in "\n".join(problems)
    clean = {key: value for key, value in body.items() if key != unknown}
    if "launch" in clean:
        clean["launch"] = {k: v for k, v in clean["launch"].items() if k != unknown}
    assert (
        contract.exchange_problems(record("POST", path, query={"workspaceId": WS}, body=clean))
        == []
    )


def test_wrong_body_type_is_flagged() -> None:
    body = {"launch": {"pipeline": "https://github.com/nextflow-io/hello", "labelIds": ["x"]}}
    problems = contract.exchange_problems(record("POST", "/workflow/launch", body=body))
    assert len(problems) == 1
    assert "'x' is not of type 'integer' at ['launch', 'labelIds', 0]" in problems[0]


def test_a_response_missing_a_declared_property_is_flagged() -> None:
    label = {"id": 1, "name": "nightly", "resource": False, "isDefault": False,
             "isDynamic": False, "isInterpolated": False, "dateCreated": None}  # fmt: skip
    body = {"labels": [label], "totalSize": 1}
    assert contract.missing_properties("GET", "/labels", 200, body) == [
        "LabelDbDto.value at $.labels[0]"
    ]
    assert contract.missing_properties("GET", "/labels", 200, {**body, "labels": []}) == []
    config = {"discriminator": "aws-batch", "workDir": "s3://b"}
    envelope = {"computeEnv": {"config": config}}
    missing = contract.missing_properties("GET", "/compute-envs/abc", 200, envelope)
    assert "AwsBatchConfig.headQueue at $.computeEnv.config" in missing
