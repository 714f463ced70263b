"""Racing in confirm(): the statistics (advisor.racing), the oracle that runs the rounds, and a real race."""

from __future__ import annotations

import json
import re

import keras_tuner as kt
import numpy as np
import pytest
from scipy import stats

from keras_act.advisor.oracles import Budget, RaceOracle
from keras_act.advisor.racing import band_at, forecast, holm, judge, paired_p_value, round_schedule
from keras_act.advisor.verdict import rank

ADVISED, YOURS, OTHER = "relu + he_normal", "sigmoid + glorot_uniform", "tanh + glorot_uniform"


def test_the_paired_test_matches_scipy_s_on_shifted_scores() -> None:
    rng = np.random.default_rng(0)
    worse, better = rng.normal(0.5, 0.05, 7), rng.normal(0.45, 0.05, 7)
    for margin in (0.0, 0.02, 0.1):
        reference = stats.ttest_rel(worse - margin, better, alternative="greater").pvalue
        assert paired_p_value(list(worse), list(better), margin) == pytest.approx(reference, rel=1e-12)
    assert paired_p_value([0.5], [0.1], 0.0) == 1.0  # one shared execution: no test
    assert paired_p_value([0.5, 0.6], [0.1, 0.2], 0.1) == 0.0  # identical differences beyond the margin
    assert paired_p_value([0.5, 0.6], [0.1, 0.2], 0.5) == 1.0


def test_holm_adjusts_as_its_step_down_procedure() -> None:
    # m = 4: sorted p 0.01, 0.02, 0.03, 0.04 -> 0.04, 0.06, 0.06, 0.06 (running maximum).
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_the_noise_band_is_the_verdict_s_two_pooled_standard_errors_at_the_full_executions() -> None:
    a, b = [0.30, 0.36, 0.33], [0.40, 0.42, 0.47]
    expected = 2 * np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 10)
    assert band_at(a, b, executions=10) == pytest.approx(expected)


def test_the_schedule_doubles_from_three_up_to_the_executions() -> None:
    assert round_schedule(10) == [3, 6, 10]
    assert round_schedule(20) == [3, 6, 12, 20]
    assert round_schedule(2) == [2]


def test_a_clearly_worse_row_is_out_after_the_first_round_and_stays_out() -> None:
    scores = {ADVISED: [0.30, 0.33, 0.31], OTHER: [0.31, 0.32, 0.33], "linear + glorot_uniform": [0.70, 0.72, 0.69]}
    first = judge(scores, ADVISED, None, higher_is_better=False, max_executions=10)
    assert list(first.out) == ["linear + glorot_uniform"] and first.out["linear + glorot_uniform"].round == 1
    assert first.out["linear + glorot_uniform"].p_value < 0.05 and "linear" not in " ".join(first.racing)
    # Whatever later rounds show, an out row stays out.
    second = judge({**scores, "linear + glorot_uniform": [0.3, 0.3, 0.3]}, ADVISED, None, False, 10, previous=first)
    assert second.rounds == 2 and "linear + glorot_uniform" in second.out


def test_rows_within_noise_but_not_yet_shown_so_race_on() -> None:
    scores = {ADVISED: [0.30, 0.45, 0.28], OTHER: [0.36, 0.29, 0.40]}
    state = judge(scores, ADVISED, None, higher_is_better=False, max_executions=10)
    assert state.out == {} and state.racing == [ADVISED, OTHER] and not state.decided
    assert state.confirmed is None


def test_the_advice_is_decided_when_its_gap_is_bounded_below_the_band() -> None:
    # Large spread across executions (their held-out rows differ), consistent pairs: the
    # band at 10 executions is wide, the paired differences tight.
    scores = {ADVISED: [0.20, 0.40, 0.30, 0.50, 0.25, 0.45], OTHER: [0.201, 0.399, 0.302, 0.498, 0.251, 0.449]}
    state = judge(scores, ADVISED, None, higher_is_better=False, max_executions=10)
    assert state.decided and state.confirmed is True and state.racing == []


