"""The `keras-act` command: the layer commands (`list`, `plot`) and the advisor's (`advise`,
`confirm`, `atlas`, `demo`).

Each bad input ends in one line on stderr, ``keras-act COMMAND: what was wrong and what to do``,
and exit status 2. TensorFlow is imported only by the commands that need it (`--help` and `list`
answer without it), quietly unless `--verbose`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import zipfile
from collections.abc import Sequence
from typing import Any

from keras_act import __version__
from keras_act._messages import quoted
from keras_act.commands import (
    PROG,
    UsageError,
    add_layer_commands,
    check_path,
    common_flags,
    import_tensorflow,
    load_model,
    numbers_as_values,
    run_layer_command,
)
from keras_act.paths import writable_folder

TASKS = ("binary", "multiclass", "multilabel", "regression")
ATLAS_TASKS = ("binary", "multiclass", "regression")
# advisor.recommend.FAMILIES, spelt here so that `--help` answers without importing Keras.
FAMILIES = ("plain-dense", "plain-cnn", "normalized-residual", "attention", "recurrent")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Activation layers for Keras 3, and an advisor that recommends them for a "
        "model and checks the advice with a keras-tuner search.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_flags()

    demo = commands.add_parser(
        "demo", parents=[common], help="train PReLU and Swish on real data, write the gallery, advise a flawed model"
    )
    demo.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    demo.add_argument(
        "--advisor-epochs", type=int, default=20, help="epochs for the flawed model and its fix (default 20)"
    )
    demo.add_argument("--confirm-epochs", type=int, default=8, help="most epochs per confirm() training (default 8)")
    demo.add_argument("--output-dir", default=".", help="where the gallery PNG goes (default .)")
    demo.add_argument("--seed", type=int, default=0)

    add_layer_commands(commands, common)

    advise = commands.add_parser(
        "advise",
        parents=[common],
        help="recommend activations for a saved model; exit 1 when it has errors",
        description="Print the advisor's report for a saved model. Exit status: 0 no error "
        "findings, 1 error findings, 2 bad usage.",
    )
    advise.add_argument("model", help="a saved model (.keras)")
    advise.add_argument("--task", choices=TASKS, help="the task, when the model's loss and output do not say")
    advise.add_argument("--data", metavar="FILE.npz", help="sample data: an .npz with array 'x' and/or labels 'y'")
    advise.add_argument("--json", action="store_true", help="print the advice as JSON")

    confirm = commands.add_parser(
        "confirm",
        parents=[common],
        help="test the advice with a keras-tuner search; exit 1 when it does not hold",
        description="Search the advice's candidates on your data. Exit status: 0 the advice is "
        "confirmed, 1 it is not, 2 bad usage.",
    )
    confirm.add_argument("model", help="a saved model (.keras)")
    confirm.add_argument(
        "--data", required=True, metavar="FILE.npz", help="arrays 'x' and 'y', optionally 'x_val' and 'y_val'"
    )
    confirm.add_argument("--task", choices=TASKS)
    confirm.add_argument("--tuner", choices=("grid", "random", "bayesian", "hyperband"), default="grid")
    confirm.add_argument("--epochs", type=int, default=20)
    confirm.add_argument(
        "--executions",
        type=int,
        help="trainings per configuration (default: 10 where they train together, else 3)",
    )
    confirm.add_argument(
        "--budget",
        metavar="N|TIME",
        help="stop the race after N executions in all, or after TIME of wall time "
        "('90s', '15m', '2h'); the result says what was decided",
    )
    confirm.add_argument(
        "--race",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="race the configurations: stop each once the verdict no longer depends on it "
        "(default with --tuner grid; --no-race trains every execution)",
    )
    confirm.add_argument(
        "--directory", help="keep the search here (rerun to resume); default: a temporary directory, removed at the end"
    )
    confirm.add_argument(
        "--overwrite", action="store_true", help="replace the search kept in --directory instead of resuming it"
    )
    confirm.add_argument(
        "--json", action="store_true", help="write only the result, as JSON, to stdout (progress goes to stderr)"
    )

    atlas = commands.add_parser(
        "atlas",
        parents=[common],
        help="show the measured evidence behind the hidden activation advice",
        description="Print how often each hidden activation + initializer was within noise of the best on "
        "the activation atlas's tasks of one kind (benchmarks/atlas.py), and what the advisor "
        "picks there.",
    )
    atlas.add_argument(
        "--family", choices=FAMILIES, default="plain-dense", help="architecture family (default plain-dense)"
    )
    atlas.add_argument("--depth", type=int, default=2, help="hidden weight layers (default 2)")
    atlas.add_argument("--task", choices=ATLAS_TASKS, help="the task (default: any)")
    atlas.add_argument(
        "--features",
        type=int,
        metavar="N",
        help="numbers per example at the model's input: with the task (and, for regression, the "
        "targets' mean and std) the ranking model estimates each configuration's chance",
    )
    atlas.add_argument("--target-mean", type=float, metavar="M", help="regression: the targets' mean")
    atlas.add_argument("--target-std", type=float, metavar="S", help="regression: the targets' standard deviation")
    atlas.add_argument(
        "--yours",
        default="relu + glorot_uniform",
        metavar="'ACTIVATION + INITIALIZER'",
        help="your model's hidden configuration (default Keras' defaults, 'relu + glorot_uniform')",
    )
    atlas.add_argument("--markdown", action="store_true", help="print every kind of task's table as Markdown")
    atlas.add_argument(
        "--cross-validate",
        action="store_true",
        help="judge the advice by leave-tasks-out cross-validation over the atlas",
    )
    return parser


def load_data(path: str, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The arrays `keys` found in the .npz file `path` (UsageError when it is not one, or when it
    holds none of `keys`, or misses one of `required`).

    Examples:
        >>> load_data("notes.txt", ("x", "y"))
        Traceback (most recent call last):
        ...
        keras_act.commands.UsageError: --data notes.txt: no such file.
    """
    import numpy as np

    named = [f"'{key}'" for key in (required or keys)]
    wanted = " and ".join(named) if required else " and/or ".join(named)
    how = f"write one with numpy.savez('data.npz', {', '.join(f'{k}=...' for k in (required or keys))})"
    if os.path.isdir(path):
        raise UsageError(f"--data {path} is a folder, not an .npz file (arrays {wanted}); {how}.")
    if not os.path.isfile(path):
        raise UsageError(f"--data {path}: no such file.")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"--data {path} is not an .npz archive (arrays {wanted}); {how}.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = list(archive.files)
            data = {key: archive[key] for key in keys if key in found}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise UsageError(f"--data {path} could not be read as an .npz archive ({quoted(error, 120)}); {how}.") from None
    missing = [key for key in required if key not in data]
    if not data or missing:
        held = ", ".join(f"'{name}'" for name in found) or "no arrays"
        raise UsageError(f"--data {path} holds {held}, not {wanted}; {how}.")
    return data


