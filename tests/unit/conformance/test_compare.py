# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/conformance/compare.py: which differences fail the conformance tier."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("conformance_compare", ROOT / "tests/conformance/compare.py")
assert _spec and _spec.loader
compare = importlib.util.module_from_spec(_spec)
# dataclasses look their module up in sys.modules while the file runs.
sys.modules[_spec.name] = compare
_spec.loader.exec_module(compare)
Outcome = compare.Outcome

OK = Outcome(passed=1, failed=0)
FAIL = Outcome(passed=0, failed=1)


def write_run(directory: Path, results: dict[str, list[str]]) -> None:
    """Lay out checks.json files the way the runner's -o does."""
    for scenario, statuses in results.items():
        run = directory / f"server-{scenario}-2026-11-25T11-30-46-069Z"
        run.mkdir(parents=True)
        checks = [
            {"id": f"{scenario}-{i}", "status": status, "errorMessage": f"{status} {i}"}
            for i, status in enumerate(statuses)
        ]
        (run / "checks.json").write_text(json.dumps(checks), encoding="utf-8")


def test_load_results_counts_success_and_failure_only(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        {
            "tools-call-with-progress": ["SUCCESS"],
            "dns-rebinding-protection": ["SUCCESS", "FAILURE"],
            "server-sse-polling": ["INFO", "WARNING"],
        },
    )
    (tmp_path / "not-a-result").mkdir()
    results = compare.load_results(tmp_path)
    assert results == {
        "tools-call-with-progress": Outcome(1, 0),
        "dns-rebinding-protection": Outcome(1, 1),
        "server-sse-polling": Outcome(0, 0),
    }
    assert not results["dns-rebinding-protection"].ok
    assert results["dns-rebinding-protection"].errors == ("dns-rebinding-protection-1: FAILURE 1",)
    assert results["server-sse-polling"].ok


def test_missing_directory_is_no_results(tmp_path: Path) -> None:
    assert compare.load_results(tmp_path / "absent") == {}


def test_read_names_skips_comments_and_blanks(tmp_path: Path) -> None:
    names = tmp_path / "list.txt"
    names.write_text("# header\n\nping  # why\n tools-list\n", encoding="utf-8")
    assert compare.read_names(names) == ["ping", "tools-list"]


def test_all_equal_passes() -> None:
    direct = {"ping": OK, "tools-list": OK}
    assert compare.problems(direct, [], dict(direct), {"ping": OK}, ["ping"]) == []


def test_gateway_difference_names_the_scenarios() -> None:
    direct = {"ping": OK, "tools-call-sampling": OK, "tools-call-elicitation": OK}
    gateway = {"ping": OK, "tools-call-sampling": FAIL}
    found = compare.problems(direct, [], gateway)
    assert found == ["pass direct but fail through /servers/<name>/mcp: tools-call-elicitation, tools-call-sampling"]


def test_expected_failure_may_fail_everywhere() -> None:
    direct = {"ping": OK, "server-sse-polling": FAIL}
    gateway = {"ping": OK, "server-sse-polling": FAIL}
    assert compare.problems(direct, ["server-sse-polling"], gateway) == []


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (["ping"], "pass against the backend (remove them): ping"),
        (["no-such-scenario"], "the suite did not run: no-such-scenario"),
        ([], "the backend itself fails (fix it, or list them in expected-failures.txt): tools-list"),
    ],
)
def test_expected_failures_file_is_checked(expected: list[str], message: str) -> None:
    direct = {"ping": OK, "tools-list": FAIL}
    found = compare.problems(direct, expected + (["tools-list"] if expected else []))
    assert any(message in sentence for sentence in found), found


def test_aggregate_only_judges_listed_scenarios() -> None:
    direct = {"ping": OK, "tools-call-simple-text": OK, "tools-list": OK}
    aggregate = {"ping": OK, "tools-call-simple-text": FAIL}
    found = compare.problems(direct, [], None, aggregate, ["ping", "tools-list"])
    assert found == ["pass direct but fail through /mcp: tools-list"]


def test_aggregate_list_typo_is_reported() -> None:
    found = compare.problems({"ping": OK}, [], None, {"ping": OK}, ["ping", "pnig"])
    assert found == ["aggregate-scenarios.txt lists scenarios the suite did not run: pnig"]


def test_no_direct_results_fails() -> None:
    assert compare.problems({}, []) == ["the direct run produced no results: see its log above"]


def test_main_exit_status_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path / "direct", {"ping": ["SUCCESS"], "tools-list": ["SUCCESS"]})
    write_run(tmp_path / "gateway", {"ping": ["SUCCESS"], "tools-list": ["FAILURE"]})
    expected = tmp_path / "expected.txt"
    expected.write_text("# none\n", encoding="utf-8")
    aggregate_list = tmp_path / "aggregate.txt"
    aggregate_list.write_text("ping\n", encoding="utf-8")
    argv = ["--direct", str(tmp_path / "direct"), "--gateway", str(tmp_path / "gateway")]
    argv += ["--expected-failures", str(expected), "--aggregate-scenarios", str(aggregate_list)]
    assert compare.main(argv) == 1
    out, err = capsys.readouterr()
    assert "direct:                2/2 scenarios passed" in out
    assert "/servers/<name>/mcp:   1/2 scenarios passed" in out
    assert "fail through /servers/<name>/mcp: tools-list" in err
    assert "  gateway tools-list: tools-list-0: FAILURE 0" in err
