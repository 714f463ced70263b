"""Values and elementwise derivatives of a function, by the current backend's autodiff."""

from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np


def value_and_derivative(fn: Callable[[Any], Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``fn(x)`` and ``d sum(fn(x)) / dx``; for an elementwise `fn` that is ``fn'(x)``.

    Works on the TensorFlow, JAX and PyTorch backends.

    Example:
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
        return y.detach().cpu().numpy(), grad.cpu().numpy()
    raise NotImplementedError(f"No autodiff for the {backend!r} backend.")
