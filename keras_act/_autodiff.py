"""Values and elementwise derivatives of a function, by the current backend's autodiff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import ml_dtypes
import numpy as np


def value_and_derivative(fn: Callable[[Any], Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``fn(x)`` and ``d sum(fn(x)) / dx``; for an elementwise `fn` that is ``fn'(x)``.

    Works on the TensorFlow, JAX and PyTorch backends.

    Examples:
        >>> import numpy as np, keras
        >>> y, dy = value_and_derivative(keras.ops.square, np.array([3.0], "float32"))
        >>> float(dy[0])
        6.0
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            y = fn(tensor)
        return np.asarray(y), np.asarray(tape.gradient(y, tensor))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        y, pullback = jax.vjp(fn, jnp.asarray(x))
        (grad,) = pullback(jnp.ones_like(y))
        return np.asarray(y), np.asarray(grad)
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        y = fn(tensor)
        (grad,) = torch.autograd.grad(y, tensor, torch.ones_like(y))
        return _torch_to_numpy(y), _torch_to_numpy(grad)
    raise NotImplementedError(f"No autodiff for the {backend!r} backend.")


def _torch_to_numpy(tensor: Any) -> np.ndarray:
    import torch

    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:  # NumPy has no bfloat16; ml_dtypes does
        return tensor.float().numpy().astype(ml_dtypes.bfloat16)
    return tensor.numpy()
