"""The activation atlas: measured evidence of which hidden configuration wins on which kind of task.

`benchmarks/atlas.py` trains every configuration (a hidden activation with its paired
initializer, and Keras' defaults) on hundreds of real tasks, several seeds each, and scores them
on held-out test splits; `ATLAS_FILE` holds one row per training. Here that evidence becomes
advice:

- **within noise**: on one task, a configuration is within noise of the best when its mean test
  score is at least the best's mean minus max(2 standard errors of the best over its seeds,
  `MIN_MARGIN`): 0.01 accuracy, 0.02 R^2 (the yardstick of `benchmarks/advisor_quality.py`).
- **cells**: tasks are grouped by what the advisor knows about a user's model and data
  (`Cell`): the architecture family, plain stacks split at
  `advisor.recommend.DEEP_STACK_DEPTH` hidden layers (the atlas measures 2 and 12; from
  `MEASURED_MAX_DEPTH` on a stack is deeper than anything measured, and the rules answer), the
  task (binary, multi-class, regression), and for regression whether the targets are on a unit
  scale or far from it (`LARGE_TARGET`). A cell with fewer than `MIN_CELL_TASKS` tasks falls
  back to a coarser one (the target scale first, then the task). The data's size does not split
  cells: splitting the finest cells further by rows (< 600, < 1,000), features (< 8, < 15) or
  rows per feature (< 100) moved the leave-tasks-out share from 71% to between 69% and 72% (at
  90 tasks): no gain worth thinner cells.
- **the pick** (`pick`): the configuration within noise of the best on the most tasks of the
  cell. The user's own configuration is kept when it is within noise on nearly as many
  (`EQUIVALENT_RATES`: 3 points less at most): the evidence says the choice does not matter there.
- **the ranking model** (`fit_ranking`, shipped fitted as `RANKING_FILE`): where the user's
  model and data give every one of its inputs (`TaskProfile.ranking_inputs`: the input's width,
  the regression targets' mean and spread, deep or not, the task, the family), a random forest
  estimates for each configuration the chance that it is within noise of the best, and the
  advice is the highest (the user's own when it is at most `EQUIVALENT_RATES` lower). The
  cell's rates stay the evidence shown beside it, and answer alone where an input is unknown
  (regression targets without `y`). Chosen in advance at 90 tasks against the cells and run
  at 202: leave-tasks-out 77-79% within noise against the cells' 66-68% (4 fold seeds; at 212
  tasks 78-80% against 66-69%); the targets' scale and spread carry most of it (without them:
  67-69%), which the cells' one threshold (`LARGE_TARGET`) loses.
- **candidates** (`candidates_for`): the advice, the user's own, Keras' defaults, then the fewest
  configurations, picked greedily, such that one of them is within noise of the best on
  `CANDIDATE_COVERAGE` of the cell's tasks.

`leave_tasks_out` judges them by cross-validation over tasks: each fold's advice comes from the
other folds' tasks and is scored on the fold's, never on the tasks it was built from.
"""

from __future__ import annotations

import csv
import functools
import gzip
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ranking import Forest, fit_forest
from .recommend import DEEP_STACK_DEPTH, FAMILIES, TANH_CANDIDATE_MAX_DEPTH
from .verdict import NOISE_STANDARD_ERRORS, SEPARATOR, configuration_key

