"""The package layout: keras_act below the advisor, private internals behind compat modules, the
top-level `advisor/` folder installed as `keras_act.advisor` and nothing else."""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where the private internals of Keras, TensorFlow and keras-tuner may be reached.
COMPAT_MODULES = {"advisor/_keras_compat.py", "advisor/_tuner_compat.py", "keras_act/_tf_compat.py"}
# Their modules that are internal by path rather than by a leading underscore.
INTERNAL_MODULES = ("keras.src", "tensorflow.python", "keras_tuner.src", "keras_tuner.engine", "kt.engine")


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (top level or inside functions), relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def test_the_layer_package_never_imports_the_advisor() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if n.split(".")[0] == "advisor" or n.startswith("keras_act.advisor")
        )
        for path in _sources("keras_act")
        if "advisor" not in path.relative_to(ROOT / "keras_act").parts
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def _own_names(paths: list[Path]) -> set[str]:
    """Every name the project itself defines or binds: its functions, classes, attributes,
    variables, arguments and imports."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _foreign_privates(path: Path, own: set[str]) -> set[str]:
    """The private names of other libraries that `path` reaches: `obj._name`, getattr(obj,
    "_name"), and imports of internal modules. The standard library's are left alone."""
    found = set()
    tree = ast.parse(path.read_text())
    stdlib = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.split(".")[0] in sys.stdlib_module_names
    }

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__") and name not in own

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in stdlib):
                found.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and private(str(node.args[1].value)):
                found.add(str(node.args[1].value))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found |= {m for m in modules if m.startswith(INTERNAL_MODULES)}
        elif isinstance(node, ast.Attribute) and ast.unparse(node).startswith(INTERNAL_MODULES):
            found.add(ast.unparse(node))
    return found


def test_private_internals_are_reached_only_from_the_compat_modules() -> None:
    paths = _sources("keras_act") + _sources("advisor")
    own = _own_names(paths)
    found = {}
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        if relative not in COMPAT_MODULES and (hits := _foreign_privates(path, own)):
            found[relative] = sorted(hits)
    assert found == {}


def test_the_scan_finds_a_private_of_keras_however_it_is_reached(tmp_path) -> None:
    module = tmp_path / "reaches.py"
    module.write_text(
        "import argparse\nfrom keras.src.ops import node\n"
        "def f(model):\n    return model._outputs_struct, getattr(model, '_symbolic_build', None)\n"
        "def g() -> argparse._SubParsersAction: ...\n"
    )
    assert _foreign_privates(module, set()) == {"_outputs_struct", "_symbolic_build", "keras.src.ops"}


def test_private_hooks_of_other_libraries_are_overridden_only_in_the_compat_modules() -> None:
    compat = {path.removesuffix(".py").replace("/", ".") for path in COMPAT_MODULES}
    compat = {("keras_act." + name) if name.startswith("advisor.") else name for name in compat}
    offenders = []
    for path in _sources("keras_act") + _sources("advisor"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(("keras_act", *parts) if parts[0] == "advisor" else parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not isinstance(cls, type) or cls.__module__ != name or name in compat:
                continue
            foreign = [
                b for b in cls.__mro__[1:] if b.__module__.split(".")[0] in ("keras", "tensorflow", "keras_tuner")
            ]
            for method in vars(cls):
                if method.startswith("_") and not method.startswith("__") and any(method in vars(b) for b in foreign):
                    offenders.append(f"{name}.{cls.__name__}.{method}")
    assert offenders == [], offenders


def test_keras_act_modules_import_one_another_without_a_cycle() -> None:
    graph = {}
    for path in _sources("keras_act"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if path.name == "__init__.py" or "advisor" in parts:
            continue  # a package imports its own modules; they may import its name
        graph[".".join(parts)] = {n for n in _imports(path) if n.startswith("keras_act.")}
    modules = set(graph)
    edges = {m: {n for n in graph[m] if n in modules} for m in graph}

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in edges[node]:
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = cycle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    assert [c for m in sorted(edges) if (c := cycle_from(m, m, (m,)))] == []


def test_the_packaging_names_every_package_folder() -> None:
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"keras_act": ROOT / "keras_act", **{k: ROOT / v for k, v in setuptools["package-dir"].items()}}
    found = set()
    for package, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            found.add(".".join([package, *init.parent.relative_to(folder).parts]))
    assert sorted(setuptools["packages"]) == sorted(found)


def test_the_advisor_folder_is_keras_act_advisor() -> None:
    import keras_act.advisor
    import keras_act.advisor.verdict

    assert Path(keras_act.advisor.__file__).parent == ROOT / "advisor"
    assert keras_act.advisor.ConfirmResult is keras_act.advisor.verdict.ConfirmResult
    # The exported function, not its module of the same name.
    assert keras_act.advisor.confirm is importlib.import_module("keras_act.advisor.confirm").confirm


def test_the_top_level_name_advisor_is_not_installed(tmp_path) -> None:
    run = _python("import importlib.util\nprint(importlib.util.find_spec('advisor'))", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "None"


def _python(code: str, cwd: Path, argv0: str | None = None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in `cwd` (the installed packages only, not this checkout),
    as the program `argv0` if given."""
    if argv0:
        code = f"import sys; sys.argv = [{argv0!r}]\n" + code
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_a_users_own_advisor_module_does_not_shadow_keras_act_advisor(tmp_path) -> None:
    (tmp_path / "advisor.py").write_text("MINE = True\n")
    run = _python(
        "import advisor, keras_act.advisor as ours\n"
        "print(advisor.MINE, ours.advise.__module__, hasattr(advisor, 'advise'))",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "keras_act.advisor.advise", "False"]


def test_importing_keras_act_loads_no_advisor_module(tmp_path) -> None:
    run = _python("import sys, keras_act\nprint(sorted(m for m in sys.modules if 'advisor' in m))", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["advise", "--help"]])
def test_the_command_answers_help_and_list_without_tensorflow(tmp_path, argv) -> None:
    run = _python(
        f"from keras_act.advisor.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)",
        tmp_path,
        argv0="keras-act",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-2:] == ["False", "False"]


def test_the_command_reads_an_export_on_first_use(tmp_path) -> None:
    run = _python(
        "import keras_act, keras_act.advisor as advisor\n"
        "print('keras' in sys.modules, keras_act.PReLU.__name__, advisor.advise.__module__)",
        tmp_path,
        argv0="keras-act",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-3:] == ["False", "PReLU", "keras_act.advisor.advise"]


def test_the_command_is_quiet_by_default_and_verbose_on_request(tmp_path) -> None:
    command = shutil.which("keras-act", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("the keras-act console script is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(
        [command, "plot", "relu", "-o", str(tmp_path / "relu.png")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == ["keras-act: loading TensorFlow..."]
    assert quiet.stdout.strip() == f"Wrote {tmp_path / 'relu.png'}"


@pytest.mark.parametrize("package", ["keras_act", "keras_act.advisor"])
def test_every_export_read_on_first_use_is_the_one_imported_up_front(package) -> None:
    # The keras-act command reads the exports through the packages' module __getattr__ (PEP 562);
    # everywhere else they are imported up front. Both must give the same object for every name.
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        assert module.__getattr__(name) is getattr(module, name), name
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nothing'"):
        module.__getattr__("nothing")
