"""Test set-up: two logical CPU devices on TensorFlow, for the MirroredStrategy tests.

Logical devices must be configured before TensorFlow initializes its runtime, so this runs at
collection time, before any test module touches a tensor.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the default dtype policy and a cleared Keras session."""
    yield
    keras.config.set_dtype_policy("float32")
    # Without the full garbage collection clear_session() runs by default: 0.2-1 s per test, a
    # third of the suite's time; Python's own collector frees the old models' cycles soon enough.
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def rules_of_thumb(monkeypatch):
    """The advice as the rules of thumb give it: an empty activation atlas, for the tests of those
    rules and of what is built on any advice (the atlas's own evidence is tested on its own)."""
    from keras_act.advisor import atlas

    monkeypatch.setattr(atlas, "load", lambda path=atlas.ATLAS_FILE: ())