ATLAS_FILE = Path(__file__).with_name("atlas_results.csv.gz")
# The ranking model fitted on ATLAS_FILE (`python benchmarks/atlas.py --write` writes both).
RANKING_FILE = Path(__file__).with_name("atlas_ranking.npz")
MIN_MARGIN = {"accuracy": 0.01, "r2": 0.02}
# A cell's estimates rest on at least this many tasks (a share's standard error is then at most
# 0.13); fewer, and a coarser cell answers. Chosen with LARGE_TARGET by the leave-tasks-out
# figures among 10/15/20 and 5/10/20/50 (`keras-act atlas --cross-validate` shows the result).
MIN_CELL_TASKS = 15
# Regression targets whose mean or spread exceeds this many units are "large": a network from
# Keras' initializers starts with outputs near 0 and unit scale, and must grow to reach them,
# which favours unbounded activations (tanh and sigmoid nets rarely get there in the atlas's
# trainings, and are the best bets on unit-scale targets).
LARGE_TARGET = 20.0
# Two configurations within noise on shares of tasks this close are equivalent for the advice
# (on a cell of 100 tasks: 3 tasks).
EQUIVALENT_RATES = 0.03
# The share of a cell's tasks the candidates cover: higher than the 95% they must cover on tasks
# they were not chosen from. Leave-tasks-out at 202 tasks (3 fold seeds): 0.95 covered 93-94% with
# 3.0 candidates, 0.97 95% on two seeds of three with 3.3, 0.98 95-96% with 3.7.
CANDIDATE_COVERAGE = 0.98
KERAS_DEFAULTS = configuration_key("relu", "glorot_uniform")
# The atlas's deep stacks have 12 hidden layers; its evidence stretches to stacks below this
# depth, where the rules of thumb also stop trusting tanh + Glorot.
MEASURED_MAX_DEPTH = TANH_CANDIDATE_MAX_DEPTH
KINDS = ("binary", "multiclass", "regression")
# The ranking model: scikit-learn's RandomForestRegressor, one output per configuration. Its
# settings were fixed before it was compared with the cells (at 90 tasks); at 202 tasks 50 trees
# or a minimum leaf of 3 or 10 moved leave-tasks-out by 1-2 points either way, a single tree of
# depth 3 scored 72-75%, a logistic regression per configuration 71-73%.
RANKING_TREES = 100
RANKING_MIN_LEAF = 5
# Its inputs, in `TaskProfile.ranking_inputs`' order. The data's rows are not among them: the
# advisor may not see the data, and with them leave-tasks-out was 74-78%, without 76-78%.
RANKING_INPUTS = (
    "log input width",
    "log1p |target mean|",
    "log1p target std",
    "deep",
    *KINDS,
    *(f"family {family}" for family in FAMILIES),
)


@dataclass(frozen=True)
class TaskResult:
    """One atlas task and model: each configuration's test scores over its seeds.

    Examples:
        >>> result = TaskResult("t", "binary", "plain-dense", 2, 500, 8, 0.0, 0.0,
        ...                     {"relu + he_normal": np.array([0.80, 0.82]),
        ...                      "tanh + glorot_uniform": np.array([0.70, 0.71])})
        >>> result.best, result.within("tanh + glorot_uniform")
        ('relu + he_normal', False)
    """

    task: str
    kind: str
    family: str
    depth: int
    rows: int
    features: int
    target_mean: float
    target_std: float
    scores: dict[str, np.ndarray]

    @property
    def best(self) -> str:
        """The configuration with the best mean score."""
        return max(self.scores, key=lambda c: float(np.mean(self.scores[c])))

    @functools.cached_property
    def _threshold(self) -> float:
        best = self.scores[self.best]
        se = float(np.std(best, ddof=1)) / math.sqrt(len(best)) if len(best) > 1 else 0.0
        margin = MIN_MARGIN["r2" if self.kind == "regression" else "accuracy"]
        return float(np.mean(best)) - max(NOISE_STANDARD_ERRORS * se, margin)

    def within(self, configuration: str) -> bool:
        """Whether `configuration` is within noise of the best here (False when it was not trained)."""
        scores = self.scores.get(configuration)
        return scores is not None and float(np.mean(scores)) >= self._threshold

    @property
    def profile(self) -> TaskProfile:
        """What the advisor would know of this task."""
        return TaskProfile(self.family, self.depth, self.kind, self.features, self.target_mean, self.target_std)

    @property
    def cell(self) -> Cell:
        """The finest cell this task falls in."""
        return self.profile.cell


