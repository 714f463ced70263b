"""A fitted random forest as plain arrays: fitted with scikit-learn, evaluated with numpy.

The atlas's ranking model (`advisor.atlas`) is a multi-output regression forest. scikit-learn
fits it (`fit_forest`, where scikit-learn is installed: the atlas's script and its
cross-validation); the advisor only evaluates it, from a small `.npz` file (`Forest.save`,
`Forest.load`), so scikit-learn stays out of the core dependencies. `Forest.predict` walks
the trees exactly as scikit-learn does (features compared as float32, ``<=`` goes left), and
a test checks it against scikit-learn's own prediction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class Forest:
    """The trees of a regression forest, concatenated into node arrays.

    Attributes:
        inputs: the feature names, in column order.
        outputs: the output names, in column order of `predict`'s result.
        roots: each tree's root node.
        left, right: each node's children (-1 at a leaf).
        feature, threshold: each split's column and threshold (a row goes left when its value,
            as float32, is <= the threshold).
        value: each node's mean output, one column per output.
        fingerprint: a hash of the training data and settings the forest was fitted on.

    Examples:
        >>> forest = Forest(("x",), ("y",), np.array([0]), np.array([1, -1, -1]), np.array([2, -1, -1]),
        ...                 np.array([0, 0, 0]), np.array([0.5, 0.0, 0.0]),
        ...                 np.array([[0.5], [0.0], [1.0]]), "")
        >>> forest.predict([[0.2], [0.9]]).ravel().tolist()
        [0.0, 1.0]
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    fingerprint: str

    def predict(self, rows: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """The forest's mean prediction for each row: an array (rows, outputs).

        Raises ValueError when the rows do not have one column per input.
        """
        x = np.asarray(rows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.inputs):
            raise ValueError(
                f"Forest.predict: expected rows of {len(self.inputs)} features "
                f"({', '.join(self.inputs)}), received shape {x.shape}."
            )
        node = np.tile(self.roots, (len(x), 1))
        row = np.arange(len(x))[:, None]
        inner = self.left[node] >= 0
        while inner.any():
            goes_left = x[row, self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(goes_left, self.left[node], self.right[node]), node)
            inner = self.left[node] >= 0
        return self.value[node].mean(axis=1)

    def save(self, path: str | Path) -> None:
        """Write the forest to `path` (a compressed `.npz`)."""
        np.savez_compressed(
            path,
            inputs=np.array(self.inputs),
            outputs=np.array(self.outputs),
            roots=self.roots,
            left=self.left,
            right=self.right,
            feature=self.feature,
            threshold=self.threshold,
            value=self.value,
            fingerprint=np.array(self.fingerprint),
        )

    @classmethod
    def load(cls, path: str | Path) -> Forest:
        """Read a forest `save` wrote."""
        with np.load(path) as arrays:
            return cls(
                tuple(arrays["inputs"].tolist()),
                tuple(arrays["outputs"].tolist()),
                arrays["roots"],
                arrays["left"],
                arrays["right"],
                arrays["feature"],
                arrays["threshold"],
                arrays["value"],
                str(arrays["fingerprint"]),
            )


def fingerprint(x: np.ndarray, y: np.ndarray, settings: str) -> str:
    """A short hash of training data and settings: the same inputs give the same forest.

    Examples:
        >>> fingerprint(np.zeros((2, 1)), np.ones((2, 1)), "a") == fingerprint(np.zeros((2, 1)), np.ones((2, 1)), "a")
        True
    """
    digest = hashlib.sha256(settings.encode())
    for array in (x, y):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def fit_forest(
    x: np.ndarray,
    y: np.ndarray,
    inputs: Sequence[str],
    outputs: Sequence[str],
    trees: int,
    min_samples_leaf: int,
    seed: int = 0,
) -> Forest:
    """Fit scikit-learn's `RandomForestRegressor` (multi-output) and keep its trees as arrays.

    Raises ImportError naming the extra to install when scikit-learn is missing, and
    ValueError when `x` and `y` do not match `inputs` and `outputs`.

    Examples:
        >>> x = np.array([[0.0], [1.0], [2.0], [3.0]] * 5)
        >>> y = (x > 1.5).astype(float)
        >>> forest = fit_forest(x, y, ["x"], ["above"], trees=10, min_samples_leaf=2)
        >>> forest.predict([[0.0], [3.0]]).round(1).ravel().tolist()
        [0.0, 1.0]
    """
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise ImportError("fitting the atlas's ranking model needs scikit-learn: pip install scikit-learn") from None
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(inputs) or y.shape != (len(x), len(outputs)):
        raise ValueError(
            f"fit_forest: expected x of shape (n, {len(inputs)}) and y of shape (n, {len(outputs)}); "
            f"received {x.shape} and {y.shape}."
        )
    # One output is fitted as a vector (scikit-learn warns on a column); its trees are the same.
    model = RandomForestRegressor(trees, min_samples_leaf=min_samples_leaf, random_state=seed).fit(
        x, y if y.shape[1] > 1 else y[:, 0]
    )
    parts: dict[str, list[np.ndarray]] = {
        name: [] for name in ("roots", "left", "right", "feature", "threshold", "value")
    }
    offset = 0
    for estimator in model.estimators_:
        tree = estimator.tree_
        parts["roots"].append(np.array([offset]))
        for name, children in (("left", tree.children_left), ("right", tree.children_right)):
            parts[name].append(np.where(children >= 0, children + offset, -1))
        parts["feature"].append(np.maximum(tree.feature, 0))
        parts["threshold"].append(tree.threshold)
        parts["value"].append(tree.value.reshape(tree.node_count, len(outputs)))
        offset += tree.node_count
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    settings = f"RandomForestRegressor({trees}, min_samples_leaf={min_samples_leaf}, random_state={seed})"
    return Forest(
        tuple(inputs),
        tuple(outputs),
        arrays["roots"],
        arrays["left"].astype(np.int32),
        arrays["right"].astype(np.int32),
        arrays["feature"].astype(np.int16),
        arrays["threshold"],
        arrays["value"],
        fingerprint(x, y, settings + repr((tuple(inputs), tuple(outputs)))),
    )
