"""The small real-data search the confirm tests share (and run in subprocesses)."""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from keras_act import datasets

CANDIDATES = ["relu", "elu", "tanh", "selu"]


def data() -> tuple[np.ndarray, np.ndarray]:
    split = datasets.load("breast_cancer")
    return split.x_train[:240], split.y_train[:240].astype("float32")


def model() -> keras.Model:
    built = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(8, activation="sigmoid"),
            keras.layers.Dense(8, activation="sigmoid"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    built.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    return built


def advice() -> Any:
    """The advice searched with: relu + he_normal, whatever the activation atlas holds, so that a
    search and the processes that resume or share it agree on its rows."""
    from keras_act.advisor import advise

    return dataclasses.replace(advise(model(), y=data()[1]), hidden_activation="relu", hidden_initializer="he_normal")
