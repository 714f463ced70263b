"""The advisor's docstring examples, run under the package's one name.

pytest's `--doctest-modules` imports a file by its place in the checkout, which would make the
top-level `advisor/` folder a second package `advisor` beside the installed `keras_act.advisor`
(two copies of every class). Its examples are collected here from `keras_act.advisor` instead;
the layer package's run through `--doctest-modules` (`pyproject.toml`).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import keras_act.advisor


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found = []
    modules = pkgutil.walk_packages(keras_act.advisor.__path__, prefix="keras_act.advisor.")
    for name in ["keras_act.advisor", *sorted(info.name for info in modules)]:
        module = importlib.import_module(name)
        found += [test for test in finder.find(module, name) if test.examples]
    return found


EXAMPLES = _examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[test.name for test in EXAMPLES])
def test_docstring_example(example: doctest.DocTest) -> None:
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(example, out=report.append)
    assert runner.summarize(verbose=False).failed == 0, "".join(report)
