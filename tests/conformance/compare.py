# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare the conformance suite's results direct, through /servers/<name>/mcp and through /mcp.

Each run wrote ``<dir>/server-<scenario>-<timestamp>/checks.json`` (the runner's ``-o``). A
scenario passes when none of its checks has status FAILURE (the runner's own count). Exits 1,
naming the scenarios, when:

- a scenario fails against the backend itself and tests/conformance/expected-failures.txt does
  not list it, or the file lists one that passes (stale) or that the suite does not have;
- a scenario passes direct but fails (or did not run) through the gateway;
- a scenario of the aggregate list passes direct but fails (or did not run) through /mcp.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# server-<scenario>-2026-11-25T11-30-46-069Z
RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$")


@dataclass(frozen=True)
class Outcome:
    passed: int
    failed: int
    # "<check id>: <errorMessage>" of each failed check, to print next to the verdict.
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def read_names(path: Path) -> list[str]:
    """Scenario names from a list file: one a line, ``#`` comments and blank lines ignored."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def load_results(directory: Path) -> dict[str, Outcome]:
    """Scenario -> outcome for one run's output directory (empty when it wrote nothing)."""
    results: dict[str, Outcome] = {}
    if not directory.is_dir():
        return results
    for entry in sorted(directory.iterdir()):
        match = RESULT_DIR.match(entry.name)
        checks_file = entry / "checks.json"
        if not match or not checks_file.is_file():
            continue
        checks = json.loads(checks_file.read_text(encoding="utf-8"))
        statuses = [check.get("status") for check in checks]
        errors = tuple(
            f"{check.get('id')}: {check.get('errorMessage') or 'no message'}"
            for check in checks
            if check.get("status") == "FAILURE"
        )
        results[match["scenario"]] = Outcome(
            passed=statuses.count("SUCCESS"), failed=statuses.count("FAILURE"), errors=errors
        )
    return results


def problems(
    direct: dict[str, Outcome],
    expected_failures: list[str],
    gateway: dict[str, Outcome] | None = None,
    aggregate: dict[str, Outcome] | None = None,
    aggregate_scenarios: list[str] | None = None,
) -> list[str]:
    """Every reason for the tier to fail, one sentence each; empty when it passes."""
    found: list[str] = []
    if not direct:
        return ["the direct run produced no results: see its log above"]
    expected = set(expected_failures)
    unknown = sorted(expected - direct.keys())
    if unknown:
        found.append("expected-failures.txt lists scenarios the suite did not run: " + ", ".join(unknown))
    stale = sorted(name for name in expected & direct.keys() if direct[name].ok)
    if stale:
        found.append(
            "expected-failures.txt lists scenarios that pass against the backend (remove them): " + ", ".join(stale)
        )
    unexpected = sorted(name for name, out in direct.items() if not out.ok and name not in expected)
    if unexpected:
        found.append(
            "the backend itself fails (fix it, or list them in expected-failures.txt): " + ", ".join(unexpected)
        )
    passing = {name for name, out in direct.items() if out.ok}
    if gateway is not None:
        lost = sorted(name for name in passing if not (name in gateway and gateway[name].ok))
        if lost:
            found.append("pass direct but fail through /servers/<name>/mcp: " + ", ".join(lost))
    if aggregate is not None:
        wanted = set(aggregate_scenarios or [])
        unknown_aggregate = sorted(wanted - direct.keys())
        if unknown_aggregate:
            found.append(
                "aggregate-scenarios.txt lists scenarios the suite did not run: " + ", ".join(unknown_aggregate)
            )
        lost = sorted(name for name in wanted & passing if not (name in aggregate and aggregate[name].ok))
        if lost:
            found.append("pass direct but fail through /mcp: " + ", ".join(lost))
    return found


def _cell(results: dict[str, Outcome] | None, name: str, wanted: set[str] | None = None) -> str:
    if results is None or (wanted is not None and name not in wanted):
        return "-"
    outcome = results.get(name)
    if outcome is None:
        return "missing"
    return f"{'ok' if outcome.ok else 'FAIL'} {outcome.passed}/{outcome.passed + outcome.failed}"


def _count(results: dict[str, Outcome], names: set[str]) -> str:
    ok = sum(1 for name in names if name in results and results[name].ok)
    return f"{ok}/{len(names)} scenarios"


def report(
    direct: dict[str, Outcome],
    gateway: dict[str, Outcome] | None,
    aggregate: dict[str, Outcome] | None,
    aggregate_scenarios: list[str],
) -> str:
    """The side-by-side table and the pass counts."""
    wanted = set(aggregate_scenarios)
    rows = [f"{'scenario':34} {'direct':10} {'gateway':10} {'aggregate':10}"]
    for name in sorted(direct.keys() | (gateway or {}).keys()):
        rows.append(f"{name:34} {_cell(direct, name):10} {_cell(gateway, name):10} {_cell(aggregate, name, wanted):10}")
    rows.append("")
    rows.append(f"direct:                {_count(direct, set(direct))} passed")
    if gateway is not None:
        rows.append(f"/servers/<name>/mcp:   {_count(gateway, set(direct))} passed")
    if aggregate is not None:
        rows.append(f"/mcp (name-free list): {_count(aggregate, wanted)} passed")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--direct", type=Path, required=True)
    parser.add_argument("--gateway", type=Path)
    parser.add_argument("--aggregate", type=Path)
    parser.add_argument("--expected-failures", type=Path, required=True)
    parser.add_argument("--aggregate-scenarios", type=Path, required=True)
    args = parser.parse_args(argv)

    direct = load_results(args.direct)
    gateway = load_results(args.gateway) if args.gateway else None
    aggregate = load_results(args.aggregate) if args.aggregate else None
    aggregate_scenarios = read_names(args.aggregate_scenarios)
    print(report(direct, gateway, aggregate, aggregate_scenarios))
    found = problems(direct, read_names(args.expected_failures), gateway, aggregate, aggregate_scenarios)
    for sentence in found:
        print(f"conformance: {sentence}", file=sys.stderr)
    if found:
        for run, results in (("direct", direct), ("gateway", gateway), ("aggregate", aggregate)):
            judged = set(aggregate_scenarios) if run == "aggregate" else None
            for name, outcome in sorted((results or {}).items()):
                if judged is None or name in judged:
                    for error in outcome.errors:
                        print(f"  {run} {name}: {error}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