@dataclass(frozen=True)
class TaskProfile:
    """What the advisor knows of a user's task: the model's family and depth, the task, the
    input's width (numbers per example) and the regression targets' mean and spread (None: unknown).

    Examples:
        >>> profile = TaskProfile("plain-dense", 2, "regression", 13, 22.5, 9.2)
        >>> str(profile.cell)
        'regression with targets far from unit scale, plain-dense, shallow (< 8 hidden layers)'
        >>> profile.ranking_inputs()[:4].round(2).tolist()
        [2.56, 3.16, 2.32, 0.0]
        >>> TaskProfile("plain-dense", 2, "regression", 13).ranking_inputs() is None  # no targets seen
        True
    """

    family: str
    depth: int
    kind: str | None
    features: int | None = None
    target_mean: float | None = None
    target_std: float | None = None

    @property
    def cell(self) -> Cell:
        """The finest cell this task falls in."""
        return Cell.of(self.family, self.depth, self.kind, self.target_mean, self.target_std)

    def ranking_inputs(self) -> np.ndarray | None:
        """The ranking model's inputs (`RANKING_INPUTS`), or None when one is unknown.

        Classification targets enter as 0 (the atlas records no mean or spread for labels).
        """
        regression = self.kind == "regression"
        if (
            self.kind not in KINDS
            or not self.features
            or (regression and (self.target_mean is None or self.target_std is None))
        ):
            return None
        mean, std = (abs(self.target_mean), self.target_std) if regression else (0.0, 0.0)
        return np.array(
            [
                math.log(self.features),
                math.log1p(mean),
                math.log1p(std),
                self.cell.depth == "deep",
                *(self.kind == kind for kind in KINDS),
                *(self.family == family for family in FAMILIES),
            ],
            dtype=np.float64,
        )


@dataclass(frozen=True)
class Cell:
    """A kind of task: family, plain-stack depth class, task and regression target scale (None: any).

    Examples:
        >>> Cell.of("plain-dense", 12, "regression", 650.0, 19.0)
        Cell(family='plain-dense', depth='deep', kind='regression', target='large')
        >>> str(Cell("plain-dense", "shallow", "binary"))
        'binary classification, plain-dense, shallow (< 8 hidden layers)'
    """

    family: str
    depth: str | None = None
    kind: str | None = None
    target: str | None = None

    @classmethod
    def of(
        cls,
        family: str,
        depth: int,
        kind: str | None,
        target_mean: float | None = None,
        target_std: float | None = None,
    ) -> Cell:
        """The finest cell a model and (optionally) its targets fall in."""
        depth_class = None
        if family == "plain-dense":
            depth_class = (
                "shallow" if depth < DEEP_STACK_DEPTH else "deep" if depth < MEASURED_MAX_DEPTH else "very deep"
            )
        target = None
        if kind == "regression" and target_mean is not None and target_std is not None:
            target = "large" if max(abs(target_mean), target_std) > LARGE_TARGET else "unit"
        return cls(family, depth_class, kind if kind in KINDS else None, target)

    def coarser(self) -> Cell | None:
        """The next cell up: without the target scale, then without the task; None at the family
        (and for stacks deeper than measured, which no shallower evidence answers)."""
        if self.target is not None:
            return Cell(self.family, self.depth, self.kind)
        if self.kind is not None and self.depth != "very deep":
            return Cell(self.family, self.depth)
        return None

    def holds(self, other: Cell) -> bool:
        """Whether a task of (finest) cell `other` belongs to this cell."""
        return all(
            mine is None or mine == theirs
            for mine, theirs in zip(
                (self.family, self.depth, self.kind, self.target), (other.family, other.depth, other.kind, other.target)
            )
        )

    def __str__(self) -> str:
        kind = {
            "binary": "binary classification",
            "multiclass": "multi-class classification",
            "regression": "regression",
        }.get(self.kind or "", "any task")
        target = {"large": " with targets far from unit scale", "unit": " with unit-scale targets"}.get(
            self.target or "", ""
        )
        depth = {
            "deep": f", deep ({DEEP_STACK_DEPTH} to {MEASURED_MAX_DEPTH - 1} hidden layers)",
            "shallow": f", shallow (< {DEEP_STACK_DEPTH} hidden layers)",
            "very deep": f", very deep (>= {MEASURED_MAX_DEPTH} hidden layers)",
        }.get(self.depth or "", "")
        return f"{kind}{target}, {self.family}{depth}"


