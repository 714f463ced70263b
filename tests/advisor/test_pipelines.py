"""keras.io-shaped pipelines end to end: advise(x, y), apply() and confirm() with its defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_act.advisor import advise, apply, confirm
from tests.advisor.test_real_inputs import LABELS, SENTENCES, text_classifier

L = keras.layers
RNG = np.random.default_rng(1)
ROWS = 96


def structured() -> tuple[keras.Model, dict[str, Any]]:
    """keras.io's structured data: a dict of columns, adapted Normalization, StringLookup + CategoryEncoding."""
    columns = {
        "age": RNG.normal(50, 12, size=(ROWS, 1)).astype("float32"),
        "thal": RNG.choice(["fixed", "normal", "reversible"], size=(ROWS, 1)),
    }
    target = ((columns["age"][:, 0] > 50) ^ (columns["thal"][:, 0] == "fixed")).astype("float32")
    age, thal = keras.Input((1,), name="age"), keras.Input((1,), name="thal", dtype="string")
    normalize, lookup = L.Normalization(), L.StringLookup()
    normalize.adapt(columns["age"])
    lookup.adapt(columns["thal"])
    encoded = L.CategoryEncoding(num_tokens=lookup.vocabulary_size(), output_mode="one_hot")(lookup(thal))
    hidden = L.Dense(16, activation="relu")(L.Concatenate()([normalize(age), encoded]))
    model = keras.Model({"age": age, "thal": thal}, L.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy")
    dataset = tf.data.Dataset.from_tensor_slices((columns, target)).shuffle(ROWS, seed=0).batch(16)
    return model, {"x": dataset}


def text() -> tuple[keras.Model, dict[str, Any]]:
    return text_classifier(), {"x": tf.data.Dataset.from_tensor_slices((SENTENCES, LABELS)).batch(16)}


def images() -> tuple[keras.Model, dict[str, Any]]:
    """Pixels 0-255 from a tf.data pipeline, Rescaling inside the model."""
    pixels = RNG.uniform(0, 255, size=(ROWS, 12, 12, 3)).astype("float32")
    labels = (pixels[..., 0].mean(axis=(1, 2)) > 127.5).astype("float32")
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, activation="relu")(L.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.GlobalAveragePooling2D()(x)))
    model.compile("adam", "binary_crossentropy")
    return model, {"x": tf.data.Dataset.from_tensor_slices((pixels, labels)).batch(16)}


class Rows(keras.utils.PyDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y) // 16

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x[index * 16 : (index + 1) * 16], self.y[index * 16 : (index + 1) * 16]


def pydataset() -> tuple[keras.Model, dict[str, Any]]:
    x = RNG.normal(size=(ROWS, 5)).astype("float32")
    model = keras.Sequential([keras.Input((5,)), L.Dense(16, activation="tanh"), L.Dense(1)])
    model.compile("adam", "mse")
    return model, {"x": Rows(x, x[:, :1] - x[:, 1:2])}


def multi_input() -> tuple[keras.Model, dict[str, Any]]:
    """Numbers and token ids, as a list of arrays."""
    numbers, ids = RNG.normal(size=(ROWS, 4)).astype("float32"), RNG.integers(0, 50, size=(ROWS, 3))
    number_input, id_input = keras.Input((4,)), keras.Input((3,), dtype="int32")
    tokens = L.Flatten()(L.Embedding(50, 4)(id_input))
    hidden = L.Dense(16, activation="relu")(L.Concatenate()([number_input, tokens]))
    model = keras.Model([number_input, id_input], L.Dense(3, activation="softmax")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model, {"x": [numbers, ids], "y": (ids[:, 0] % 3)}


def multi_output() -> tuple[keras.Model, dict[str, Any]]:
    x = RNG.normal(size=(ROWS, 4)).astype("float32")
    inputs = keras.Input((4,))
    hidden = L.Dense(16, activation="relu")(inputs)
    model = keras.Model(
        inputs,
        {"price": L.Dense(1, name="price")(hidden), "sold": L.Dense(1, activation="sigmoid", name="sold")(hidden)},
    )
    model.compile("adam", {"price": "mse", "sold": "binary_crossentropy"}, loss_weights={"price": 1.0, "sold": 0.5})
    return model, {"x": x, "y": {"price": x[:, :1] * 2, "sold": (x[:, 1] > 0).astype("float32")}}


def transfer() -> tuple[keras.Model, dict[str, Any]]:
    """A frozen nested backbone (with its own adapted Normalization) under a new head."""
    x = (RNG.normal(size=(ROWS, 6)) * 10 + 40).astype("float32")
    normalize = L.Normalization()
    normalize.adapt(x)
    backbone = keras.Sequential([keras.Input((6,)), normalize, L.Dense(8, activation="sigmoid")], name="backbone")
    backbone.trainable = False
    inputs = keras.Input((6,))
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(L.Dense(8, activation="sigmoid")(backbone(inputs))))
    model.compile("adam", "binary_crossentropy")
    return model, {"x": x, "y": (x[:, 0] > 40).astype("float32")}


PIPELINES: dict[str, Callable[[], tuple[keras.Model, dict[str, Any]]]] = {
    "structured": structured,
    "text": text,
    "images": images,
    "pydataset": pydataset,
    "multi_input": multi_input,
    "multi_output": multi_output,
    "transfer": transfer,
}


def _weights(model: keras.Model) -> dict[str, np.ndarray]:
    return {w.path: np.array(w) for w in model.weights}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_the_pipeline_goes_through_advise_apply_and_confirm_with_defaults(name: str) -> None:
    model, data = PIPELINES[name]()
    before = _weights(model)
    advice = advise(model, **data)
    assert advice.diagnostics and all(row.grad_norm is not None for row in advice.diagnostics)
    new = apply(model, advice)
    for layer in model.layers:  # what is not trained keeps its state (nested backbones included)
        if not layer.trainable or hasattr(layer, "adapt"):
            for old, fresh in zip(layer.weights, new.get_layer(layer.name).weights, strict=True):
                np.testing.assert_array_equal(np.asarray(old), np.asarray(fresh))
    # confirm()'s defaults (executions, racing, objective) but 3 epochs: the data's path is the point.
    result = confirm(model, **data, epochs=3, verbose=0)
    assert result.baseline is not None and len(result.ranking) >= 3
    assert all(np.isfinite(row.scores).all() and len(row.scores) >= 3 for row in result.ranking)
    after = _weights(model)
    assert all(np.array_equal(before[path], after[path]) for path in before)