def test_the_baseline_question_is_answered_by_paired_tests_or_an_exit() -> None:
    # A consistent gap of 0.05 is well within the band (0.115 at 10 executions: the full search's
    # verdict would call it noise too); one of 0.3 is not.
    close = {ADVISED: [0.20, 0.40, 0.30, 0.50], YOURS: [0.25, 0.45, 0.35, 0.56]}
    assert judge(close, ADVISED, YOURS, False, 10).beats_baseline == "within noise"
    far = {ADVISED: [0.20, 0.40, 0.30, 0.50], YOURS: [0.50, 0.70, 0.60, 0.81]}
    assert judge(far, ADVISED, YOURS, False, 10).beats_baseline == "yours out"
    higher = {ADVISED: [0.9, 0.8, 0.85], YOURS: [0.5, 0.45, 0.4]}  # accuracy: the advice is better
    state = judge(higher, ADVISED, YOURS, higher_is_better=True, max_executions=10)
    assert state.beats_baseline == "yours out" and state.decided and state.confirmed


def test_with_every_execution_in_the_forecast_is_the_full_search_s_own_verdict() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        loss = {
            key: list(rng.normal(mean, 0.05, 10))
            for key, mean in ((ADVISED, 0.30), (YOURS, rng.uniform(0.28, 0.36)), (OTHER, rng.uniform(0.26, 0.34)))
        }
        odds = forecast(loss, ADVISED, YOURS, max_executions=10)
        result = rank(loss, ("relu", "he_normal"), ("sigmoid", "glorot_uniform"), False, "val_loss")
        assert odds.confirmed == float(result.confirmed)
        assert max(odds.baseline.values()) == 1.0


def test_the_forecast_is_calibrated_on_searches_drawn_from_its_own_model() -> None:
    # Full searches with shared execution effects and rows' own noise; the forecast sees 3 of 10
    # executions. Where it is sure (>= 95%), the full search gives its answer about as often.
    rng = np.random.default_rng(2)
    sure, right = 0, 0
    for _ in range(150):
        means = {ADVISED: 0.30, YOURS: 0.30 + rng.uniform(0.0, 0.08), OTHER: 0.30 + rng.uniform(-0.06, 0.04)}
        shared = rng.normal(0, rng.uniform(0.01, 0.06), 10)
        loss = {key: list(mean + shared + rng.normal(0, rng.uniform(0.005, 0.04), 10)) for key, mean in means.items()}
        full = rank(loss, ("relu", "he_normal"), None, False, "val_loss").confirmed
        odds = forecast({key: values[:3] for key, values in loss.items()}, ADVISED, None, max_executions=10)
        if max(odds.confirmed, 1 - odds.confirmed) >= 0.95:
            sure += 1
            right += (odds.confirmed >= 0.95) == full
    assert sure >= 30 and right / sure >= 0.9


def test_a_row_left_behind_is_forecast_to_the_full_executions() -> None:
    # OTHER stopped after 3 executions, clearly ahead of the advice: it still overturns it.
    loss = {ADVISED: [0.40, 0.42, 0.41, 0.40, 0.43, 0.41], OTHER: [0.20, 0.22, 0.21]}
    odds = forecast(loss, ADVISED, None, max_executions=10)
    assert odds.confirmed < 0.01 and odds.overturns[OTHER] > 0.99
    assert forecast(loss, ADVISED, None, max_executions=10) == odds  # deterministic: a replayed race decides alike