@dataclass(frozen=True)
class Evidence:
    """What the atlas says about a task: how often each configuration is within noise of the best.

    Attributes:
        cell: the kind of task (the finest one with `MIN_CELL_TASKS` tasks).
        tasks: how many atlas tasks it holds.
        rates: per configuration (``"elu + he_normal"``), the share of those tasks on which it is
            within noise of the best, highest first.
        pick: the configuration advised, and `kept` whether it is the user's own, kept because
            the evidence says the choice does not matter here: from `estimates` where the
            ranking model answered, else from `rates` (see `pick`).
        own: the user's own configuration, when known.
        candidates: the configurations for `confirm()` to test: the pick, the user's own, Keras'
            defaults, then the fewest more such that one of them is within noise of the best
            on `CANDIDATE_COVERAGE` of the cell's tasks (`candidates_for`).
        estimates: per configuration, the ranking model's estimate of the chance that it is
            within noise of the best on this task, highest first; empty where it did not answer.
        cell_pick: the cell's own pick (`pick` over its tasks), for comparison.

    Examples:
        >>> evidence = Evidence(Cell("plain-dense", "shallow", "binary"), 10,
        ...                     {"elu + he_normal": 0.9, "relu + glorot_uniform": 0.7}, "elu + he_normal", False)
        >>> print(evidence.summary("relu + glorot_uniform"))
        elu + he_normal is within noise of the best on 90% of 10 similar tasks (binary classification, plain-dense, shallow (< 8 hidden layers)); Keras' defaults 70%
    """

    cell: Cell
    tasks: int
    rates: dict[str, float]
    pick: str
    kept: bool
    own: str | None = None
    candidates: tuple[str, ...] = ()
    estimates: dict[str, float] = field(default_factory=dict)
    cell_pick: str = ""

    @property
    def activation(self) -> str:
        """The pick's hidden activation."""
        return self.pick.split(SEPARATOR)[0]

    @property
    def initializer(self) -> str:
        """The pick's kernel initializer."""
        return self.pick.split(SEPARATOR)[1]

    def summary(self, own: str | None = None) -> str:
        """One line: the pick's estimate and rate, Keras' defaults', and the user's own configuration's."""
        own = own if own is not None else self.own
        others = {KERAS_DEFAULTS: "Keras' defaults"}
        if own and own != KERAS_DEFAULTS:
            others[own] = f"yours ({own})"
        others.pop(self.pick, None)

        def shares(values: dict[str, float]) -> str:
            return "".join(f"; {name} {values[c]:.0%}" for c, name in others.items() if c in values)

        line = ""
        if self.estimates:
            line = (
                f"{self.pick} has an estimated {self.estimates[self.pick]:.0%} chance of being within noise of "
                f"the best on a task like this one{shares(self.estimates)} (the atlas's ranking model); "
            )
        return line + (
            f"{self.pick} is within noise of the best on {self.rates[self.pick]:.0%} of {self.tasks} "
            f"similar tasks ({self.cell}){shares(self.rates)}"
        )


@functools.lru_cache(maxsize=4)
def load(path: str | Path = ATLAS_FILE) -> tuple[TaskResult, ...]:
    """The atlas's tasks, one `TaskResult` per task and model (read once per path).

    Examples:
        >>> results = load()
        >>> len(results) > 0 and all(r.scores for r in results)
        True
    """
    with gzip.open(path, "rt", newline="") as file:
        rows = list(csv.DictReader(file))
    grouped: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault((row["task"], row["family"], row["depth"]), []).append(row)
    results = []
    for (task, family, depth), members in grouped.items():
        scores: dict[str, list[float]] = {}
        for row in members:
            scores.setdefault(configuration_key(row["activation"], row["initializer"]), []).append(float(row["score"]))
        first = members[0]
        results.append(
            TaskResult(
                task,
                first["kind"],
                family,
                int(depth),
                int(first["rows"]),
                int(first["features"]),
                float(first["target_mean"]),
                float(first["target_std"]),
                {c: np.array(s) for c, s in scores.items()},
            )
        )
    return tuple(results)


def configurations(results: Iterable[TaskResult]) -> list[str]:
    """Every configuration the results trained, in a stable order.

    Examples:
        >>> configurations(load())[:2]
        ['elu + he_normal', 'gelu + he_normal']
    """
    return sorted({c for r in results for c in r.scores})


