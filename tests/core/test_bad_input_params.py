"""Bad params and wait values: refused before any call with the parameter named; the
documented conversions (dates, paths, tuples, YAML / JSON text) reach Tower as JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from nftower import TowerConfigError
from nftower._params import check_params, params_from_text
from nftower.testing import TowerEmulator


def _circular() -> dict[str, Any]:
    inner: dict[str, Any] = {"a": 1}
    inner["self"] = inner
    return {"nested": inner}


BAD_PARAMS: dict[str, tuple[Any, str]] = {
    "NaN": ({"ratio": math.nan}, "params['ratio'] is nan, which cannot be sent as JSON"),
    "infinity": ({"max": math.inf}, "params['max'] is inf"),
    "negative infinity in a list": ({"cuts": [1.0, -math.inf]}, "params['cuts'][1] is -inf"),
    "NaN nested in a map": ({"qc": {"min": math.nan}}, "params['qc']['min'] is nan"),
    "tuple key": ({("a", "b"): 1}, "has the key ('a', 'b') (tuple): parameter names must be"),
    "int key nested": ({"lanes": {1: "L001"}}, "params['lanes'] has the key 1 (int)"),
    "set": ({"samples": {"s1", "s2"}}, "a set has no order: pass a list"),
    "bytes": ({"sheet": b"a,b\n"}, "bytes have no text encoding: decode them"),
    "other object": ({"x": object()}, "params['x'] is a object (<object object"),
    "circular": (_circular(), "params['nested']['self'] holds itself"),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_bad_params_are_refused_before_any_call(
    case: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    params, words = BAD_PARAMS[case]
    with pytest.raises(TowerConfigError) as caught:
        tower.launch("hello", params=params)
    assert words in str(caught.value)
    assert caught.value.__cause__ is None
    assert tower_emulator.requests == []


def test_nan_in_a_params_file_is_refused(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("outdir: s3://out\nmin_quality: .nan\n")
    with pytest.raises(TowerConfigError, match=r"params\['min_quality'\] is nan"):
        tower.launch("hello", params=path)
    assert tower_emulator.requests == []


def test_dates_paths_and_tuples_are_converted(tower: Any, tower_emulator: TowerEmulator) -> None:
    tower.launch(
        "hello",
        params={
            "when": dt.datetime(2024, 6, 1, 2, 30, tzinfo=dt.timezone.utc),
            "day": dt.date(2024, 6, 1),
            "at": dt.time(2, 30),
            "ref": PurePosixPath("/refs/GRCh38"),
            "lanes": (1, 2),
            "nested": {"dates": [dt.date(2024, 1, 2)]},
        },
    )
    sent = json.loads(tower_emulator.launches[-1].json["launch"]["paramsText"])
    assert {key: sent[key] for key in ("when", "day", "at", "ref", "lanes", "nested")} == {
        "when": "2024-06-01T02:30:00+00:00",
        "day": "2024-06-01",
        "at": "02:30:00",
        "ref": "/refs/GRCh38",
        "lanes": [1, 2],
        "nested": {"dates": ["2024-01-02"]},
    }


@pytest.mark.parametrize(
    "text",
    [
        "outdir: s3://bucket/results\nsamples: [a, b]\nday: 2024-06-01\n",
        '{"outdir": "s3://bucket/results", "samples": ["a", "b"], "day": "2024-06-01"}',
        "{'outdir': 's3://bucket/results', 'samples': ['a', 'b'], 'day': '2024-06-01'}",
    ],
    ids=["YAML", "JSON", "a rendered Python dict"],
)
def test_params_as_yaml_or_json_text_are_read_like_a_params_file(
    text: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello", params=text)
    sent = json.loads(tower_emulator.launches[-1].json["launch"]["paramsText"])
    assert sent["outdir"] == "s3://bucket/results"
    assert sent["samples"] == ["a", "b"]
    assert sent["day"] == "2024-06-01"  # a YAML date goes out as its ISO text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("results.txt", "it reads as a str ('results.txt')"),
        ("- a\n- b\n", "it reads as a list (['a', 'b'])"),
        ("outdir: [unclosed\n", "nor valid YAML / JSON text: expected ',' or ']'"),
        ("ratio: .inf\n", "params['ratio'] is inf"),
    ],
)
def test_params_text_that_is_no_mapping_is_refused(
    text: str, words: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    with pytest.raises(TowerConfigError) as caught:
        tower.launch("hello", params=text)
    assert words in str(caught.value)
    assert tower_emulator.requests == []


@pytest.mark.parametrize("text", ["", "  \n", "# nothing yet\n", "~"])
def test_empty_params_text_is_no_params(text: str) -> None:
    assert params_from_text(text) == {}


def test_a_string_ending_in_a_params_suffix_is_a_file_path(tower: Any) -> None:
    with pytest.raises(TowerConfigError, match="params file not found"):
        tower.launch("hello", params="missing-params.yaml")


def test_check_params_copies_and_keeps_json_values() -> None:
    params = {"a": [1, 2.5, True, None, "x"], "b": {"c": "d"}}
    checked = check_params(params)
    assert checked == params
    assert checked["a"] is not params["a"]
    assert params_from_text("{}") == {}


WAIT_VALUES: dict[str, tuple[dict[str, float], str]] = {
    "poll_interval nan": ({"poll_interval": math.nan}, "poll_interval must be a finite number"),
    "poll_interval inf": ({"poll_interval": math.inf}, "poll_interval must be a finite number"),
    "poll_interval negative": ({"poll_interval": -1.0}, "poll_interval must be a positive"),
    "timeout nan": ({"timeout": math.nan}, "timeout must be a finite number of seconds, got nan"),
    "timeout negative": ({"timeout": -5.0}, "timeout must be a positive number"),
    "unknown_timeout nan": ({"unknown_timeout": math.nan}, "None means no limit"),
    "unknown_timeout inf": ({"unknown_timeout": math.inf}, "unknown_timeout must be a finite"),
    "unknown_timeout negative": ({"unknown_timeout": -1.0}, "unknown_timeout must be a positive"),
}


@pytest.mark.parametrize("case", sorted(WAIT_VALUES))
@pytest.mark.parametrize("method", ["wait", "follow"])
def test_bad_wait_values_are_refused_before_any_call(
    case: str, method: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    options, words = WAIT_VALUES[case]
    with pytest.raises(TowerConfigError) as caught:
        getattr(tower, method)("4Bi5xBK6E2Nbhj", **options)
    assert words in str(caught.value)
    assert tower_emulator.requests == []
