"""The `PReLU` layer."""

from __future__ import annotations

from numbers import Real
from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act.layers._parametric import ParametricActivation, built_weight


@keras.saving.register_keras_serializable(package="keras_act")
class PReLU(ParametricActivation):
    """Parametric ReLU (He et al. 2015): ``x`` for ``x >= 0``, else ``alpha * x``, alpha learned.

    Args:
        alpha_initializer: initial slope, a number or a Keras initializer. Defaults to 0.25 as
            in He et al. 2015 and `torch.nn.PReLU`; `keras.layers.PReLU` starts at 0 (a plain
            ReLU), from which a slope only moves if negative inputs carry gradient.
        alpha_regularizer: optional regularizer for the slope.
        alpha_constraint: optional constraint for the slope.
        shared_axes: axes along which one slope is shared (e.g. ``[1, 2]`` for one slope per
            channel of an NHWC map); None gives one slope per unit.

    Examples:
        >>> import numpy as np
        >>> layer = PReLU()
        >>> keras.ops.convert_to_numpy(layer(np.array([[-2.0, 3.0]], "float32"))).tolist()
        [[-0.5, 3.0]]
        >>> keras.ops.convert_to_numpy(layer.alpha).tolist()
        [0.25, 0.25]
    """

    activation_id = "prelu"

    def __init__(
        self,
        alpha_initializer: Any = 0.25,
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shared_axes=shared_axes, **kwargs)
        if isinstance(alpha_initializer, Real) and not isinstance(alpha_initializer, bool):
            alpha_initializer = keras.initializers.Constant(float(alpha_initializer))
        try:
            self.alpha_initializer = keras.initializers.get(alpha_initializer)
            self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
            self.alpha_constraint = keras.constraints.get(alpha_constraint)
        except (TypeError, ValueError) as error:
            raise ValueError(f"PReLU: invalid alpha initializer, regularizer or constraint: {error}") from None

    def build(self, input_shape: Any) -> None:
        self._alpha = self._add_parameter(
            input_shape,
            "alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )

    alpha = built_weight("alpha", "The learned slope weight (exists once the layer is built).")

    def call(self, inputs: Any) -> Any:
        return act_ops.prelu(self._float_input(inputs), self._alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha_initializer": keras.initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": keras.regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
        }
