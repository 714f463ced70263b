"""Constants shared by the `keras.ops` formulations (`keras_act.ops`) and the TensorFlow fast
paths (`keras_act._tf_fast`), which import them from here rather than from each other."""

# Klambauer et al. 2017, "Self-Normalizing Neural Networks", eq. 14 (the fixed point for zero
# mean and unit variance); the same constants as `keras.activations.selu` and `torch.nn.SELU`.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
