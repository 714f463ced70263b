"""Small keras-hub models built offline from their constructor arguments (never a preset), with a
softmax head: what a user fine-tuning a keras-hub backbone builds. Shared by the custom-layer tests."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest

keras_hub = pytest.importorskip("keras_hub")

VOCABULARY, LAYERS, HEADS, HIDDEN, INTERMEDIATE, SEQUENCE = 100, 2, 2, 16, 32, 16
IMAGE = (32, 32, 3)
_text = dict(vocabulary_size=VOCABULARY, num_layers=LAYERS, hidden_dim=HIDDEN, intermediate_dim=INTERMEDIATE)
_decoder = dict(_text, num_query_heads=HEADS, num_key_value_heads=1)
_models = keras_hub.models

# name -> (builder, the authors' hidden activation, the family the advisor should read)
BACKBONES: dict[str, tuple[Callable[[], keras.Model], str, str]] = {
    "bert": (lambda: _models.BertBackbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE), "gelu", "attention"),
    "distil_bert": (
        lambda: _models.DistilBertBackbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE),
        "gelu",
        "attention",
    ),
    "roberta": (
        lambda: _models.RobertaBackbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE),
        "gelu",
        "attention",
    ),
    "albert": (
        lambda: _models.AlbertBackbone(**_text, num_heads=HEADS, embedding_dim=8, max_sequence_length=SEQUENCE),
        "gelu",
        "attention",
    ),
    "electra": (
        lambda: _models.ElectraBackbone(
            vocab_size=VOCABULARY,
            num_layers=LAYERS,
            num_heads=HEADS,
            hidden_dim=HIDDEN,
            embedding_dim=HIDDEN,
            intermediate_dim=INTERMEDIATE,
            max_sequence_length=SEQUENCE,
        ),
        "gelu",
        "attention",
    ),
    "gpt2": (lambda: _models.GPT2Backbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE), "gelu", "attention"),
    "gpt_neo_x": (
        lambda: _models.GPTNeoXBackbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE),
        "gelu",
        "attention",
    ),
    "opt": (lambda: _models.OPTBackbone(**_text, num_heads=HEADS, max_sequence_length=SEQUENCE), "relu", "attention"),
    "falcon": (lambda: _models.FalconBackbone(**_text, num_attention_heads=HEADS), "gelu", "attention"),
    "bloom": (lambda: _models.BloomBackbone(**_text, num_heads=HEADS), "gelu", "attention"),
    # FNet mixes tokens with a Fourier transform, not attention: a normalized residual stack.
    "f_net": (lambda: _models.FNetBackbone(**_text, max_sequence_length=SEQUENCE), "gelu", "normalized-residual"),
    "llama": (lambda: _models.LlamaBackbone(**_decoder), "swish", "attention"),
    "mistral": (lambda: _models.MistralBackbone(**_decoder, sliding_window=SEQUENCE), "swish", "attention"),
    "qwen2": (lambda: _models.QwenBackbone(**_decoder), "swish", "attention"),
    "qwen3": (lambda: _models.Qwen3Backbone(**_decoder, head_dim=8), "swish", "attention"),
    "phi3": (
        lambda: _models.Phi3Backbone(**_decoder, max_sequence_length=SEQUENCE, pretraining_sequence_length=SEQUENCE),
        "swish",
        "attention",
    ),
    "gemma": (lambda: _models.GemmaBackbone(**_decoder, head_dim=8), "gelu", "attention"),
    "vit": (
        lambda: _models.ViTBackbone(
            image_shape=IMAGE, patch_size=8, num_layers=LAYERS, num_heads=HEADS, hidden_dim=HIDDEN, mlp_dim=INTERMEDIATE
        ),
        "gelu",
        "attention",
    ),
    "deit": (
        lambda: _models.DeiTBackbone(
            image_shape=IMAGE,
            patch_size=8,
            num_layers=LAYERS,
            num_heads=HEADS,
            hidden_dim=HIDDEN,
            intermediate_dim=INTERMEDIATE,
        ),
        "gelu",
        "attention",
    ),
    "swin": (
        lambda: _models.SwinTransformerBackbone(
            image_shape=IMAGE, embed_dim=8, depths=[2, 2], num_heads=[2, 2], window_size=4, patch_size=4
        ),
        "gelu",
        "attention",
    ),
    "dinov2": (
        lambda: _models.DINOV2Backbone(
            patch_size=8,
            num_layers=LAYERS,
            hidden_dim=HIDDEN,
            num_heads=HEADS,
            intermediate_dim=INTERMEDIATE,
            image_shape=IMAGE,
            position_embedding_shape=IMAGE,
        ),
        "gelu",
        "attention",
    ),
    "dinov2_swiglu": (
        lambda: _models.DINOV2Backbone(
            patch_size=8,
            num_layers=LAYERS,
            hidden_dim=HIDDEN,
            num_heads=HEADS,
            intermediate_dim=INTERMEDIATE,
            use_swiglu_ffn=True,
            image_shape=IMAGE,
            position_embedding_shape=IMAGE,
        ),
        "swish",
        "attention",
    ),
    "resnet": (
        lambda: _models.ResNetBackbone(
            input_conv_filters=[64],
            input_conv_kernel_sizes=[3],
            stackwise_num_filters=[64, 16],
            stackwise_num_blocks=[1, 1],
            stackwise_num_strides=[1, 2],
            block_type="basic_block",
            image_shape=IMAGE,
        ),
        "relu",
        "normalized-residual",
    ),
    "densenet": (
        lambda: _models.DenseNetBackbone(stackwise_num_repeats=[1, 1], image_shape=IMAGE, growth_rate=4),
        "relu",
        "normalized-residual",
    ),
    "efficientnet": (
        lambda: _models.EfficientNetBackbone(
            stackwise_kernel_sizes=[3, 3],
            stackwise_num_repeats=[1, 1],
            stackwise_input_filters=[8, 8],
            stackwise_output_filters=[8, 16],
            stackwise_expansion_ratios=[1, 2],
            stackwise_squeeze_and_excite_ratios=[0.0, 0.25],
            stackwise_strides=[1, 2],
            stackwise_block_types=["fused", "unfused"],
            stackwise_width_coefficients=[1.0, 1.0],
            stackwise_depth_coefficients=[1.0, 1.0],
            input_shape=IMAGE,
            num_features=32,
        ),
        "swish",
        "normalized-residual",
    ),
    "vgg": (
        lambda: _models.VGGBackbone(stackwise_num_repeats=[1, 1], stackwise_num_filters=[8, 16], image_shape=IMAGE),
        "relu",
        "plain-cnn",
    ),
    "xception": (
        lambda: _models.XceptionBackbone(
            stackwise_conv_filters=[[8, 16], [16, 16]], stackwise_pooling=[True, False], image_shape=(64, 64, 3)
        ),
        "relu",
        "normalized-residual",
    ),
}


def _head(features: object, classes: int) -> keras.KerasTensor:
    """A Dense softmax on a backbone's pooled output, else on its features averaged."""
    if isinstance(features, dict):
        features = features.get("pooled_output", features.get("sequence_output"))
    if len(features.shape) == 3:
        features = keras.layers.GlobalAveragePooling1D(name="head_pool")(features)
    elif len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name="head_pool")(features)
    return keras.layers.Dense(classes, activation="softmax", name="head")(features)


