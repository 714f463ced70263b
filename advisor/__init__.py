"""Recommend activations, initializers and input scaling for a Keras model.

The sources live in the repository's top-level `advisor/` folder and install as
`keras_act.advisor` (`pyproject.toml`, setuptools' `package-dir`): that is its one name.

Example:
    >>> import keras
    >>> from keras_act.advisor import advise
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    >>> advise(model).output_activation
    'softmax'
"""

import importlib
from typing import Any

from keras_act.commands import running_as_the_command

__all__ = [
    "ActivationMonitor",
    "Advice",
    "ConfirmResult",
    "ConfirmRow",
    "Finding",
    "advise",
    "apply",
    "confirm",
    "plot_diagnostics",
]
# The module that defines each export.
_EXPORTED_FROM = {
    "ActivationMonitor": "monitor",
    "Advice": "advice",
    "ConfirmResult": "verdict",
    "ConfirmRow": "verdict",
    "Finding": "findings",
    "advise": "advise",
    "apply": "apply",
    "confirm": "confirm",
    "plot_diagnostics": "plots",
}


def __getattr__(name: str) -> Any:
    """An export read before it is imported (PEP 562): only in the `keras-act` command."""
    if name not in _EXPORTED_FROM:
        raise AttributeError(f"module 'keras_act.advisor' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTED_FROM[name]}"), name)


if not running_as_the_command():
    # Imported up front: `keras_act.advisor.confirm` is then the function, whatever imports
    # its module of the same name later.
    from .advice import Advice
    from .advise import advise
    from .apply import apply
    from .confirm import confirm
    from .findings import Finding
    from .monitor import ActivationMonitor
    from .plots import plot_diagnostics
    from .verdict import ConfirmResult, ConfirmRow