def tasks_in(cell: Cell, results: Iterable[TaskResult]) -> list[TaskResult]:
    """The results whose task falls in `cell`.

    Examples:
        >>> deep = tasks_in(Cell("plain-dense", "deep"), load())
        >>> all(r.depth >= DEEP_STACK_DEPTH for r in deep)
        True
    """
    return [r for r in results if cell.holds(r.cell)]


def answering_cell(cell: Cell, results: Sequence[TaskResult]) -> tuple[Cell, list[TaskResult]] | None:
    """The finest cell at or above `cell` with `MIN_CELL_TASKS` tasks, and its tasks; None if none.

    Examples:
        >>> answering_cell(Cell.of("plain-dense", 30, "binary"), load()) is None  # deeper than measured
        True
    """
    current: Cell | None = cell
    while current is not None:
        members = tasks_in(current, results)
        if len(members) >= MIN_CELL_TASKS:
            return current, members
        current = current.coarser()
    return None


def within_rates(results: Sequence[TaskResult]) -> dict[str, float]:
    """Per configuration, the share of `results` on which it is within noise of the best, highest first.

    Examples:
        >>> a = TaskResult("p/a", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                {"x + y": np.array([0.9]), "z + w": np.array([0.5])})
        >>> b = TaskResult("p/b", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                {"x + y": np.array([0.9]), "z + w": np.array([0.9])})
        >>> within_rates([a, b])
        {'x + y': 1.0, 'z + w': 0.5}
    """
    rates = {c: float(np.mean([r.within(c) for r in results])) for c in configurations(results)}
    return dict(sorted(rates.items(), key=lambda item: -item[1]))


def pick(results: Sequence[TaskResult], own: str | None = None) -> tuple[str, bool]:
    """The configuration to advise on these tasks, and whether it is the user's own, kept.

    The one within noise of the best on the most tasks (ties: the smaller median gap to each
    task's best, a median since R^2 on targets far from unit scale can be hugely negative);
    `own` instead when its share is at most `EQUIVALENT_RATES` lower.

    Examples:
        >>> def task(elu, tanh):
        ...     return TaskResult("a", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                       {"elu + he_normal": np.array([elu]), "tanh + glorot_uniform": np.array([tanh])})
        >>> tasks = [task(0.9, 0.5)] + [task(0.9, 0.9)] * 49
        >>> pick(tasks), pick(tasks, own="tanh + glorot_uniform")
        (('elu + he_normal', False), ('tanh + glorot_uniform', True))
        >>> pick([task(0.9, 0.5)] * 10, own="tanh + glorot_uniform")
        ('elu + he_normal', False)
    """
    rates = within_rates(results)
    top = max(rates.values())
    best = min((c for c, rate in rates.items() if rate == top), key=lambda c: median_gap(results, c))
    return _keep_if_equivalent(best, own, rates)


def pick_estimated(estimates: dict[str, float], own: str | None = None) -> tuple[str, bool]:
    """The configuration with the highest estimate, and whether it is the user's own: `own`
    instead when its estimate is at most `EQUIVALENT_RATES` lower (ties: the first in `estimates`).

    Examples:
        >>> pick_estimated({"tanh + glorot_uniform": 0.8, "relu + glorot_uniform": 0.6})
        ('tanh + glorot_uniform', False)
        >>> pick_estimated({"tanh + glorot_uniform": 0.8, "relu + glorot_uniform": 0.78}, "relu + glorot_uniform")
        ('relu + glorot_uniform', True)
    """
    return _keep_if_equivalent(max(estimates, key=lambda c: estimates[c]), own, estimates)


def _keep_if_equivalent(best: str, own: str | None, shares: dict[str, float]) -> tuple[str, bool]:
    """`best`, or the user's own configuration when its share is within `EQUIVALENT_RATES` of it."""
    if own is not None and own != best and own in shares and shares[own] >= shares[best] - EQUIVALENT_RATES:
        return own, True
    return best, False


