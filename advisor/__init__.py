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

from keras_act.commands import exports_on_first_use, running_as_the_command

# The module that defines each export; read on first use only in the `keras-act` command.
_EXPORTED_FROM = {
    "ActivationMonitor": "monitor",
    "Advice": "advice",
    "ConfirmResult": "verdict",
    "ConfirmRow": "verdict",
    "Finding": "findings",
    "PathTaken": "verdict",
    "advise": "advise",
    "apply": "apply",
    "confirm": "confirm",
    "plot_diagnostics": "plots",
}
__all__ = [
    "ActivationMonitor",
    "Advice",
    "ConfirmResult",
    "ConfirmRow",
    "Finding",
    "PathTaken",
    "advise",
    "apply",
    "confirm",
    "plot_diagnostics",
]
__getattr__ = exports_on_first_use(__name__, _EXPORTED_FROM)

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
    from .verdict import ConfirmResult, ConfirmRow, PathTaken
