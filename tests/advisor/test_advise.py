"""advise(): recommendations, reasons and the report."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_act.advisor import Advice, advise

# The rules of thumb (tests/advisor/test_advise_evidence.py: the atlas's evidence).
pytestmark = pytest.mark.usefixtures("rules_of_thumb")


def _mlp(depth, hidden="relu", units=1, output="sigmoid", loss=None, init="glorot_uniform"):
    layers = [keras.Input((6,))]
    layers += [keras.layers.Dense(16, activation=hidden, kernel_initializer=init) for _ in range(depth)]
    model = keras.Sequential(layers + [keras.layers.Dense(units, activation=output)])
    if loss:
        model.compile("adam", loss)
    return model


def test_rejects_anything_but_a_keras_model():
    with pytest.raises(TypeError, match="advise expects a keras.Model, received Dense"):
        advise(keras.layers.Dense(3))


def test_rejects_a_subclassed_model_with_a_clear_error():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Subclassed()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="Subclassed is a subclassed model.*keras.Model\\(inputs, outputs\\)"):
        advise(model)


def test_shallow_binary_classifier():
    advice = advise(_mlp(2, loss="binary_crossentropy"))
    assert isinstance(advice, Advice)
    assert (advice.task, advice.task_source, advice.depth) == ("binary", "loss", 2)
    assert (advice.hidden_activation, advice.hidden_initializer) == ("relu", "he_normal")
    assert (advice.output_activation, advice.output_initializer) == ("sigmoid", "glorot_uniform")
    assert advice.input_range == (0.0, 1.0)
    assert advice.candidates == ["relu", "elu", "swish", "selu", "tanh"]
    assert "He et al. 2015" in advice.reasons["hidden_initializer"]
    assert "Nair & Hinton 2010" in advice.reasons["hidden_activation"]
    assert not [r for r in advice.reasons.values() if "seed 0" in r]  # public sources only
    # Keras' defaults (relu + glorot_uniform, shallow) are no mistake: info only, never a warning.
    assert {(f.code, f.severity) for f in advice.findings} == {("initializer-mismatch", "info")}


@pytest.mark.parametrize("depth, has_tanh", [(12, True), (24, False)])
def test_deep_stacks_get_selu_with_lecun_normal_and_standardized_inputs(depth, has_tanh):
    advice = advise(_mlp(depth, "sigmoid"))
    assert advice.depth == depth and advice.hidden_activation == "selu"
    assert advice.hidden_initializer == "lecun_normal" and advice.input_range is None
    assert "Klambauer et al. 2017" in advice.reasons["hidden_activation"]
    assert advice.candidates[-1] == "sigmoid"  # the model's own activation is always a candidate
    assert ("tanh" in advice.candidates) is has_tanh
    assert len(set(advice.candidates)) == len(advice.candidates) >= 4


def test_recurrent_and_attention_models():
    lstm = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    assert advise(lstm, task="regression").hidden_activation == "tanh"
    inputs = keras.Input((5, 8))
    attended = keras.layers.MultiHeadAttention(2, 4)(inputs, inputs)
    pooled = keras.layers.GlobalAveragePooling1D()(attended)
    transformer = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(pooled))
    advice = advise(transformer)
    assert (advice.hidden_activation, advice.hidden_initializer, advice.task) == ("gelu", "he_normal", "multiclass")


def test_selu_and_tanh_recommendations_carry_their_input_scaling():
    from keras_act.advisor.recommend import input_range_for

    assert input_range_for("selu") is None and input_range_for("tanh") == (-1.0, 1.0)


def test_positive_regression_targets_get_softplus():
    advice = advise(_mlp(2, output=None), y=np.array([1.5, 3.0, 0.2]))
    assert (advice.task, advice.output_activation) == ("regression", "softplus")
    advice = advise(_mlp(2, output=None), y=np.array([1.5, -3.0, 0.2]))
    assert advice.output_activation == "linear"


def test_report_and_dict():
    advice = advise(_mlp(2, units=3, output="softmax"))
    text = str(advice)
    assert "Task: multiclass (from the output)" in text and "hidden activation : relu with he_normal" in text
    data = json.loads(json.dumps(advice.to_dict()))
    assert data["candidates"][0] == "relu" and data["input_range"] == [0.0, 1.0]
    assert data["findings"][0]["code"] == "initializer-mismatch"


def test_assumed_task_is_reported_as_info():
    advice = advise(_mlp(1, output=None))
    assert ("task-assumed", "info") in [(f.code, f.severity) for f in advice.findings]
    assert "INFO" in str(advice) and "task-assumed" in str(advice)


def test_the_model_is_left_untouched():
    model = _mlp(3, loss="binary_crossentropy")
    config, weights = model.get_config(), [w.copy() for w in model.get_weights()]
    advise(model, y=np.array([0, 1]))
    assert model.get_config() == config
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_fixes_agree_with_the_advice():
    # the demo's flawed model: 8 sigmoid layers; the advice is SELU, and so is every fix
    model = _mlp(8, hidden="sigmoid", units=10, output="softmax", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(256, 6)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, size=256)
    advice = advise(model, x=x, y=y)
    assert (advice.hidden_activation, advice.hidden_initializer) == ("selu", "lecun_normal")
    fixes = {f.code: f.fix for f in advice.findings}
    assert "selu with lecun_normal" in fixes["saturating-deep"]
    assert "selu with lecun_normal" in fixes["vanishing-gradient"]


def test_normalized_nets_never_get_selu_and_keep_their_own_activation():
    layers = [keras.Input((6,))]
    for _ in range(12):
        layers += [keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.Activation("elu")]
    model = keras.Sequential(layers + [keras.layers.Dense(1, activation="sigmoid")])
    advice = advise(model)
    assert (advice.family, advice.hidden_activation, advice.kept) == ("normalized-residual", "elu", True)
    assert "selu" not in advice.candidates and "elu" in advice.candidates
    assert "kept" in str(advice)
    layers = [keras.Input((6,))]
    for _ in range(12):
        layers += [keras.layers.Dense(16), keras.layers.BatchNormalization(), keras.layers.Activation("sigmoid")]
    sigmoid = advise(keras.Sequential(layers + [keras.layers.Dense(1, activation="sigmoid")]))
    assert (sigmoid.hidden_activation, sigmoid.hidden_initializer, sigmoid.kept) == ("relu", "he_normal", False)


def test_dead_units_are_evidence_for_a_change():
    # a normalized net whose ReLUs start dead: a bias of -50 after the normalization
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(16, activation="relu", bias_initializer=keras.initializers.Constant(-50.0)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    without = advise(model)
    with_data = advise(model, x=x, y=(x[:, 0] > 0).astype("float32"))
    assert without.hidden_activation == "relu" and without.kept
    assert "dead-units" in {f.code for f in with_data.findings}
    assert (with_data.hidden_activation, with_data.kept) == ("leaky_relu", False)
    assert "dead ReLU units" in with_data.reasons["hidden_activation"]


def test_inputs_scaled_inside_the_model_get_no_scaling_advice():
    model = keras.applications.EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=3)
    pixels = np.random.default_rng(0).uniform(0, 255, size=(8, 32, 32, 3)).astype("float32")
    advice = advise(model, x=pixels)
    assert advice.input_preprocessing == ["rescaling", "normalization"]
    assert "input-scale" not in {f.code for f in advice.findings}
    assert "inside the model (rescaling, normalization)" in str(advice)


def test_glorot_is_never_he_scaled():
    # fan_in 512 >> fan_out 4: Glorot's variance x fan_in is ~2, yet it is Glorot, not He
    model = keras.Sequential(
        [keras.Input((512,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")]
    )
    assert not [f for f in advise(model).findings if f.code == "initializer-mismatch"]
    he = keras.Sequential(
        [
            keras.Input((512,)),
            keras.layers.Dense(4, activation="tanh", kernel_initializer="he_normal"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    assert [f.severity for f in advise(he).findings if f.code == "initializer-mismatch"] == ["warning"]