def median_gap(results: Sequence[TaskResult], configuration: str) -> float:
    """The median over tasks of the best's mean score minus this configuration's (where it was trained).

    Examples:
        >>> tasks = [TaskResult("a", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                     {"x + y": np.array([0.9]), "z + w": np.array([0.8])})] * 3
        >>> round(median_gap(tasks, "z + w"), 3)
        0.1
    """
    return float(
        np.median(
            [np.mean(r.scores[r.best]) - np.mean(r.scores[configuration]) for r in results if configuration in r.scores]
        )
    )


def candidates_for(
    results: Sequence[TaskResult], coverage: float = CANDIDATE_COVERAGE, first: Sequence[str] = ()
) -> list[str]:
    """The fewest configurations (greedy) such that one is within noise of the best on `coverage` of the tasks.

    `first`: configurations already in (the pick, the user's own); the rest are added, each the
    one that covers the most tasks not yet covered.

    Examples:
        >>> a = TaskResult("a", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                {"elu + he_normal": np.array([0.9]), "tanh + glorot_uniform": np.array([0.5])})
        >>> b = TaskResult("b", "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                {"elu + he_normal": np.array([0.5]), "tanh + glorot_uniform": np.array([0.9])})
        >>> candidates_for([a, b])
        ['elu + he_normal', 'tanh + glorot_uniform']
    """
    chosen = list(dict.fromkeys(first))
    uncovered = [r for r in results if not any(r.within(c) for c in chosen)]
    needed = len(results) * (1 - coverage)
    pool = [c for c in configurations(results) if c not in chosen]
    while len(uncovered) > needed + 1e-9 and pool:
        best = max(pool, key=lambda c: (sum(r.within(c) for r in uncovered), -pool.index(c)))
        chosen.append(best)
        pool.remove(best)
        uncovered = [r for r in uncovered if not r.within(best)]
    return chosen


def fit_ranking(results: Sequence[TaskResult]) -> Forest:
    """The ranking model fitted on `results`: from `RANKING_INPUTS`, for each configuration,
    whether it is within noise of the best (needs scikit-learn).

    Examples:
        >>> fit_ranking(load()).fingerprint == load_ranking().fingerprint  # the shipped one is up to date
        True
    """
    names = configurations(results)
    inputs = [r.profile.ranking_inputs() for r in results]
    known = [(x, r) for x, r in zip(inputs, results) if x is not None]
    return fit_forest(
        np.array([x for x, _ in known]),
        np.array([[r.within(c) for c in names] for _, r in known]),
        RANKING_INPUTS,
        names,
        RANKING_TREES,
        RANKING_MIN_LEAF,
    )


@functools.lru_cache(maxsize=1)
def load_ranking() -> Forest:
    """The ranking model fitted on the shipped atlas (`RANKING_FILE`; read once).

    Examples:
        >>> load_ranking().inputs == RANKING_INPUTS
        True
    """
    return Forest.load(RANKING_FILE)


def estimate(profile: TaskProfile, ranking: Forest) -> dict[str, float]:
    """The ranking model's estimates for a task, highest first; empty when an input is unknown.

    Examples:
        >>> estimates = estimate(TaskProfile("plain-dense", 2, "binary", 8), load_ranking())
        >>> all(0.0 <= e <= 1.0 for e in estimates.values())
        True
    """
    inputs = profile.ranking_inputs()
    if inputs is None:
        return {}
    values = ranking.predict(inputs[None, :])[0]
    return dict(sorted(zip(ranking.outputs, values.tolist()), key=lambda item: -item[1]))


def evidence_for(
    profile: TaskProfile,
    own: str | None = None,
    results: Sequence[TaskResult] | None = None,
    ranking: Forest | None = None,
) -> Evidence | None:
    """The atlas's evidence for a task; None where the atlas holds too few tasks like it.

    `results` and `ranking` default to the shipped atlas and its ranking model; with other
    `results` and no `ranking`, the cell's rates pick.

    Examples:
        >>> evidence = evidence_for(TaskProfile("plain-dense", 2, "binary", 8), own="relu + glorot_uniform")
        >>> evidence.tasks >= MIN_CELL_TASKS, evidence.pick in evidence.candidates, len(evidence.estimates)
        (True, True, 10)
    """
    if results is None:
        results, ranking = load(), load_ranking() if ranking is None else ranking
    found = answering_cell(profile.cell, results)
    if found is None:
        return None
    answering, members = found
    cell_pick, kept = pick(members, own)
    estimates = estimate(profile, ranking) if ranking is not None else {}
    chosen, kept = pick_estimated(estimates, own) if estimates else (cell_pick, kept)
    first = [c for c in (chosen, own, KERAS_DEFAULTS) if c is not None]
    return Evidence(
        answering,
        len(members),
        within_rates(members),
        chosen,
        kept,
        own,
        tuple(candidates_for(members, first=first)),
        estimates,
        cell_pick,
    )


