"""Published architectures and keras.io-style models, built offline (`weights=None`, small inputs),
for the advisor's architecture tests and `benchmarks/advisor_speed.py`."""

from __future__ import annotations

from collections.abc import Callable

import keras

L = keras.layers

# Every `keras.applications` constructor, with the smallest input it accepts.
APPLICATION_INPUTS = {name: 32 for name in dir(keras.applications) if name[0].isupper()}
APPLICATION_INPUTS.update({"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71})
# One of each design family: residual + BN, linear bottlenecks + ReLU6, hard-swish with keras.ops
# gates, swish + squeeze-excitation + in-model preprocessing, GELU + LayerNormalization + nested
# models, dense concatenation.
REPRESENTATIVE = ("ResNet50", "MobileNetV2", "MobileNetV3Small", "EfficientNetB0", "ConvNeXtTiny", "DenseNet121")


def application(name: str) -> keras.Model:
    """A `keras.applications` model with random weights, 10 classes, its smallest input."""
    size = APPLICATION_INPUTS[name]
    return getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10)


def lstm_classifier() -> keras.Model:
    """keras.io's bidirectional LSTM movie-review classifier."""
    inputs = keras.Input((None,), dtype="int32")
    x = L.Embedding(2000, 32)(inputs)
    x = L.Bidirectional(L.LSTM(16, return_sequences=True))(x)
    x = L.Bidirectional(L.LSTM(16))(x)
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def gru_classifier() -> keras.Model:
    """An embedding + GRU text classifier with a ReLU dense layer and a softmax head."""
    model = keras.Sequential(
        [
            keras.Input((40,), dtype="int32"),
            L.Embedding(1000, 16),
            L.GRU(16),
            L.Dense(16, activation="relu"),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _transformer_block(
    x: keras.KerasTensor, heads: int, width: int, hidden: int, activation: str, pre_norm: bool
) -> keras.KerasTensor:
    if pre_norm:  # ViT: LayerNormalization before attention and before the MLP
        attended = L.MultiHeadAttention(heads, width // heads)(L.LayerNormalization()(x), L.LayerNormalization()(x))
        x = L.Add()([x, attended])
        y = L.Dense(hidden, activation=activation)(L.LayerNormalization()(x))
        y = L.Dense(width)(L.Dropout(0.1)(y))
        return L.Add()([x, y])
    attended = L.Dropout(0.1)(L.MultiHeadAttention(heads, width // heads)(x, x))
    x = L.LayerNormalization(epsilon=1e-6)(x + attended)
    y = L.Dense(hidden, activation=activation)(x)
    y = L.Dropout(0.1)(L.Dense(width)(y))
    return L.LayerNormalization(epsilon=1e-6)(x + y)


def transformer_classifier() -> keras.Model:
    """keras.io's text classification with a transformer block (ReLU feed-forward)."""
    inputs = keras.Input((20,), dtype="int32")
    tokens = L.Embedding(1000, 32)(inputs)
    positions = L.Embedding(20, 32)(keras.ops.arange(20))
    x = _transformer_block(tokens + positions, 2, 32, 32, "relu", pre_norm=False)
    x = L.Dropout(0.1)(L.GlobalAveragePooling1D()(x))
    x = L.Dropout(0.1)(L.Dense(20, activation="relu")(x))
    model = keras.Model(inputs, L.Dense(2, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def vit_classifier() -> keras.Model:
    """A ViT-style image classifier: patch projection, position embedding, pre-norm GELU blocks,
    a GELU MLP head and logits."""
    inputs = keras.Input((32, 32, 3))
    x = L.Rescaling(1 / 255)(inputs)
    patches = L.Reshape((64, 48))(keras.ops.image.extract_patches(x, 4))
    encoded = L.Dense(32)(patches) + L.Embedding(64, 32)(keras.ops.arange(64))
    for _ in range(2):
        encoded = _transformer_block(encoded, 2, 32, 64, "gelu", pre_norm=True)
    x = L.Dropout(0.2)(L.Flatten()(L.LayerNormalization()(encoded)))
    x = L.Dense(64, activation="gelu")(x)
    model = keras.Model(inputs, L.Dense(10)(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def conv1d_classifier() -> keras.Model:
    """keras.io's time-series classification from scratch (Conv1D -> BN -> ReLU, x3)."""
    inputs = keras.Input((96, 1))
    x = inputs
    for _ in range(3):
        x = L.ReLU()(L.BatchNormalization()(L.Conv1D(16, 3, padding="same")(x)))
    model = keras.Model(inputs, L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x)))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def conv_autoencoder() -> keras.Model:
    """keras.io's convolutional denoising autoencoder."""
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(16, 3, activation="relu", padding="same")(inputs)
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.Conv2D(16, 3, activation="relu", padding="same")(x)
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(x)
    x = L.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(x)
    model = keras.Model(inputs, L.Conv2D(1, 3, activation="sigmoid", padding="same")(x))
    model.compile("adam", "binary_crossentropy")
    return model


def dense_autoencoder() -> keras.Model:
    """A dense autoencoder with a linear 8-unit code layer."""
    model = keras.Sequential(
        [
            keras.Input((64,)),
            L.Dense(32, activation="relu"),
            L.Dense(8),
            L.Dense(32, activation="relu"),
            L.Dense(64, activation="sigmoid"),
        ]
    )
    model.compile("adam", "mse")
    return model


def ticket_model(probabilities: bool) -> keras.Model:
    """The functional-API guide's multi-input, multi-output ticket model (outputs as a dict,
    losses as a dict): logits heads with `from_logits=True`, or sigmoid/softmax heads."""
    title = keras.Input((None,), name="title")
    body = keras.Input((None,), name="body")
    tags = keras.Input((12,), name="tags")
    title_features = L.LSTM(16)(L.Embedding(1000, 16)(title))
    body_features = L.LSTM(8)(L.Embedding(1000, 16)(body))
    x = L.concatenate([title_features, body_features, tags])
    priority = L.Dense(1, activation="sigmoid" if probabilities else None, name="priority")(x)
    department = L.Dense(4, activation="softmax" if probabilities else None, name="department")(x)
    model = keras.Model({"title": title, "body": body, "tags": tags}, {"priority": priority, "department": department})
    logits = not probabilities
    model.compile(
        "rmsprop",
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=logits),
            "department": keras.losses.CategoricalCrossentropy(from_logits=logits),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    return model


def transfer_model() -> keras.Model:
    """keras.io's transfer learning: a nested MobileNetV2 backbone, in-model rescaling, a
    logits head."""
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    x = L.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = L.Dropout(0.2)(L.GlobalAveragePooling2D()(base(x)))
    model = keras.Model(inputs, L.Dense(1)(x))
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def dcgan_generator() -> keras.Model:
    """keras.io's DCGAN generator: project and reshape, transposed convs with LeakyReLU(0.2)."""
    return keras.Sequential(
        [
            keras.Input((32,)),
            L.Dense(4 * 4 * 32),
            L.Reshape((4, 4, 32)),
            L.Conv2DTranspose(32, 4, strides=2, padding="same"),
            L.LeakyReLU(negative_slope=0.2),
            L.Conv2DTranspose(16, 4, strides=2, padding="same"),
            L.LeakyReLU(negative_slope=0.2),
            L.Conv2D(3, 5, padding="same", activation="sigmoid"),
        ]
    )


def dcgan_discriminator() -> keras.Model:
    """keras.io's DCGAN discriminator: strided convs with LeakyReLU(0.2), a logit."""
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            L.Conv2D(16, 4, strides=2, padding="same"),
            L.LeakyReLU(negative_slope=0.2),
            L.Conv2D(32, 4, strides=2, padding="same"),
            L.LeakyReLU(negative_slope=0.2),
            L.Flatten(),
            L.Dropout(0.2),
            L.Dense(1),
        ]
    )
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def unet() -> keras.Model:
    """keras.io's Oxford-pets U-Net (smaller): separable convs, BN, residual adds, per-pixel softmax."""
    inputs = keras.Input((32, 32, 3))
    x = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(8, 3, strides=2, padding="same")(inputs)))
    previous = x
    for filters in (16, 32):
        x = L.Activation("relu")(x)
        x = L.BatchNormalization()(L.SeparableConv2D(filters, 3, padding="same")(x))
        x = L.Activation("relu")(x)
        x = L.BatchNormalization()(L.SeparableConv2D(filters, 3, padding="same")(x))
        x = L.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = L.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = previous = L.add([x, residual])
    for filters in (32, 16, 8):
        x = L.Activation("relu")(x)
        x = L.BatchNormalization()(L.Conv2DTranspose(filters, 3, padding="same")(x))
        x = L.Activation("relu")(x)
        x = L.BatchNormalization()(L.Conv2DTranspose(filters, 3, padding="same")(x))
        x = L.UpSampling2D(2)(x)
        residual = L.Conv2D(filters, 1, padding="same")(L.UpSampling2D(2)(previous))
        x = previous = L.add([x, residual])
    outputs = L.Conv2D(3, 3, activation="softmax", padding="same")(x)
    model = keras.Model(inputs, outputs)
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    return model


def conv_mixer() -> keras.Model:
    """keras.io's ConvMixer: patch embedding, depthwise + pointwise convs with GELU and BN, residual adds."""
    inputs = keras.Input((32, 32, 3))
    x = L.Rescaling(1 / 255)(inputs)
    x = L.BatchNormalization()(L.Activation("gelu")(L.Conv2D(32, 2, strides=2)(x)))
    for _ in range(2):
        y = L.BatchNormalization()(L.Activation("gelu")(L.DepthwiseConv2D(5, padding="same")(x)))
        x = L.Add()([y, x])
        x = L.BatchNormalization()(L.Activation("gelu")(L.Conv2D(32, 1)(x)))
    x = L.GlobalAvgPool2D()(x)
    model = keras.Model(inputs, L.Dense(10, activation="softmax")(x))
    model.compile("adamw", "sparse_categorical_crossentropy")
    return model


def mlp_mixer() -> keras.Model:
    """keras.io's MLP-Mixer: token- and channel-mixing GELU MLPs with LayerNormalization and skips."""
    inputs = keras.Input((16, 24))
    x = L.Dense(32)(inputs)
    for _ in range(2):
        y = L.Permute((2, 1))(L.LayerNormalization(epsilon=1e-6)(x))
        y = L.Dense(16)(L.Dense(16, activation="gelu")(y))
        x = L.Add()([x, L.Permute((2, 1))(y)])
        y = L.Dense(32)(L.Dense(32, activation="gelu")(L.LayerNormalization(epsilon=1e-6)(x)))
        x = L.Add()([x, y])
    x = L.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, L.Dense(5, activation="softmax")(L.Dropout(0.2)(x)))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def vae_encoder() -> keras.Model:
    """keras.io's VAE encoder: conv stack, two linear heads (z_mean, z_log_var), no loss of its own."""
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(16, 3, activation="relu", strides=2, padding="same")(inputs)
    x = L.Conv2D(32, 3, activation="relu", strides=2, padding="same")(x)
    x = L.Dense(16, activation="relu")(L.Flatten()(x))
    return keras.Model(inputs, [L.Dense(2, name="z_mean")(x), L.Dense(2, name="z_log_var")(x)])


class TransformerBlock(L.Layer):
    """keras.io's text-classification transformer block, as written there: no get_config, an
    `__init__` that takes no `name`/`trainable`/`dtype` (Keras' own `clone_model` fails on it)."""

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, rate: float = 0.1) -> None:
        super().__init__()
        self.att = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([L.Dense(ff_dim, activation="relu"), L.Dense(embed_dim)])
        self.layernorm1 = L.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = L.LayerNormalization(epsilon=1e-6)
        self.dropout1 = L.Dropout(rate)
        self.dropout2 = L.Dropout(rate)

    def call(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        out1 = self.layernorm1(inputs + self.dropout1(self.att(inputs, inputs)))
        return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))


class TokenAndPositionEmbedding(L.Layer):
    """keras.io's token + position embedding layer, as written there."""

    def __init__(self, maxlen: int, vocab_size: int, embed_dim: int) -> None:
        super().__init__()
        self.token_emb = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = L.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        return self.token_emb(x) + self.pos_emb(keras.ops.arange(0, keras.ops.shape(x)[-1], 1))


def transformer_custom_layers() -> keras.Model:
    """keras.io's text classification with a transformer, with its own custom layers."""
    inputs = keras.Input((20,))
    x = TransformerBlock(32, 2, 32)(TokenAndPositionEmbedding(20, 1000, 32)(inputs))
    x = L.Dropout(0.1)(L.Dense(20, activation="relu")(L.Dropout(0.1)(L.GlobalAveragePooling1D()(x))))
    model = keras.Model(inputs, L.Dense(2, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


KERAS_IO: dict[str, Callable[[], keras.Model]] = {
    "lstm_classifier": lstm_classifier,
    "gru_classifier": gru_classifier,
    "transformer_classifier": transformer_classifier,
    "transformer_custom_layers": transformer_custom_layers,
    "vit_classifier": vit_classifier,
    "conv1d_classifier": conv1d_classifier,
    "conv_autoencoder": conv_autoencoder,
    "dense_autoencoder": dense_autoencoder,
    "ticket_logits": lambda: ticket_model(False),
    "ticket_probabilities": lambda: ticket_model(True),
    "transfer_mobilenet": transfer_model,
    "dcgan_generator": dcgan_generator,
    "dcgan_discriminator": dcgan_discriminator,
    "unet": unet,
    "conv_mixer": conv_mixer,
    "mlp_mixer": mlp_mixer,
    "vae_encoder": vae_encoder,
}


def build(name: str) -> keras.Model:
    """Any zoo model by name (an application class name or a `KERAS_IO` key)."""
    return KERAS_IO[name]() if name in KERAS_IO else application(name)
