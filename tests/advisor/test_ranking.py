"""The ranking model's forest: fitted by scikit-learn, evaluated in numpy exactly as scikit-learn would."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from keras_act.advisor import atlas
from keras_act.advisor.ranking import Forest, fit_forest


def data(outputs: int, rows: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5)) * [1.0, 10.0, 0.1, 1.0, 1.0]
    y = (x[:, :1] + rng.normal(size=(rows, outputs)) > 0).astype(float)
    return x, y


@pytest.mark.parametrize("outputs", [1, 4])
def test_numpy_evaluation_matches_scikit_learns_prediction(outputs: int) -> None:
    x, y = data(outputs)
    forest = fit_forest(x, y, list("abcde"), [f"o{i}" for i in range(outputs)], trees=30, min_samples_leaf=3)
    reference = RandomForestRegressor(30, min_samples_leaf=3, random_state=0).fit(x, y if outputs > 1 else y[:, 0])
    queries = data(outputs, rows=500, seed=1)[0] * 1.5  # some beyond the training range
    expected = reference.predict(queries).reshape(len(queries), outputs)
    # The same trees and leaves: only the order of the mean's additions differs.
    np.testing.assert_allclose(forest.predict(queries), expected, rtol=1e-12, atol=1e-15)
    assert forest.predict(queries).shape == (500, outputs)


def test_a_saved_forest_reads_back_the_same(tmp_path) -> None:
    x, y = data(3)
    forest = fit_forest(x, y, list("abcde"), ["p", "q", "r"], trees=10, min_samples_leaf=5)
    forest.save(tmp_path / "forest.npz")
    again = Forest.load(tmp_path / "forest.npz")
    assert (again.inputs, again.outputs, again.fingerprint) == (forest.inputs, forest.outputs, forest.fingerprint)
    np.testing.assert_array_equal(again.predict(x), forest.predict(x))


def test_the_fingerprint_changes_with_the_data() -> None:
    x, y = data(2)
    fit = [
        fit_forest(x, labels, list("abcde"), ["p", "q"], trees=5, min_samples_leaf=5).fingerprint
        for labels in (y, 1 - y)
    ]
    assert fit[0] != fit[1]


def test_bad_shapes_are_one_clear_error() -> None:
    x, y = data(2)
    with pytest.raises(ValueError, match=r"fit_forest: expected x of shape \(n, 4\)"):
        fit_forest(x, y, list("abcd"), ["p", "q"], trees=5, min_samples_leaf=5)
    forest = fit_forest(x, y, list("abcde"), ["p", "q"], trees=5, min_samples_leaf=5)
    with pytest.raises(ValueError, match=r"expected rows of 5 features \(a, b, c, d, e\), received shape \(3,\)"):
        forest.predict([1.0, 2.0, 3.0])


def test_the_shipped_ranking_model_is_fitted_on_the_shipped_atlas() -> None:
    assert atlas.fit_ranking(atlas.load()).fingerprint == atlas.load_ranking().fingerprint, (
        "advisor/atlas_ranking.npz is stale: run python benchmarks/atlas.py --write"
    )
    assert atlas.load_ranking().outputs == tuple(atlas.configurations(atlas.load()))


def test_the_ranking_model_reads_the_targets_scale_the_cells_threshold_loses() -> None:
    """On the shipped atlas, the estimates move with the regression targets' scale within one cell."""
    ranking = atlas.load_ranking()
    unit = atlas.estimate(atlas.TaskProfile("plain-dense", 2, "regression", 10, 0.0, 1.0), ranking)
    large = atlas.estimate(atlas.TaskProfile("plain-dense", 2, "regression", 10, 5000.0, 1000.0), ranking)
    assert set(unit) == set(large) == set(atlas.configurations(atlas.load()))
    assert all(0.0 <= value <= 1.0 for value in (*unit.values(), *large.values()))
    # Bounded activations cannot reach targets in the thousands from Keras' initial scale.
    assert large["tanh + glorot_uniform"] < unit["tanh + glorot_uniform"]
