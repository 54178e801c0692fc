"""Fail on a known vulnerability in the locked dependencies, offline.

``python security/audit.py`` checks every package that ``uv.lock`` pins (the three
distributions' runtime and dev dependencies alike) against ``security/advisories.json``, a
snapshot of the Python Packaging Authority's advisory database (OSV format, the database that
PyPI and pip-audit use). It needs no network. It exits 1 and lists each affected package with
the advisory id, its aliases (CVE, GHSA) and the fixed versions; an advisory accepted on
purpose goes in ``security/audit-ignore.txt`` (one id per line, ``#`` and a reason after it).

``python security/audit.py --refresh DIR`` rebuilds the snapshot from a checkout of
https://github.com/pypa/advisory-database (its ``vulns/<package>/*.yaml``); see the Security
section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has tomli (pytest's own dependency there)
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SNAPSHOT = HERE / "advisories.json"
IGNORE = HERE / "audit-ignore.txt"


def normalise(name: str) -> str:
    """A package name as PyPI compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Finding:
    """One locked package that an advisory covers."""

    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]

    def line(self) -> str:
        """How the finding is reported."""
        aka = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fix = f"fixed in {', '.join(self.fixed)}" if self.fixed else "no fixed version yet"
        return f"{self.package} {self.version}: {self.advisory}{aka}, {fix}"


def locked_packages(lock: Path) -> dict[str, str]:
    """``{normalised name: version}`` of every registry package in a ``uv.lock``."""
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    packages: dict[str, str] = {}
    for package in data.get("package", []):
        source = package.get("source", {})
        if "registry" not in source or "version" not in package:
            continue  # the workspace's own packages
        packages[normalise(package["name"])] = str(package["version"])
    return packages


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def affects(entry: Mapping[str, Any], version: str) -> bool:
    """True if an advisory's ``affected`` entry (OSV) covers ``version``."""
    if version in entry.get("versions", ()):
        return True
    found = _version(version)
    if found is None:
        return False
    for ranges in entry.get("ranges", ()):
        if ranges.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        inside = False
        for event in ranges.get("events", ()):
            if "introduced" in event:
                start = event["introduced"]
                inside = start == "0" or ((bound := _version(start)) is not None and found >= bound)
            elif "fixed" in event and inside:
                bound = _version(event["fixed"])
                if bound is not None and found < bound:
                    return True
                inside = False
            elif "last_affected" in event and inside:
                bound = _version(event["last_affected"])
                if bound is not None and found <= bound:
                    return True
                inside = False
        if inside:  # introduced and never fixed
            return True
    return False


def audit(
    packages: Mapping[str, str], advisories: Iterable[Mapping[str, Any]], ignored: set[str]
) -> list[Finding]:
    """Every (package, advisory) pair where the locked version is affected."""
    findings: list[Finding] = []
    for advisory in advisories:
        ids = {advisory["id"], *advisory.get("aliases", ())}
        if advisory.get("withdrawn") or ids & ignored:
            continue
        for entry in advisory.get("affected", ()):
            name = normalise(entry.get("package", {}).get("name", ""))
            version = packages.get(name)
            if version is not None and affects(entry, version):
                fixed = sorted(
                    {
                        event["fixed"]
                        for ranges in entry.get("ranges", ())
                        for event in ranges.get("events", ())
                        if "fixed" in event
                    },
                    key=lambda text: _version(text) or Version("0"),
                )
                findings.append(
                    Finding(
                        name,
                        version,
                        advisory["id"],
                        tuple(advisory.get("aliases", ())),
                        tuple(fixed),
                    )
                )
    return sorted(findings, key=lambda f: (f.package, f.advisory))


def ignored_ids(path: Path) -> set[str]:
    """The advisory ids of an ignore file (``ID  # reason`` lines)."""
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def _compact(advisory: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fields the audit reads, for PyPI packages only (``versions`` only without ranges)."""
    affected = []
    for entry in advisory.get("affected", ()):
        package = entry.get("package", {})
        if package.get("ecosystem") != "PyPI":
            continue
        kept: dict[str, Any] = {"package": {"name": normalise(package["name"])}}
        ranges = [
            {"type": r["type"], "events": r["events"]}
            for r in entry.get("ranges", ())
            if r.get("type") in ("ECOSYSTEM", "SEMVER")
        ]
        if ranges:
            kept["ranges"] = ranges
        else:
            kept["versions"] = [str(v) for v in entry.get("versions", ())]
        affected.append(kept)
    if not affected:
        return None
    compact: dict[str, Any] = {"id": advisory["id"], "affected": affected}
    if advisory.get("aliases"):
        compact["aliases"] = sorted(advisory["aliases"])
    if advisory.get("withdrawn"):
        compact["withdrawn"] = str(advisory["withdrawn"])
    return compact


def _read_database(directory: Path) -> Iterator[dict[str, Any]]:
    import yaml

    for path in sorted((directory / "vulns").glob("*/*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict) and (compact := _compact(loaded)) is not None:
            yield compact


def refresh(directory: Path, source: str, snapshot: Path = SNAPSHOT) -> int:
    """Rebuild the snapshot from a checkout of pypa/advisory-database; the advisory count."""
    advisories = sorted(_read_database(directory), key=lambda a: a["id"])
    lines = ",\n".join(json.dumps(a, separators=(",", ":"), sort_keys=True) for a in advisories)
    # one advisory per line, so that a refresh reads as a diff of advisories
    snapshot.write_text(f'{{"source": {json.dumps(source)}, "advisories": [\n{lines}\n]}}\n')
    return len(advisories)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "uv.lock")
    parser.add_argument("--advisories", type=Path, default=SNAPSHOT)
    parser.add_argument("--ignore", type=Path, default=IGNORE)
    parser.add_argument(
        "--refresh", type=Path, metavar="DIR", help="a pypa/advisory-database checkout"
    )
    parser.add_argument(
        "--source", default="pypa/advisory-database", help="recorded with --refresh"
    )
    args = parser.parse_args(argv)
    if args.refresh is not None:
        count = refresh(args.refresh, args.source, args.advisories)
        print(f"{args.advisories}: {count} advisories from {args.source}")
        return 0
    document = json.loads(args.advisories.read_text(encoding="utf-8"))
    packages = locked_packages(args.lock)
    findings = audit(packages, document["advisories"], ignored_ids(args.ignore))
    where = f"{len(document['advisories'])} advisories of {document['source']}"
    if findings:
        print(f"Known vulnerabilities in {args.lock.name} ({where}):", file=sys.stderr)
        for finding in findings:
            print(f"  {finding.line()}", file=sys.stderr)
        print(
            "Upgrade them (uv lock --upgrade-package NAME) or, if accepted, list the id in "
            f"{args.ignore.name} with the reason.",
            file=sys.stderr,
        )
        return 1
    print(f"No known vulnerability in the {len(packages)} packages of {args.lock.name} ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
