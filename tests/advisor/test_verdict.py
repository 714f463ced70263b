"""The verdict statistics of confirm(), as pure functions of per-execution scores (no training)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keras_act.advisor.oracles import objective_from
from keras_act.advisor.verdict import NOISE_STANDARD_ERRORS, rank

ADVISED = ("relu", "he_normal")
YOURS = ("sigmoid", "glorot_uniform")


def scores(**rows: list[float]) -> dict[str, list[float]]:
    return {key.replace("__", " + "): values for key, values in rows.items()}


def test_rows_rank_by_mean_with_their_sample_statistics() -> None:
    result = rank(
        scores(
            relu__he_normal=[0.30, 0.34, 0.32],
            elu__he_normal=[0.20, 0.22, 0.21],
            sigmoid__glorot_uniform=[0.5, 0.6, 0.55],
        ),
        ADVISED,
        YOURS,
        False,
        "val_loss",
    )
    assert [r.candidate for r in result.ranking] == ["elu", "relu", "sigmoid"]
    assert [r.rank for r in result.ranking] == [1, 2, 3]
    relu = result.ranking[1]
    assert relu.mean == pytest.approx(0.32) and relu.std == pytest.approx(np.std([0.30, 0.34, 0.32], ddof=1))
    assert relu.standard_error == pytest.approx(relu.std / math.sqrt(3))
    assert result.advised is relu and result.baseline is result.ranking[2] and result.tested


def test_higher_is_better_ranks_the_largest_first() -> None:
    result = rank(scores(relu__he_normal=[0.9, 0.92], elu__he_normal=[0.8, 0.82]), ADVISED, None, True, "val_accuracy")
    assert result.best.candidate == "relu" and result.confirmed


@pytest.mark.parametrize("gap_in_standard_errors, confirmed", [(1.0, True), (3.0, False)])
def test_within_noise_is_two_pooled_standard_errors(gap_in_standard_errors, confirmed) -> None:
    base = np.array([-1.0, 0.0, 1.0])  # std 1, se 1/sqrt(3) per row; pooled se sqrt(2/3)
    pooled = math.sqrt(2 / 3)
    best = list(0.5 + 0.01 * base)
    advised = list(0.5 + 0.01 * base + 0.01 * gap_in_standard_errors * pooled)
    result = rank({"elu + he_normal": best, "relu + he_normal": advised}, ADVISED, None, False, "val_loss")
    assert result.confirmed is confirmed
    assert result.confirmed is (gap_in_standard_errors <= NOISE_STANDARD_ERRORS)
    assert ("Confirmed" if confirmed else "Not confirmed") in result.verdict


def test_one_execution_is_ranked_by_the_means_and_never_called_within_noise() -> None:
    result = rank(
        scores(
            elu__he_normal=[0.2], tanh__glorot_uniform=[0.25], sigmoid__glorot_uniform=[0.26], relu__he_normal=[0.3]
        ),
        ADVISED,
        YOURS,
        False,
        "val_loss",
    )
    report = str(result)
    assert not result.tested and not result.confirmed
    assert "within noise" not in report and "no test" in report
    assert "advice ranks 4 and your current sigmoid with glorot_uniform 3" in report


def test_the_baseline_line_says_whether_the_change_is_worth_making() -> None:
    beats = rank(
        scores(relu__he_normal=[0.20, 0.21, 0.22], sigmoid__glorot_uniform=[0.50, 0.52, 0.51]),
        ADVISED,
        YOURS,
        False,
        "val_loss",
    )
    assert "worth making" in str(beats)
    tie = rank(
        scores(relu__he_normal=[0.20, 0.30, 0.25], sigmoid__glorot_uniform=[0.21, 0.31, 0.26]),
        ADVISED,
        YOURS,
        False,
        "val_loss",
    )
    assert "within noise of each other" in str(tie)


def test_unfinished_configurations_are_named_and_nothing_to_rank_is_an_error() -> None:
    result = rank(
        scores(relu__he_normal=[0.2, 0.3]),
        ADVISED,
        None,
        False,
        "val_loss",
        configurations=["relu + he_normal", "gelu + he_normal"],
    )
    assert "Not finished: gelu + he_normal." in result.details
    with pytest.raises(ValueError, match="no configuration has scores"):
        rank({}, ADVISED, None, False, "val_loss")


def test_the_advised_row_missing_gives_no_verdict() -> None:
    result = rank(scores(elu__he_normal=[0.2, 0.3]), ADVISED, None, False, "val_loss")
    assert result.advised is None and not result.confirmed and "no verdict" in result.verdict


@pytest.mark.parametrize(
    "name, direction", [("val_loss", "min"), ("val_accuracy", "max"), ("val_auc", "max"), ("loss", "min")]
)
def test_the_objective_s_direction_comes_from_keras_tuner(name, direction) -> None:
    assert objective_from(name).direction == direction


def test_an_objective_of_unknown_direction_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"keras_tuner.Objective\('val_custom'"):
        objective_from("val_custom")
    with pytest.raises(TypeError, match="`objective`"):
        objective_from(3)
