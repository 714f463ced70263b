"""Model inspection: what each layer computes, however it is written."""

from __future__ import annotations

import keras
import pytest

import keras_act
from keras_act.advisor.inspection import (
    KERAS_ACTIVATIONS,
    activation_id,
    initializer_name,
    inspect_layer,
    inspect_model,
    view,
)


@pytest.mark.parametrize(
    "make_output",
    [
        lambda x: keras.layers.Dense(3, activation="softmax")(x),
        lambda x: keras.layers.Activation("softmax")(keras.layers.Dense(3)(x)),
        lambda x: keras.layers.Softmax()(keras.layers.Dense(3)(x)),
        lambda x: keras_act.Softmax()(keras.layers.Dense(3)(x)),
        lambda x: keras.layers.Dense(3, activation=keras_act.get("softmax"))(x),
        lambda x: keras.layers.Dense(3, activation=keras.activations.softmax)(x),
    ],
    ids=["argument", "Activation", "keras-layer", "keras_act-layer", "keras_act-argument", "function"],
)
def test_softmax_reads_the_same_however_written(make_output):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, make_output(inputs))
    assert inspect_model(model)[-1].activation == "softmax"


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("relu", "relu"),
        ("silu", "swish"),
        ("swish", "swish"),
        (keras.activations.gelu, "gelu"),
        (keras.layers.ReLU(), "relu"),
        (keras.layers.ReLU(negative_slope=0.1), "leaky_relu"),
        (keras.layers.LeakyReLU(), "leaky_relu"),
        (keras.layers.PReLU(), "prelu"),
        (keras.layers.ELU(), "elu"),
        (keras_act.Mish(), "mish"),
        ("relu6", "relu6"),
        (None, None),
    ],
)
def test_activation_ids(activation, expected):
    assert activation_id(activation) == expected


@pytest.mark.parametrize(
    "initializer, expected",
    [
        ("he_normal", "he_normal"),
        (keras.initializers.GlorotUniform(), "glorot_uniform"),
        (keras.initializers.LecunNormal(), "lecun_normal"),
        (keras.initializers.RandomNormal(), "random_normal"),
        ("zeros", "zeros"),
    ],
)
def test_initializer_names(initializer, expected):
    assert initializer_name(initializer) == expected


def test_layer_kinds_widths_and_initializers_of_a_conv_net():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer="he_normal"),
            keras.layers.MaxPooling2D(),
            keras.layers.BatchNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(2),
        ]
    )
    infos = inspect_model(model)
    assert [i.kind for i in infos] == ["weight", "max_pooling", "normalization", "transparent", "transparent", "weight"]
    assert infos[0].units == 4 and infos[0].kernel_initializer == "he_normal"
    assert infos[-1].activation == "linear" and infos[-1].units == 2
    assert infos[2].activation is None


def test_recurrent_and_custom_layers():
    class Custom(keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.LSTM(4, return_sequences=True),
            keras.layers.Bidirectional(keras.layers.GRU(2)),
            Custom(name="doubler"),
            keras.layers.Dense(1),
        ]
    )
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


def sites(model):
    return [(s.activation, s.role) for s in view(model).sites]


@pytest.mark.parametrize("name", sorted(KERAS_ACTIVATIONS))
def test_every_keras_activation_is_named(name):
    inputs = keras.Input((4,))
    argument = keras.layers.Dense(4, activation=name)(inputs)
    layer = keras.layers.Activation(name)(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, [argument, layer])
    expected = {"silu": "swish", "hard_silu": "hard_swish"}.get(name, name)
    assert [head.activation for head in view(model).heads] == [expected, expected]


@pytest.mark.parametrize(
    "layer, expected",
    [
        (keras.layers.ReLU(max_value=6.0), "relu6"),
        (keras.layers.ReLU(negative_slope=0.2), "leaky_relu"),
        (keras.layers.ReLU(max_value=4.0), "unreadable:ReLU(max_value=4, negative_slope=0, threshold=0)"),
        (keras.layers.ReLU(threshold=1.0), "unreadable:ReLU(negative_slope=0, threshold=1)"),
    ],
)
def test_relu_settings_are_read_or_reported(layer, expected):
    assert activation_id(layer) == expected


def test_keras_ops_activations_and_gates_are_read():
    inputs = keras.Input((8,))
    x = keras.layers.Dense(8)(inputs)
    hidden = keras.ops.gelu(x)  # a keras.ops node, not a layer
    gate = keras.layers.ReLU(6.0)(keras.layers.Dense(8)(hidden) + 3.0) * (1.0 / 6.0)  # hard sigmoid
    gated = keras.layers.Multiply()([hidden, gate])
    model = keras.Model(inputs, keras.layers.Dense(1)(gated))
    assert sites(model) == [("gelu", "hidden"), ("linear", "bottleneck"), ("relu6", "gate"), ("linear", "output")]


def test_self_gated_composites_read_as_the_activation_they_compute():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3, name="conv")(inputs))
    hard_swish = keras.layers.Multiply()([x, keras.layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)])
    y = keras.layers.Conv2D(4, 3, name="conv_2")(hard_swish)
    swish = keras.layers.Multiply(name="swish")([y, keras.layers.Activation("sigmoid")(y)])
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(swish)))
    v = view(model)
    composites = [(s.weight, s.activation) for s in v.sites if s.composite]
    assert composites == [("conv", "hard_swish"), ("conv_2", "swish")]
    assert v.own_hidden_activation == "hard_swish"


