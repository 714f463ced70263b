"""Every finding code the advisor reports, from the one registry, and the tables of docs/findings.md.

The model rules (`advisor.rules`), the data rules (`advisor.diagnostics`) and the task notes
(`advisor.task`) each register their `FindingRule`s where they are checked; importing this
module imports them all. ``python -m keras_act.advisor.codes`` prints the findings tables of docs/findings.md
(a test fails when that page differs).

Example:
    >>> from keras_act.advisor.codes import RULES
    >>> RULES["dead-units"].scope, RULES["dead-units"].severity
    ('data', 'warning')
"""

from __future__ import annotations

from . import diagnostics, rules, task  # noqa: F401  (they register their rules)
from .findings import REGISTRY, FindingRule

# Every finding code, by scope in the order the rules run: adding a rule adds its code here too
# (as ruff's codes.rs lists its rules), and tests/advisor/test_registry.py checks this list
# against the rules that register.
CODES = (
    # model (advisor.rules)
    "softmax-single-unit",
    "output-loss-mismatch",
    "output-task-mismatch",
    "softmax-hidden",
    "linear-hidden",
    "saturating-deep",
    "initializer-mismatch",
    "constant-initializer",
    "double-activation",
    "unknown-layer",
    "unreadable-activation",
    # data (advisor.diagnostics)
    "nan-output",
    "dead-units",
    "saturated-units",
    "vanishing-gradient",
    "exploding-gradient",
    "input-scale",
    "gradients-skipped",
    # task (advisor.task)
    "task-assumed",
    "task-sources-disagree",
)

RULES: dict[str, FindingRule] = {code: REGISTRY[code] for code in CODES if code in REGISTRY}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(scope: str) -> str:
    """The Markdown table of the rules of one scope (``"model"``, ``"data"`` or ``"task"``).

    Examples:
        >>> markdown_table("task").splitlines()[0]
        '| code | severity | fires when | why | thresholds |'
    """
    lines = ["| code | severity | fires when | why | thresholds |", "|---|---|---|---|---|"]
    for rule in RULES.values():
        if rule.scope != scope:
            continue
        severity = " / ".join(rule.severities) if rule.severities else rule.severity
        thresholds = "; ".join(f"`{t.name}` = {t.value:g} ({t.source})" for t in rule.thresholds)
        lines.append(
            f"| `{rule.code}` | {severity} | {_cell(rule.fires_when)} | {_cell(rule.why)} | {_cell(thresholds)} |"
        )
    return "\n".join(lines)


def findings_tables() -> str:
    """The findings section of docs/findings.md: one table per scope.

    Examples:
        >>> "`softmax-single-unit`" in findings_tables()
        True
    """
    return "\n\n".join(
        [
            "Read from the model (`advise(model)`):",
            markdown_table("model"),
            "Measured on sample data (`advise(model, x=..., y=...)`):",
            markdown_table("data"),
            "How the task was decided:",
            markdown_table("task"),
        ]
    )


if __name__ == "__main__":
    print(findings_tables())