class Scores:
    """Synthetic executions: row `key`'s execution i scores means[key] + noise[i] (+ its own jitter)."""

    def __init__(self, means: dict[str, float], shared: float, own: float, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.means = means
        self.shared = rng.normal(0, shared, 100)
        self.own = {key: rng.normal(0, own, 100) for key in means}

    def __call__(self, key: str, index: int) -> float:
        return float(self.means[key] + self.shared[index] + self.own[key][index])


def oracle(directory, scores: Scores, budget: Budget | None = None, advised: str = ADVISED) -> RaceOracle:
    configurations = list(scores.means)
    race = RaceOracle(kt.Objective("val_loss", "min"), configurations, 0, 10, advised, None, budget or Budget())
    race.IDLE_WAIT_SECONDS = 0.0
    race._set_project_dir(str(directory), "race")
    race.hyperparameters.Choice("configuration", configurations)
    return race


def run(race: RaceOracle, scores: Scores, stop_after: int | None = None) -> list[dict]:
    """Play keras-tuner's part: ask for trials and report each execution's synthetic score."""
    ran = []
    while stop_after is None or len(ran) < stop_after:
        trial = race.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = trial.hyperparameters.values
        first, count = values["first_execution"], values["executions"]
        own = {f"execution_{i}": scores(values["configuration"], i) for i in range(first, first + count)}
        race.update_trial(trial.trial_id, {"val_loss": float(np.mean(list(own.values()))), **own})
        trial.status = "COMPLETED"
        race.end_trial(trial)
        ran.append(dict(values))
    return ran


def executions(ran: list[dict]) -> dict[str, int]:
    total: dict[str, int] = {}
    for values in ran:
        total[values["configuration"]] = total.get(values["configuration"], 0) + values["executions"]
    return total


def test_the_oracle_drops_a_clearly_worse_row_after_the_first_round(tmp_path) -> None:
    scores = Scores({ADVISED: 0.30, OTHER: 0.31, "linear + glorot_uniform": 0.80}, shared=0.05, own=0.02)
    ran = run(oracle(tmp_path, scores), scores)
    assert executions(ran)["linear + glorot_uniform"] == 3
    assert [values["first_execution"] for values in ran[:3]] == [0, 0, 0]


def test_two_rows_on_the_edge_of_the_noise_band_race_to_the_end(tmp_path) -> None:
    # The advice trails by about the band (2 pooled standard errors at 10 executions): neither
    # answer is predictable before every execution is in, and neither row is out.
    band = 2 * np.sqrt(2 * 0.05**2 / 10)
    scores = Scores({ADVISED: 0.30, OTHER: 0.30 - band}, shared=0.0, own=0.05, seed=1)
    race = oracle(tmp_path, scores)
    ran = run(race, scores)
    assert executions(ran) == {ADVISED: 10, OTHER: 10}
    state, missing = race.race()
    assert state.rounds == 3 and state.out == {} and missing == [] and not race.cut_by_budget


def test_rows_within_noise_stop_once_the_full_search_s_answer_is_all_but_sure(tmp_path) -> None:
    scores = Scores({ADVISED: 0.30, OTHER: 0.30}, shared=0.0, own=0.05, seed=1)
    race = oracle(tmp_path, scores)
    ran = run(race, scores)
    state = race.race()[0]
    assert state.decided and state.confirmed and state.out == {}
    assert max(executions(ran).values()) < 10


def test_a_killed_race_resumes_where_it_was_with_the_rows_out_staying_out(tmp_path) -> None:
    scores = Scores({ADVISED: 0.30, OTHER: 0.30, "linear + glorot_uniform": 0.80}, shared=0.0, own=0.05, seed=1)
    whole = run(oracle(tmp_path / "whole", scores), scores)
    first_part = run(oracle(tmp_path / "killed", scores), scores, stop_after=4)  # round 2 has begun
    resumed = oracle(tmp_path / "killed", scores)
    resumed.reload()
    rest = run(resumed, scores)
    assert first_part + rest == whole
    assert "linear + glorot_uniform" in resumed.race()[0].out


def test_a_budget_of_executions_cuts_the_race_and_says_so(tmp_path) -> None:
    band = 2 * np.sqrt(2 * 0.05**2 / 10)
    scores = Scores({ADVISED: 0.30, OTHER: 0.30 - band}, shared=0.0, own=0.05, seed=1)
    race = oracle(tmp_path, scores, Budget(executions=8))
    ran = run(race, scores)
    assert sum(executions(ran).values()) <= 8 and race.cut_by_budget
    assert not race.race()[0].decided


def test_a_wall_time_budget_stops_handing_out_trials_once_spent(tmp_path) -> None:
    import time

    scores = Scores({ADVISED: 0.30, OTHER: 0.31}, shared=0.0, own=0.05)
    race = oracle(tmp_path, scores, Budget(seconds=0.05))
    time.sleep(0.1)
    assert run(race, scores) == [] and race.cut_by_budget


@pytest.mark.parametrize(
    "budget, expected",
    [
        (40, Budget(executions=40)),
        ("40", Budget(executions=40)),
        ("90s", Budget(seconds=90.0)),
        ("1.5h", Budget(seconds=5400.0)),
    ],
)
def test_budgets_parse_as_executions_or_wall_time(budget, expected) -> None:
    assert Budget.parse(budget) == expected


@pytest.mark.parametrize("budget", [0, -3, "soon", "10 parsecs", "-5m", "infm", True, 2.5])
def test_a_bad_budget_is_one_clear_error(budget) -> None:
    with pytest.raises(ValueError, match="`budget` must be|`budget` in executions"):
        Budget.parse(budget)


@pytest.mark.slow
def test_a_linear_row_on_a_non_linear_task_is_dropped_after_the_first_round(tmp_path, capsys, monkeypatch) -> None:
    import keras

    from keras_act.advisor import confirm
    from keras_act.advisor.search import ConfirmTuner

    traced_after_each_trial = []
    on_trial_end = ConfirmTuner.on_trial_end

    def recording(self, trial):
        on_trial_end(self, trial)
        traced_after_each_trial.append(set(self.traced))

    monkeypatch.setattr(ConfirmTuner, "on_trial_end", recording)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("float32")  # XOR: a linear hidden layer cannot fit it
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    # The grid races by default.
    result = confirm(model, x, y, candidates=["relu", "linear"], epochs=15, verbose=1, directory=tmp_path)
    bar = capsys.readouterr().out.split("confirm(): ")[0]
    assert "rows racing: " in bar and "race decided" in bar  # the progress bar follows the race
    linear = next(row for row in result.ranking if row.candidate == "linear")
    assert result.raced and linear.out is not None and linear.out.round == 1 and linear.executions == 3
    assert 0 <= linear.out.p_value < 0.05 and result.decided
    assert any(line.startswith("Round 1: linear + glorot_uniform out, worse than") for line in result.details)
    saved = json.loads(json.dumps(result.to_dict()))
    assert {row["candidate"]: row["out"] is not None for row in saved["ranking"]}["linear"]
    assert saved["raced"] and saved["ended_by"] in ("decided", "executions")
    # Rows keep their traced steps through round 1 (3 rows, a trial each); a row out of the race
    # frees them, and once the race is over every row has.
    assert len(set().union(*traced_after_each_trial[:2])) == 2
    assert all("linear + glorot_uniform" not in traced for traced in traced_after_each_trial[2:])
    assert traced_after_each_trial[-1] == set()


def test_racing_with_another_tuner_or_a_budget_without_racing_is_one_clear_error() -> None:
    import keras

    from keras_act.advisor import confirm

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    x, y = np.zeros((20, 2), "float32"), np.zeros(20, "float32")
    expected = (
        "racing (race=True, or a `budget`) runs every configuration in each round, so it needs the grid "
        "tuner (tuner='grid'); received tuner='bayesian'"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        confirm(model, x, y, tuner="bayesian", race=True, verbose=0)
    with pytest.raises(ValueError, match="needs the grid tuner"):
        confirm(model, x, y, tuner="hyperband", budget="10m", verbose=0)
    with pytest.raises(ValueError, match="a `budget` stops a race"):
        confirm(model, x, y, race=False, budget=30, verbose=0)
    with pytest.raises(ValueError, match="`budget` must be"):
        confirm(model, x, y, budget="tomorrow", verbose=0)
