"""Bad wait values on the operator: refused when the DAG is parsed, before any launch."""

from __future__ import annotations

import math

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
