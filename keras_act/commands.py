"""The layer commands of `keras-act` (`list`, `plot`) and what every command shares.

The `keras-act` console script is `keras_act.advisor.cli:main`: the advisor adds its commands
(`advise`, `confirm`, `demo`) to the ones defined here, so this package never imports the one
built on it. Commands import TensorFlow only when they need it, with its native start-up
logging (absl, CUDA probing) silenced unless `--verbose`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from keras_act._ids import LAYER_CLASS_NAMES
from keras_act._messages import quoted

PROG = "keras-act"


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def running_as_the_command() -> bool:
    """Whether this process is the `keras-act` console script.

    `import keras_act` imports the layers (and so TensorFlow) to register them with Keras'
    deserializer. The command must not: it answers `--help`, `list` and bad usage in one line
    without TensorFlow, and silences TensorFlow's start-up logging before importing it. Both run
    the package's `__init__`, so this is the one place that tells them apart; the packages'
    exports are then read on first use (PEP 562 module `__getattr__`).

    Examples:
        >>> running_as_the_command()  # pytest, not the command
        False
    """
    argv = getattr(sys, "argv", None) or [""]
    return Path(argv[0]).stem == PROG


def exports_on_first_use(package: str, exported_from: Mapping[str, str | None]) -> Callable[[str], Any]:
    """A package's module `__getattr__` (PEP 562) for the command: export `name` is read from
    submodule ``exported_from[name]`` of `package` when first used (None: the export is the
    submodule `name` itself).

    Examples:
        >>> lookup = exports_on_first_use("keras_act", {"names": "registry", "ops": None})
        >>> lookup("names").__name__, lookup("ops").__name__
        ('names', 'keras_act.ops')
        >>> lookup("nothing")
        Traceback (most recent call last):
        ...
        AttributeError: module 'keras_act' has no attribute 'nothing'
    """

    def __getattr__(name: str) -> Any:
        if name not in exported_from:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = exported_from[name]
        if module is None:
            return importlib.import_module(f"{package}.{name}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


class UsageError(Exception):
    """Bad usage: the command prints the message as one line and exits with status 2."""


def check_path(check: Callable[..., Path], path: str, flag: str, **options: Any) -> Path:
    """Run a `keras_act.paths` check on a path given on the command line, as a UsageError that
    names the flag.

    Examples:
        >>> from keras_act.paths import writable_folder
        >>> check_path(writable_folder, "/nonexistent", "--output-dir", must_exist=True)
        Traceback (most recent call last):
        ...
        keras_act.commands.UsageError: --output-dir /nonexistent: no such folder; create it or pass another.
    """
    try:
        return check(path, flag, **options)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error).replace(f"`{flag}`", flag)) from None


def numbers_as_values(argv: Sequence[str]) -> list[str]:
    """`argv` with each negative number kept a value: argparse reads a token that starts with "-"
    as an option unless it looks like a plain negative number (-5, -0.5), so "-1e30" and "-inf"
    would be options. A leading space keeps them values (float() ignores it).

    Examples:
        >>> numbers_as_values(["plot", "--x-range", "-1e30", "1e30", "-o", "x.png"])
        ['plot', '--x-range', ' -1e30', '1e30', '-o', 'x.png']
    """

    def is_number(token: str) -> bool:
        try:
            float(token)
        except ValueError:
            return False
        return True

    return [f" {token}" if token.startswith("-") and is_number(token) else token for token in argv]


def add_layer_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `plot` and `list` to the `keras-act` subcommands (`common` holds the shared flags).

    Examples:
        >>> parser = argparse.ArgumentParser(prog=PROG)
        >>> add_layer_commands(parser.add_subparsers(dest="command"), common_flags())
        >>> parser.parse_args(["plot", "relu", "-o", "relu.png"]).output
        'relu.png'
    """
    plot = commands.add_parser(
        "plot", parents=[common], help="draw activation curves (or a model's learned ones) into a PNG"
    )
    plot.add_argument("ids", nargs="*", help="activation ids (default: all; see `keras-act list`)")
    plot.add_argument(
        "--model", metavar="MODEL", help="a saved model (.keras): draw its learnable activations next to their start"
    )
    plot.add_argument("--derivative", action="store_true", help="also draw f'(x), by autodiff")
    plot.add_argument(
        "-o",
        "--output",
        help="PNG file to write (default: keras_act_gallery.png, or learned_activations.png with --model)",
    )
    plot.add_argument("--x-range", type=float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"))
    commands.add_parser("list", parents=[common], help="print the activation ids")


def common_flags() -> argparse.ArgumentParser:
    """The flags every subcommand takes (a parent parser).

    Examples:
        >>> common_flags().parse_args(["--verbose"]).verbose
        True
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="show TensorFlow's own start-up and runtime logging")
    return common


def run_layer_command(args: argparse.Namespace) -> int:
    """Run `list` or `plot`; raises UsageError on bad input.

    Examples:
        >>> run_layer_command(argparse.Namespace(command="list", verbose=False))  # doctest: +ELLIPSIS
        sigmoid
        ...
        0
    """
    if args.command == "list":
        print("\n".join(LAYER_CLASS_NAMES))
        return 0
    if args.model and (args.ids or args.derivative):
        raise UsageError(
            "plot --model draws the model's own learnable activations; leave out the activation ids and --derivative."
        )
    unknown = [i for i in args.ids if i not in LAYER_CLASS_NAMES]
    if unknown:
        raise UsageError(f"unknown activation ids {', '.join(unknown)}; valid ids are: {', '.join(LAYER_CLASS_NAMES)}.")
    from keras_act.figure_files import check_x_range, output_path

    output = args.output or ("learned_activations.png" if args.model else "keras_act_gallery.png")
    check_path(output_path, output, "-o")
    try:
        check_x_range(args.x_range, "plot")
    except ValueError as error:
        raise UsageError(str(error).replace("plot: x_range", "--x-range")) from None
    try:
        if args.model:
            model = load_model(args.model, args.verbose)
            from keras_act.learned import plot_learned

            path = plot_learned(model, output, tuple(args.x_range))
        else:
            import_tensorflow(args.verbose)
            from keras_act.gallery import plot_gallery

            path = plot_gallery(args.ids, output, args.derivative, tuple(args.x_range))
    except (ValueError, ImportError) as error:
        raise UsageError(str(error).replace("plot_learned: ", "")) from None
    print(f"Wrote {path}")
    return 0


def load_model(path: str, verbose: bool = False) -> Any:
    """The keras.Model saved at `path` (UsageError when the file is missing or not a model).

    Examples:
        >>> load_model("missing.keras")
        Traceback (most recent call last):
        ...
        keras_act.commands.UsageError: MODEL missing.keras: no such file.
    """
    import warnings

    if os.path.isdir(path):
        raise UsageError(
            f"MODEL {path} is a folder, not a saved model file; pass the .keras file that model.save('model.keras') wrote."
        )
    if not os.path.isfile(path):
        raise UsageError(f"MODEL {path}: no such file.")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in MODEL_SUFFIXES:
        raise UsageError(
            f"MODEL {path} is not a saved Keras model (expected a .keras file written by "
            f"model.save('model.keras'), found a {suffix or 'suffix-less'} file)."
        )
    if suffix == ".keras" and not zipfile.is_zipfile(path):
        raise UsageError(
            f"MODEL {path} is not a .keras archive (the zip file model.save() writes); "
            "save the model again with model.save('model.keras')."
        )
    import_tensorflow(verbose)
    import keras

    try:
        with warnings.catch_warnings():
            # An unfitted model's optimizer has no saved state to restore; nothing is lost.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        reason = quoted(error, 200)
        raise UsageError(
            f"MODEL {path} could not be loaded by Keras {keras.__version__} ({reason}); if it "
            "uses custom layers, import the module that defines them in Python and use "
            "keras_act's Python API there instead."
        ) from None
    if not isinstance(model, keras.Model):
        raise UsageError(f"MODEL {path} holds a {type(model).__name__}, not a keras.Model.")
    return model


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to the null device: TensorFlow's C++ start-up lines (absl's
    "All log messages before absl::InitializeLog()", oneDNN and CUDA probing) are written there
    directly, before `TF_CPP_MIN_LOG_LEVEL` takes effect, so no Python setting reaches them."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow and Keras (and register keras_act's layers), quietly unless `verbose`.

    Prints one "loading" line to stderr first, so a command never sits silent for the import's
    seconds; once TensorFlow is imported it only makes sure the layers are registered.

    Examples:
        >>> import_tensorflow()  # doctest: +SKIP
    """
    if "tensorflow" not in sys.modules:
        print(f"{PROG}: loading TensorFlow...", file=sys.stderr, flush=True)
        if verbose:
            import tensorflow  # noqa: F401
        else:
            _quiet_tensorflow_import()
    import keras_act.layers  # noqa: F401  (registers the layers with Keras' deserializer)


def _quiet_tensorflow_import() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA's probe logs here, on a machine without a GPU
    import absl.logging

    tf.get_logger().setLevel("ERROR")
    absl.logging.set_verbosity(absl.logging.ERROR)
