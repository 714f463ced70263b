"""keras_act: activation functions as numerically careful, serializable Keras 3 layers.

`import keras_act` registers every layer with Keras' deserializer, so a saved model that uses
them loads with a plain `keras.models.load_model(path)` once `keras_act` is imported.

Example:
    >>> import keras, keras_act
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(8), keras_act.PReLU(),
    ...     keras.layers.Dense(8, activation=keras_act.get("swish")),
    ...     keras.layers.Dense(1), keras_act.Sigmoid(),
    ... ])
"""

import importlib
from typing import Any

from keras_act._ids import LAYER_CLASS_NAMES
from keras_act.commands import running_as_the_command

__version__ = "0.1.0"

__all__ = ["ActivationLayer", *LAYER_CLASS_NAMES.values(), "Nearest", "get", "names", "nearest", "ops"]  # noqa: F405
# The module that defines each export other than the layers (`keras_act.layers`).
_EXPORTED_FROM = {"get": "registry", "names": "registry", "nearest": "matching", "Nearest": "matching"}


def __getattr__(name: str) -> Any:
    """An export read before it is imported (PEP 562): only in the `keras-act` command."""
    if name not in __all__:
        raise AttributeError(f"module 'keras_act' has no attribute {name!r}")
    if name == "ops":
        return importlib.import_module("keras_act.ops")
    return getattr(importlib.import_module(f"keras_act.{_EXPORTED_FROM.get(name, 'layers')}"), name)


if not running_as_the_command():
    # `import keras_act` registers every layer with Keras' deserializer, so a saved model that
    # uses them loads. The command imports them itself, once it needs TensorFlow.
    from keras_act import ops
    from keras_act.layers import *  # noqa: F403  (every layer class: keras_act.layers.__all__)
    from keras_act.matching import Nearest, nearest
    from keras_act.registry import get, names
