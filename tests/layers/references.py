"""Float64 NumPy references: each activation's value and analytic derivative."""

from __future__ import annotations

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GRID = np.array([-1e4, -100, -88.8, -20, -1, -1e-3, -1e-8, 0, 1e-8, 1e-3, 1, 20, 88.8, 100, 1e4])
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


def _acon(p1, p2, beta):
    return lambda x: (p1 - p2) * x * sigmoid(beta * (p1 - p2) * x) + p2 * x


def _acon_grad(p1, p2, beta):
    def derivative(x):
        z = beta * (p1 - p2) * x
        return (p1 - p2) * (sigmoid(z) + z * sigmoid(z) * sigmoid(-z)) + p2

    return derivative


def _phase(a, x):
    """Snake's phase a x as float32 forms it: at |a x| ~ 2000, its rounding alone (2.4e-4)
    moves sin(2 a x) by 1e-4, more than any formula's error; the references start from it."""
    return (np.float32(a) * np.asarray(x, "float32")).astype("float64")


def _snake(a):
    return lambda x: x + np.sin(_phase(a, x)) ** 2 / a


def _snake_grad(a):
    return lambda x: 1 + np.sin(2 * _phase(a, x))


def _rational(numerator, denominator):
    """The safe PAU P(x) / (1 + sum |b_k| |x|**k), directly in float64 (|x| <= 1e4 here)."""
    a, b = np.asarray(numerator, float), np.abs(np.asarray(denominator, float))

    def rational(x):
        return np.polyval(a[::-1], x) / (1 + np.polyval(np.append(b[::-1], 0.0), np.abs(x)))

    return rational


def _rational_grad(numerator, denominator):
    a, b = np.asarray(numerator, float), np.abs(np.asarray(denominator, float))

    def derivative(x):
        p = np.polyval(a[::-1], x)
        dp = np.polyval((a[1:] * np.arange(1, len(a)))[::-1], x)
        q = 1 + np.polyval(np.append(b[::-1], 0.0), np.abs(x))
        dq = np.sign(x) * np.polyval((b * np.arange(1, len(b) + 1))[::-1], np.abs(x))
        return (dp * q - p * dq) / q**2

    return derivative


# Hand-picked coefficients, not a fit: the references check the evaluation, the fit has its own
# tests. A (5, 4) pair with a negative b_1 (only |b_1| counts) and an odd-n (4, 3) pair.
RATIONAL_54 = ([0.02, 0.5, 1.3, 0.9, 0.25, 0.03], [-0.7, 1.2, 0.1, 0.03])
RATIONAL_43 = ([0.1, -0.4, 0.8, 0.3, -0.05], [0.5, -0.2, 0.3])

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
    "gelu": (
        {},
        gelu_exact,
        lambda x: 0.5 * _erfc(-x / math.sqrt(2)) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi),
    ),
    "mish": ({}, lambda x: x * np.tanh(softplus(x)), _mish_grad),
    "selu": ({}, _elu(SELU_ALPHA, SELU_SCALE), _elu_grad(SELU_ALPHA, SELU_SCALE)),
    "rational": (
        dict(zip(("numerator", "denominator"), RATIONAL_54)),
        _rational(*RATIONAL_54),
        _rational_grad(*RATIONAL_54),
    ),
    "acon": ({}, _swish(1.0), _swish_grad(1.0)),
    "snake": ({}, _snake(1.0), _snake_grad(1.0)),
}

# Non-default arguments, checked too.
VARIANTS = {
    "leaky_relu(alpha=0.2)": ("leaky_relu", {"alpha": 0.2}, _leaky(0.2), _leaky_grad(0.2)),
    "elu(alpha=0.5)": ("elu", {"alpha": 0.5}, _elu(0.5), _elu_grad(0.5)),
    "elu(alpha=2.0)": ("elu", {"alpha": 2.0}, _elu(2.0), _elu_grad(2.0)),
    "swish(beta=2.5)": ("swish", {"beta": 2.5}, _swish(2.5), _swish_grad(2.5)),
    "gelu(approximate=True)": ("gelu", {"approximate": True}, gelu_tanh, _gelu_tanh_grad),
    "prelu(alpha_initializer=0.1)": ("prelu", {"alpha_initializer": 0.1}, _leaky(0.1), _leaky_grad(0.1)),
    "rational(degrees=(4, 3))": (
        "rational",
        {"degrees": (4, 3), "numerator": RATIONAL_43[0], "denominator": RATIONAL_43[1]},
        _rational(*RATIONAL_43),
        _rational_grad(*RATIONAL_43),
    ),
    "acon(p1=1.3, p2=0.2, beta=1.5)": (
        "acon",
        {"p1": 1.3, "p2": 0.2, "beta": 1.5},
        _acon(1.3, 0.2, 1.5),
        _acon_grad(1.3, 0.2, 1.5),
    ),
    "acon(p1=0.5, p2=2.0, beta=-3.0)": (
        "acon",
        {"p1": 0.5, "p2": 2.0, "beta": -3.0},
        _acon(0.5, 2.0, -3.0),
        _acon_grad(0.5, 2.0, -3.0),
    ),
    "snake(a=0.3)": ("snake", {"a": 0.3}, _snake(0.3), _snake_grad(0.3)),
    "snake(a=25.0)": ("snake", {"a": 25.0}, _snake(25.0), _snake_grad(25.0)),
}


def all_cases():
    """(case name, id, kwargs, value reference, derivative reference) for every checked case."""
    cases = [(name, name, kw, f, df) for name, (kw, f, df) in REFERENCES.items()]
    cases += [(name, i, kw, f, df) for name, (i, kw, f, df) in VARIANTS.items()]
    return cases
