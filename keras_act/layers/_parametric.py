"""Shared machinery of the layers with learned parameters (PReLU, Swish, Rational, ACON, Snake)."""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import numpy as np

from keras_act._checks import check_shared_axes, parameter_shape
from keras_act.layers._base import ActivationLayer

# The inputs `curve()` evaluates a layer at by default: the gallery's range.
CURVE_GRID = np.linspace(-5.0, 5.0, 201)


def built_weight(name: str, doc: str) -> property:
    """A read-only attribute for the weight a layer's `build` stores as ``_<name>``; a clear
    ValueError before the layer is built.

    Examples:
        >>> import keras_act
        >>> keras_act.Snake.a.__doc__
        'The learned frequency weight (once built).'
    """
    return property(lambda self: self._built_parameter(f"_{name}", name), doc=doc)


class ParametricActivation(ActivationLayer):
    """An activation with learned parameters, one set per unit unless shared along some axes.

    The parameter has the input's shape without the batch axis, with size 1 on each axis in
    `shared_axes`, as in `keras.layers.PReLU`: ``shared_axes=[1, 2]`` on an NHWC feature map
    gives one parameter per channel. What ``shared_axes=None`` gives is the subclass's
    `default_sharing`: "unit" (PReLU, Swish), "channel" (one set per last-axis channel, for
    inputs of any rank: ACON, Snake) or "layer" (one set in all: Rational).

    Examples:
        >>> import keras_act
        >>> layer = keras_act.PReLU(shared_axes=[1, 2])
        >>> layer.build((None, 8, 8, 3))
        >>> tuple(layer.alpha.shape)
        (1, 1, 3)
        >>> layer.curve([-1.0, 0.0, 2.0]).tolist()  # one column per channel
        [[-0.25, -0.25, -0.25], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]
    """

    default_sharing: ClassVar[str] = "unit"
    # Whether the parameters are read in their own dtype (float32) under a mixed policy, not
    # autocast to float16: for formulas that amplify a parameter's rounding (a Rational's
    # powers, Snake's phase a x, where a float16 a = 0.3 is off by 0.02 rad at x = 100, ACON's
    # cancelling terms). These layers compute in float32 and return the policy's dtype.
    full_precision_parameters: ClassVar[bool] = False

    def __init__(self, shared_axes: int | list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shared_axes = check_shared_axes(shared_axes, type(self).__name__)

    def _parameter_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int, ...]:
        """The shape one parameter broadcasts from against the input (without the batch axis)."""
        if self.shared_axes is not None or self.default_sharing == "unit":
            return tuple(parameter_shape(input_shape, self.shared_axes, type(self).__name__))
        if self.default_sharing == "layer":
            return ()
        channels = input_shape[-1] if len(input_shape) > 1 else None
        if channels is None:
            raise ValueError(
                f"{type(self).__name__}: the input shape {tuple(input_shape)} has no known channel "
                "axis (the last axis, after the batch axis); give the input a fixed last dimension."
            )
        return (int(channels),)

    def _add_parameter(self, input_shape: Any, name: str, leading: tuple[int, ...] = (), **weight_kwargs: Any) -> Any:
        """Add a weight of shape ``leading + _parameter_shape(input_shape)``: `leading` holds the
        axes of a parameter that is a vector per unit (a Rational's coefficients)."""
        input_shape = tuple(input_shape)
        shape = self._parameter_shape(input_shape)
        self.parameter_shape = shape
        if len(shape) == len(input_shape) - 1:
            shared = set(self.shared_axes or ())
            self.input_spec = keras.layers.InputSpec(
                ndim=len(input_shape),
                axes={i: input_shape[i] for i in range(1, len(input_shape)) if i not in shared},
            )
        elif shape:
            self.input_spec = keras.layers.InputSpec(
                min_ndim=len(shape) + 1,
                axes={i - len(shape): size for i, size in enumerate(shape) if size != 1},
            )
        return self.add_weight(
            shape=(*leading, *shape), name=name, autocast=not self.full_precision_parameters, **weight_kwargs
        )

    def _built_parameter(self, attribute: str, name: str) -> Any:
        # ValueError, not AttributeError: on the PyTorch backend a layer is a torch Module, whose
        # __getattr__ would replace an AttributeError's message with "no attribute".
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} `{name}` does not exist before the layer is built; "
                "call the layer on an input (or `build(input_shape)`) first."
            )
        return getattr(self, attribute)

    def curve(self, x: Any = None, start: bool = False) -> np.ndarray:
        """The learned function at the points `x`: an array of shape ``(len(x), channels)``.

        One column per parameter set (per unit, channel, or one for the layer), in the order of
        the parameters' flattened shape. ``start=True`` gives the function as the layer's
        config builds it instead: where training started from (its initializers).

        Args:
            x: 1-D points; defaults to 201 points on [-5, 5].
            start: evaluate the starting parameters rather than the current ones.

        Examples:
            >>> import keras_act
            >>> layer = keras_act.Swish()
            >>> layer.build((None, 2))
            >>> layer.curve([0.0, 1.0]).round(4).tolist()
            [[0.0, 0.0], [0.7311, 0.7311]]
        """
        if not self.built:
            raise ValueError(
                f"{type(self).__name__}.curve: the layer is not built, so its parameters do not "
                "exist yet; call it on an input (or `build(input_shape)`) first."
            )
        points = np.asarray(CURVE_GRID if x is None else x, "float64")
        if points.ndim != 1 or not points.size or not np.all(np.isfinite(points)):
            raise ValueError(
                f"{type(self).__name__}.curve: `x` must be a non-empty 1-D array of finite "
                f"numbers, received shape {points.shape}."
            )
        layer = self
        if start:
            layer = type(self).from_config(self.get_config())
            layer.build((None, *(self.parameter_shape or (1,))))
        grid = points.reshape(-1, *[1] * len(self.parameter_shape)) * np.ones(self.parameter_shape)
        values = keras.ops.convert_to_numpy(layer.call(grid.astype(self.variable_dtype)))
        return values.astype("float64").reshape(len(points), -1)

    def get_config(self) -> dict[str, Any]:
        shared_axes = list(self.shared_axes) if self.shared_axes is not None else None
        return {**super().get_config(), "shared_axes": shared_axes}
