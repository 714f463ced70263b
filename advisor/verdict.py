"""What a `confirm()` search found: its rows, their ranking and the verdict on the advice.

Pure functions over per-execution scores: nothing here trains or needs keras-tuner, so the
statistics are tested on their own.

Decision rule ("not significantly worse"): with >= 2 executions, a row is within noise of the
best when its mean is no more than `NOISE_STANDARD_ERRORS` (2) pooled standard errors,
sqrt(se_best^2 + se_row^2) with se = std / sqrt(n), from the best's mean: about a 95% two-sided
z-test, the same "2 standard errors" yardstick the advisor's quality benchmark uses. With one
execution there is no test: the means decide, and the report says so (and never "within noise").
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .racing import Exit, RaceState

NOISE_STANDARD_ERRORS = 2.0
SEPARATOR = " + "


def configuration_key(candidate: str, initializer: str) -> str:
    """The name of one search row, as keras-tuner's `configuration` choice holds it.

    Examples:
        >>> configuration_key("relu", "he_normal")
        'relu + he_normal'
    """
    return f"{candidate}{SEPARATOR}{initializer}"


@dataclass(frozen=True)
class PathTaken:
    """How some of a row's executions were trained: the path that trained them (``"vectorized"``,
    ``"fused"``, ``"one by one"``) and, per path tried before it, why it was refused.

    Examples:
        >>> PathTaken("one by one", 3, {"vectorized": "it needs the TensorFlow backend (this is jax)"}).describe()
        '3 one by one (vectorized refused: it needs the TensorFlow backend (this is jax))'
    """

    path: str
    executions: int
    refused: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line: how many executions took the path, and why the earlier paths were refused."""
        why = "; ".join(f"{name} refused: {reason}" for name, reason in self.refused.items())
        return f"{self.executions} {self.path}" + (f" ({why})" if why else "")


def paths_taken(executions: Sequence[tuple[str, Mapping[str, str]]]) -> tuple[PathTaken, ...]:
    """Executions' (path, refusals), in seed order, counted per distinct (path, refusals).

    Examples:
        >>> [p.describe() for p in paths_taken([("fused", {}), ("fused", {}), ("one by one", {"fused": "one left"})])]
        ['2 fused', '1 one by one (fused refused: one left)']
    """
    counted: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    for path, refused in executions:
        key = (path, tuple(refused.items()))
        counted[key] = counted.get(key, 0) + 1
    return tuple(PathTaken(path, count, dict(refused)) for (path, refused), count in counted.items())


@dataclass(frozen=True)
class ConfirmRow:
    """One configuration of the search and how it scored.

    Examples:
        >>> row = ConfirmRow("relu", "he_normal", 0.31, 0.02, [0.3, 0.33, 0.3], 1, True, False)
        >>> row.executions
        3
    """

    candidate: str
    initializer: str
    mean: float
    std: float
    scores: list[float]
    rank: int
    advised: bool
    baseline: bool
    accuracy: float | None = None
    out: Exit | None = None  # the round and the test that took it out of a race
    trained: tuple[PathTaken, ...] = ()  # how its executions were trained (`advisor.executions`)

    @property
    def executions(self) -> int:
        """How many trainings the scores come from."""
        return len(self.scores)

    @property
    def standard_error(self) -> float:
        """std / sqrt(executions) (0 with a single execution)."""
        return self.std / math.sqrt(self.executions) if self.executions > 1 else 0.0


