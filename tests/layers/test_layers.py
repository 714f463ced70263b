"""Layer behaviour: registry, config, attributes, bad input, training, saving, masking."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act
from keras_act.registry import LAYER_CLASSES

ALL_IDS = keras_act.names()
PARAMETRIC = ["prelu", "swish", "rational", "acon", "snake"]


def _data(n=64, features=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    return x, y


def _model_with(layer, features=6, units=8):
    return keras.Sequential(
        [
            keras.Input((features,)),
            keras.layers.Dense(units),
            layer,
            keras.layers.Dense(1),
        ]
    )


# --- registry -----------------------------------------------------------------------------------


def test_names_lists_every_id_once():
    assert ALL_IDS == [
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "prelu",
        "elu",
        "swish",
        "softmax",
        "softplus",
        "linear",
        "gelu",
        "mish",
        "selu",
        "rational",
        "acon",
        "snake",
    ]


def test_every_layer_class_is_exported_under_the_name_and_id_its_module_gives_it():
    # The ids and class names are written once (keras_act._ids); the layers package imports each
    # class by that name and lists it in __all__: the three must agree.
    from keras_act import layers
    from keras_act._ids import LAYER_CLASS_NAMES

    assert sorted(layers.__all__) == sorted(["ActivationLayer", *LAYER_CLASS_NAMES.values()])
    for activation_id, name in LAYER_CLASS_NAMES.items():
        cls = getattr(layers, name)
        assert cls.__name__ == name and cls.activation_id == activation_id
        assert cls.__module__ == f"keras_act.layers.{activation_id}"


@pytest.mark.parametrize("activation_id", ALL_IDS)
def test_get_by_id_class_name_and_config(activation_id):
    layer = keras_act.get(activation_id)
    assert type(layer) is LAYER_CLASSES[activation_id]
    assert type(keras_act.get(type(layer).__name__)) is type(layer)
    assert keras_act.get(layer) is layer
    rebuilt = keras_act.get(keras.saving.serialize_keras_object(layer))
    assert type(rebuilt) is type(layer) and rebuilt is not layer
    assert keras_act.get({"class_name": activation_id, "config": {}}).get_config()["name"]


def test_get_passes_config_values_through():
    layer = keras_act.get({"class_name": "LeakyReLU", "config": {"alpha": 0.2}})
    assert layer.alpha == 0.2


def test_get_none_is_linear():
    assert isinstance(keras_act.get(None), keras_act.Linear)


def test_get_unknown_id_lists_valid_ids():
    with pytest.raises(ValueError, match="valid ids are: sigmoid, tanh, relu"):
        keras_act.get("relu6")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match="received 3 of type int"):
        keras_act.get(3)


# --- config and attributes ----------------------------------------------------------------------

NON_DEFAULT_ARGS = {
    "leaky_relu": {"alpha": 0.2},
    "prelu": {"alpha_initializer": 0.1, "alpha_regularizer": "l2", "alpha_constraint": "non_neg", "shared_axes": [1]},
    "elu": {"alpha": 0.5},
    "swish": {"beta": 2.0, "trainable_beta": False, "shared_axes": 1},
    "softmax": {"axis": 1},
    "gelu": {"approximate": True},
    "rational": {"approx": "gelu", "degrees": [3, 2], "shared_axes": [1], "fit_range": [-2.0, 2.0]},
    "acon": {"p1": 1.2, "p2": 0.1, "beta": 2.0, "shared_axes": []},
    "snake": {"a": 0.5, "shared_axes": [1]},
}


@pytest.mark.parametrize("activation_id", ALL_IDS)
def test_from_config_round_trips(activation_id):
    cls = LAYER_CLASSES[activation_id]
    layer = cls(name=f"my_{activation_id}", **NON_DEFAULT_ARGS.get(activation_id, {}))
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(x)), keras.ops.convert_to_numpy(layer(x)), rtol=1e-6)


def test_config_holds_every_constructor_argument():
    import inspect

    for cls in LAYER_CLASSES.values():
        arguments = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
        assert set(arguments) <= set(cls().get_config()), cls.__name__


def test_leaky_relu_takes_keras_3_s_argument_name_too():
    layer = keras_act.LeakyReLU(negative_slope=0.2)
    assert layer.alpha == 0.2 and keras_act.LeakyReLU(alpha=0.2, negative_slope=0.2).alpha == 0.2
    x = np.array([-3.0, -0.5, 0.0, 2.0], "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), keras.ops.convert_to_numpy(keras.layers.LeakyReLU(negative_slope=0.2)(x))
    )
    assert keras_act.LeakyReLU.from_config(layer.get_config()).alpha == 0.2
    assert keras_act.LeakyReLU.from_config({"alpha": 0.3}).alpha == 0.3  # configs saved before negative_slope


def test_defaults_that_differ_from_keras():
    assert keras_act.LeakyReLU().alpha == 0.01
    prelu = keras_act.PReLU()
    prelu.build((None, 3))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(prelu.alpha), [0.25, 0.25, 0.25])
    assert keras_act.GELU().approximate is False


def test_parametric_attributes_read_the_weights():
    prelu, swish = keras_act.PReLU(), keras_act.Swish(beta=1.5)
    with pytest.raises(ValueError, match="call the layer on an input"):
        _ = prelu.alpha
    prelu.build((None, 4))
    swish.build((None, 4))
    assert prelu.alpha is prelu.trainable_weights[0] and prelu.alpha.name == "alpha"
    assert swish.beta is swish.trainable_weights[0] and swish.beta.name == "beta"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(swish.beta), [1.5] * 4)
    assert keras_act.ELU(alpha=0.5).alpha == 0.5


def test_learnable_layers_parameters_and_their_default_sharing():
    rational, acon, snake = keras_act.Rational(), keras_act.ACON(), keras_act.Snake(a=2.0)
    with pytest.raises(ValueError, match="Rational `numerator` does not exist before the layer is built"):
        _ = rational.numerator
    feature_map = np.ones((2, 5, 5, 3), "float32")
    for layer in (rational, acon, snake):
        layer(feature_map)
    # The papers' defaults: one set of coefficients per layer (PAU), one per channel (ACON, Snake).
    assert tuple(rational.numerator.shape) == (6,) and tuple(rational.denominator.shape) == (4,)
    assert [tuple(w.shape) for w in (acon.p1, acon.p2, acon.beta)] == [(3,)] * 3
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(snake.a), [2.0] * 3)
    assert rational(np.ones((4,), "float32")).shape == (4,)  # one set per layer: any rank
    per_channel = keras_act.Rational(shared_axes=[1, 2])
    per_channel(feature_map)
    assert tuple(per_channel.numerator.shape) == (6, 1, 1, 3)
    per_unit = keras_act.Snake(shared_axes=[])
    per_unit(feature_map)
    assert tuple(per_unit.a.shape) == (5, 5, 3)
    with pytest.raises(ValueError, match="no known channel axis"):
        keras_act.ACON().build((None, None))


def test_shared_axes_give_one_parameter_per_channel():
    layer = keras_act.PReLU(shared_axes=[1, 2])
    y = layer(np.ones((2, 5, 5, 3), "float32"))
    assert tuple(layer.alpha.shape) == (1, 1, 3)
    assert tuple(y.shape) == (2, 5, 5, 3)
    swish = keras_act.Swish(shared_axes=1)
    swish(np.ones((2, 7, 3), "float32"))
    assert tuple(swish.beta.shape) == (1, 3)


def test_shared_axes_beyond_the_input_rank_is_a_clear_error():
    with pytest.raises(ValueError, match="names axis 3"):
        keras_act.PReLU(shared_axes=[3]).build((None, 4, 4))


@pytest.mark.parametrize("activation_id", ALL_IDS)
def test_shape_and_mask_propagate(activation_id):
    layer = keras_act.get(activation_id)
    assert layer.supports_masking
    assert layer.compute_output_shape((None, 5, 3)) == (None, 5, 3)
    inputs = keras.Input((5, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    outputs = layer(masked)
    assert tuple(outputs.shape) == (None, 5, 3)
    x = np.ones((2, 5, 3), "float32")
    x[:, 3:] = 0.0
    model = keras.Model(inputs, outputs)
    mask = model.layers[-1].compute_mask(x, np.any(x != 0, axis=-1))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(mask), np.any(x != 0, axis=-1))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory, error, pattern",
    [
        (lambda: keras_act.LeakyReLU(alpha=-0.1), ValueError, "`alpha` must be >= 0"),
        (lambda: keras_act.LeakyReLU(alpha="big"), TypeError, "`alpha` must be a real number"),
        (lambda: keras_act.LeakyReLU(negative_slope=-0.1), ValueError, "`negative_slope` must be >= 0"),
        (lambda: keras_act.LeakyReLU(alpha=0.1, negative_slope=0.2), ValueError, "name the same slope; pass one"),
        (lambda: keras_act.ELU(alpha=-1.0), ValueError, "`alpha` must be >= 0"),
        (lambda: keras_act.ELU(alpha=float("nan")), ValueError, "`alpha` must be finite"),
        (lambda: keras_act.Softmax(axis=1.5), ValueError, "`axis` must be an integer"),
        (lambda: keras_act.Softmax(axis="last"), ValueError, "`axis` must be an integer"),
        (lambda: keras_act.PReLU(shared_axes=[0]), ValueError, "`shared_axes` must be None"),
        (lambda: keras_act.PReLU(shared_axes="1"), ValueError, "`shared_axes` must be None"),
        (lambda: keras_act.Swish(shared_axes=[1.0]), ValueError, "`shared_axes` must be None"),
        (lambda: keras_act.Swish(beta=None), TypeError, "`beta` must be a real number"),
        (lambda: keras_act.Swish(trainable_beta="yes"), TypeError, "`trainable_beta` must be True or False"),
        (lambda: keras_act.GELU(approximate=1), TypeError, "`approximate` must be True or False"),
        (lambda: keras_act.PReLU(alpha_initializer="no_such_init"), ValueError, "PReLU: invalid alpha"),
        (lambda: keras_act.Rational("softmax"), ValueError, "`approx` must be the id of an elementwise"),
        (lambda: keras_act.Rational("rational"), ValueError, "received approx='rational'"),
        (lambda: keras_act.Rational(degrees=(6, 4)), ValueError, "m <= n \\+ 1 .* received degrees=\\(6, 4\\)"),
        (lambda: keras_act.Rational(degrees=(1, 0)), ValueError, "1 <= n"),
        (lambda: keras_act.Rational(degrees="5,4"), ValueError, "`degrees` must be two integers"),
        (lambda: keras_act.Rational(fit_range=(3, -3)), ValueError, "low < high"),
        (lambda: keras_act.Rational(fit_range=(0, float("inf"))), ValueError, "`fit_range` must be two finite"),
        (lambda: keras_act.Rational(numerator=[0.0, 1.0]), ValueError, "both `numerator` and `denominator`"),
        (
            lambda: keras_act.Rational(numerator=[0.0, 1.0], denominator=[1.0] * 4),
            ValueError,
            "`numerator` must be degrees\\[0\\] \\+ 1 = 6 finite numbers",
        ),
        (lambda: keras_act.Rational(numerator=[0.0] * 6, denominator=["a"] * 4), ValueError, "`denominator` must be"),
        (lambda: keras_act.ACON(beta="x"), TypeError, "ACON: argument `beta` must be a real number"),
        (lambda: keras_act.ACON(shared_axes=[0]), ValueError, "`shared_axes` must be None"),
        (lambda: keras_act.Snake(a=float("nan")), ValueError, "Snake: argument `a` must be finite"),
    ],
)
def test_bad_constructor_arguments_raise_at_construction(factory, error, pattern):
    with pytest.raises(error, match=pattern):
        factory()


@pytest.mark.parametrize("activation_id", ALL_IDS)
def test_non_numeric_input_is_a_clear_type_error(activation_id):
    with pytest.raises(TypeError, match="numeric"):
        keras_act.get(activation_id)(np.array(["a", "b"]))


def test_integer_input_is_cast_to_the_compute_dtype():
    y = keras_act.Sigmoid()(np.array([0, 1]))
    assert keras.backend.standardize_dtype(y.dtype) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), [0.5, 1 / (1 + np.exp(-1))], rtol=1e-6)


# --- training -----------------------------------------------------------------------------------


@pytest.mark.parametrize("activation_id", PARAMETRIC)
def test_fit_moves_every_trainable_parameter(activation_id):
    keras.utils.set_random_seed(0)
    layer = keras_act.get(activation_id)
    model = _model_with(layer)
    model.compile(keras.optimizers.Adam(0.05), keras.losses.BinaryCrossentropy(from_logits=True))
    before = [keras.ops.convert_to_numpy(w).copy() for w in layer.trainable_weights]
    model.fit(*_data(), epochs=3, batch_size=16, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    assert len(before) >= 1
    for weight, b, a in zip(layer.trainable_weights, before, after):
        assert np.abs(a - b).max() > 1e-3, weight.name


def test_fixed_beta_stays_fixed():
    keras.utils.set_random_seed(0)
    layer = keras_act.Swish(beta=1.7, trainable_beta=False)
    model = _model_with(layer)
    assert layer.beta not in layer.trainable_weights and layer.beta in layer.non_trainable_weights
    model.compile("adam", "mse")
    model.fit(*_data(), epochs=2, verbose=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.beta), np.full(8, 1.7, "float32"))


def test_every_layer_trains_under_jit_compile_as_dense_activation():
    # One compiled model with a Dense branch per activation: on PyTorch each jit-compiled model
    # costs a torch.compile of 15-30 s, so one model, not one per activation. There the learnable
    # Rational, ACON and Snake are left out: their branches took torch.compile on 2 CPU cores from
    # 71 to 361 s (they train compiled on TensorFlow and JAX, and eagerly on PyTorch).
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    ids = [i for i in ALL_IDS if keras.backend.backend() != "torch" or i not in ("rational", "acon", "snake")]
    branches = [keras.layers.Dense(8, activation=keras_act.get(i), name=f"dense_{i}")(inputs) for i in ids]
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()(branches)))
    model.compile(keras.optimizers.Adam(0.01), "mse", jit_compile=True)
    x, y = _data()
    before = {w.path: keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights}
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    still = [
        path
        for path, b in before.items()
        if np.allclose(b, keras.ops.convert_to_numpy(next(w for w in model.trainable_weights if w.path == path)))
    ]
    assert still == []


def test_subclassed_model_tracks_parametric_layers():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8)
            self.act = keras_act.PReLU()
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.act(self.hidden(x)))

    model = Net()
    model(np.zeros((1, 6), "float32"))
    assert any(w is model.act.alpha for w in model.trainable_weights)


# --- crossentropy's logits path -----------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, activation",
    [(keras_act.Sigmoid, keras.activations.sigmoid), (keras_act.Softmax, keras.activations.softmax)],
)
def test_outputs_carry_logits_like_keras_activations(layer, activation):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("only TensorFlow symbolic tensors accept the cached-logits attribute")
    import tensorflow as tf

    @tf.function
    def cached(x):
        ours, theirs = layer()(x), activation(x)
        return ours._keras_logits is x, hasattr(theirs, "_keras_logits")

    mine, keras_own = cached(tf.zeros((2, 3)))
    assert bool(keras_own) and mine


def test_sigmoid_output_keeps_crossentropy_finite_at_extreme_logits():
    logits = np.array([[-200.0], [200.0]], "float32")
    labels = np.array([[1.0], [0.0]], "float32")
    model = keras.Sequential([keras.Input((1,)), keras_act.Sigmoid()])
    model.compile(loss="binary_crossentropy")
    loss = model.evaluate(logits, labels, verbose=0)
    # From the logits, -log(sigmoid(-200)) = 200; from clipped probabilities it would be ~16.1.
    if keras.backend.backend() == "tensorflow":
        assert loss == pytest.approx(200.0, rel=1e-4)
    else:
        assert np.isfinite(loss)


# --- persistence --------------------------------------------------------------------------------


def _every_layer_model():
    inputs = keras.Input((6,))
    x = inputs
    for activation_id in ALL_IDS:
        if activation_id == "softmax":
            continue
        x = keras.layers.Dense(6)(x)
        x = keras_act.get(activation_id)(x)
    x = keras.layers.Dense(4, activation=keras_act.Swish(beta=0.5))(x)
    x = keras.layers.Dense(3)(x)
    return keras.Model(inputs, keras_act.Softmax()(x))


def test_saved_model_with_every_layer_predicts_the_same(tmp_path):
    keras.utils.set_random_seed(0)
    model = _every_layer_model()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    model.fit(x, np.arange(32) % 3, epochs=2, verbose=0)
    path = tmp_path / "every_layer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    for original, reloaded in zip(model.layers, loaded.layers):
        for a, b in zip(original.weights, reloaded.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    prelu = next(layer for layer in loaded.layers if isinstance(layer, keras_act.PReLU))
    assert not np.allclose(keras.ops.convert_to_numpy(prelu.alpha), 0.25)  # the learned, not the initial, slope


def test_conv_net_with_per_channel_prelu_and_conv_activation():
    keras.utils.set_random_seed(0)
    prelu = keras_act.PReLU(shared_axes=[1, 2])
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation=keras_act.get("elu")),
            prelu,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    model.fit(x, x.mean(axis=(1, 2, 3))[:, None], epochs=2, verbose=0)
    assert tuple(prelu.alpha.shape) == (1, 1, 4)
    assert not np.allclose(keras.ops.convert_to_numpy(prelu.alpha), 0.25)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_float32_weights_and_trains(policy):
    keras.config.set_dtype_policy(policy)
    keras.utils.set_random_seed(0)
    prelu, swish, rational = keras_act.PReLU(), keras_act.Swish(), keras_act.Rational()
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8),
            prelu,
            keras.layers.Dense(8),
            swish,
            keras.layers.Dense(8),
            rational,
            keras.layers.Dense(1, dtype="float32"),
        ]
    )
    assert prelu.compute_dtype == policy.removeprefix("mixed_")
    assert keras.backend.standardize_dtype(prelu.alpha.dtype) == "float32"
    assert keras.backend.standardize_dtype(rational.numerator.dtype) == "float32"
    model.compile(keras.optimizers.Adam(0.05), "mse")
    history = model.fit(*_data(), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert not np.allclose(keras.ops.convert_to_numpy(swish.beta), 1.0)
    assert not np.allclose(keras.ops.convert_to_numpy(rational.numerator), rational.initial_numerator)
