"""Float64 NumPy references: each activation's value and analytic derivative."""

from __future__ import annotations

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GRID = np.array(
    [-1e4, -100, -88.8, -20, -1, -1e-3, -1e-8, 0, 1e-8, 1e-3, 1, 20, 88.8, 100, 1e4]
)
_erfc = np.vectorize(math.erfc)


def sigmoid(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def softplus(x):
    return np.logaddexp(0.0, x)


def gelu_exact(x):
    return 0.5 * x * _erfc(-x / math.sqrt(2))


_C = math.sqrt(2 / math.pi)


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(_C * (x + 0.044715 * x**3)))


def _gelu_tanh_grad(x):
    t = np.tanh(_C * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * _C * (1 + 3 * 0.044715 * x**2)


def _mish_grad(x):
    t = np.tanh(softplus(x))
    return t + x * (1 - t**2) * sigmoid(x)


def _swish(beta):
    return lambda x: x * sigmoid(beta * x)


def _swish_grad(beta):
    return lambda x: sigmoid(beta * x) + beta * x * sigmoid(beta * x) * sigmoid(-beta * x)


def _elu(alpha, scale=1.0):
    return lambda x: scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_grad(alpha, scale=1.0):
    return lambda x: scale * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def _leaky(alpha):
    return lambda x: np.where(x > 0, x, alpha * x)


def _leaky_grad(alpha):
    return lambda x: np.where(x > 0, 1.0, alpha)


# Each id: (layer kwargs, value reference, derivative reference). For softmax the reference is
# the first probability of the logits [x, 0], which is sigmoid(x).
REFERENCES = {
    "sigmoid": ({}, sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
    "tanh": ({}, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": ({}, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "leaky_relu": ({}, _leaky(0.01), _leaky_grad(0.01)),
    "prelu": ({}, _leaky(0.25), _leaky_grad(0.25)),
    "elu": ({}, _elu(1.0), _elu_grad(1.0)),
    "swish": ({}, _swish(1.0), _swish_grad(1.0)),
    "softmax": ({}, sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
    "softplus": ({}, softplus, sigmoid),
    "linear": ({}, lambda x: x, np.ones_like),
    "gelu": ({}, gelu_exact, lambda x: 0.5 * _erfc(-x / math.sqrt(2)) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
    "mish": ({}, lambda x: x * np.tanh(softplus(x)), _mish_grad),
    "selu": ({}, _elu(SELU_ALPHA, SELU_SCALE), _elu_grad(SELU_ALPHA, SELU_SCALE)),
}

# Non-default arguments, checked too.
VARIANTS = {
    "leaky_relu(alpha=0.2)": ("leaky_relu", {"alpha": 0.2}, _leaky(0.2), _leaky_grad(0.2)),
    "elu(alpha=0.5)": ("elu", {"alpha": 0.5}, _elu(0.5), _elu_grad(0.5)),
    "elu(alpha=2.0)": ("elu", {"alpha": 2.0}, _elu(2.0), _elu_grad(2.0)),
    "swish(beta=2.5)": ("swish", {"beta": 2.5}, _swish(2.5), _swish_grad(2.5)),
    "gelu(approximate=True)": ("gelu", {"approximate": True}, gelu_tanh, _gelu_tanh_grad),
    "prelu(alpha_initializer=0.1)": ("prelu", {"alpha_initializer": 0.1}, _leaky(0.1), _leaky_grad(0.1)),
}


def all_cases():
    """(case name, id, kwargs, value reference, derivative reference) for every checked case."""
    cases = [(name, name, kw, f, df) for name, (kw, f, df) in REFERENCES.items()]
    cases += [(name, i, kw, f, df) for name, (i, kw, f, df) in VARIANTS.items()]
    return cases
