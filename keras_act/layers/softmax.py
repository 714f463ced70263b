"""The `Softmax` layer."""

from __future__ import annotations

from typing import Any

import keras

from keras_act import ops as act_ops
from keras_act._checks import check_axis
from keras_act.layers._base import ActivationLayer


@keras.saving.register_keras_serializable(package="keras_act")
class Softmax(ActivationLayer):
    """Softmax along `axis`, the output activation for multi-class classification.

    Computed stably (the maximum is subtracted first): logits ``[1000, 1000, -1000]`` give
    ``[0.5, 0.5, 0]``. Without a mask, the output caches its logits (`_keras_logits`) as
    `keras.activations.softmax` does, so a following crossentropy takes its stable path.

    Args:
        axis: an integer, or a list of integers, the axes to normalize over.

    Call arguments:
        inputs: the logits.
        mask: optional boolean tensor broadcastable to `inputs`, True where a position takes
            part. Masked positions get probability 0; a fully masked row gives zeros, not NaN.

    Examples:
        >>> import numpy as np
        >>> y = Softmax()(np.array([[1000.0, 1000.0, -1000.0]], "float32"))
        >>> keras.ops.convert_to_numpy(y).tolist()
        [[0.5, 0.5, 0.0]]
    """

    activation_id = "softmax"

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = check_axis(axis, "axis", "Softmax")

    def call(self, inputs: Any, mask: Any = None) -> Any:
        return act_ops.softmax(self._float_input(inputs), axis=self.axis, mask=mask)

    def get_config(self) -> dict[str, Any]:
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis}
