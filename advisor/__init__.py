"""Recommend activations, initializers and input scaling for a Keras model.

Example:
    >>> import keras
    >>> from advisor import advise
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    >>> advise(model).output_activation
    'softmax'
"""

from advisor.advice import Advice
from advisor.analyze import advise
from advisor.confirm import confirm
from advisor.findings import Finding
from advisor.monitor import ActivationMonitor
from advisor.plots import plot_diagnostics
from advisor.rebuild import apply
from advisor.verdict import ConfirmResult, ConfirmRow

__all__ = [
    "ActivationMonitor", "Advice", "ConfirmResult", "ConfirmRow", "Finding", "advise", "apply", "confirm",
    "plot_diagnostics",
]
