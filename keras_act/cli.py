"""The `keras-act` command line: `demo`, `plot` and `list`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-act", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train PReLU and Swish on real data; write the gallery")
    demo.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    demo.add_argument("--output-dir", default=".", help="where the gallery PNG goes (default .)")
    demo.add_argument("--seed", type=int, default=0)

    plot = commands.add_parser("plot", help="draw activation curves into a PNG")
    plot.add_argument("ids", nargs="*", help="activation ids (default: all; see `keras-act list`)")
    plot.add_argument("--derivative", action="store_true", help="also draw f'(x), by autodiff")
    plot.add_argument("-o", "--output", default="keras_act_gallery.png", help="PNG file to write")
    plot.add_argument("--x-range", type=float, nargs=2, default=(-5.0, 5.0), metavar=("LOW", "HIGH"))

    commands.add_parser("list", help="print the activation ids")
    return parser


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
    elif args.command == "demo":
        if args.epochs < 1:
            print("keras-act demo: --epochs must be >= 1", file=sys.stderr)
            return 2
        from keras_act.demo import run_demo

        try:
            run_demo(epochs=args.epochs, output_dir=args.output_dir, seed=args.seed)
        except ImportError as error:
            print(f"keras-act demo: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
