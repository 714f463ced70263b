"""scikit-learn's bundled real datasets (no download), split and scaled for the demo and examples.

Needs the `data` extra: ``pip install "keras-act[data]"``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# name -> (scikit-learn loader, is it a classification task)
DATASETS = {
    "breast_cancer": ("load_breast_cancer", True),
    "digits": ("load_digits", True),
    "iris": ("load_iris", True),
    "wine": ("load_wine", True),
    "diabetes": ("load_diabetes", False),
}
SCALINGS = ("standardize", "minmax")


class Split(NamedTuple):
    """Train and validation arrays; features float32, labels float32 (regression) or int."""

    x_train: np.ndarray
    x_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray


def load(name: str, seed: int = 0, scaling: str = "standardize", val_fraction: float = 0.25) -> Split:
    """Load a bundled dataset, split it (stratified for classification) and scale the features.

    The scaling is fitted on the training part only: ``"standardize"`` (zero mean, unit
    variance) or ``"minmax"`` (to [0, 1]).

    Examples:
        >>> split = load("iris", scaling="minmax")
        >>> split.x_train.shape, float(split.x_train.min()), float(split.x_train.max())
        ((112, 4), 0.0, 1.0)
    """
    if name not in DATASETS:
        raise ValueError(f"load: `name` must be one of {', '.join(DATASETS)}, received {name!r}.")
    if scaling not in SCALINGS:
        raise ValueError(f"load: `scaling` must be one of {', '.join(SCALINGS)}, received {scaling!r}.")
    try:
        import sklearn.datasets
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError('This needs scikit-learn: pip install "keras-act[data]"') from None
    loader, classification = DATASETS[name]
    x, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, random_state=seed, stratify=y if classification else None
    )
    if scaling == "standardize":
        shift, scale = x_train.mean(axis=0), x_train.std(axis=0)
    else:
        shift, scale = x_train.min(axis=0), x_train.max(axis=0) - x_train.min(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # constant features (digits' blank corners) stay 0
    features = lambda a: ((a - shift) / scale).astype("float32")  # noqa: E731
    labels = (lambda a: a.astype("int64")) if classification else (lambda a: a.astype("float32"))
    return Split(features(x_train), features(x_val), labels(y_train), labels(y_val))
