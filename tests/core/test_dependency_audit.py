"""The offline audit of uv.lock (security/audit.py): what `make test` fails on."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("security_audit", ROOT / "security" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


audit = _load()


def _lock(tmp_path: Path, **versions: str) -> Path:
    path = tmp_path / "uv.lock"
    blocks = [
        f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        for name, version in versions.items()
    ]
    blocks.append(
        '[[package]]\nname = "nftower"\nversion = "0.1.0"\nsource = { editable = "core" }\n'
    )
    path.write_text("version = 1\n" + "\n".join(blocks))
    return path


def test_the_locked_dependencies_have_no_known_vulnerability(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert audit.main([]) == 0
    assert "No known vulnerability in the" in capsys.readouterr().out


def test_a_vulnerable_locked_version_fails_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _lock(tmp_path, Jinja2="2.10", httpx="0.27.2")
    assert audit.main(["--lock", str(lock), "--ignore", str(tmp_path / "none.txt")]) == 1
    report = capsys.readouterr().err
    assert (
        "jinja2 2.10: PYSEC-2019-217 (CVE-2019-10906, GHSA-462w-v97r-4m45), fixed in 2.10.1"
        in report
    )
    assert "httpx" not in report


def test_an_accepted_advisory_is_listed_with_its_reason(tmp_path: Path) -> None:
    lock = _lock(tmp_path, Jinja2="2.10.1")  # only PYSEC-2021-66 (CVE-2020-28493) is left
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# accepted risks\nCVE-2020-28493  # no untrusted templates here\n")
    assert audit.main(["--lock", str(lock), "--ignore", str(ignore)]) == 0
    assert audit.main(["--lock", str(lock), "--ignore", str(tmp_path / "none.txt")]) == 1


@pytest.mark.parametrize(
    ("events", "version", "affected"),
    [
        ([{"introduced": "0"}, {"fixed": "2.0"}], "1.9.9", True),
        ([{"introduced": "0"}, {"fixed": "2.0"}], "2.0", False),
        ([{"introduced": "1.5"}, {"fixed": "2.0"}], "1.4", False),
        ([{"introduced": "1.0"}, {"last_affected": "1.2"}], "1.2", True),
        ([{"introduced": "1.0"}, {"last_affected": "1.2"}], "1.2.1", False),
        ([{"introduced": "1.0"}], "9.9", True),  # never fixed
        (
            [{"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
            "1.5",
            False,
        ),
        (
            [{"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
            "2.0.5",
            True,
        ),
    ],
)
def test_osv_ranges(events: list[dict[str, str]], version: str, affected: bool) -> None:
    entry = {"ranges": [{"type": "ECOSYSTEM", "events": events}]}
    assert audit.affects(entry, version) is affected


def test_withdrawn_advisories_and_version_lists() -> None:
    entry = {"package": {"name": "demo"}, "versions": ["1.0"]}
    advisories = [
        {"id": "PYSEC-1", "affected": [entry]},
        {"id": "PYSEC-2", "affected": [entry], "withdrawn": "2024-01-01"},
    ]
    findings = audit.audit({"demo": "1.0"}, advisories, set())
    assert [f.advisory for f in findings] == ["PYSEC-1"]


def test_refresh_reads_a_checkout_of_the_advisory_database(tmp_path: Path) -> None:
    vulns = tmp_path / "db" / "vulns" / "demo"
    vulns.mkdir(parents=True)
    (vulns / "PYSEC-2099-1.yaml").write_text(
        "id: PYSEC-2099-1\naliases: [CVE-2099-1]\naffected:\n- package: {name: Demo_Pkg, "
        "ecosystem: PyPI}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n"
        "    - fixed: '1.1'\n  versions: ['1.0']\n"
    )
    snapshot = tmp_path / "advisories.json"
    assert audit.main(["--refresh", str(tmp_path / "db"), "--advisories", str(snapshot)]) == 0
    lock = _lock(tmp_path, **{"demo-pkg": "1.0"})
    args = ["--lock", str(lock), "--advisories", str(snapshot), "--ignore", str(tmp_path / "x")]
    assert audit.main(args) == 1
