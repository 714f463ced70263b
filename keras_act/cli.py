"""The layer commands of `keras-act` (`list`, `plot`) and what every command shares.

The `keras-act` console script is `keras_act.advisor.cli:main`: the advisor adds its commands
(`advise`, `confirm`, `demo`) to the ones defined here, so this package never imports the one
built on it. Commands import TensorFlow only when they need it, with its native start-up
logging (absl, CUDA probing) silenced unless `--verbose`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Iterator

from keras_act._ids import LAYER_CLASS_NAMES

PROG = "keras-act"


class UsageError(Exception):
    """Bad usage: the command prints the message as one line and exits with status 2."""


def add_layer_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `plot` and `list` to the `keras-act` subcommands (`common` holds the shared flags).

    Example:
        >>> parser = argparse.ArgumentParser(prog=PROG)
        >>> add_layer_commands(parser.add_subparsers(dest="command"), common_flags())
        >>> parser.parse_args(["plot", "relu", "-o", "relu.png"]).output
        'relu.png'
    """
    plot = commands.add_parser("plot", parents=[common], help="draw activation curves into a PNG")
    plot.add_argument("ids", nargs="*", help="activation ids (default: all; see `keras-act list`)")
    plot.add_argument("--derivative", action="store_true", help="also draw f'(x), by autodiff")
    plot.add_argument("-o", "--output", default="keras_act_gallery.png", help="PNG file to write")
    plot.add_argument("--x-range", type=float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"))
    commands.add_parser("list", parents=[common], help="print the activation ids")


def common_flags() -> argparse.ArgumentParser:
    """The flags every subcommand takes (a parent parser).

    Example:
        >>> common_flags().parse_args(["--verbose"]).verbose
        True
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's own start-up and runtime logging")
    return common


def run_layer_command(args: argparse.Namespace) -> int:
    """Run `list` or `plot`; raises UsageError on bad input.

    Example:
        >>> run_layer_command(argparse.Namespace(command="list", verbose=False))  # doctest: +ELLIPSIS
        sigmoid
        ...
        0
    """
    if args.command == "list":
        print("\n".join(LAYER_CLASS_NAMES))
        return 0
    unknown = [i for i in args.ids if i not in LAYER_CLASS_NAMES]
    if unknown:
        raise UsageError(f"unknown activation ids {', '.join(unknown)}; valid ids are: "
                         f"{', '.join(LAYER_CLASS_NAMES)}.")
    from keras_act.plotting import output_path

    try:
        output_path(args.output, "-o")
    except ValueError as error:
        raise UsageError(str(error).replace("`-o`", "-o")) from None
    import_tensorflow(args.verbose)
    from keras_act.gallery import plot_gallery

    try:
        path = plot_gallery(args.ids, args.output, args.derivative, tuple(args.x_range))
    except (ValueError, ImportError) as error:
        raise UsageError(str(error)) from None
    print(f"Wrote {path}")
    return 0


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

    Example:
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