@dataclass
class CrossValidation:
    """`leave_tasks_out`'s figures over the atlas: how often each way of choosing lands within noise.

    Attributes:
        tasks: how many task results were judged (each in the fold that left it out).
        static: share on which the advice (for a user starting from `own`) is within noise.
        cells: the same share for the cell's pick alone (without the ranking model).
        fixed: per configuration, the same share when always choosing it.
        covered: share on which one of the candidates (plus `own`) is within noise.
        candidates: mean number of candidates.
        by_cell: the same figures per finest cell: (tasks, static, keras defaults, covered).

    Examples:
        >>> CrossValidation(40, 0.8, 0.7, {"relu + glorot_uniform": 0.7}, 0.95, 3.5).static
        0.8
    """

    tasks: int
    static: float
    cells: float
    fixed: dict[str, float]
    covered: float
    candidates: float
    by_cell: dict[str, tuple[int, float, float, float]] = field(default_factory=dict)


def source_of(task: str) -> str:
    """Where a task's data comes from: the part of its name before the slash.

    Examples:
        >>> source_of("MASS/Boston"), source_of("UCR/GunPoint")
        ('MASS', 'UCR')
    """
    return task.split("/")[0]


def leave_tasks_out(
    results: Sequence[TaskResult] | None = None, folds: int = 10, own: str = KERAS_DEFAULTS, seed: int = 0
) -> CrossValidation:
    """Cross-validation over tasks: each fold's ranking model, pick and candidates come from the other folds.

    Tasks are split into `folds` groups by source (the R package, UCR, scikit-learn): a
    package's tables, often of one field and sometimes of one survey, are never on both sides,
    nor are a task's models. The user is assumed to start from `own` (Keras' defaults by default).

    Raises ValueError when no task can be judged (no cell holds `MIN_CELL_TASKS` tasks outside a
    fold), and ImportError without scikit-learn (which fits each fold's ranking model).

    Examples:
        >>> def task(name, winner):
        ...     return TaskResult(name, "binary", "plain-dense", 2, 500, 8, 0, 0,
        ...                       {c: np.array([0.9 if c == winner else 0.5]) for c in ("a + b", "c + d")})
        >>> cv = leave_tasks_out([task(f"p{i}/t", "a + b") for i in range(30)], folds=3)
        >>> cv.tasks, cv.static, cv.fixed
        (30, 1.0, {'a + b': 1.0, 'c + d': 0.0})
    """
    results = list(load() if results is None else results)
    sources = sorted({source_of(r.task) for r in results})
    fold_of = dict(zip(np.random.default_rng(seed).permutation(sources), np.arange(len(sources)) % folds))
    judged: list[TaskResult] = []
    static, by_cells, covered, sizes, cells = [], [], [], [], {}
    for fold in range(folds):
        train = [r for r in results if fold_of[source_of(r.task)] != fold]
        ranking = fit_ranking(train) if train else None
        for result in (r for r in results if fold_of[source_of(r.task)] == fold):
            evidence = evidence_for(result.profile, own, train, ranking)
            if evidence is None:
                continue
            judged.append(result)
            static.append(result.within(evidence.pick))
            by_cells.append(result.within(evidence.cell_pick))
            covered.append(any(result.within(c) for c in evidence.candidates))
            sizes.append(len(evidence.candidates))
            cells.setdefault(str(result.cell), []).append((static[-1], result.within(KERAS_DEFAULTS), covered[-1]))
    if not static:
        raise ValueError(
            f"leave_tasks_out: no task can be judged: no kind of task has {MIN_CELL_TASKS} tasks outside a fold."
        )
    fixed = {c: float(np.mean([r.within(c) for r in judged])) for c in configurations(results)}
    return CrossValidation(
        len(static),
        float(np.mean(static)),
        float(np.mean(by_cells)),
        dict(sorted(fixed.items(), key=lambda i: -i[1])),
        float(np.mean(covered)),
        float(np.mean(sizes)),
        {cell: (len(v), *np.mean(v, axis=0).tolist()) for cell, v in sorted(cells.items())},
    )


