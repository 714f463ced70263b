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

import sys
from pathlib import Path

from keras_act._ids import LAYER_CLASS_NAMES

__version__ = "0.1.0"

__all__ = [
    "ACON",
    "ActivationLayer",
    "ELU",
    "GELU",
    "LeakyReLU",
    "Linear",
    "Mish",
    "Nearest",
    "PReLU",
    "Rational",
    "ReLU",
    "SELU",
    "Sigmoid",
    "Snake",
    "Softmax",
    "Softplus",
    "Swish",
    "Tanh",
    "get",
    "names",
    "nearest",
    "ops",
]


def _in_keras_act_command() -> bool:
    """Whether this process is the `keras-act` console script."""
    argv = getattr(sys, "argv", None) or [""]
    return Path(argv[0]).stem == "keras-act"


if _in_keras_act_command():
    # The command answers `--help` and `list` without TensorFlow (its import takes 6-10 s);
    # its other commands import the layers (and so register them) before they load a model.
    from keras_act._lazy import lazy_exports

    lazy_exports(
        __name__,
        {
            **{name: "layers" for name in [*LAYER_CLASS_NAMES.values(), "ActivationLayer"]},
            "get": "registry",
            "names": "registry",
            "nearest": "introspection",
            "Nearest": "introspection",
        },
        submodules=("ops",),
    )
else:
    from keras_act import ops
    from keras_act.introspection import Nearest, nearest
    from keras_act.layers import (
        ACON,
        ELU,
        GELU,
        SELU,
        ActivationLayer,
        LeakyReLU,
        Linear,
        Mish,
        PReLU,
        Rational,
        ReLU,
        Sigmoid,
        Snake,
        Softmax,
        Softplus,
        Swish,
        Tanh,
    )
    from keras_act.registry import get, names