# confirm()'s arguments as its messages name them, and the flags that set them here.
CONFIRM_FLAGS = {
    "`overwrite=True`": "--overwrite",
    "`directory`": "--directory",
    "`executions_per_trial`": "--executions",
    "`epochs`": "--epochs",
    "`tuner`": "--tuner",
    "`task`": "--task",
    "`x`": "the data's 'x'",
    "`y`": "the data's 'y'",
    "`validation_data`": "'x_val'/'y_val'",
    "`budget`": "--budget",
    "race=True, or a --budget": "--race or --budget",
    "race=False": "--no-race",
    "(tuner='grid')": "(--tuner grid)",
    "received tuner=": "received --tuner ",
}


def in_cli_terms(message: str) -> str:
    """A message of `advise()`/`confirm()` as this command's user reads it: the function's own
    "name: " prefix dropped (the command line names the command), arguments spelt as flags.

    Examples:
        >>> in_cli_terms("confirm: pass another `directory`, or `overwrite=True` to replace it.")
        'pass another --directory, or --overwrite to replace it.'
    """
    message = re.sub(r"^(advise|confirm|apply|leave_tasks_out): ", "", message.strip())
    for python, flag in CONFIRM_FLAGS.items():
        message = message.replace(python, flag)
    return message


def _advise(args: argparse.Namespace) -> int:
    """Run `keras-act advise`: 0 no error findings, 1 error findings."""
    import json

    data = load_data(args.data, ("x", "y")) if args.data is not None else {}
    model = load_model(args.model, args.verbose)
    from .advise import advise

    try:
        advice = advise(model, task=args.task, x=data.get("x"), y=data.get("y"))
    except (TypeError, ValueError) as error:
        raise UsageError(in_cli_terms(str(error))) from None
    print(json.dumps(advice.to_dict(), indent=2) if args.json else advice)
    return 1 if advice.errors else 0


