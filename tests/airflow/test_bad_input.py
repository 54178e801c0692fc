"""Bad input to the provider: wait values refused when the DAG is parsed, a bad token in the
connection refused before any call."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from nftower import TowerConfigError
from nftower_airflow.operators import TowerLaunchOperator


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"poll_interval": math.nan}, "poll_interval must be a finite number of seconds, got nan"),
        ({"poll_interval": math.inf}, "poll_interval must be a finite number of seconds, got inf"),
        ({"unknown_timeout": math.nan}, "unknown_timeout must be a finite number of seconds"),
        ({"unknown_timeout": -1.0}, "unknown_timeout must be a positive number of seconds"),
    ],
    ids=["poll_interval nan", "poll_interval inf", "unknown_timeout nan", "unknown_timeout <0"],
)
def test_bad_wait_values_are_refused_when_the_dag_is_parsed(
    options: dict[str, float], words: str
) -> None:
    with pytest.raises(TowerConfigError) as caught:
        TowerLaunchOperator(task_id="launch", pipeline="hello", **options)
    assert words in str(caught.value)


TOKEN = "eyJ0aWQiOiA0Mn0.c2VjcmV0LXZhbHVlLTAxMjM0"


@pytest.mark.parametrize(
    ("password", "words"),
    [
        (TOKEN[:20] + "\n" + TOKEN[20:], "contains a line break (at character 21)"),
        (f"\u201c{TOKEN}\u201d", "wrapped in quotes (U+201C LEFT DOUBLE QUOTATION MARK)"),
        ("short-token", "only 11 character(s) long"),
    ],
    ids=["newline", "typographic quotes", "short"],
)
def test_a_bad_token_in_the_connection_fails_its_test_without_a_call(
    password: str, words: str, tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nftower_airflow.hooks import TowerHook

    conn = {"conn_type": "tower", "host": tower_conn.url, "password": password}
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", json.dumps(conn))
    ok, message = TowerHook().test_connection()
    assert not ok
    assert words in message
    assert TOKEN[:12] not in message
    assert tower_conn.requests == []


def test_pipeline_params_rendered_to_yaml_text_are_read_as_params(tower_conn: Any) -> None:
    from airflow_harness import make_context

    op = TowerLaunchOperator(
        task_id="launch",
        pipeline="hello",
        pipeline_params="{{ yaml_params }}",
        wait_for_completion=False,
    )
    context = make_context()
    op.render_template_fields({**context, "yaml_params": "outdir: s3://out\nday: 2024-06-01\n"})
    op.execute(context)
    (launch,) = tower_conn.launches
    sent = json.loads(launch.json["launch"]["paramsText"])
    assert (sent["outdir"], sent["day"]) == ("s3://out", "2024-06-01")
