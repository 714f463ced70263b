"""The `keras-act` command line: `demo`, `plot`, `list` and `advise`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-act", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="train PReLU and Swish on real data, write the gallery, advise a flawed model")
    demo.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    demo.add_argument("--advisor-epochs", type=int, default=20,
                      help="epochs for the flawed model and its fix (default 20)")
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
    return parser


def _advise(args: argparse.Namespace) -> int:
    """Run `keras-act advise`: 0 no error findings, 1 error findings, 2 bad usage."""
    import json
    import warnings

    import numpy as np

    def usage_error(message: str) -> int:
        print(f"keras-act advise: {message}", file=sys.stderr)
        return 2

    if not os.path.isfile(args.model):
        return usage_error(f"no such model file: {args.model}")
    data: dict[str, object] = {}
    if args.data is not None:
        if not os.path.isfile(args.data):
            return usage_error(f"no such data file: {args.data}")
        try:
            with np.load(args.data, allow_pickle=False) as archive:
                data = {key: archive[key] for key in ("x", "y") if key in archive.files}
        except (OSError, ValueError) as error:
            return usage_error(f"--data must be an .npz file with arrays 'x' and/or 'y': {error}")
        if not data:
            return usage_error(f"--data {args.data} holds neither an array 'x' nor 'y'.")

    import keras

    import advisor

    try:
        with warnings.catch_warnings():
            # An unfitted model's optimizer has no saved state to restore; nothing is lost.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = keras.models.load_model(args.model)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        return usage_error(f"{args.model} is not a Keras model file this Keras can load "
                           f"({type(error).__name__}: {str(error)[:200]})")
    if not isinstance(model, keras.Model):
        return usage_error(f"{args.model} holds a {type(model).__name__}, not a keras.Model")
    try:
        advice = advisor.advise(model, task=args.task, x=data.get("x"), y=data.get("y"))
    except (TypeError, ValueError) as error:
        return usage_error(str(error))
    print(json.dumps(advice.to_dict(), indent=2) if args.json else advice)
    return 1 if advice.errors else 0


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
    elif args.command == "advise":
        return _advise(args)
    elif args.command == "demo":
        if args.epochs < 1 or args.advisor_epochs < 1:
            print("keras-act demo: --epochs and --advisor-epochs must be >= 1", file=sys.stderr)
            return 2
        from advisor.demo import run_advisor_demo
        from keras_act.demo import run_demo

        try:
            run_demo(epochs=args.epochs, output_dir=args.output_dir, seed=args.seed)
            run_advisor_demo(epochs=args.advisor_epochs, seed=args.seed)
        except ImportError as error:
            print(f"keras-act demo: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
