"""The `Finding` a rule reports, and the rule registry: every finding code defined once.

Each code is one `FindingRule`: its severity, when it fires, why that is bad, an example, the
default fix and its thresholds (named constants with their sources). The model rules
(`advisor.rules`), the data rules (`advisor.diagnostics`) and the task notes (`advisor.task`)
all register theirs here, and every finding is made through its rule (`RULE.finding(...)`), so
a code cannot be reported without its docs; `keras_act.advisor.codes` collects them and renders the
the tables of docs/findings.md.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

SEVERITIES = ("error", "warning", "info")
SCOPES = ("model", "data", "task")


@dataclass(frozen=True)
class Finding:
    """One thing the advisor noticed about a model.

    Attributes:
        code: a stable identifier, e.g. ``"output-loss-mismatch"``; safe to match on.
        severity: ``"error"`` (the model computes something wrong), ``"warning"`` (evidence says
            it hurts training) or ``"info"`` (worth knowing; no action needed).
        layer: the layer's name, or None for the model as a whole.
        message: what is wrong, in a sentence.
        fix: what to do about it.
        head: for a finding about one output of a multi-output model, that output's name.

    Examples:
        >>> Finding("softmax-hidden", "warning", "dense_1", "softmax in a hidden layer", "use relu").severity
        'warning'
    """

    code: str
    severity: str
    layer: str | None
    message: str
    fix: str
    head: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding severity must be one of {SEVERITIES}, received {self.severity!r}.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict.

        Examples:
            >>> sorted(Finding("c", "info", None, "m", "f").to_dict())
            ['code', 'fix', 'head', 'layer', 'message', 'severity']
        """
        return asdict(self)

    def __str__(self) -> str:
        where = f" [{self.layer}]" if self.layer else ""
        head = f" (output {self.head!r})" if self.head else ""
        return f"{self.severity.upper():7} {self.code}{where}{head}: {self.message} Fix: {self.fix}"


@dataclass(frozen=True)
class Threshold:
    """A named constant a rule compares against, with where its value comes from.

    Examples:
        >>> Threshold("SIGMOID_MAX_DEPTH", 5, "Glorot & Bengio 2010").value
        5
    """

    name: str
    value: float
    source: str


@dataclass(frozen=True, kw_only=True)
class FindingRule:
    """One finding code and everything about it: the single place a code is defined.

    Attributes:
        code: the stable code.
        severity: the severity it reports by default (``"warning / info"`` style for rules that
            pick one; `severities` lists them).
        scope: ``"model"`` (read from the model), ``"data"`` (measured on sample data) or
            ``"task"`` (how the task was decided).
        fires_when: one line: when it fires.
        why: why that is bad (or worth knowing).
        example: a model or input that makes it fire.
        fix: the default fix.
        thresholds: the constants it compares against, with sources.
        severities: every severity it may report.
        keras_warning: a regular expression matching the warning Keras itself prints for the
            same problem, which the advisor's own runs of the model then do not print a second
            time (see `reported_keras_warnings_silenced`); empty when Keras has none.

    Examples:
        >>> rule = FindingRule(code="demo-code", severity="info", scope="model", fires_when="never",
        ...                    why="an example", example="x", fix="nothing")
        >>> rule.finding("dense", "It happened.").fix
        'nothing'
    """

    code: str
    severity: str
    scope: str
    fires_when: str
    why: str
    example: str
    fix: str
    thresholds: tuple[Threshold, ...] = ()
    severities: tuple[str, ...] = ()
    keras_warning: str = ""

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"FindingRule scope must be one of {SCOPES}, received {self.scope!r}.")
        allowed = self.severities or (self.severity,)
        if any(s not in SEVERITIES for s in allowed) or self.severity not in allowed:
            raise ValueError(f"FindingRule {self.code}: severities {allowed} must be in {SEVERITIES}.")

    def finding(
        self,
        layer: str | None,
        message: str,
        fix: str | None = None,
        severity: str | None = None,
        head: str | None = None,
    ) -> Finding:
        """A `Finding` of this code (default fix and severity unless given)."""
        severity = severity or self.severity
        if severity not in (self.severities or (self.severity,)):
            raise ValueError(f"{self.code} does not report severity {severity!r}.")
        return Finding(self.code, severity, layer, message, fix or self.fix, head)


REGISTRY: dict[str, FindingRule] = {}


@contextlib.contextmanager
def reported_keras_warnings_silenced() -> Iterator[None]:
    """Within this block, the Keras warnings that a registered rule reports as a finding are not
    printed (the finding says it, with the fix): the advisor wraps its own runs of the model.

    Examples:
        >>> import keras, numpy as np
        >>> from keras_act.advisor import rules  # registers softmax-single-unit
        >>> with warnings.catch_warnings(record=True) as caught, reported_keras_warnings_silenced():
        ...     _ = keras.ops.softmax(np.zeros((2, 1)))
        >>> [w for w in caught if "size 1" in str(w.message)]
        []
    """
    with warnings.catch_warnings():
        for rule in REGISTRY.values():
            if rule.keras_warning:
                warnings.filterwarnings("ignore", message=rule.keras_warning)
        yield


def register(rule: FindingRule) -> FindingRule:
    """Add a rule to the registry (each code once) and return it.

    Examples:
        >>> rule = register(FindingRule(code="doc-example", severity="info", scope="model", fires_when="never",
        ...                             why="-", example="-", fix="-"))
        >>> REGISTRY.pop("doc-example") is rule
        True
    """
    if rule.code in REGISTRY and REGISTRY[rule.code] != rule:
        raise ValueError(f"Finding code {rule.code!r} is registered twice.")
    REGISTRY[rule.code] = rule
    return rule


Context = TypeVar("Context")
RuleCheck = Callable[[Context], Iterable[Finding]]


class RuleSet(Generic[Context]):
    """The rules of one scope, each a `FindingRule` and the function that checks it, run in the
    order they were declared. A rule is declared once, with its check beside it:

    Examples:
        >>> demo = RuleSet()
        >>> @demo.rule(FindingRule(code="doc-empty", severity="info", scope="data",
        ...                        fires_when="a list is empty", why="-", example="[]", fix="-"))
        ... def empty(values):
        ...     if not values:
        ...         yield empty.spec.finding(None, "The list is empty.")
        >>> [f.code for f in demo.run([])], [f.code for f in demo.run([1])]
        (['doc-empty'], [])
        >>> _ = REGISTRY.pop("doc-empty")
    """

    def __init__(self) -> None:
        self.checks: dict[str, tuple[FindingRule, RuleCheck]] = {}

    def rule(self, spec: FindingRule) -> Callable[[RuleCheck], RuleCheck]:
        """Register `spec` (`register`) and the decorated check that reports it; the check reads
        its rule as ``check.spec``."""

        def decorate(check: RuleCheck) -> RuleCheck:
            self.checks[register(spec).code] = (spec, check)
            check.spec = spec  # type: ignore[attr-defined]
            return check

        return decorate

    def run(self, context: Context) -> list[Finding]:
        """Every rule's findings on `context`, rule by rule in declaration order."""
        return [finding for _, check in self.checks.values() for finding in check(context)]
