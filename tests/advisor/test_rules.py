"""Every rule fires on the defect it names and stays silent on a sound model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act.advisor import advise

# The findings as the rules give them, the atlas's evidence aside.
pytestmark = pytest.mark.usefixtures("rules_of_thumb")

L = keras.layers


def seq(*layers, loss=None, inputs=(6,)):
    model = keras.Sequential([keras.Input(inputs), *layers])
    if loss is not None:
        model.compile("adam", loss)
    return model


def found(model, code, **kwargs):
    return [(f.severity, f.layer) for f in advise(model, **kwargs).findings if f.code == code]


def deep(depth, activation, init="glorot_uniform"):
    hidden = [L.Dense(8, activation=activation, kernel_initializer=init) for _ in range(depth)]
    return seq(*hidden, L.Dense(1, activation="sigmoid"))


CASES = [
    # code, model factory, advise kwargs, expected severity (None: silent)
    ("softmax-single-unit", lambda: seq(L.Dense(4, activation="relu"), L.Dense(1, activation="softmax")), {}, "error"),
    ("softmax-single-unit", lambda: seq(L.Dense(4, activation="relu"), L.Dense(2, activation="softmax")), {}, None),
    (
        "output-loss-mismatch",
        lambda: seq(L.Dense(3, activation="softmax"), loss=keras.losses.CategoricalCrossentropy(from_logits=True)),
        {},
        "error",
    ),
    ("output-loss-mismatch", lambda: seq(L.Dense(3), loss=keras.losses.CategoricalCrossentropy()), {}, "error"),
    ("output-loss-mismatch", lambda: seq(L.Dense(3, activation="softmax"), loss="binary_crossentropy"), {}, "error"),
    (
        "output-loss-mismatch",
        lambda: seq(L.Dense(3, activation="sigmoid"), loss="categorical_crossentropy"),
        {},
        "error",
    ),
    (
        "output-loss-mismatch",
        lambda: seq(L.Dense(3), loss=keras.losses.CategoricalCrossentropy(from_logits=True)),
        {},
        None,
    ),
    (
        "output-loss-mismatch",
        lambda: seq(L.Dense(3, activation="softmax"), loss="sparse_categorical_crossentropy"),
        {},
        None,
    ),
    (
        "output-task-mismatch",
        lambda: seq(L.Dense(1, activation="sigmoid"), loss="mse"),
        {"y": np.array([-2.0, 5.0])},
        "error",
    ),
    ("output-task-mismatch", lambda: seq(L.Dense(3, activation="softmax")), {"task": "multilabel"}, "error"),
    ("output-task-mismatch", lambda: seq(L.Dense(1)), {"task": "binary"}, "error"),
    ("output-task-mismatch", lambda: seq(L.Dense(1), loss="mse"), {"y": np.array([-2.0, 5.0])}, None),
    (
        "output-task-mismatch",
        lambda: seq(L.Dense(1, activation="sigmoid"), loss="mse"),
        {"y": np.array([0.2, 0.9])},
        None,
    ),
    ("softmax-hidden", lambda: seq(L.Dense(4, activation="softmax"), L.Dense(1)), {}, "warning"),
    ("softmax-hidden", lambda: seq(L.Dense(4), keras_act.Softmax(), L.Dense(1)), {}, "warning"),
    ("softmax-hidden", lambda: seq(L.Dense(4, activation="relu"), L.Dense(3, activation="softmax")), {}, None),
    ("linear-hidden", lambda: seq(L.Dense(4), L.Dropout(0.1), L.Dense(1)), {}, "warning"),
    ("linear-hidden", lambda: seq(L.Dense(4), keras_act.Linear(), L.Dropout(0.1), L.Dense(4)), {}, "warning"),
    # a projection into a normalization layer is a bottleneck by design (MobileNetV2, ConvNeXt)
    ("linear-hidden", lambda: seq(L.Dense(4), keras_act.Linear(), L.BatchNormalization(), L.Dense(1)), {}, None),
    ("linear-hidden", lambda: seq(L.Dense(4), L.Activation("relu"), L.Dense(1)), {}, None),
    (
        "linear-hidden",
        lambda: seq(L.Conv2D(2, 3), L.MaxPooling2D(), L.Flatten(), L.Dense(1), inputs=(6, 6, 1)),
        {},
        None,
    ),
    ("saturating-deep", lambda: deep(5, "sigmoid"), {}, "warning"),
    ("saturating-deep", lambda: deep(4, "sigmoid"), {}, None),
    ("saturating-deep", lambda: deep(12, "tanh"), {}, "info"),
    ("saturating-deep", lambda: deep(20, "tanh"), {}, "warning"),
    ("saturating-deep", lambda: deep(12, "relu", "he_normal"), {}, None),
    ("initializer-mismatch", lambda: deep(2, "tanh", "he_normal"), {}, "warning"),
    ("initializer-mismatch", lambda: deep(2, "sigmoid", keras.initializers.RandomNormal(stddev=1.0)), {}, "warning"),
    ("initializer-mismatch", lambda: deep(2, "selu", "glorot_uniform"), {}, "warning"),
    ("initializer-mismatch", lambda: deep(22, "relu", "glorot_uniform"), {}, "warning"),
    ("initializer-mismatch", lambda: deep(2, "relu", "glorot_uniform"), {}, "info"),
    ("initializer-mismatch", lambda: deep(2, "relu", "he_uniform"), {}, None),
    ("initializer-mismatch", lambda: deep(2, "selu", "lecun_normal"), {}, None),
    ("initializer-mismatch", lambda: deep(2, "tanh", "glorot_normal"), {}, None),
    # learnable activations: the ReLU family, unless their start says otherwise
    ("initializer-mismatch", lambda: deep(2, keras_act.Rational(), "he_normal"), {}, None),
    ("initializer-mismatch", lambda: deep(2, keras_act.Rational("tanh"), "he_normal"), {}, "warning"),
    ("initializer-mismatch", lambda: deep(2, keras_act.Rational("tanh"), "glorot_uniform"), {}, None),
    ("initializer-mismatch", lambda: deep(2, keras_act.ACON(), "he_normal"), {}, None),
    ("initializer-mismatch", lambda: deep(2, keras_act.Snake(), "glorot_uniform"), {}, "info"),
    ("constant-initializer", lambda: deep(2, "relu", "zeros"), {}, "error"),
    ("constant-initializer", lambda: deep(2, "relu", "he_normal"), {}, None),
    ("double-activation", lambda: seq(L.Dense(4, activation="relu"), L.Activation("relu"), L.Dense(1)), {}, "warning"),
    ("double-activation", lambda: seq(L.Dense(4, activation="relu"), keras_act.Sigmoid(), L.Dense(1)), {}, "warning"),
    ("double-activation", lambda: seq(L.Dense(4), L.ReLU(), L.Dense(1)), {}, None),
]


@pytest.mark.parametrize(
    "code, factory, kwargs, severity",
    CASES,
    ids=[f"{c[0]}-{'fires' if c[3] else 'silent'}-{i}" for i, c in enumerate(CASES)],
)
def test_rule(code, factory, kwargs, severity):
    severities = {s for s, _ in found(factory(), code, **kwargs)}
    assert severities == ({severity} if severity else set())


def test_unknown_layers_are_skipped_with_an_info_naming_them():
    class Scale(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    model = seq(L.Dense(4, activation="relu"), Scale(name="my_scale"), L.Dense(1))
    assert found(model, "unknown-layer", task="regression") == [("info", "my_scale")]


def test_findings_name_the_layer_and_come_errors_first():
    model = seq(L.Dense(4, activation="softmax", name="hidden"), L.Dense(1, activation="softmax", name="out"))
    findings = advise(model).findings
    assert findings[0].severity == "error" and findings[0].layer == "out"
    assert ("softmax-hidden", "hidden") in [(f.code, f.layer) for f in findings]


@pytest.mark.parametrize(
    "factory",
    [
        lambda: seq(
            L.Dense(32, activation="relu"),
            L.Dense(32, activation="relu"),
            L.Dense(1, activation="sigmoid"),
            loss="binary_crossentropy",
        ),
        lambda: seq(
            L.Dense(32, activation="relu"), L.Dense(10, activation="softmax"), loss="sparse_categorical_crossentropy"
        ),
        lambda: seq(L.Dense(32, activation="relu"), L.Dense(1), loss="mse"),
        lambda: seq(
            L.Conv2D(8, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            inputs=(8, 8, 1),
        ),
        lambda: seq(L.LSTM(8), L.Dense(1, activation="sigmoid"), loss="binary_crossentropy", inputs=(5, 3)),
    ],
)
def test_keras_default_models_get_no_errors_or_warnings(factory):
    assert [f for f in advise(factory()).findings if f.severity != "info"] == []


def test_a_zero_initialized_residual_branch_is_a_design_not_an_error():
    inputs = keras.Input((8,))
    x = L.Dense(8, activation="relu")(inputs)
    branch = L.Dense(8, kernel_initializer="zeros", name="rezero")(L.Dense(8, activation="relu")(x))
    model = keras.Model(inputs, L.Dense(1)(L.Add()([x, branch])))
    assert found(model, "constant-initializer") == []
