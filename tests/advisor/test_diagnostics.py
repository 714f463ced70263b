"""advise(model, x=..., y=...): dead and saturated units, gradient flow, input scale, labels."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_act
from keras_act.advisor import advise
from keras_act.advisor.diagnostics import SiteDiagnostic, data_findings, summarize_inputs

L = keras.layers
pytest.importorskip("sklearn")
from keras_act import datasets  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> datasets.Split:
    return datasets.load("digits", scaling="minmax")


def mlp(
    depth: int, activation, init: str = "glorot_uniform", inputs: int = 64, outputs: int = 10, bias="zeros"
) -> keras.Model:
    keras.utils.set_random_seed(0)
    hidden = [L.Dense(32, activation=activation, kernel_initializer=init, bias_initializer=bias) for _ in range(depth)]
    return keras.Sequential([keras.Input((inputs,)), *hidden, L.Dense(outputs, activation="softmax")])


def codes(advice, severity: str | None = None) -> list[str]:
    return [f.code for f in advice.findings if severity is None or f.severity == severity]


def test_deep_sigmoid_gradients_vanish_and_relu_he_ones_do_not(digits) -> None:
    sigmoid = advise(mlp(12, "sigmoid"), x=digits.x_train, y=digits.y_train)
    norms = [row.grad_norm for row in sigmoid.diagnostics]
    assert len(norms) == 12 and norms[0] / norms[-1] < 1e-5
    assert "vanishing-gradient" in codes(sigmoid)
    assert "exploding-gradient" not in codes(sigmoid)  # the same spread, reported once
    relu = advise(mlp(12, "relu", "he_normal"), x=digits.x_train, y=digits.y_train)
    norms = [row.grad_norm for row in relu.diagnostics]
    assert 0.1 < norms[0] / norms[-1] < 10
    assert not {"vanishing-gradient", "exploding-gradient"} & set(codes(relu))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_unscaled_inputs_saturate_sigmoid_and_tanh(digits, activation) -> None:
    model = mlp(2, activation)
    raw = advise(model, x=digits.x_train * 255, y=digits.y_train)
    assert raw.diagnostics[0].saturated_fraction >= 0.4
    assert {"saturated-units", "input-scale"} <= set(codes(raw, "warning"))
    scaled = advise(model, x=digits.x_train, y=digits.y_train)
    assert scaled.diagnostics[0].saturated_fraction < 0.4
    assert not codes(scaled, "warning")


def test_dead_fraction_matches_a_numpy_count(digits) -> None:
    model = mlp(3, "relu", "he_normal", bias=keras.initializers.Constant(-0.6))
    advice = advise(model, x=digits.x_train, y=digits.y_train)
    for row, layer in zip(advice.diagnostics, model.layers[:3]):
        outputs = keras.Model(model.inputs, layer.output).predict(digits.x_train, verbose=0)
        assert row.dead_fraction == pytest.approx(np.mean(np.all(outputs <= 0, axis=0)))
    fractions = [row.dead_fraction for row in advice.diagnostics]
    assert max(fractions) >= 0.4 and min(fractions) < 1.0
    flagged = {f.layer for f in advice.findings if f.code == "dead-units"}
    assert flagged == {row.layer for row in advice.diagnostics if row.dead_fraction >= 0.4}
    healthy = advise(mlp(3, "relu", "he_normal"), x=digits.x_train, y=digits.y_train)
    assert "dead-units" not in codes(healthy)


def test_raw_pixels_need_scaling_and_divided_pixels_do_not(digits) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.Flatten(), L.Dense(10, activation="softmax")]
    )
    pixels = np.round(digits.x_train.reshape(-1, 8, 8, 1) * 255)
    assert "input-scale" in codes(advise(model, x=pixels))
    assert "input-scale" not in codes(advise(model, x=pixels / 255))


@pytest.mark.parametrize(
    "mean, std, fires",
    [
        (67.5, 1.5, True),  # features in 65-70
        (15.0, 4.0, False),  # counts
        (0.0, 1.0, False),  # standardized
        (0.0, 5.8, False),  # uniform in [-10, 10]
        (0.0, 30.0, True),  # std > 10
    ],
)
def test_input_scale_thresholds(mean, std, fires) -> None:
    x = np.random.default_rng(0).normal(mean, std, size=(500, 4))
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    assert ("input-scale" in codes(advise(model, x=x))) is fires
    assert (summarize_inputs(x).off_scale_feature() is not None) is fires


@pytest.mark.parametrize("normalizer", [L.BatchNormalization, L.LayerNormalization, lambda: L.Rescaling(1 / 255)])
def test_models_that_normalize_their_inputs_get_no_input_scale(normalizer) -> None:
    x = np.random.default_rng(0).uniform(0, 255, size=(200, 4))
    model = keras.Sequential([keras.Input((4,)), normalizer(), L.Dense(8, activation="relu"), L.Dense(1)])
    assert "input-scale" not in codes(advise(model, x=x))


def test_untrained_batch_norm_runs_on_batch_statistics(digits) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            L.Dense(32),
            L.BatchNormalization(),
            L.Activation("tanh"),
            L.Dense(10, activation="softmax"),
        ]
    )
    x = digits.x_train * 255
    advice = advise(model, x=x, y=digits.y_train)
    assert advice.diagnostics[0].tapped == model.layers[2].name
    assert advice.diagnostics[0].saturated_fraction < 0.4
    bn = model.layers[1]
    np.testing.assert_array_equal(np.array(bn.moving_mean), 0.0)
    inference = keras.Model(model.inputs, model.layers[2].output).predict(x, verbose=0)
    assert np.mean(1 - inference**2 < 0.01) > 0.5  # what inference mode would have shown


def test_diagnostics_change_nothing(digits) -> None:
    model = keras.Sequential(
        [
            keras.Input((64,)),
            L.Dense(32, activation="relu"),
            L.Dropout(0.5),
            L.BatchNormalization(),
            L.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(digits.x_train[:64], digits.y_train[:64], epochs=1, verbose=0)
    before = [np.array(w) for w in model.weights]
    iterations = int(model.optimizer.iterations)
    first = advise(model, x=digits.x_train, y=digits.y_train)
    second = advise(model, x=digits.x_train, y=digits.y_train)
    assert first.diagnostics == second.diagnostics  # dropout is off: deterministic
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, np.array(new))
    assert int(model.optimizer.iterations) == iterations


def with_activation_written(way: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    dense = {"argument": [L.Dense(16, activation="relu", bias_initializer=keras.initializers.Constant(-0.3))]}.get(
        way, [L.Dense(16, bias_initializer=keras.initializers.Constant(-0.3))]
    )
    extra = {
        "argument": [],
        "keras layer": [L.ReLU()],
        "activation layer": [L.Activation("relu")],
        "keras_act layer": [keras_act.ReLU()],
    }[way]
    return keras.Sequential([keras.Input((64,)), *dense, *extra, L.Dense(10, activation="softmax")])


def test_every_way_of_writing_an_activation_reads_the_same(digits) -> None:
    rows = []
    weights = with_activation_written("argument").get_weights()
    for way in ("argument", "keras layer", "activation layer", "keras_act layer"):
        model = with_activation_written(way)
        model.set_weights(weights)
        advice = advise(model, x=digits.x_train, y=digits.y_train)
        (row,) = advice.diagnostics
        rows.append((row.activation, row.dead_fraction, round(row.grad_norm, 5)))
    assert len(set(rows)) == 1 and rows[0][0] == "relu"


def test_nan_output_is_an_error() -> None:
    model = keras.Sequential(
        [keras.Input((4,)), L.Dense(4, kernel_initializer=keras.initializers.Constant(1e38)), L.Dense(1)]
    )
    advice = advise(model, x=np.full((8, 4), 10.0), y=np.zeros(8))
    assert "nan-output" in codes(advice, "error")
    assert "exploding-gradient" in codes(advice)


def test_gradient_rules_on_given_norms() -> None:
    def rows(*norms):
        return [SiteDiagnostic(f"d{i}", "relu", 8, 0.0, None, n) for i, n in enumerate(norms)]

    def found(*norms):
        return [(f.code, f.layer) for f in data_findings(rows(*norms), None, np.zeros(1))]

    assert found(5e3, 1.0, 1.2, 0.9) == [("exploding-gradient", "d0")]
    assert found(1e-4, 0.5, 1.0) == [("vanishing-gradient", "d0")]
    assert found(1.0, float("inf"), 1.0) == [("exploding-gradient", "d1")]
    assert found(1.0, 2.0, 0.5, 900.0) == []


@pytest.mark.parametrize(
    "units, activation, loss, y",
    [
        (1, "sigmoid", "mse", np.array([0.0, 1.0, 2.0, 0.5])),
        (1, "relu", "mse", np.array([-1.0, 1.0, 2.0, 0.5])),
        (3, "softmax", "categorical_crossentropy", np.array([0, 1, 4, 2])),
        (3, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), np.array([0, 1, 3, 2])),
        (3, "softmax", "categorical_crossentropy", np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])),
    ],
)
def test_labels_that_do_not_fit_the_output(units, activation, loss, y) -> None:
    output = L.Dense(units, activation=activation)
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), output])
    model.compile("adam", loss)
    x = np.random.default_rng(0).normal(size=(4, 4))
    assert "output-task-mismatch" in codes(advise(model, x=x, y=y), "error")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's loss rejects the label; JAX's gives NaN"
)
def test_labels_the_loss_rejects_skip_the_gradients_with_the_loss_s_own_reason() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).normal(size=(4, 4))
    skipped = [f for f in advise(model, x=x, y=np.array([0, 1, 3, 2])).findings if f.code == "gradients-skipped"]
    assert len(skipped) == 1
    # The reason is the loss's first line, cut between words, without TensorFlow's node prefix.
    reason = skipped[0].message.split("Error: ", 1)[1]
    assert "label value of 3" in reason and "{{" not in reason
    assert reason.endswith(").")


def test_labels_that_fit_raise_nothing() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(6, 4))
    assert not codes(advise(model, x=x, y=np.array([0, 1, 2, 2, 1, 0])), "error")


def test_datasets_work_like_arrays(digits) -> None:
    model = mlp(2, "relu", "he_normal")
    arrays = advise(model, x=digits.x_train[:256], y=digits.y_train[:256])
    dataset = tf.data.Dataset.from_tensor_slices((digits.x_train[:256], digits.y_train[:256])).batch(64)
    from_dataset = advise(model, x=dataset)
    assert [(r.dead_fraction, round(r.grad_norm, 4)) for r in arrays.diagnostics] == [
        (r.dead_fraction, round(r.grad_norm, 4)) for r in from_dataset.diagnostics
    ]


def test_report_and_dict_carry_the_diagnostics(digits) -> None:
    advice = advise(mlp(2, "relu", "he_normal"), x=digits.x_train, y=digits.y_train)
    data = json.loads(json.dumps(advice.to_dict()))
    assert [row["layer"] for row in data["diagnostics"]] == [row.layer for row in advice.diagnostics]
    assert len(data["input_summary"]["mean"]) == 64
    assert "Diagnostics on the sample" in str(advice) and "grad norm" in str(advice)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x": np.zeros((8, 5))}, ValueError, r"shape \(8, 5\).*\(n, 4\)"),
        ({"x": np.full((8, 4), np.nan)}, ValueError, "NaN"),
        ({"x": np.zeros((0, 4))}, ValueError, "empty"),
        ({"x": np.zeros((8, 4)), "y": np.zeros(7)}, ValueError, "one row per row"),
        ({"x": np.zeros((8, 4)), "max_samples": 0}, ValueError, "max_samples"),
        ({"x": np.array([["a"] * 4])}, TypeError, "numbers"),
    ],
)
def test_bad_samples_raise_clear_errors(kwargs, error, message) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    with pytest.raises(error, match=message):
        advise(model, **kwargs)