@dataclass
class ConfirmResult:
    """The ranking of a `confirm()` search and its verdict on the advice.

    Attributes:
        ranking: rows, best first.
        objective: the objective's name, e.g. ``"val_loss"``.
        higher_is_better: whether larger objective values are better.
        best, advised, baseline: the winning row, the advisor's pick, the model's current one.
        confirmed: the advised row is best, or within noise of it (see the module docstring).
        tested: whether a significance test was possible (>= 2 executions per row).
        trials_run: trials trained in this call; the rest were resumed from `directory`.
        raced: whether the rows raced (`advisor.racing`); then `rounds` is the rounds judged,
            and each row's `out` says when and by which test it left the race.
        ended_by: "decided" (the race settled the verdict), "executions" (the rows still in
            used all their executions) or "budget" (the budget ran out first).
        decided: the verdict holds as a full search's would: False only when the budget cut it.
        directory: where the search lives (pass it again with overwrite=False to resume); None
            when confirm() searched in a temporary directory and removed it.

    Examples:
        >>> rows = {"relu + he_normal": [0.30, 0.32], "tanh + glorot_uniform": [0.40, 0.41]}
        >>> result = rank(rows, ("relu", "he_normal"), None, higher_is_better=False, objective="val_loss")
        >>> result.confirmed, result.best.candidate
        (True, 'relu')
    """

    ranking: list[ConfirmRow]
    objective: str
    higher_is_better: bool
    best: ConfirmRow
    advised: ConfirmRow | None
    baseline: ConfirmRow | None
    confirmed: bool
    tested: bool
    trials_run: int
    directory: str | None
    verdict: str = ""
    details: list[str] = field(default_factory=list)
    raced: bool = False
    rounds: int = 0
    ended_by: str = "executions"
    decided: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        data = dataclasses.asdict(self)
        return json.loads(json.dumps(data, default=float))

    def __str__(self) -> str:
        header = (
            f"{'rank':>4}  {'candidate':<12}{'initializer':<16}{self.objective + ' mean ± std':>24}"
            f"{'executions':>12}{'accuracy':>10}  "
        )
        raced = f"; raced in {self.rounds} round(s), ended by {self.ended_by}" if self.raced else ""
        lines = [
            f"confirm(): {len(self.ranking)} configurations ranked by {self.objective} "
            f"({'higher' if self.higher_is_better else 'lower'} is better){raced}",
            header,
        ]
        for row in self.ranking:
            flags = ", ".join(
                name
                for name, on in (
                    ("advised", row.advised),
                    ("yours", row.baseline),
                    (f"out in round {row.out.round}" if row.out else "", row.out),
                )
                if on
            )
            accuracy = "" if row.accuracy is None else f"{row.accuracy:.3f}"
            lines.append(
                f"{row.rank:>4}  {row.candidate:<12}{row.initializer:<16}"
                f"{f'{row.mean:.4f} ± {row.std:.4f}':>24}{row.executions:>12}{accuracy:>10}  {flags}"
            )
        lines += ["", self.verdict, *self.details]
        return "\n".join(lines)

    def training_report(self) -> str:
        """How each row's executions were trained: the path that trained them and why each path
        before it was refused (`advisor.executions.PATHS`); rows trained alike share a line.
        `confirm(verbose=2)` prints it.

        Examples:
            >>> row = ConfirmRow("relu", "he_normal", 0.3, 0.0, [0.3], 1, True, False, trained=(PathTaken("fused", 1),))
            >>> result = rank({"relu + he_normal": [0.3]}, None, None, False, "val_loss")
            >>> print(dataclasses.replace(result, ranking=[row]).training_report())
            How the executions were trained:
              relu + he_normal: 1 fused
        """
        rows_of: dict[tuple[str, ...], list[str]] = {}
        for row in self.ranking:
            described = tuple(taken.describe() for taken in row.trained) or (
                "not recorded (resumed from an older search)",
            )
            rows_of.setdefault(described, []).append(configuration_key(row.candidate, row.initializer))
        lines = ["How the executions were trained:"]
        for described, rows in rows_of.items():
            lines.append(f"  {', '.join(rows)}: {'; '.join(described)}")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Draw the ranking (mean ± std per configuration) into a PNG (needs matplotlib)."""
        from .plots import plot_ranking

        return plot_ranking(self, path)


def rank(
    scores: Mapping[str, Sequence[float]],
    advised_pair: tuple[str, str] | None,
    baseline_pair: tuple[str, str] | None,
    higher_is_better: bool,
    objective: str,
    configurations: Sequence[str] = (),
    accuracies: Mapping[str, float] | None = None,
    trials_run: int = 0,
    directory: str | None = None,
    race: RaceState | None = None,
    ended_by: str = "executions",
    trained: Mapping[str, Sequence[PathTaken]] | None = None,
) -> ConfirmResult:
    """Rank configurations by their mean score and judge the advised one against the best.

    Args:
        scores: per configuration key (``"relu + he_normal"``), its executions' scores.
        advised_pair, baseline_pair: (activation, initializer) of the advice and of the model.
        higher_is_better: the objective's direction.
        objective: the objective's name, for the report.
        configurations: every configuration searched; those without scores are reported as
            not finished.
        accuracies: per configuration, the mean accuracy at the best epochs (classification).
        race: a racing search's state (`advisor.racing`): what it decided replaces the rule
            of the module docstring, which judges only what it left open.
        ended_by: how the search ended ("decided", "executions" or "budget").
        trained: per configuration, how its executions were trained.

    Examples:
        >>> result = rank({"relu + he_normal": [0.5], "elu + he_normal": [0.4]}, ("relu", "he_normal"),
        ...               None, higher_is_better=False, objective="val_loss")
        >>> result.tested, [r.candidate for r in result.ranking]
        (False, ['elu', 'relu'])
    """
    if not scores:
        raise ValueError("confirm: no configuration has scores; nothing to rank.")
    accuracies = accuracies or {}
    exits = race.out if race is not None else {}
    ordered = sorted(scores, key=lambda key: float(np.mean(scores[key])) * (-1 if higher_is_better else 1))
    ranking = []
    for position, key in enumerate(ordered, start=1):
        candidate, initializer = key.split(SEPARATOR)
        values = [float(s) for s in scores[key]]
        ranking.append(
            ConfirmRow(
                candidate,
                initializer,
                float(np.mean(values)),
                float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                values,
                position,
                (candidate, initializer) == advised_pair,
                (candidate, initializer) == baseline_pair,
                accuracies.get(key),
                exits.get(key),
                tuple((trained or {}).get(key, ())),
            )
        )
    best = ranking[0]
    advised = next((r for r in ranking if r.advised), None)
    baseline = next((r for r in ranking if r.baseline), None)
    tested = min(r.executions for r in ranking) > 1
    confirmed, details = False, []
    if advised is not None and race is not None and race.confirmed is not None:
        confirmed = race.confirmed
        details.append(_race_line(advised, race))
    elif advised is not None:
        confirmed, line = within_noise(advised, best, tested)
        details.append(line)
    if baseline is not None and advised is not None and baseline is not advised:
        answer = race.beats_baseline if race is not None else None
        details.append(
            baseline_line(advised, baseline, tested) if answer is None else _race_baseline_line(baseline, answer)
        )
    if race is not None:
        details += [line[0].upper() + line[1:] + "." for line in race.lines]
    missing = [c for c in configurations if c not in scores]
    if missing:
        details.append(f"Not finished: {', '.join(missing)}.")
    verdict = verdict_line(advised, best, confirmed, tested)
    if ended_by == "budget":
        still = ", ".join(race.racing) if race is not None and race.racing else "every row"
        verdict = f"Not decided (the budget ran out; still racing: {still}). So far: {verdict}"
    return ConfirmResult(
        ranking,
        objective,
        higher_is_better,
        best,
        advised,
        baseline,
        confirmed,
        tested,
        trials_run,
        directory,
        verdict,
        details,
        raced=race is not None,
        rounds=race.rounds if race is not None else 0,
        ended_by=ended_by,
        decided=ended_by != "budget",
    )


def _race_line(advised: ConfirmRow, race: RaceState) -> str:
    """How the race decided the advice's question."""
    if advised.out is not None:
        return (
            f"The advised configuration left the race in round {advised.out.round}: worse than "
            f"{advised.out.leader} by {advised.out.gap:.4f}, beyond the noise band {advised.out.band:.4f} "
            f"(paired t-test, Holm-adjusted p = {advised.out.p_value:.3g})."
        )
    return (
        f"Decided in round {race.rounds}: paired tests (Holm-adjusted) bound the advised configuration's gap "
        "to every row still racing below the noise band; more executions would not make it "
        "significantly worse."
    )


