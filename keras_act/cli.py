"""The `keras-act` command line: `demo`, `plot`, `list`, `advise` and `confirm`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-act", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="train PReLU and Swish on real data, write the gallery, advise a flawed model")
    demo.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    demo.add_argument("--advisor-epochs", type=int, default=20,
                      help="epochs for the flawed model and its fix (default 20)")
    demo.add_argument("--confirm-epochs", type=int, default=8,
                      help="most epochs per confirm() training (default 8)")
    demo.add_argument("--output-dir", default=".", help="where the gallery PNG goes (default .)")
    demo.add_argument("--seed", type=int, default=0)

    plot = commands.add_parser("plot", help="draw activation curves into a PNG")
    plot.add_argument("ids", nargs="*", help="activation ids (default: all; see `keras-act list`)")
    plot.add_argument("--derivative", action="store_true", help="also draw f'(x), by autodiff")
    plot.add_argument("-o", "--output", default="keras_act_gallery.png", help="PNG file to write")
    plot.add_argument("--x-range", type=float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"))

    commands.add_parser("list", help="print the activation ids")

    advise = commands.add_parser(
        "advise", help="recommend activations for a saved model; exit 1 when it has errors",
        description="Print the advisor's report for a saved model. Exit status: 0 no error "
                    "findings, 1 error findings, 2 bad usage.")
    advise.add_argument("model", help="a saved model (.keras)")
    advise.add_argument("--task", choices=("binary", "multiclass", "multilabel", "regression"),
                        help="the task, when the model's loss and output do not say")
    advise.add_argument("--data", metavar="FILE.npz",
                        help="sample data: an .npz with array 'x' and/or labels 'y'")
    advise.add_argument("--json", action="store_true", help="print the advice as JSON")

    confirm = commands.add_parser(
        "confirm", help="test the advice with a keras-tuner search; exit 1 when it does not hold",
        description="Search the advice's candidates on your data. Exit status: 0 the advice is "
                    "confirmed, 1 it is not, 2 bad usage.")
    confirm.add_argument("model", help="a saved model (.keras)")
    confirm.add_argument("--data", required=True, metavar="FILE.npz",
                         help="arrays 'x' and 'y', optionally 'x_val' and 'y_val'")
    confirm.add_argument("--task", choices=("binary", "multiclass", "multilabel", "regression"))
    confirm.add_argument("--tuner", choices=("grid", "random", "bayesian", "hyperband"), default="grid")
    confirm.add_argument("--epochs", type=int, default=20)
    confirm.add_argument("--executions", type=int,
                         help="trainings per configuration (default: 10 where they train together as "
                              "independent copies, else 3)")
    confirm.add_argument("--directory", help="keep the search here (rerun to resume); default: a "
                         "temporary directory, removed at the end")
    confirm.add_argument("--overwrite", action="store_true",
                         help="replace the search kept in --directory instead of resuming it")
    confirm.add_argument("--json", action="store_true",
                         help="write only the result, as JSON, to stdout (progress goes to stderr)")
    return parser


class UsageError(Exception):
    """Bad usage: the command prints the message and exits with status 2."""


def _load_data(path: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The arrays `keys` found in an .npz file (UsageError when none is there)."""
    import numpy as np

    if not os.path.isfile(path):
        raise UsageError(f"no such data file: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key] for key in keys if key in archive.files}
    except (OSError, ValueError) as error:
        raise UsageError(f"--data must be an .npz file with arrays {', '.join(keys)}: {error}") from None
    if not data:
        raise UsageError(f"--data {path} holds none of the arrays {', '.join(keys)}.")
    return data


def _load_model(path: str) -> Any:
    """A saved keras.Model (UsageError when the file is missing or not a model)."""
    import warnings

    if not os.path.isfile(path):
        raise UsageError(f"no such model file: {path}")
    import keras

    try:
        with warnings.catch_warnings():
            # An unfitted model's optimizer has no saved state to restore; nothing is lost.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        raise UsageError(f"{path} is not a Keras model file this Keras can load "
                         f"({type(error).__name__}: {str(error)[:200]})") from None
    if not isinstance(model, keras.Model):
        raise UsageError(f"{path} holds a {type(model).__name__}, not a keras.Model")
    return model