def finest_cells(results: Sequence[TaskResult] | None = None) -> list[Cell]:
    """Every finest cell the atlas holds tasks in: by family, shallow before deep, by task.

    Examples:
        >>> str(finest_cells()[0]).endswith("plain-dense, shallow (< 8 hidden layers)")
        True
    """
    results = load() if results is None else results
    order = {value: index for index, value in enumerate((*FAMILIES, "shallow", "deep", *KINDS, "unit", "large"))}
    return sorted(
        {r.cell for r in results}, key=lambda c: [order.get(v, -1) for v in (c.family, c.depth, c.kind, c.target)]
    )


def report(profile: TaskProfile, own: str = KERAS_DEFAULTS) -> str:
    """The atlas's table for one kind of task, as `keras-act atlas` prints it (with the ranking
    model's estimates where the profile gives its inputs).

    Examples:
        >>> print(report(TaskProfile("plain-cnn", 3, "binary")).splitlines()[0])
        The activation atlas holds fewer than 15 tasks like this (binary classification, plain-cnn): the rules of thumb answer there.
    """
    results, cell = load(), profile.cell
    evidence = evidence_for(profile, own)
    members = answering_cell(cell, results)[1] if evidence else tasks_in(Cell(cell.family), results)
    if evidence is None:
        note = (
            f"The activation atlas holds fewer than {MIN_CELL_TASKS} tasks like this ({cell}): the rules of "
            "thumb answer there."
        )
        if not members:
            return note
        lines = [note, f"What its {len(members)} {cell.family} task(s) measured:"]
    else:
        lines = [f"The activation atlas: {evidence.tasks} tasks ({evidence.cell})"]
    estimates = evidence.estimates if evidence else {}
    lines.append(
        f"  {'configuration':<28}{'within noise of the best':>26}{'median gap to the best':>24}"
        + (f"{'estimated chance':>18}" if estimates else "")
    )
    for configuration, rate in within_rates(members).items():
        lines.append(
            f"  {configuration:<28}{rate:>26.0%}{median_gap(members, configuration):>24.4f}"
            + (f"{estimates[configuration]:>18.0%}" if configuration in estimates else "")
        )
    if evidence is None:
        return "\n".join(lines)
    shares = estimates or evidence.rates
    likeliest = "the most likely within noise here" if estimates else "the most often within noise here"
    action = (
        f"yours: {likeliest}"
        if evidence.pick == own and shares[own] == max(shares.values())
        else "kept: the choice does not matter here"
        if evidence.kept
        else "advised"
    )
    if estimates:
        action += "; estimated chance: the atlas's ranking model's, for this input width and these targets"
    lines += [
        f"Advice for a model with {own}: {evidence.pick} ({action})",
        f"confirm() candidates: {', '.join(evidence.candidates)}",
    ]
    return "\n".join(lines)


def markdown(results: Sequence[TaskResult] | None = None) -> str:
    """Per finest cell, how often each configuration is within noise of the best (a Markdown
    table: a row per kind of task, a column per configuration; in bold, where the cell holds
    `MIN_CELL_TASKS` tasks, the pick for a model with Keras' defaults).

    Examples:
        >>> markdown().startswith("| kind of task | tasks |")
        True
    """
    results = load() if results is None else results
    names = configurations(results)
    lines = ["| kind of task | tasks | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for cell in finest_cells(results):
        members = tasks_in(cell, results)
        rates = within_rates(members)
        chosen = pick(members, KERAS_DEFAULTS)[0] if len(members) >= MIN_CELL_TASKS else None
        shares = [f"**{rates[c]:.0%}**" if c == chosen else f"{rates[c]:.0%}" for c in names]
        lines.append(f"| {cell} | {len(members)} | " + " | ".join(shares) + " |")
    return "\n".join(lines)
