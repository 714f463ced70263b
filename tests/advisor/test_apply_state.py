"""apply() keeps what is not a weight to re-draw: adapted preprocessing and frozen layers."""

from __future__ import annotations

import dataclasses
import inspect

import keras
import numpy as np
import pytest

from keras_act.advisor import advise, apply
from keras_act.advisor.inspection import view
from tests.advisor.test_apply import apply_checked

L = keras.layers
RNG = np.random.default_rng(0)
WORDS = np.array(["the cat sat", "a dog ran far", "the dog sat", "cats and dogs", "a cat ran", "far away"])


def _numbers(rows: int = 64) -> np.ndarray:
    # Large offsets: a Normalization that lost its statistics is far off.
    return (RNG.normal(size=(rows, 3)) * [2.0, 10.0, 0.5] + [49.0, -300.0, 7.0]).astype("float32")


def _normalization() -> tuple[L.Layer, keras.KerasTensor, np.ndarray]:
    data = _numbers()
    return L.Normalization(), keras.Input((3,)), data


def _discretization() -> tuple[L.Layer, keras.KerasTensor, np.ndarray]:
    data = _numbers()[:, :1]
    return L.Discretization(num_bins=4, output_mode="one_hot"), keras.Input((1,)), data


def _string_lookup() -> tuple[L.Layer, keras.KerasTensor, np.ndarray]:
    data = RNG.choice(["red", "green", "blue", "cyan"], size=(64, 1))
    return L.StringLookup(output_mode="one_hot"), keras.Input((1,), dtype="string"), data


def _integer_lookup() -> tuple[L.Layer, keras.KerasTensor, np.ndarray]:
    data = RNG.choice([3, 17, 250, 9000], size=(64, 1)).astype("int64")
    return L.IntegerLookup(output_mode="one_hot"), keras.Input((1,), dtype="int64"), data


def _text_vectorization() -> tuple[L.Layer, keras.KerasTensor, np.ndarray]:
    return L.TextVectorization(max_tokens=30, output_mode="tf_idf"), keras.Input((), dtype="string"), WORDS


# One model per Keras preprocessing layer that has adapt(): test_every_adapt_layer_is_covered
# fails when a Keras release adds one.
ADAPTED = {
    "Normalization": _normalization,
    "Discretization": _discretization,
    "StringLookup": _string_lookup,
    "IntegerLookup": _integer_lookup,
    "TextVectorization": _text_vectorization,
}


def _adapted_model(kind: str) -> tuple[keras.Model, np.ndarray, str]:
    layer, inputs, data = ADAPTED[kind]()
    layer.adapt(data)
    features = layer(inputs)
    hidden = L.Dense(8, activation="sigmoid")(keras.ops.cast(features, "float32"))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy")
    return model, data, layer.name


def _output_of(model: keras.Model, name: str, data: np.ndarray) -> np.ndarray:
    import tensorflow as tf  # Keras' own conversion takes no NumPy strings

    return keras.ops.convert_to_numpy(keras.Model(model.inputs, model.get_layer(name).output)(tf.constant(data)))


def test_every_adapt_layer_is_covered() -> None:
    with_adapt = {
        name
        for name, value in vars(L).items()
        if inspect.isclass(value) and issubclass(value, L.Layer) and hasattr(value, "adapt")
    }
    assert with_adapt == set(ADAPTED)


@pytest.mark.parametrize("kind", sorted(ADAPTED))
def test_adapted_state_survives_apply_and_a_keras_round_trip(kind: str, tmp_path) -> None:
    model, data, name = _adapted_model(kind)
    expected = _output_of(model, name, data)
    new = apply_checked(model, dataclasses.replace(advise(model), hidden_activation="tanh"))
    assert new.layers[2].activation.__class__.__name__ == "Tanh"  # the hidden site did change
    np.testing.assert_array_equal(_output_of(new, name, data), expected)
    path = tmp_path / "applied.keras"
    new.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_output_of(loaded, name, data), expected)
    assert np.all(np.isfinite(_output_of(new, new.layers[-1].name, data)))  # a lost vocabulary fails here


