"""The activation ids and their layer classes' names: plain data, readable without TensorFlow.

`keras-act list` and `--help` read this; `keras_act.registry` builds its lookup from it.
"""

# id -> class name in keras_act.layers, in the order `keras_act.names()` gives.
LAYER_CLASS_NAMES: dict[str, str] = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "prelu": "PReLU",
    "elu": "ELU",
    "swish": "Swish",
    "softmax": "Softmax",
    "softplus": "Softplus",
    "linear": "Linear",
    "gelu": "GELU",
    "mish": "Mish",
    "selu": "SELU",
    "rational": "Rational",
    "acon": "ACON",
    "snake": "Snake",
}
