"""The view reads custom layers through what their `call` computes: a user's own blocks, and
keras-hub's transformers, LLMs and vision backbones."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from keras_act.advisor import advise, apply
from keras_act.advisor._keras_compat import layer_tree
from keras_act.advisor.inspection import Kind, Role, view
from keras_act.advisor.recommend import GLU_VARIANTS


@keras.saving.register_keras_serializable(package="keras_act_tests")
class FeedForward(keras.layers.Layer):
    """A user's block: Dense -> activation kept as an attribute and applied in call -> Dense."""

    def __init__(self, units: int, activation: str = "gelu", **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, keras.activations.get(activation)
        self.inner = keras.layers.Dense(units * 2, name="inner")
        self.outer = keras.layers.Dense(units, name="outer")

    def call(self, x):
        return x + self.outer(self.activation(self.inner(x)))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="keras_act_tests")
class GatedFeedForward(keras.layers.Layer):
    """A GLU feed-forward, act(x W) * (x V), then a projection (Shazeer 2020)."""

    def __init__(self, units: int, activation: str = "silu", **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, keras.activations.get(activation)
        self.gate = keras.layers.Dense(units * 2, use_bias=False, name="gate")
        self.up = keras.layers.Dense(units * 2, use_bias=False, name="up")
        self.down = keras.layers.Dense(units, use_bias=False, name="down")

    def call(self, x):
        return self.down(self.activation(self.gate(x)) * self.up(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": keras.activations.serialize(self.activation)}


class NumpyLayer(keras.layers.Layer):
    """A layer whose call leaves Keras for NumPy: nothing the advisor can trace."""

    def call(self, x):
        return np.tanh(np.asarray(x))

    def compute_output_shape(self, input_shape):
        return input_shape


def _model(block: keras.layers.Layer, width: int = 8) -> keras.Model:
    inputs = keras.Input((width,))
    x = keras.layers.Dense(width, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(block(x)))


def test_a_custom_layers_sublayers_and_its_call_activation_are_sites():
    model = _model(FeedForward(8, activation="tanh", name="ffn"))
    sites = {site.name: site for site in view(model).sites}
    inner = sites["ffn/tanh"]
    assert (inner.activation, inner.role, inner.weight, inner.owner) == ("tanh", Role.HIDDEN, "ffn/inner", "ffn")
    assert sites["ffn/outer"].role == Role.BOTTLENECK  # into the residual add
    assert not any(info.kind == Kind.UNKNOWN for info in view(model).layers)


def test_a_glu_block_is_a_glu_feed_forward_with_the_glu_variants_as_candidates():
    model = _model(GatedFeedForward(8, activation="gelu", name="glu"))
    (site,) = [s for s in view(model).sites if s.owner == "glu" and s.activation != "linear"]
    assert (site.activation, site.role, site.weight) == ("gelu", Role.GLU_FEED_FORWARD, "glu/gate")
    assert view(model).has_glu
    advice = advise(model)
    assert set(GLU_VARIANTS) <= set(advice.candidates)


def test_a_sigmoid_gating_the_features_it_was_computed_from_stays_a_gate():
    inputs = keras.Input((8,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    gate = keras.layers.Dense(8, activation="sigmoid", name="se")(keras.layers.Dense(2, activation="relu")(x))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Multiply()([x, gate])))
    assert view(model).site_of("se").role == Role.GATE


def test_a_layer_that_cannot_be_traced_stays_unknown():
    model = _model(NumpyLayer(name="np_layer"))
    info = view(model).by_name["np_layer"]
    assert info.kind == Kind.UNKNOWN
    assert "unknown-layer" in {finding.code for finding in advise(model, task="binary").findings}


def test_reading_a_custom_layer_leaves_it_as_it_was():
    block = FeedForward(8, name="ffn")
    model = _model(block)
    before = [(len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in layer_tree(model)]
    x = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    expected = model.predict(x, verbose=0)
    view(model)
    assert [(len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in layer_tree(model)] == before
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    assert len(model.layers) == 4 and model.count_params() == block.count_params() + 8 * 8 + 8 + 8 + 1


def _copy_weights(source: keras.Model, target: keras.Model) -> None:
    target.set_weights(source.get_weights())


def test_apply_changes_a_custom_layers_activation_through_its_argument(tmp_path):
    model = _model(FeedForward(8, activation="tanh", name="ffn"))
    advice = dataclasses.replace(
        advise(model, task="binary"), hidden_activation="relu", hidden_initializer="he_normal", kept=False
    )
    new = apply(model, advice)
    assert new.get_layer("ffn").get_config()["activation"] == "relu"
    # What it computes: the traced call now applies relu, and the outputs match a float64 reference.
    assert {s.activation for s in view(new).hidden_sites()} == {"relu"}
    _copy_weights(model, new)
    x = np.random.default_rng(1).normal(size=(6, 8))
    w = [np.asarray(v, "float64") for v in new.get_weights()]
    hidden = np.maximum(x @ w[0] + w[1], 0)
    block = hidden + np.maximum(hidden @ w[2] + w[3], 0) @ w[4] + w[5]
    expected = 1 / (1 + np.exp(-(block @ w[6] + w[7])))
    np.testing.assert_allclose(new.predict(x.astype("float32"), verbose=0), expected, rtol=1e-4, atol=1e-5)
    path = tmp_path / "new.keras"
    new.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), new.predict(x, verbose=0))
    assert model.get_layer("ffn").get_config()["activation"] == "tanh"  # the user's model is untouched


def test_an_activation_fixed_in_a_layers_code_is_named_and_kept_with_a_warning():
    @keras.saving.register_keras_serializable(package="keras_act_tests")
    class FixedBlock(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(8, activation="gelu")

        def call(self, x):
            return self.dense(x)

    model = _model(FixedBlock(name="fixed"))
    advice = advise(model, task="binary")
    assert advice.fixed == ["gelu inside 'fixed' (FixedBlock): fixed in its code (no argument of FixedBlock sets it)"]
    assert "cannot change     : gelu inside 'fixed'" in str(advice)
    with pytest.warns(UserWarning, match="cannot change gelu inside 'fixed'"):
        new = apply(model, dataclasses.replace(advice, hidden_activation="selu", kept=False))
    assert {s.activation for s in view(new).hidden_sites() if s.owner == "fixed"} == {"gelu"}


def test_diagnostics_measure_the_sites_inside_custom_layers_and_nested_models():
    block = FeedForward(8, activation="relu", name="ffn")
    inputs = keras.Input((8,))
    nested_inputs = keras.Input((8,))
    inner_model = keras.Model(
        nested_inputs, keras.layers.Dense(8, activation="tanh", name="inner_tanh")(nested_inputs), name="backbone"
    )
    x = block(inner_model(keras.layers.Dense(8, activation="relu", name="first")(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.build((None, 8))
    block.inner.bias.assign(np.full(16, -100.0, "float32"))  # every unit of the block's inner layer dead
    before = [(len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in layer_tree(model)]
    rng = np.random.default_rng(0)
    data, labels = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 2, 64)
    advice = advise(model, x=data, y=labels)
    rows = {row.tapped: row for row in advice.diagnostics}
    inner = next(row for tapped, row in rows.items() if tapped.startswith("ffn/"))
    assert (inner.activation, inner.dead_fraction, inner.units) == ("relu", 1.0, 16)
    assert inner.grad_norm is not None
    assert rows["inner_tanh"].saturated_fraction is not None  # inside the nested model
    assert "dead-units" in {finding.code for finding in advice.findings}
    assert [(len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in layer_tree(model)] == before
