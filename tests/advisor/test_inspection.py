"""Model inspection: what each layer computes, however it is written."""

from __future__ import annotations

import keras
import pytest

import keras_act
from advisor.inspection import activation_id, initializer_name, inspect_layer, inspect_model


@pytest.mark.parametrize("make_output", [
    lambda x: keras.layers.Dense(3, activation="softmax")(x),
    lambda x: keras.layers.Activation("softmax")(keras.layers.Dense(3)(x)),
    lambda x: keras.layers.Softmax()(keras.layers.Dense(3)(x)),
    lambda x: keras_act.Softmax()(keras.layers.Dense(3)(x)),
    lambda x: keras.layers.Dense(3, activation=keras_act.get("softmax"))(x),
    lambda x: keras.layers.Dense(3, activation=keras.activations.softmax)(x),
], ids=["argument", "Activation", "keras-layer", "keras_act-layer", "keras_act-argument", "function"])
def test_softmax_reads_the_same_however_written(make_output):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, make_output(inputs))
    assert inspect_model(model)[-1].activation == "softmax"


@pytest.mark.parametrize("activation, expected", [
    ("relu", "relu"), ("silu", "swish"), ("swish", "swish"), (keras.activations.gelu, "gelu"),
    (keras.layers.ReLU(), "relu"), (keras.layers.ReLU(negative_slope=0.1), "leaky_relu"),
    (keras.layers.LeakyReLU(), "leaky_relu"), (keras.layers.PReLU(), "prelu"),
    (keras.layers.ELU(), "elu"), (keras_act.Mish(), "mish"), ("relu6", "relu6"), (None, None),
])
def test_activation_ids(activation, expected):
    assert activation_id(activation) == expected


@pytest.mark.parametrize("initializer, expected", [
    ("he_normal", "he_normal"), (keras.initializers.GlorotUniform(), "glorot_uniform"),
    (keras.initializers.LecunNormal(), "lecun_normal"), (keras.initializers.RandomNormal(), "random_normal"),
    ("zeros", "zeros"),
])
def test_initializer_names(initializer, expected):
    assert initializer_name(initializer) == expected


def test_layer_kinds_widths_and_initializers_of_a_conv_net():
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer="he_normal"),
        keras.layers.MaxPooling2D(),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(2),
    ])
    infos = inspect_model(model)
    assert [i.kind for i in infos] == [
        "weight", "max_pooling", "normalization", "transparent", "transparent", "weight"]
    assert infos[0].units == 4 and infos[0].kernel_initializer == "he_normal"
    assert infos[-1].activation == "linear" and infos[-1].units == 2
    assert infos[2].activation is None


def test_recurrent_and_custom_layers():
    class Custom(keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([
        keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.GRU(2)), Custom(name="doubler"), keras.layers.Dense(1),
    ])
    lstm, bidirectional, custom, _ = inspect_model(model)
    assert lstm.kind == "recurrent" and lstm.has_weights and lstm.kernel_initializer == "glorot_uniform"
    assert bidirectional.kind == "recurrent" and bidirectional.kernel_initializer == "glorot_uniform"
    assert custom.kind == "unknown" and custom.name == "doubler" and not custom.has_weights


def test_functional_residual_graph_records_inbound_layers():
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(4, activation="relu", name="a")(inputs)
    branch = keras.layers.Dense(4, name="b")(hidden)
    merged = keras.layers.Add(name="add")([hidden, branch])
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(merged))
    infos = {i.name: i for i in inspect_model(model)}
    assert infos["add"].kind == "merge" and infos["add"].inbound == ("a", "b")
    assert infos["b"].inbound == ("a",)
    assert infos["a"].inbound == ("x",)


def test_unbuilt_layer_still_describes_itself():
    info = inspect_layer(keras.layers.Dense(7, activation="tanh"))
    assert (info.units, info.activation, info.inbound) == (7, "tanh", ())