def _advise(args: argparse.Namespace) -> int:
    """Run `keras-act advise`: 0 no error findings, 1 error findings, 2 bad usage."""
    import json

    import advisor

    data = _load_data(args.data, ("x", "y")) if args.data is not None else {}
    model = _load_model(args.model)
    try:
        advice = advisor.advise(model, task=args.task, x=data.get("x"), y=data.get("y"))
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(json.dumps(advice.to_dict(), indent=2) if args.json else advice)
    return 1 if advice.errors else 0


# confirm()'s arguments as its messages name them, and the flags that set them here.
CONFIRM_FLAGS = {"`overwrite=True`": "--overwrite", "`directory`": "--directory",
                 "`executions_per_trial`": "--executions", "`epochs`": "--epochs", "`tuner`": "--tuner",
                 "`x`": "the data's 'x'", "`y`": "the data's 'y'", "`validation_data`": "'x_val'/'y_val'"}


def in_cli_terms(message: str) -> str:
    """A confirm() message with its Python argument names replaced by this command's flags.

    Example:
        >>> in_cli_terms("pass another `directory`, or `overwrite=True` to replace it.")
        'pass another --directory, or --overwrite to replace it.'
    """
    for python, flag in CONFIRM_FLAGS.items():
        message = message.replace(python, flag)
    return message


def _confirm(args: argparse.Namespace) -> int:
    """Run `keras-act confirm`: 0 the advice is confirmed, 1 it is not, 2 bad usage."""
    import contextlib
    import json

    import advisor

    data = _load_data(args.data, ("x", "y", "x_val", "y_val"))
    if "x" not in data or "y" not in data:
        raise UsageError(f"--data {args.data} must hold arrays 'x' and 'y' (and optionally 'x_val', 'y_val').")
    model = _load_model(args.model)
    validation = (data["x_val"], data["y_val"]) if "x_val" in data and "y_val" in data else None
    # With --json, stdout carries the JSON document alone: everything else goes to stderr.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        try:
            advice = advisor.advise(model, task=args.task, y=data["y"])
            result = advisor.confirm(model, data["x"], data["y"], advice=advice, tuner=args.tuner,
                                     epochs=args.epochs, executions_per_trial=args.executions,
                                     validation_data=validation, directory=args.directory,
                                     overwrite=args.overwrite, verbose=1)
        except (TypeError, ValueError) as error:
            raise UsageError(in_cli_terms(str(error))) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    return 0 if result.confirmed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keras-act` console script.

    Example:
        >>> main(["list"])  # doctest: +ELLIPSIS
        sigmoid
        ...
        0
    """
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

    if args.command == "list":
        from keras_act import names

        print("\n".join(names()))
    elif args.command == "plot":
        from keras_act.gallery import plot_gallery

        try:
            path = plot_gallery(args.ids, args.output, args.derivative, tuple(args.x_range))
        except (ValueError, ImportError) as error:
            print(f"keras-act plot: {error}", file=sys.stderr)
            return 2
        print(f"Wrote {path}")
    elif args.command in ("advise", "confirm"):
        try:
            return _advise(args) if args.command == "advise" else _confirm(args)
        except UsageError as error:
            print(f"keras-act {args.command}: {error}", file=sys.stderr)
            return 2
    elif args.command == "demo":
        if min(args.epochs, args.advisor_epochs, args.confirm_epochs) < 1:
            print("keras-act demo: --epochs, --advisor-epochs and --confirm-epochs must be >= 1",
                  file=sys.stderr)
            return 2
        from advisor.demo import run_advisor_demo
        from keras_act.demo import run_demo

        try:
            run_demo(epochs=args.epochs, output_dir=args.output_dir, seed=args.seed)
            run_advisor_demo(epochs=args.advisor_epochs, seed=args.seed, confirm_epochs=args.confirm_epochs)
        except ImportError as error:
            print(f"keras-act demo: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