def _race_baseline_line(baseline: ConfirmRow, answer: str) -> str:
    """What the race decided about the model's current configuration."""
    yours = f"your current {baseline.candidate} with {baseline.initializer}"
    return {
        "better": f"The advised change beats {yours} beyond the noise band (paired test): worth making.",
        "worse": f"Keep yours: {yours} beats the advice beyond the noise band (paired test).",
        "within noise": f"The advised change and {yours} are within noise of each other (paired tests): "
        "keep yours unless you want the change.",
        "advice out": f"Keep yours: the advice left the race while {yours} stayed in.",
        "yours out": f"The advised change is worth making: {yours} left the race while the advice stayed in.",
    }[answer]


def noise_band(standard_error_a: Any, standard_error_b: Any) -> Any:
    """`NOISE_STANDARD_ERRORS` x sqrt(se_a^2 + se_b^2): how far apart two rows' means may be and
    still be within noise of each other (floats or NumPy arrays of standard errors).

    Examples:
        >>> round(float(noise_band(0.02, 0.02)), 4)
        0.0566
    """
    return NOISE_STANDARD_ERRORS * np.hypot(standard_error_a, standard_error_b)


def within_noise(row: ConfirmRow, best: ConfirmRow, tested: bool) -> tuple[bool, str]:
    """Whether `row` is not significantly worse than `best`, and the sentence that says why.

    Examples:
        >>> best = ConfirmRow("elu", "he_normal", 0.30, 0.02, [0.28, 0.32], 1, False, False)
        >>> row = ConfirmRow("relu", "he_normal", 0.31, 0.02, [0.29, 0.33], 2, True, False)
        >>> within_noise(row, best, tested=True)[0]
        True
    """
    gap = abs(row.mean - best.mean)
    if row is best:
        return True, "The advised configuration is the best."
    if not tested:
        return False, (
            f"One execution per configuration: no significance test; by the means the advised "
            f"one is {gap:.4f} behind the best."
        )
    limit = float(noise_band(row.standard_error, best.standard_error))
    return gap <= limit, (
        f"Gap to the best: {gap:.4f}; {NOISE_STANDARD_ERRORS:g} pooled standard errors: "
        f"{limit:.4f} -> {'within noise' if gap <= limit else 'significantly worse'}."
    )


