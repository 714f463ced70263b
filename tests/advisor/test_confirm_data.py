"""confirm() on what model.fit takes: datasets, PyDatasets, dicts, text, weights, several outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_act.advisor import advise, confirm
from keras_act.advisor.row_training import execution_data, score
from tests.advisor.test_real_inputs import LABELS, SENTENCES, text_classifier

L = keras.layers
RNG = np.random.default_rng(0)
QUICK = {"candidates": ["relu", "tanh"], "executions_per_trial": 2, "epochs": 2, "verbose": 0}


def offset_features(rows: int = 160) -> tuple[np.ndarray, np.ndarray]:
    # Features far off scale: a model that lost its Normalization trains on raw values.
    x = (RNG.normal(size=(rows, 3)) * [2.0, 10.0, 0.5] + [49.0, -300.0, 7.0]).astype("float32")
    y = ((x[:, 0] - 49.0) / 2.0 + (x[:, 1] + 300.0) / 10.0 > 0).astype("float32")
    return x, y


def normalized_model(x: np.ndarray, normalize: bool = True) -> keras.Model:
    inputs = keras.Input((3,))
    features = inputs
    if normalize:
        normalizer = L.Normalization()
        normalizer.adapt(x)
        features = normalizer(inputs)
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.Dense(16, activation="relu")(features)))
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    return model


def own_fit_scores(x: np.ndarray, y: np.ndarray, normalize: bool, executions: int, epochs: int) -> list[float]:
    """The user's own fits of their model: seeds, rows and early stop as confirm() documents them."""
    scores = []
    for index in range(executions):
        part = execution_data([x], y, None, 0.2, index)
        keras.utils.set_random_seed(index)
        model = normalized_model(x, normalize)
        history = model.fit(
            x[part.train_rows],
            y[part.train_rows],
            validation_data=(part.x_val[0], part.y_val),
            epochs=epochs,
            batch_size=32,
            verbose=0,
        ).history
        scores.append(score(history, "val_loss", "val_accuracy", 5, False).score)
    return scores


def noise(scores: list[float]) -> float:
    return 2 * float(np.std(scores, ddof=1)) / np.sqrt(len(scores))


@pytest.mark.slow
def test_the_baseline_row_scores_what_the_users_own_normalized_model_scores() -> None:
    x, y = offset_features()
    result = confirm(normalized_model(x), x, y, candidates=["relu"], executions_per_trial=4, epochs=6, verbose=0)
    baseline = result.baseline.scores
    own = own_fit_scores(x, y, normalize=True, executions=4, epochs=6)
    raw = own_fit_scores(x, y, normalize=False, executions=4, epochs=6)
    band = noise(baseline) + noise(own) + 1e-3
    assert abs(np.mean(baseline) - np.mean(own)) <= band
    assert abs(np.mean(baseline) - np.mean(raw)) > band  # what an unnormalized model would score


@pytest.mark.slow
@pytest.mark.parametrize("form", ["dataset", "pydataset", "validation_dataset"])
def test_a_dataset_gives_the_numbers_its_rows_give_as_arrays(form: str) -> None:
    x, y = offset_features()
    model = normalized_model(x)
    arrays = confirm(model, x, y, **QUICK)
    if form == "dataset":
        result = confirm(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(32), **QUICK)
    elif form == "pydataset":

        class Rows(keras.utils.PyDataset):
            def __len__(self) -> int:
                return 5

            def __getitem__(self, index: int):
                return x[index * 32 : (index + 1) * 32], y[index * 32 : (index + 1) * 32]

        result = confirm(model, Rows(), **QUICK)
    else:
        arrays = confirm(model, x[:120], y[:120], validation_data=(x[120:], y[120:]), **QUICK)
        validation = tf.data.Dataset.from_tensor_slices((x[120:], y[120:])).batch(16)
        result = confirm(model, x[:120], y[:120], validation_data=validation, **QUICK)
    expected = {(r.candidate, r.initializer): r.scores for r in arrays.ranking}
    assert {(r.candidate, r.initializer) for r in result.ranking} == set(expected)
    for row in result.ranking:
        assert row.scores == pytest.approx(expected[(row.candidate, row.initializer)], rel=1e-5)