def test_squeeze_excitation_features_are_not_gates():
    inputs = keras.Input((8, 8, 4))
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="features")(inputs)
    squeeze = keras.layers.Dense(2, activation="relu", name="squeeze")(keras.layers.GlobalAveragePooling2D()(features))
    excite = keras.layers.Dense(4, activation="sigmoid", name="excite")(squeeze)
    scaled = keras.layers.Multiply()([features, keras.layers.Reshape((1, 1, 4))(excite)])
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(scaled)))
    roles = {s.name: s.role for s in view(model).sites}
    assert (roles["features"], roles["squeeze"], roles["excite"]) == ("hidden", "hidden", "gate")


@pytest.mark.parametrize(
    "make, role",
    [
        (lambda x: keras.layers.Add()([x, keras.layers.Dense(8, name="p")(x)]), "bottleneck"),  # residual
        (lambda x: x + keras.layers.Dense(8, name="p")(x), "bottleneck"),  # a keras.ops add
        (
            lambda x: keras.layers.Dense(8, activation="relu")(
                keras.layers.LayerNormalization()(keras.layers.Dense(8, name="p")(x))
            ),
            "bottleneck",
        ),
        (lambda x: keras.layers.Dense(8, activation="relu")(keras.layers.Dense(2, name="p")(x)), "bottleneck"),
        (lambda x: keras.layers.Dense(8, activation="relu")(keras.layers.Dense(8, name="p")(x)), "linear"),
        (
            lambda x: keras.layers.Dense(8, activation="relu")(
                keras.layers.Dropout(0.1)(keras.layers.Dense(8, name="p")(x))
            ),
            "linear",
        ),
    ],
    ids=["add", "ops-add", "layer-norm", "narrow-code", "linear", "through-dropout"],
)
def test_linear_layers_by_design_and_by_mistake(make, role):
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(1)(make(keras.layers.Dense(8, activation="relu")(inputs))))
    assert view(model).site_of("p").role == role


def test_nested_models_are_flattened():
    backbone = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8), keras.layers.ReLU(name="inner")], name="backbone"
    )
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(backbone(inputs)))
    v = view(model)
    assert [(s.name, s.activation, s.role) for s in v.sites] == [
        ("inner", "relu", "hidden"),
        ("out", "sigmoid", "output"),
    ]
    assert not v.by_name["inner"].top_level and v.by_name["out"].inbound == ("inner",)


def test_builtin_layers_are_known_and_custom_ones_are_not():
    class Custom(keras.layers.Layer):
        def call(self, x):
            return x

    model = keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            keras.layers.Embedding(10, 4),
            keras.layers.Reshape((6, 4, 1)),
            keras.layers.ZeroPadding2D(),
            keras.layers.Rescaling(0.5),
            keras.layers.RandomFlip(),
            keras.layers.Resizing(4, 4),
            Custom(),
            keras.layers.Lambda(lambda x: x),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    kinds = [i.kind for i in inspect_model(model)]
    assert kinds == [
        "embedding",
        "transparent",
        "transparent",
        "preprocessing",
        "preprocessing",
        "preprocessing",
        "unknown",
        "unknown",
        "transparent",
        "weight",
    ]


def test_heads_get_their_own_loss_by_name_and_position():
    inputs = keras.Input((4,))
    b = keras.layers.Dense(1, name="b")(inputs)
    a = keras.layers.Dense(3, activation="softmax", name="a")(inputs)
    by_dict = keras.Model(inputs, {"b": b, "a": a})
    by_dict.compile("adam", {"b": "mse", "a": "categorical_crossentropy"})
    assert [(h.name, h.loss) for h in view(by_dict).heads] == [("a", "categorical_crossentropy"), ("b", "mse")]
    by_list = keras.Model(inputs, [b, a])
    by_list.compile("adam", ["mse", "categorical_crossentropy"])
    assert [(h.name, h.loss) for h in view(by_list).heads] == [("b", "mse"), ("a", "categorical_crossentropy")]


def test_dict_outputs_are_named_by_their_keys():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(
        inputs,
        {
            "score": keras.layers.Dense(1, activation="sigmoid", name="d1")(x),
            "kind": keras.layers.Dense(3, name="d2")(x),
        },
    )
    logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", {"score": "binary_crossentropy", "kind": logits})
    assert [(h.name, h.layer.name, h.loss) for h in view(model).heads] == [
        ("kind", "d2", logits),
        ("score", "d1", "binary_crossentropy"),
    ]


def test_transformer_feed_forward_sites():
    inputs = keras.Input((6, 8))
    attended = keras.layers.MultiHeadAttention(2, 4)(inputs, inputs)
    x = keras.layers.LayerNormalization()(inputs + keras.layers.Dropout(0.1)(attended))
    y = keras.layers.Dense(16, activation="relu", name="ffn")(x)
    x = keras.layers.LayerNormalization()(x + keras.layers.Dense(8, name="ffn_out")(y))
    pooled = keras.layers.GlobalAveragePooling1D()(x)
    head = keras.layers.Dense(8, activation="relu", name="mlp_head")(pooled)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(head))
    v = view(model)
    roles = {s.name: s.role for s in v.sites}
    assert (roles["ffn"], roles["ffn_out"], roles["mlp_head"]) == ("feed_forward", "bottleneck", "hidden")
    assert [s.name for s in v.hidden_sites()] == ["ffn", "mlp_head"]


def test_learnable_keras_act_layers_are_read_with_their_start():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation=keras_act.Rational("tanh")),
            keras.layers.Dense(8),
            keras_act.ACON(),
            keras.layers.Dense(8),
            keras_act.Snake(),
            keras.layers.Dense(1),
        ]
    )
    sites = [(site.activation, site.start, site.role) for site in view(model).sites]
    assert sites[:3] == [("rational", "tanh", "hidden"), ("acon", "swish", "hidden"), ("snake", None, "hidden")]