def verdict_line(advised: ConfirmRow | None, best: ConfirmRow, confirmed: bool, tested: bool) -> str:
    """The one-line verdict on the advice.

    Examples:
        >>> best = ConfirmRow("elu", "he_normal", 0.30, 0.0, [0.30], 1, True, False)
        >>> verdict_line(best, best, True, False)
        'Confirmed: the advice (elu with he_normal) ranked first.'
    """
    if advised is None:
        return "The advised configuration did not finish; no verdict."
    name = f"{advised.candidate} with {advised.initializer}"
    if advised is best:
        return f"Confirmed: the advice ({name}) ranked first."
    if confirmed:
        return f"Confirmed: the advice ({name}) is within noise of the best ({best.candidate} with {best.initializer})."
    return f"Not confirmed: {best.candidate} with {best.initializer} beat the advice ({name})" + (
        " significantly." if tested else " (by the means; no test with one execution)."
    )


def baseline_line(advised: ConfirmRow, baseline: ConfirmRow, tested: bool) -> str:
    """What the advice's row says about the model's current configuration.

    Examples:
        >>> advised = ConfirmRow("elu", "he_normal", 0.30, 0.0, [0.30], 1, True, False)
        >>> yours = ConfirmRow("sigmoid", "glorot_uniform", 0.50, 0.0, [0.50], 2, False, True)
        >>> baseline_line(advised, yours, tested=False)
        'By the means (one execution, no test) the advice ranks 1 and your current sigmoid with glorot_uniform 2.'
    """
    yours = f"your current {baseline.candidate} with {baseline.initializer}"
    if not tested:
        return f"By the means (one execution, no test) the advice ranks {advised.rank} and {yours} {baseline.rank}."
    gap = abs(advised.mean - baseline.mean)
    significant = gap > noise_band(advised.standard_error, baseline.standard_error)
    if significant and advised.rank < baseline.rank:
        return f"The advised change beats {yours} (rank {baseline.rank}) by {gap:.4f}: worth making."
    if significant:
        return f"Keep yours: {yours} beats the advice by {gap:.4f}."
    return f"The advised change and {yours} are within noise of each other: keep yours unless you want the change."