def _confirm(args: argparse.Namespace) -> int:
    """Run `keras-act confirm`: 0 the advice is confirmed, 1 it is not."""
    import contextlib
    import json

    if args.overwrite and args.directory is None:
        raise UsageError("--overwrite replaces the search kept in --directory; pass --directory DIR with it.")
    if args.directory is not None:
        check_path(writable_folder, args.directory, "--directory")
    data = load_data(args.data, ("x", "y", "x_val", "y_val"), required=("x", "y"))
    validation_keys = [key for key in ("x_val", "y_val") if key in data]
    if len(validation_keys) == 1:
        given, missing = validation_keys[0], ({"x_val", "y_val"} - set(validation_keys)).pop()
        raise UsageError(
            f"--data {args.data} holds '{given}' without '{missing}': validation data needs both "
            f"(or neither, and 20% of 'x' is held out)."
        )
    model = load_model(args.model, args.verbose)
    from .advise import advise
    from .confirm import confirm

    validation = (data["x_val"], data["y_val"]) if validation_keys else None
    # With --json, stdout carries the JSON document alone: everything else goes to stderr.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        try:
            advice = advise(model, task=args.task, y=data["y"])
            result = confirm(
                model,
                data["x"],
                data["y"],
                advice=advice,
                tuner=args.tuner,
                epochs=args.epochs,
                executions_per_trial=args.executions,
                validation_data=validation,
                directory=args.directory,
                overwrite=args.overwrite,
                verbose=1,
                race=args.race,
                budget=args.budget,
            )
        except (TypeError, ValueError) as error:
            raise UsageError(in_cli_terms(str(error))) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    return 0 if result.confirmed else 1


def _demo(args: argparse.Namespace) -> int:
    """Run `keras-act demo`: the layers' demo, then the advisor's."""
    if min(args.epochs, args.advisor_epochs, args.confirm_epochs) < 1:
        raise UsageError("--epochs, --advisor-epochs and --confirm-epochs must be >= 1.")
    check_path(writable_folder, args.output_dir, "--output-dir", must_exist=True)
    try:
        import matplotlib  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as error:
        raise UsageError(f'the demo needs {error.name}: pip install "keras-act[demo]"') from None
    import_tensorflow(args.verbose)
    from keras_act.layer_demo import run_demo

    from .advice_demo import run_advisor_demo

    run_demo(epochs=args.epochs, output_dir=args.output_dir, seed=args.seed)
    run_advisor_demo(epochs=args.advisor_epochs, seed=args.seed, confirm_epochs=args.confirm_epochs)
    return 0


def _atlas(args: argparse.Namespace) -> int:
    """Run `keras-act atlas`: the evidence for one kind of task, every table, or the cross-validation."""
    if args.depth < 1:
        raise UsageError(f"--depth must be >= 1, received {args.depth}.")
    targets = {"--target-mean": args.target_mean, "--target-std": args.target_std}
    given = [flag for flag, value in targets.items() if value is not None]
    if given and args.task != "regression":
        raise UsageError(f"{given[0]} describes regression targets; pass --task regression with it.")
    if len(given) == 1:
        missing = next(flag for flag in targets if flag not in given)
        raise UsageError(f"{given[0]} needs {missing} too: the targets' scale is read from both.")
    if args.target_std is not None and not args.target_std >= 0:
        raise UsageError(f"--target-std must be >= 0, received {args.target_std}.")
    if args.features is not None and args.features < 1:
        raise UsageError(f"--features must be >= 1, received {args.features}.")
    if " + " not in args.yours:
        raise UsageError(
            f"--yours takes 'ACTIVATION + INITIALIZER', e.g. 'relu + glorot_uniform'; received {args.yours!r}."
        )
    import_tensorflow(args.verbose)
    from . import atlas

    if args.markdown:
        print(atlas.markdown())
        return 0
    if args.cross_validate:
        try:
            cv = atlas.leave_tasks_out(own=args.yours)
        except (ValueError, ImportError) as error:
            raise UsageError(in_cli_terms(str(error))) from None
        print(
            f"Leave-tasks-out over {cv.tasks} atlas results, a task on one model each (a user starting from "
            f"{args.yours}):"
        )
        print(
            f"  the advice within noise of the best: {cv.static:.0%} (the cells' pick alone: {cv.cells:.0%}); "
            f"confirm()'s candidates hold one within noise: {cv.covered:.0%} ({cv.candidates:.1f} candidates "
            "on average)"
        )
        for configuration, rate in cv.fixed.items():
            print(f"  always {configuration:<28}{rate:>6.0%}")
        print("Per kind of task (tasks: the advice, Keras' defaults, one of the candidates within noise):")
        for cell, (tasks, advice, defaults, covered) in cv.by_cell.items():
            print(f"  {cell}: {tasks}: {advice:.0%}, {defaults:.0%}, {covered:.0%}")
        return 0
    profile = atlas.TaskProfile(args.family, args.depth, args.task, args.features, args.target_mean, args.target_std)
    print(atlas.report(profile, own=args.yours))
    return 0


COMMANDS = {"advise": _advise, "confirm": _confirm, "atlas": _atlas, "demo": _demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keras-act` console script; returns the exit status.

    Examples:
        >>> main(["list"])  # doctest: +ELLIPSIS
        sigmoid
        ...
        0
    """
    args = _parser().parse_args(numbers_as_values(sys.argv[1:] if argv is None else argv))
    try:
        return COMMANDS[args.command](args) if args.command in COMMANDS else run_layer_command(args)
    except UsageError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
