"""Racing: a `confirm()` search stops training a row once the verdict no longer depends on it.

Pure statistics over per-execution scores, like `advisor.verdict`: nothing here trains.

Rows train in rounds (`round_schedule`: 3, 6, 10 executions of a 10-execution search).
Execution ``i`` of every row has the same seed and holds out the same rows, so two rows' scores
pair up by execution, and a paired test compares them over the executions both have. After each
round, with ``gap`` = how much worse one row scores than another (a loss: higher is worse):

- **out**: a row is out when it is worse than the leader (the best mean still racing) by more
  than the noise band: a one-sided paired t-test of H0 "gap <= band" rejects. It trains no more.
- **the advice** (is it best, or within noise of the best?) is decided *no* once the advised
  row is out; otherwise by a forecast of the full search's own verdict (`forecast`): the full
  search is simulated from the executions so far, and the answer is decided once at least
  1 - `PREDICTIVE_ERROR` of the simulated searches give it. Rows that could still overturn the
  advice race on; the others stop.
- **your model** (does the advice beat the baseline row?) is decided once one of the two is
  out, or once the simulated searches agree on "better", "worse" or "within noise" as often.

The forecast is stochastic curtailment (Lan, Simon & Halperin 1982: stop a sequential test
once more data would not change its answer) for the verdict as a whole: which row ends best,
the band's own sampling noise and the rows' shared execution effects included. A decision
stays made in later rounds.

The band is the verdict's own yardstick (`advisor.verdict`: `NOISE_STANDARD_ERRORS` pooled
standard errors) at the search's full executions, so the race answers what the full search
would: at the last round the forecast is the full search's own rule. The out tests of each
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .verdict import noise_band

# Family-wise error rate of one round's out tests (Holm 1979).
FAMILY_WISE_ERROR = 0.05
# A question is decided once the full search's answer would differ with less than this probability.
PREDICTIVE_ERROR = 0.05
# The first round's executions: the fewest that give a paired test a variance to work with.
FIRST_ROUND_EXECUTIONS = 3
# Full searches simulated to forecast the verdict: the shares' Monte Carlo error is <= 0.008.
SIMULATED_SEARCHES = 4000
# A weak prior on each row's noise variance: worth this many residual degrees of freedom at the
# rows' pooled variance (shrinks a variance estimated from 3 executions, Gelman et al. 2013, 5.5).
PRIOR_DEGREES_OF_FREEDOM = 2.0
# Alternating two-way fit (row means, execution effects) of the scores so far; converged well before.
TWO_WAY_ITERATIONS = 20


def round_schedule(max_executions: int) -> list[int]:
    """Each round's executions per row, cumulative: 3, then doubling, up to `max_executions`.

    Doubling keeps the rounds (each one a compile and a fit per row) few: a row that races to
    the end trains in 3 rounds of a 10-execution search.

    Examples:
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

    Examples:
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

    Examples:
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

    Examples:
        >>> paired_differences([0.5, 0.6, 0.7], [0.3, 0.4]).round(3).tolist()
        [0.2, 0.2]
    """
    n = min(len(worse), len(better))
    return np.asarray(worse[:n], dtype="float64") - np.asarray(better[:n], dtype="float64")


def band_at(a: Sequence[float], b: Sequence[float], executions: int) -> float:
    """The verdict's noise band (`advisor.verdict.noise_band`) for two rows once each has
    `executions` executions, their spreads estimated from the executions both have so far.

    Examples:
        >>> round(band_at([0.3, 0.4], [0.3, 0.4], executions=10), 4)
        0.0632
    """
    n = min(len(a), len(b))
    if n < 2:
        return 0.0
    spread_a, spread_b = (float(np.std(np.asarray(v[:n], dtype="float64"), ddof=1)) for v in (a, b))
    return float(noise_band(spread_a / math.sqrt(executions), spread_b / math.sqrt(executions)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979): a test rejects at family-wise error rate
    alpha when its adjusted p-value is <= alpha.

    Examples:
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


def judge(
    scores: Mapping[str, Sequence[float]],
    advised: str | None,
    baseline: str | None,
    higher_is_better: bool,
    max_executions: int,
    previous: RaceState | None = None,
    alpha: float = FAMILY_WISE_ERROR,
) -> RaceState:
    """Judge one round: which rows are out, which questions are decided, which rows race on.

    Args:
        scores: per row, its executions' scores in seed order (rows may have different counts).
        advised, baseline: the advised row's and the model's own row's keys (None: absent).
        higher_is_better: the objective's direction.
        max_executions: the executions a row gets if it races to the end (the noise band's n).
        previous: the state after the round before (rows out stay out).
        alpha: the family-wise error rate of this round's tests.

    Examples:
        >>> close = {"a": [0.30, 0.32, 0.31], "b": [0.31, 0.33, 0.30]}
        >>> judge(close, "a", None, False, max_executions=10).confirmed  # within noise, whatever comes
        True
        >>> noisy = {"a": [0.30, 0.45, 0.28], "b": [0.36, 0.29, 0.40]}
        >>> judge(noisy, "a", None, False, max_executions=10).racing
        ['a', 'b']
    """
    state = RaceState(
        rounds=(previous.rounds if previous else 0) + 1,
        out=dict(previous.out) if previous else {},
        lines=list(previous.lines) if previous else [],
    )
    sign = -1.0 if higher_is_better else 1.0
    loss = {key: [sign * float(s) for s in values] for key, values in scores.items() if len(values)}
    mean = {key: float(np.mean(values)) for key, values in loss.items()}
    alive = [key for key in loss if key not in state.out]
    leader = min(alive, key=lambda key: mean[key]) if alive else None

    def band(a: str, b: str) -> float:
        return band_at(loss[a], loss[b], max_executions)

    # The out tests of the round, Holm-corrected together.
    tests = {key: paired_p_value(loss[key], loss[leader], band(key, leader)) for key in alive if key != leader}
    adjusted = dict(zip(tests, holm(list(tests.values()))))
    for key, p_value in adjusted.items():
        if p_value <= alpha:
            n = min(len(loss[key]), len(loss[leader]))
            gap = float(np.mean(loss[key][:n]) - np.mean(loss[leader][:n]))
            state.out[key] = Exit(state.rounds, leader, gap, band(key, leader), p_value)
            state.lines.append(
                f"round {state.rounds}: {key} out, worse than {leader} by {gap:.4g} beyond the "
                f"noise band {band(key, leader):.4g} (paired t-test, Holm-adjusted p = {p_value:.3g})"
            )
    alive = [key for key in alive if key not in state.out]

    compare_baseline = (
        baseline is not None and advised is not None and baseline != advised and {baseline, advised} <= set(loss)
    )
    # A decision stays made; a row out decides the questions it answers.
    state.confirmed = previous.confirmed if previous else None
    state.beats_baseline = previous.beats_baseline if previous else None
    if state.confirmed is None and advised in state.out:
        state.confirmed = False
    if compare_baseline and state.beats_baseline is None and (advised in state.out or baseline in state.out):
        state.beats_baseline = "advice out" if advised in state.out else "yours out"
    undecided: set[str] = set()
    if advised in loss and (state.confirmed is None or (compare_baseline and state.beats_baseline is None)):
        # Rows out cannot end best (a row still in beats each by more than the band): the
        # forecast simulates the rest.
        odds = forecast(
            {key: loss[key] for key in alive}, advised, baseline if compare_baseline else None, max_executions
        )
        if state.confirmed is None:
            if odds.confirmed >= 1 - PREDICTIVE_ERROR or odds.confirmed <= PREDICTIVE_ERROR:
                state.confirmed = odds.confirmed >= 1 - PREDICTIVE_ERROR
            else:
                # A row that could overturn the advice races on; together the rows left behind
                # overturn it in at most PREDICTIVE_ERROR of the simulated searches.
                undecided.update(
                    [advised, *(key for key, share in odds.overturns.items() if share > PREDICTIVE_ERROR / len(alive))]
                )
        if compare_baseline and state.beats_baseline is None:
            answer, share = max(odds.baseline.items(), key=lambda item: item[1])
            if share >= 1 - PREDICTIVE_ERROR:
                state.beats_baseline = answer
            else:
                undecided.update([advised, baseline])
    state.decided = state.confirmed is not None and (not compare_baseline or state.beats_baseline is not None)
    state.racing = [] if state.decided else [key for key in scores if key in undecided]
    return state


@dataclass(frozen=True)
class Forecast:
    """What simulated full searches say, given the executions so far (`forecast`).

    Attributes:
        confirmed: the share of simulated full searches that find the advice best or within
            noise of the best (None: no advised row).
        baseline: per answer ("better", "worse", "within noise"), its share (empty: no baseline).
        overturns: per row, the share of simulated full searches where it ends best and the
            advice is significantly worse than it: how much the advice's answer depends on it.
    """

    confirmed: float | None
    baseline: dict[str, float]
    overturns: dict[str, float]


def forecast(
    loss: Mapping[str, Sequence[float]],
    advised: str | None,
    baseline: str | None,
    max_executions: int,
    searches: int = SIMULATED_SEARCHES,
    seed: int = 0,
) -> Forecast:
    """Simulate the full search's verdict from the executions so far (scores as losses: lower is better).

    Every row is given `max_executions` executions: the missing ones drawn from a two-way model
    fitted to the executions so far, score = row mean + execution effect + the row's own noise
    (execution ``i`` shares its seed and held-out rows across rows, hence the shared effect).
    Parameter uncertainty is drawn too: each row's noise variance from its scaled inverse
    chi-square posterior (its own residuals, with `PRIOR_DEGREES_OF_FREEDOM` more at the rows'
    pooled variance), the execution effects' variance likewise, the row means around their
    estimates. Each simulated search is then judged by the verdict's own rule
    (`advisor.verdict`: best mean; within noise = within `NOISE_STANDARD_ERRORS` pooled standard
    errors). Deterministic for a given `seed`, so a replayed race decides the same.

    Examples:
        >>> loss = {"a": [0.30, 0.32, 0.31], "b": [0.60, 0.62, 0.61]}
        >>> forecast(loss, advised="a", baseline="b", max_executions=10).baseline["better"] > 0.99
        True
    """
    keys = list(loss)
    rows, executions = len(keys), max_executions
    observed = np.full((rows, executions), np.nan)
    for r, key in enumerate(keys):
        values = np.asarray(loss[key], dtype="float64")[:executions]
        observed[r, : len(values)] = values
    seen = ~np.isnan(observed)
    counts = seen.sum(axis=1)
    shared = seen.any(axis=0)
    # Two-way fit on the observed cells (alternating means; unequal counts allowed).
    filled = np.where(seen, observed, 0.0)
    effect = np.zeros(executions)
    for _ in range(TWO_WAY_ITERATIONS):
        mean = (filled - effect * seen).sum(axis=1) / counts
        effect = (filled - mean[:, None] * seen).sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
    residual = np.where(seen, observed - mean[:, None] - effect, 0.0)
    # Each row's residuals have lost its mean and its share of the execution effects.
    freedom = (counts - 1) * (1 - 1 / max(rows, 2))
    pooled = float((residual**2).sum() / freedom.sum()) if freedom.sum() > 0 else 0.0
    rng = np.random.default_rng(seed)
    own_freedom = freedom + PRIOR_DEGREES_OF_FREEDOM
    own_scale = ((residual**2).sum(axis=1) + PRIOR_DEGREES_OF_FREEDOM * pooled) / own_freedom
    noise_var = own_freedom * own_scale / rng.chisquare(own_freedom, size=(searches, rows))
    effects_seen = effect[shared]
    effect_freedom = max(len(effects_seen) - 1, 1)
    effect_scale = float(np.var(effects_seen, ddof=1)) if len(effects_seen) > 1 else pooled
    effect_var = effect_freedom * effect_scale / rng.chisquare(effect_freedom, size=searches)
    means = mean + rng.standard_normal((searches, rows)) * np.sqrt(noise_var / np.maximum(counts, 1))
    new_effects = np.where(shared, effect, rng.standard_normal((searches, executions)) * np.sqrt(effect_var)[:, None])
    drawn = (
        means[:, :, None]
        + new_effects[:, None, :]
        + (rng.standard_normal((searches, rows, executions)) * np.sqrt(noise_var)[:, :, None])
    )
    full = np.where(seen, observed, drawn)
    final_mean = full.mean(axis=2)
    standard_error = full.std(axis=2, ddof=1) / math.sqrt(executions) if executions > 1 else np.zeros_like(final_mean)
    best = final_mean.argmin(axis=1)
    picks = np.arange(searches)

    def beyond_noise(a: int, b: np.ndarray) -> np.ndarray:
        gap = final_mean[:, a] - final_mean[picks, b]
        return np.abs(gap) > noise_band(standard_error[:, a], standard_error[picks, b])

    confirmed, overturns, answers = None, {}, {}
    if advised in loss:
        a = keys.index(advised)
        overturned = (best != a) & beyond_noise(a, best)
        confirmed = float(1 - overturned.mean())
        overturns = {key: float((overturned & (best == r)).mean()) for r, key in enumerate(keys)}
        if baseline in loss and baseline != advised:
            b = keys.index(baseline)
            significant = beyond_noise(a, np.full(searches, b))
            ahead = final_mean[:, a] < final_mean[:, b]
            answers = {
                "better": float((significant & ahead).mean()),
                "worse": float((significant & ~ahead).mean()),
                "within noise": float((~significant).mean()),
            }
    return Forecast(confirmed, answers, overturns)
