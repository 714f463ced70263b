"""Racing: a `confirm()` search stops training a row once the verdict no longer depends on it.

Pure statistics over per-execution scores, like `advisor.verdict`: nothing here trains.

Rows train in rounds (`round_schedule`: 3, 6, 10 executions of a 10-execution search).
Execution ``i`` of every row has the same seed and holds out the same rows, so two rows' scores
pair up by execution, and a paired test compares them over the executions both have. After each
round, with ``gap`` = how much worse one row scores than another (a loss: higher is worse):

- **out**: a row is out when it is worse than the leader (the best mean still racing) by more
  than the noise band: a one-sided paired t-test of H0 "gap <= band" rejects. It trains no more.
- **the advice** (is it best, or within noise of the best?) is decided *no* once the advised
  row is out, or once the full search is all but sure to find it significantly worse than the
  leader; *yes* once, against every row still in (whichever ends best), the full search is all
  but sure to find it within noise.
- **your model** (does the advice beat the baseline row?) is decided once one of the two is
  out, or the full search is all but sure to find the advice better, worse, or within noise.

"All but sure": the probability that the full search's answer differs, given the executions so
far, is below `PREDICTIVE_ERROR`. It is the predictive distribution of the paired gap after all
`max_executions` (`predicted_beyond`: the executions to come drawn around the mean so far, a t
distribution for the mean's own uncertainty): stochastic curtailment (Lan, Simon & Halperin
1982), which stops a sequential test once more data would not change its answer.

The band is the verdict's own yardstick (`advisor.verdict`: `NOISE_STANDARD_ERRORS` pooled
standard errors) at the search's full executions, so the race answers what the full search
would: at the last round the prediction is the full search's own rule. The out tests of each
round are Holm-corrected together, at a family-wise error rate of `FAMILY_WISE_ERROR` (F-Race,
Birattari et al. 2002, races with a test per round the same way). A row whose questions are all
decided stops; the race ends when the verdict is decided, or when the executions (or the budget)
run out.

Example:
    >>> scores = {"relu": [0.30, 0.31, 0.29], "linear": [0.90, 0.95, 0.92]}
    >>> state = judge(scores, advised="relu", baseline=None, higher_is_better=False, max_executions=10)
    >>> state.out["linear"].round, state.decided
    (1, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from .verdict import NOISE_STANDARD_ERRORS

# Family-wise error rate of one round's out tests (Holm 1979).
FAMILY_WISE_ERROR = 0.05
# A question is decided once the full search's answer would differ with less than this probability.
PREDICTIVE_ERROR = 0.05
# The first round's executions: the fewest that give a paired test a variance to work with.
FIRST_ROUND_EXECUTIONS = 3


def round_schedule(max_executions: int) -> list[int]:
    """Each round's executions per row, cumulative: 3, then doubling, up to `max_executions`.

    Doubling keeps the rounds (each one a compile and a fit per row) few: a row that races to
    the end trains in 3 rounds of a 10-execution search.

    Example:
        >>> round_schedule(10), round_schedule(3), round_schedule(1)
        ([3, 6, 10], [3], [1])
    """
    schedule = [min(FIRST_ROUND_EXECUTIONS, max_executions)]
    while schedule[-1] < max_executions:
        schedule.append(min(2 * schedule[-1], max_executions))
    return schedule


@dataclass(frozen=True)
class Exit:
    """Why a row left the race: the round, the row that beat it, and the test's Holm-adjusted p-value.

    Example:
        >>> Exit(round=2, leader="elu + he_normal", gap=0.04, band=0.01, p_value=0.003).round
        2
    """

    round: int
    leader: str
    gap: float
    band: float
    p_value: float


@dataclass
class RaceState:
    """Where a race stands after its completed rounds.

    Attributes:
        rounds: rounds judged.
        out: rows out of the race, with why.
        racing: rows that train in the next round (empty once decided).
        confirmed: the advice's question, once decided (True: best or within noise of it).
        beats_baseline: once the baseline question is decided: "better", "worse" or "within
            noise" (the advice against your model's row, by a paired test), or "advice out" /
            "yours out" (one of the two left the race); None: undecided, or no baseline row.
        decided: the advice's question and the baseline's are both decided.
        lines: which rows each round took out, and why, in words.
    """

    rounds: int = 0
    out: dict[str, Exit] = field(default_factory=dict)
    racing: list[str] = field(default_factory=list)
    confirmed: bool | None = None
    beats_baseline: str | None = None
    decided: bool = False
    lines: list[str] = field(default_factory=list)


def paired_p_value(worse: Sequence[float], better: Sequence[float], margin: float) -> float:
    """One-sided paired t-test of H0 "mean(worse - better) <= margin" over shared executions.

    Small p: `worse` is worse than `better` by more than `margin` (scores as losses: higher is
    worse). Fewer than 2 shared executions: 1.0 (no test).

    Example:
        >>> round(paired_p_value([0.5, 0.6, 0.55], [0.3, 0.41, 0.33], margin=0.0), 4)
        0.0009
    """
    differences = paired_differences(worse, better) - margin
    if len(differences) < 2:
        return 1.0
    if np.ptp(differences) <= 1e-12 * max(1.0, float(np.abs(differences).max())):
        return 0.0 if differences.mean() > 0 else 1.0  # identical differences: no spread to test with
    return float(stats.ttest_1samp(differences, 0.0, alternative="greater").pvalue)


def paired_differences(worse: Sequence[float], better: Sequence[float]) -> np.ndarray:
    """worse - better over the executions both rows have (execution ``i`` of each pairs up).

    Example:
        >>> paired_differences([0.5, 0.6, 0.7], [0.3, 0.4]).round(3).tolist()
        [0.2, 0.2]
    """
    n = min(len(worse), len(better))
    return np.asarray(worse[:n], dtype="float64") - np.asarray(better[:n], dtype="float64")


def noise_band(a: Sequence[float], b: Sequence[float], executions: int) -> float:
    """The verdict's noise band for two rows at `executions` executions each:
    `NOISE_STANDARD_ERRORS` x sqrt(s_a^2 + s_b^2) / sqrt(executions), the spreads from the
    executions both rows have.

    Example:
        >>> round(noise_band([0.3, 0.4], [0.3, 0.4], executions=10), 4)
        0.0632
    """
    n = min(len(a), len(b))
    if n < 2:
        return 0.0
    spread = np.var(np.asarray(a[:n], dtype="float64"), ddof=1) + np.var(np.asarray(b[:n], dtype="float64"), ddof=1)
    return NOISE_STANDARD_ERRORS * math.sqrt(spread / executions)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979): a test rejects at family-wise error rate
    alpha when its adjusted p-value is <= alpha.

    Example:
        >>> [round(p, 3) for p in holm([0.001, 0.04, 0.02])]
        [0.003, 0.04, 0.04]
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for position, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - position) * p_values[index]))
        adjusted[index] = running
    return adjusted


def judge(scores: Mapping[str, Sequence[float]], advised: str | None, baseline: str | None,
          higher_is_better: bool, max_executions: int, previous: RaceState | None = None,
          alpha: float = FAMILY_WISE_ERROR) -> RaceState:
    """Judge one round: which rows are out, which questions are decided, which rows race on.

    Args:
        scores: per row, its executions' scores in seed order (rows may have different counts).
        advised, baseline: the advised row's and the model's own row's keys (None: absent).
        higher_is_better: the objective's direction.
        max_executions: the executions a row gets if it races to the end (the noise band's n).
        previous: the state after the round before (rows out stay out).
        alpha: the family-wise error rate of this round's tests.

    Example:
        >>> scores = {"a": [0.30, 0.32, 0.31], "b": [0.31, 0.33, 0.30]}
        >>> judge(scores, "a", None, False, max_executions=10).racing
        ['a', 'b']
    """
    state = RaceState(rounds=(previous.rounds if previous else 0) + 1,
                      out=dict(previous.out) if previous else {}, lines=list(previous.lines) if previous else [])
    sign = -1.0 if higher_is_better else 1.0
    loss = {key: [sign * float(s) for s in values] for key, values in scores.items() if len(values)}
    mean = {key: float(np.mean(values)) for key, values in loss.items()}
    alive = [key for key in loss if key not in state.out]
    leader = min(alive, key=lambda key: mean[key]) if alive else None

    def band(a: str, b: str) -> float:
        return noise_band(loss[a], loss[b], max_executions)

    # The out tests of the round, Holm-corrected together.
    tests = {key: paired_p_value(loss[key], loss[leader], band(key, leader)) for key in alive if key != leader}
    adjusted = dict(zip(tests, holm(list(tests.values()))))
    for key, p_value in adjusted.items():
        if p_value <= alpha:
            n = min(len(loss[key]), len(loss[leader]))
            gap = float(np.mean(loss[key][:n]) - np.mean(loss[leader][:n]))
            state.out[key] = Exit(state.rounds, leader, gap, band(key, leader), p_value)
            state.lines.append(f"round {state.rounds}: {key} out, worse than {leader} by {gap:.4g} beyond the "
                               f"noise band {band(key, leader):.4g} (paired t-test, Holm-adjusted p = {p_value:.3g})")
    alive = [key for key in alive if key not in state.out]

    def beyond(worse: str, better: str) -> float:
        """The probability that the full search finds `worse` behind `better` by more than the band."""
        return predicted_beyond(loss[worse], loss[better], band(worse, better), max_executions)

    undecided: set[str] = set()
    if advised in state.out:
        state.confirmed = False
    elif advised in loss:
        chances = {key: beyond(advised, key) for key in alive if key != advised}
        # The full search judges the advice against its best row: the leader, likeliest to be it.
        if chances.get(leader, 0.0) >= 1 - PREDICTIVE_ERROR:
            state.confirmed = False
        elif all(chance <= PREDICTIVE_ERROR for chance in chances.values()):
            state.confirmed = True
        else:
            undecided.update([advised, *(key for key, chance in chances.items() if chance > PREDICTIVE_ERROR)])
    compare_baseline = baseline is not None and advised is not None and baseline != advised and {
        baseline, advised} <= set(loss)
    if compare_baseline:
        if advised in state.out or baseline in state.out:
            # Once one of the two is out, the race has answered what the baseline asks.
            state.beats_baseline = "advice out" if advised in state.out else "yours out"
        else:
            better, worse = beyond(baseline, advised), beyond(advised, baseline)
            for chance, answer in ((better, "better"), (worse, "worse"), (1 - better - worse, "within noise")):
                if chance >= 1 - PREDICTIVE_ERROR:
                    state.beats_baseline = answer
            if state.beats_baseline is None:
                undecided.update([advised, baseline])
    state.decided = state.confirmed is not None and (not compare_baseline or state.beats_baseline is not None)
    state.racing = [] if state.decided else [key for key in scores if key in undecided]
    return state


def predicted_beyond(worse: Sequence[float], better: Sequence[float], band: float, executions: int) -> float:
    """The probability that, after `executions` executions, `worse`'s mean exceeds `better`'s by
    more than `band` (scores as losses), given the executions both have so far.

    The paired gap's final mean is the mean so far and that of the executions to come; with a
    flat prior the latter are centred on the mean so far, spread by the paired differences'
    standard deviation: a t distribution with n - 1 degrees of freedom and scale
    s * sqrt((executions - n) / (executions * n)). With every execution done it is the full
    search's own comparison (0 or 1).

    Example:
        >>> round(predicted_beyond([0.5, 0.6, 0.55], [0.3, 0.41, 0.33], band=0.1, executions=10), 3)
        0.997
        >>> predicted_beyond([0.3, 0.4], [0.3, 0.4], band=0.0, executions=2)
        0.0
    """
    differences = paired_differences(worse, better)
    n = len(differences)
    if n == 0:
        return 0.5
    excess = float(differences.mean()) - band
    remaining = max(0, executions - n)
    spread = float(differences.std(ddof=1)) if n > 1 else math.inf
    if remaining == 0 or spread == 0.0:
        return float(excess > 0)
    if math.isinf(spread):
        return 0.5  # one execution: no spread to predict from
    scale = spread * math.sqrt(remaining / (executions * n))
    return float(stats.t.cdf(excess / scale, df=n - 1))
