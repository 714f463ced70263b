"""The `ACON` layer (ACON-C)."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_number
from keras_act.layers._parametric import ParametricActivation, built_weight


@keras.saving.register_keras_serializable(package="keras_act")
class ACON(ParametricActivation):
    """ACON-C (Ma et al., CVPR 2021): ``(p1 - p2) x sigmoid(beta (p1 - p2) x) + p2 x``, all learned.

    A smooth maximum of ``p1 x`` and ``p2 x``: beta sets how sharp (beta -> inf is
    ``max(p1 x, p2 x)``, beta = 0 the mean), so the layer learns per channel whether to act
    linearly or not. The defaults start it as Swish (``p1 = 1, p2 = 0, beta = 1``).

    Args:
        p1: the initial slope of the first branch.
        p2: the initial slope of the second branch.
        beta: the initial sharpness of the switch between them.
        shared_axes: None (the default, as in the paper) gives one set per channel (the last
            axis); a list of axes gives one set per unit shared along those axes, as in `PReLU`
            (``[]``: one per unit).

    Examples:
        >>> import numpy as np
        >>> layer = ACON()
        >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, -1.0]], "float32"))).astype(float).round(6).tolist()
        [[0.731059, -0.268941]]
        >>> [tuple(w.shape) for w in layer.trainable_weights]
        [(2,), (2,), (2,)]
    """

    activation_id = "acon"
    default_sharing = "channel"
    full_precision_parameters = True

    def __init__(
        self,
        p1: float = 1.0,
        p2: float = 0.0,
        beta: float = 1.0,
        shared_axes: int | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shared_axes=shared_axes, **kwargs)
        self.initial_p1 = check_number(p1, "p1", "ACON")
        self.initial_p2 = check_number(p2, "p2", "ACON")
        self.initial_beta = check_number(beta, "beta", "ACON")

    def build(self, input_shape: Any) -> None:
        self._p1, self._p2, self._beta = (
            self._add_parameter(input_shape, name, initializer=keras.initializers.Constant(value))
            for name, value in (("p1", self.initial_p1), ("p2", self.initial_p2), ("beta", self.initial_beta))
        )

    p1 = built_weight("p1", "The learned upper slope ``p1`` (once built).")
    p2 = built_weight("p2", "The learned lower slope ``p2`` (once built).")
    beta = built_weight("beta", "The learned switching factor ``beta`` (once built).")

    def call(self, inputs: Any) -> Any:
        return act_ops.acon(self._float_input(inputs), self._p1, self._p2, self._beta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "p1": self.initial_p1, "p2": self.initial_p2, "beta": self.initial_beta}
