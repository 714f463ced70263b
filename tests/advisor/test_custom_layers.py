"""The view reads custom layers through what their `call` computes: a user's own blocks, and
keras-hub's transformers, LLMs and vision backbones."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advisor import advise
from advisor._keras_compat import layer_tree
from advisor.inspection import Kind, Role, view
from advisor.recommend import GLU_VARIANTS


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
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


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
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


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
