"""`keras_act.advisor`: the advisor (the top-level `advisor/` folder) under a name nothing shadows.

A top-level name such as `advisor` loses to any `advisor.py` earlier on the path (a user's
script folder comes first). This module loads that folder as the package `keras_act.advisor`,
whose modules import one another relatively; `import advisor` then hands out the same package.
The layer package itself never imports this: the advisor sits on top of it.

Example:
    >>> import keras_act.advisor
    >>> keras_act.advisor.advise.__module__
    'keras_act.advisor.analyze'
"""

import importlib.util
import sys
from pathlib import Path

_FOLDER = Path(__file__).resolve().parents[2] / "advisor"
_spec = importlib.util.spec_from_file_location(
    __name__, _FOLDER / "__init__.py", submodule_search_locations=[str(_FOLDER)]
)
_package = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _package  # the import statement returns what sys.modules holds
try:
    _spec.loader.exec_module(_package)
except BaseException:
    del sys.modules[__name__]
    raise
