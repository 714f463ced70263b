"""Recommend activations, initializers and input scaling for a Keras model.

Import it as `keras_act.advisor` (safe from any other module named `advisor` on the path) or as
`advisor`: both names give the same package and the same classes.

Example:
    >>> import keras
    >>> from keras_act.advisor import advise
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    >>> advise(model).output_activation
    'softmax'
"""

import importlib
import sys

if __name__ == "advisor":
    # Imported by its short name: hand out `keras_act.advisor` itself, and `keras_act.advisor.x`
    # for every `advisor.x`, so there is one copy of each module (and `isinstance` holds across
    # both spellings). The code's real name is `keras_act.advisor`: a user's own `advisor.py`
    # can shadow the short name, never the long one.
    import importlib.abc
    import importlib.util

    class _ShortNameFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        """Finds `advisor.x` as the module already named `keras_act.advisor.x`."""

        real_specs: dict = {}

        def find_spec(self, name: str, path: object = None, target: object = None) -> object:
            if name.startswith("advisor."):
                return importlib.util.spec_from_loader(name, self)
            return None

        def create_module(self, spec: importlib.machinery.ModuleSpec) -> object:
            module = importlib.import_module(f"keras_act.{spec.name}")
            self.real_specs[spec.name] = module.__spec__
            return module

        def exec_module(self, module: object) -> None:
            # Already executed under its real name; the import system gave it this alias's spec.
            module.__spec__ = self.real_specs.pop(module.__spec__.name)

        def get_code(self, name: str) -> object:
            """The module's code, for `python -m advisor.x`."""
            real = importlib.util.find_spec(f"keras_act.{name}")
            return real.loader.get_code(real.name)

    sys.meta_path.insert(0, _ShortNameFinder())
    sys.modules[__name__] = importlib.import_module("keras_act.advisor")
else:
    # The exports load on first use: `keras-act --help` reads this package without TensorFlow.
    from keras_act._lazy import lazy_exports

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
    lazy_exports(
        __name__,
        {
            "Advice": "advice",
            "advise": "analyze",
            "confirm": "confirm",
            "Finding": "findings",
            "ActivationMonitor": "monitor",
            "plot_diagnostics": "plots",
            "apply": "rebuild",
            "ConfirmResult": "verdict",
            "ConfirmRow": "verdict",
        },
    )