def with_head(backbone: keras.Model, classes: int = 3) -> keras.Model:
    """The backbone's pooled output (else its features, averaged) under a Dense softmax head."""
    return keras.Model(backbone.input, _head(backbone.output, classes), name=f"{backbone.name}_classifier")


def nested_with_head(backbone: keras.Model, classes: int = 3) -> keras.Model:
    """The backbone called as one layer under the same head, as keras-hub's tasks and a user's
    transfer-learning model hold it."""
    inputs = keras.tree.map_structure(lambda t: keras.Input(t.shape[1:], dtype=t.dtype, name=t.name), backbone.input)
    return keras.Model(inputs, _head(backbone(inputs), classes), name=f"{backbone.name}_task")


def keras_io_classifier(classes: int = 3, activation: str = "relu") -> keras.Model:
    """keras.io's text classification with a Transformer, built from `keras_hub.layers`."""
    inputs = keras.Input((SEQUENCE,), dtype="int32", name="token_ids")
    x = keras_hub.layers.TokenAndPositionEmbedding(VOCABULARY, SEQUENCE, HIDDEN)(inputs)
    x = keras_hub.layers.TransformerEncoder(INTERMEDIATE, HEADS, activation=activation)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="keras_io_transformer")


def sample_inputs(model: keras.Model, rows: int = 2, seed: int = 0) -> object:
    """Inputs the model accepts: token ids below the vocabulary, segment ids 0, a full padding
    mask, normal images."""
    rng = np.random.default_rng(seed)

    def one(key: str, tensor: keras.KerasTensor) -> np.ndarray:
        shape = (rows, *(SEQUENCE if d is None else d for d in tensor.shape[1:]))
        if "int" not in str(tensor.dtype):
            return rng.normal(size=shape).astype("float32")
        if "mask" in key:
            return np.ones(shape, "int32")
        if "segment" in key:
            return np.zeros(shape, "int32")
        return rng.integers(1, VOCABULARY, shape).astype("int32")

    if isinstance(model.input, dict):
        return {key: one(key, tensor) for key, tensor in model.input.items()}
    return one(model.input.name, model.input)
