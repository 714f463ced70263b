"""Which known activation a learned one became: `nearest(layer)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_act._fit import FIT_RANGE, TARGETS, fit_scale
from keras_act.layers import ActivationLayer
from keras_act.layers._parametric import ParametricActivation

# The activations `nearest` chooses among: the fixed ones, at their defaults. The learnable
# layers' starts (PReLU's 0.25 slope, ACON's and Snake's) are left out: they name no fixed curve.
NEAREST_CANDIDATES = (
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "swish",
    "mish",
    "softplus",
    "sigmoid",
    "tanh",
    "linear",
)
# leaky_relu is compared at the negative slope that fits best (a PReLU is a leaky ReLU whatever
# its slope), within these bounds: below the lower one the curve is ReLU's or leaky_relu's
# default (0.01), at 1 it is the identity.
LEAKY_SLOPE_RANGE = (0.01, 1.0)
# Where the curves are compared by default: the fit range, where pre-activations mostly lie.
NEAREST_GRID = np.linspace(FIT_RANGE[0], FIT_RANGE[1], 601)


@dataclass(frozen=True)
class Nearest:
    """The known activation closest to a learned curve, as `nearest` finds it.

    Attributes:
        activation_id: the closest keras_act activation (one of `NEAREST_CANDIDATES`).
        scale: the least-squares factor ``s`` in ``curve ~ s * activation``.
        error: the RMS of ``curve - s * activation`` on the compared points.
        channel: the channel compared, or None for the mean curve over the channels.
        ranking: every candidate as ``(activation_id, scale, error)``, closest first.
        negative_slope: leaky_relu's fitted negative slope, when it is the closest; else None.

    Examples:
        >>> result = Nearest("relu", 1.0, 0.005, None, (("relu", 1.0, 0.005),))
        >>> str(result)
        'relu (scale 1, RMS error 0.005)'
    """

    activation_id: str
    scale: float
    error: float
    channel: int | None
    ranking: tuple[tuple[str, float, float], ...]
    negative_slope: float | None = None

    def __str__(self) -> str:
        slope = f"negative slope {self.negative_slope:.3g}, " if self.negative_slope is not None else ""
        return f"{self.activation_id} ({slope}scale {self.scale:.3g}, RMS error {self.error:.2g})"


def _leaky_slope(curve: np.ndarray, points: np.ndarray) -> float:
    """The negative slope of the leaky ReLU that fits `curve` best (least squares on its two
    sides), within `LEAKY_SLOPE_RANGE`."""
    sides = np.stack([np.maximum(points, 0.0), np.minimum(points, 0.0)], axis=1)
    (positive, negative), *_ = np.linalg.lstsq(sides, curve, rcond=None)
    slope = negative / positive if positive > 0 else LEAKY_SLOPE_RANGE[0]
    return float(np.clip(slope, *LEAKY_SLOPE_RANGE))


def _learned_curve(layer: Any, x: np.ndarray) -> np.ndarray:
    if isinstance(layer, ParametricActivation):
        return layer.curve(x)
    if isinstance(layer, ActivationLayer) and layer.activation_id in TARGETS:
        import keras

        return keras.ops.convert_to_numpy(layer(x.astype("float32").reshape(-1, 1))).astype("float64")
    raise TypeError(
        "nearest: argument `layer` must be an elementwise keras_act activation layer (such as "
        f"keras_act.Rational or keras_act.PReLU), received {layer!r} of type {type(layer).__name__}."
    )


def nearest(layer: Any, x: Any = None, channel: int | None = None) -> Nearest:
    """Name the keras_act activation closest to what `layer` computes now, with its scale and error.

    Each candidate is scaled by least squares (a learned curve may be a multiple of a known one)
    and compared by RMS error on `x`. A layer with several parameter sets (per unit or channel)
    is compared by the mean of its curves unless `channel` picks one.

    Args:
        layer: a built keras_act layer: a learnable one (Rational, PReLU, Swish, ACON, Snake) or a
            fixed elementwise one.
        x: 1-D points to compare on; defaults to 601 points on the fit range [-3, 3].
        channel: the index of one parameter set (the flattened parameter shape), or None.

    Examples:
        >>> import keras_act
        >>> layer = keras_act.Rational("relu")
        >>> layer.build((None, 4))
        >>> keras_act.nearest(layer).activation_id
        'relu'
        >>> untrained = keras_act.PReLU()  # slope 0.25: a leaky ReLU
        >>> untrained.build((None, 4))
        >>> found = keras_act.nearest(untrained)
        >>> found.activation_id, round(found.negative_slope, 3), round(found.scale, 3)
        ('leaky_relu', 0.25, 1.0)
    """
    points = np.asarray(NEAREST_GRID if x is None else x, "float64")
    curves = _learned_curve(layer, points)
    if channel is None:
        curve = curves.mean(axis=1)
    elif isinstance(channel, (int, np.integer)) and not isinstance(channel, bool) and 0 <= channel < curves.shape[1]:
        curve = curves[:, int(channel)]
    else:
        raise ValueError(
            f"nearest: argument `channel` must be None or an index in [0, {curves.shape[1]}) (the layer "
            f"has {curves.shape[1]} parameter sets), received channel={channel!r}."
        )
    slope = _leaky_slope(curve, points)
    references = {activation_id: TARGETS[activation_id](points) for activation_id in NEAREST_CANDIDATES}
    references["leaky_relu"] = np.where(points > 0, points, slope * points)
    ranking = sorted(
        ((activation_id, *fit_scale(curve, reference)) for activation_id, reference in references.items()),
        key=lambda row: row[2],
    )
    best_id, scale, error = ranking[0]
    return Nearest(
        best_id,
        scale,
        error,
        None if channel is None else int(channel),
        tuple(ranking),
        slope if best_id == "leaky_relu" else None,
    )