def test_normalization_matches_a_float64_reference_after_apply() -> None:
    model, data, name = _adapted_model("Normalization")
    reference = (data.astype("float64") - data.mean(axis=0)) / data.std(axis=0)
    np.testing.assert_allclose(_output_of(apply(model, advise(model)), name, data), reference, atol=1e-4)


def test_vocabulary_is_the_adapted_one() -> None:
    model, _, name = _adapted_model("TextVectorization")
    new = apply(model, advise(model))
    assert new.get_layer(name).get_vocabulary() == model.get_layer(name).get_vocabulary()
    assert len(new.get_layer(name).get_vocabulary()) > 2


def test_hashing_and_category_encoding_settings_are_kept() -> None:
    inputs = keras.Input((1,), dtype="int64")
    hashed = L.Hashing(num_bins=7, salt=13)(inputs)
    encoded = L.CategoryEncoding(num_tokens=7, output_mode="one_hot")(hashed)
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.Dense(4, activation="tanh")(encoded)))
    data = RNG.integers(0, 1000, size=(32, 1))
    new = apply(model, advise(model, task="binary"))
    for name in (model.layers[1].name, model.layers[2].name):
        np.testing.assert_array_equal(_output_of(new, name, data), _output_of(model, name, data))


def _transfer_model() -> tuple[keras.Model, keras.Model]:
    backbone = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(16, activation="sigmoid"),
            L.BatchNormalization(),
            L.Dense(16, activation="sigmoid"),
        ],
        name="backbone",
    )
    for layer in backbone.layers:  # "pretrained": weights and statistics no fresh draw gives
        layer.set_weights([RNG.normal(size=w.shape).astype("float32") + 0.5 for w in layer.get_weights()])
    backbone.trainable = False
    inputs = keras.Input((6,))
    hidden = L.Dense(8, activation="sigmoid", name="new_hidden")(backbone(inputs))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid", name="head")(hidden))
    model.compile("adam", "binary_crossentropy")
    return model, backbone


def test_frozen_backbone_keeps_weights_and_activations() -> None:
    model, backbone = _transfer_model()
    advice = advise(model)
    assert advice.hidden_activation != "sigmoid"
    assert "frozen" in advice.reasons["hidden_activation"]
    assert [s.role for s in view(model).sites if s.weight and s.weight.startswith("dense")] == ["frozen"] * 2
    new = apply_checked(model, advice)
    new_backbone = new.get_layer("backbone")
    for old, fresh in zip(backbone.weights, new_backbone.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(old), np.asarray(fresh))
    assert [layer.activation.__name__ for layer in new_backbone.layers if isinstance(layer, L.Dense)] == [
        "sigmoid",
        "sigmoid",
    ]
    assert not new_backbone.trainable_weights
    assert new.get_layer("new_hidden").activation.__class__.__name__ != "function"  # the trained part changed
    x = RNG.normal(size=(16, 6)).astype("float32")
    np.testing.assert_allclose(new_backbone(x), backbone(x), rtol=1e-6)


def test_trained_layers_get_fresh_weights_frozen_ones_do_not() -> None:
    inputs = keras.Input((4,))
    frozen = L.Dense(8, activation="relu", trainable=False, name="frozen")
    model = keras.Model(inputs, L.Dense(1, name="out")(L.Dense(8, activation="relu", name="trained")(frozen(inputs))))
    new = apply(model, advise(model, task="regression"))
    np.testing.assert_array_equal(np.asarray(new.get_layer("frozen").kernel), np.asarray(frozen.kernel))
    assert not np.array_equal(
        np.asarray(new.get_layer("trained").kernel), np.asarray(model.get_layer("trained").kernel)
    )