@pytest.mark.slow
def test_sample_and_class_weights_weigh_the_rows() -> None:
    x, y = offset_features()
    model = normalized_model(x)
    plain = confirm(model, x, y, **QUICK)
    ones = confirm(model, x, y, sample_weight=np.ones(len(y)), **QUICK)
    assert ones.baseline.scores == pytest.approx(plain.baseline.scores, rel=1e-4)
    weights = np.where(y > 0, 3.0, 1.0)
    weighted = confirm(model, x, y, sample_weight=weights, **QUICK)
    by_class = confirm(model, x, y, class_weight={0: 1.0, 1: 3.0}, **QUICK)
    assert by_class.baseline.scores == pytest.approx(weighted.baseline.scores, rel=1e-4)
    assert weighted.baseline.scores != pytest.approx(plain.baseline.scores, rel=1e-3)
    in_dataset = confirm(model, tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(32), **QUICK)
    assert in_dataset.baseline.scores == pytest.approx(weighted.baseline.scores, rel=1e-4)


@pytest.mark.slow
def test_text_and_dict_inputs() -> None:
    model = text_classifier()
    result = confirm(model, SENTENCES, LABELS, **QUICK)
    assert all(np.isfinite(r.scores).all() for r in result.ranking)
    from_dataset = confirm(model, tf.data.Dataset.from_tensor_slices((SENTENCES, LABELS)).batch(16), **QUICK)
    assert from_dataset.baseline.scores == pytest.approx(result.baseline.scores, rel=1e-5)

    age, city = keras.Input((1,), name="age"), keras.Input((1,), name="city", dtype="string")
    cities = RNG.choice(["paris", "lima", "oslo"], size=(96, 1))
    lookup = L.StringLookup(output_mode="one_hot")
    lookup.adapt(cities)
    normalizer = L.Normalization()
    ages = RNG.normal(40, 12, size=(96, 1)).astype("float32")
    normalizer.adapt(ages)
    hidden = L.Dense(8, activation="relu")(L.Concatenate()([normalizer(age), lookup(city)]))
    columns = keras.Model({"age": age, "city": city}, L.Dense(1)(hidden))
    columns.compile("adam", "mse")
    target = (ages[:, 0] - 40) / 12 + (cities[:, 0] == "lima")
    result = confirm(columns, {"city": cities, "age": ages, "ignored": np.zeros(96)}, target, **QUICK)
    assert all(np.isfinite(r.scores).all() for r in result.ranking)


@pytest.mark.slow
def test_a_multi_output_model_trains_each_head_with_its_loss_and_weight() -> None:
    x, y = offset_features()
    normalizer = L.Normalization()
    normalizer.adapt(x)
    inputs = keras.Input((3,))
    hidden = L.Dense(8, activation="relu")(normalizer(inputs))
    model = keras.Model(
        inputs, {"size": L.Dense(1, name="size")(hidden), "kind": L.Dense(1, activation="sigmoid", name="kind")(hidden)}
    )
    model.compile("adam", {"size": "mse", "kind": "binary_crossentropy"}, loss_weights={"size": 1.0, "kind": 0.5})
    labels = {"size": (x[:, :1] - 49.0) / 2.0, "kind": y}
    result = confirm(model, x, labels, **QUICK)
    assert result.objective == "val_loss" and not result.higher_is_better
    assert "size (mean_squared_error x 1)" in str(result) and "kind (binary_crossentropy x 0.5)" in str(result)
    in_order = [labels[head.name] for head in advise(model).heads]  # a list follows model.outputs
    by_head = confirm(model, x, in_order, objective="val_kind_accuracy", **QUICK)
    assert by_head.higher_is_better and all(0 <= s <= 1 for r in by_head.ranking for s in r.scores)
    assert len(by_head.ranking[0].scores) == 2


@pytest.mark.slow
def test_a_frozen_backbone_stays_frozen_in_every_row() -> None:
    x, y = offset_features()
    backbone = keras.Sequential([keras.Input((3,)), L.Normalization(), L.Dense(8, activation="tanh")], name="backbone")
    backbone.layers[0].adapt(x)
    backbone.trainable = False
    inputs = keras.Input((3,))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.Dense(8, activation="sigmoid")(backbone(inputs))))
    model.compile("adam", "binary_crossentropy")
    advice = advise(model)
    result = confirm(model, x, y, advice=advice, **QUICK)
    assert result.baseline is not None and result.baseline.candidate == "sigmoid"  # the trained part's own


