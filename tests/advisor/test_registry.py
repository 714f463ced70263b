"""One rule registry: every finding code defined once, with its docs; docs/findings.md's tables come
from it."""

from __future__ import annotations

import ast
import pathlib

import pytest

from keras_act.advisor import diagnostics, rules
from keras_act.advisor.codes import RULES, findings_tables
from keras_act.advisor.findings import REGISTRY, Finding, FindingRule, register

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_code_has_its_docs() -> None:
    assert len(RULES) >= 20
    for code, rule in RULES.items():
        assert rule.code == code
        for text in (rule.fires_when, rule.why, rule.example, rule.fix):
            assert text.strip(), f"{code} lacks docs"
        for threshold in rule.thresholds:
            assert threshold.source.strip()


@pytest.mark.parametrize("module", [rules, diagnostics])
def test_thresholds_are_the_modules_constants(module) -> None:
    for rule in RULES.values():
        for threshold in rule.thresholds:
            if hasattr(module, threshold.name):
                assert getattr(module, threshold.name) == threshold.value


def test_no_finding_is_built_outside_its_rule() -> None:
    offenders = []
    for path in (ROOT / "advisor").glob("*.py"):
        if path.name == "findings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_a_code_cannot_be_registered_twice_with_other_docs() -> None:
    first = next(iter(RULES.values()))
    with pytest.raises(ValueError, match="registered twice"):
        register(
            FindingRule(code=first.code, severity="info", scope="model", fires_when="x", why="x", example="x", fix="x")
        )


def test_a_rule_reports_only_its_severities() -> None:
    rule = RULES["softmax-single-unit"]
    assert rule.finding("d", "m") == Finding("softmax-single-unit", "error", "d", "m", rule.fix)
    with pytest.raises(ValueError, match="severity 'info'"):
        rule.finding("d", "m", severity="info")


def test_the_list_of_codes_is_what_registers() -> None:
    from keras_act.advisor.codes import CODES

    assert len(set(CODES)) == len(CODES)
    assert sorted(CODES) == sorted(REGISTRY)


def test_the_documented_tables_are_generated_from_the_registry() -> None:
    page = (ROOT / "docs" / "findings.md").read_text()
    start, end = "<!-- findings-tables: python -m keras_act.advisor.codes -->\n", "\n<!-- /findings-tables -->"
    assert start in page and end in page, "docs/findings.md lacks the generated findings section"
    section = page.split(start, 1)[1].split(end, 1)[0]
    assert section == findings_tables(), "docs/findings.md's tables differ: paste `python -m keras_act.advisor.codes`"
