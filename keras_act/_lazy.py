"""Package attributes imported on first use (PEP 562), for packages whose exports pull in TensorFlow."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Sequence
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], submodules: Sequence[str] = ()) -> None:
    """Make `package`'s attribute `name` import `exports[name]` (a submodule holding `name`), and
    each of `submodules` import that submodule, the first time it is read.

    A function exported under its own module's name (`advisor.confirm`, from `advisor/confirm.py`)
    keeps the name: importing the submodule does not rebind it to the module.

    Example (in a package's `__init__.py`):
        >>> lazy_exports(__name__, {"advise": "analyze"}, submodules=("ops",))  # doctest: +SKIP
    """
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(submodules) | set(vars(module)))

    class LazyPackage(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in exports and isinstance(value, types.ModuleType):
                return  # the import system binding a submodule of the same name: the export wins
            super().__setattr__(name, value)

    module.__getattr__ = __getattr__
    module.__dir__ = __dir__
    module.__class__ = LazyPackage