def test_bad_data_gets_one_clear_error() -> None:
    x, y = offset_features(40)
    model = normalized_model(x)
    unlabeled = tf.data.Dataset.from_tensor_slices(x).batch(8)
    with pytest.raises(ValueError, match="yields no labels"):
        confirm(model, unlabeled, **QUICK)
    with pytest.raises(ValueError, match="repeats forever; pass `steps_per_epoch`"):
        confirm(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat(), **QUICK)
    with pytest.raises(ValueError, match="not also as arguments"):
        confirm(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(8), y, **QUICK)
    with pytest.raises(ValueError, match=r"`sample_weight` must hold one weight per row of `x` \(40\)"):
        confirm(model, x, y, sample_weight=np.ones(39), **QUICK)
    with pytest.raises(TypeError, match="holds strings for input"):
        confirm(model, np.array([["a", "b", "c"]] * 40), y, **QUICK)
    with pytest.raises(ValueError, match=r"`y` \(the labels\) is required"):
        confirm(model, x, None, **QUICK)
    with pytest.raises(TypeError, match="`validation_data` must be"):
        confirm(model, x, y, validation_data=x, **QUICK)
    with pytest.raises(ValueError, match=r"no weight for class\(es\) \[1\]"):
        confirm(model, x, y, class_weight={0: 1.0}, **QUICK)
    with pytest.raises(ValueError, match=r"yields single rows, not batches; batch it"):
        confirm(model, tf.data.Dataset.from_tensor_slices((x, y)), **QUICK)
    with pytest.raises(ValueError, match=r"yields single rows, not batches"):
        advise(model, x=tf.data.Dataset.from_tensor_slices((x, y)))
    wrong = tf.data.Dataset.from_tensor_slices((x[:, :2], y)).batch(8)
    with pytest.raises(ValueError, match=r"shape \(40, 2\) for input .* expects \(n, 3\)"):
        confirm(model, wrong, **QUICK)


def test_bad_paths_and_ignored_arguments_get_one_clear_error_before_any_training(tmp_path) -> None:
    x, y = offset_features(40)
    model = normalized_model(x)
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(ValueError, match=r"^confirm: `overwrite=True` replaces the search kept in `directory`"):
        confirm(model, x, y, overwrite=True, **QUICK)
    with pytest.raises(ValueError, match=r"^confirm: `directory` .*notes.txt is a file, not a folder"):
        confirm(model, x, y, directory=tmp_path / "notes.txt", **QUICK)
    with pytest.raises(ValueError, match=r"^confirm: `directory` /proc/search: cannot create files in /proc"):
        confirm(model, x, y, directory="/proc/search", **QUICK)
    labels = y.copy()
    labels[3] = np.nan
    with pytest.raises(ValueError, match=r"^confirm: "):
        confirm(model, x, labels, **QUICK)


@pytest.mark.slow
def test_a_dataset_past_the_memory_bound_is_streamed_not_held(monkeypatch) -> None:
    from keras_act.advisor import data as advisor_data

    monkeypatch.setattr(advisor_data, "IN_MEMORY_LIMIT_BYTES", 1024)
    monkeypatch.setattr(advisor_data, "SAMPLE_ROWS", 16)
    x, y = offset_features()
    read = []

    class Rows(keras.utils.PyDataset):
        def __len__(self) -> int:
            return 10

        def __getitem__(self, index: int):
            read.append(index)
            return x[index * 16 : (index + 1) * 16], y[index * 16 : (index + 1) * 16]

    model = normalized_model(x)
    with pytest.raises(ValueError, match="streamed and cannot be split; pass `validation_data`"):
        confirm(model, Rows(), **QUICK)
    assert len(read) < 10  # reading stopped past the bound
    read.clear()
    result = confirm(model, Rows(), validation_data=(x[:48], y[:48]), **QUICK)
    assert all(np.isfinite(r.scores).all() and len(r.scores) == 2 for r in result.ranking)
    trainings = len(result.ranking) * 2
    assert len(read) >= trainings * 10  # every training read the dataset batch by batch
