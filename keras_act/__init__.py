"""keras_act: activation functions as numerically careful, serializable Keras 3 layers.

Example:
    >>> import keras, keras_act
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(8), keras_act.PReLU(),
    ...     keras.layers.Dense(8, activation=keras_act.get("swish")),
    ...     keras.layers.Dense(1), keras_act.Sigmoid(),
    ... ])
"""

from keras_act import ops
from keras_act.layers import (
    ELU, GELU, SELU, ActivationLayer, LeakyReLU, Linear, Mish, PReLU, ReLU, Sigmoid, Softmax,
    Softplus, Swish, Tanh,
)
from keras_act.registry import get, names

__version__ = "0.1.0"

__all__ = [
    "ActivationLayer", "ELU", "GELU", "LeakyReLU", "Linear", "Mish", "PReLU", "ReLU", "SELU",
    "Sigmoid", "Softmax", "Softplus", "Swish", "Tanh", "get", "names", "ops",
]
