"""Training under tf.distribute.MirroredStrategy on two logical CPU devices (TensorFlow only)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_act

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow-only")


def test_mirrored_strategy_trains_parametric_layers():
    import tensorflow as tf

    devices = tf.config.list_logical_devices("CPU")
    assert len(devices) == 2, "conftest.py should have made two logical CPUs"
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    with strategy.scope():
        prelu, swish = keras_act.PReLU(), keras_act.Swish()
        model = keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(8),
                prelu,
                keras.layers.Dense(8),
                swish,
                keras.layers.Dense(1),
                keras_act.Sigmoid(),
            ]
        )
        model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    assert strategy.num_replicas_in_sync == 2
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(keras.ops.convert_to_numpy(prelu.alpha), 0.25)
    assert not np.allclose(keras.ops.convert_to_numpy(swish.beta), 1.0)
