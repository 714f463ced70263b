"""One module per activation layer."""

from keras_act.layers._base import ActivationLayer
from keras_act.layers.acon import ACON
from keras_act.layers.elu import ELU
from keras_act.layers.gelu import GELU
from keras_act.layers.leaky_relu import LeakyReLU
from keras_act.layers.linear import Linear
from keras_act.layers.mish import Mish
from keras_act.layers.prelu import PReLU
from keras_act.layers.rational import Rational
from keras_act.layers.relu import ReLU
from keras_act.layers.selu import SELU
from keras_act.layers.sigmoid import Sigmoid
from keras_act.layers.snake import Snake
from keras_act.layers.softmax import Softmax
from keras_act.layers.softplus import Softplus
from keras_act.layers.swish import Swish
from keras_act.layers.tanh import Tanh

__all__ = [
    "ACON",
    "ActivationLayer",
    "ELU",
    "GELU",
    "LeakyReLU",
    "Linear",
    "Mish",
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
]
