"""The one model view every part of the advisor reads: what each layer computes and what role it
plays.

`view(model)` walks the whole graph, `keras.ops` nodes (``x + 3``, ``x * y``) and nested models
(ConvNeXt's stem, a `Sequential` backbone in a transfer-learning model) included, and returns a
`ModelView`:

- `layers`: one `LayerInfo` per node, inputs first: its kind (weight, activation, normalization,
  preprocessing, ...), the activation it applies, width, kernel initializer and inbound edges.
- `sites`: one `Site` per place an activation is applied (a weight layer's `activation=`, an
  activation layer, a `keras.ops` activation), each with its *role*, and one per weight layer
  left linear, with its role. A weight layer's activation is what follows it through
  normalization, dropout and reshaping: conv -> BatchNormalization -> ReLU is one relu site.
- `heads`: one `Head` per model output, with the output's name, its output site and its own
  loss (matched by name for dict losses, by position for lists).
- `inputs`: one `ModelInput` per model input: its dtype, and what it meets before the first
  weight layer on each path (scaling layers, text/category/token encoders, or nothing: raw numbers).
- structure flags: normalization layers, residual adds (`Add` layers and `keras.ops` adds of two
  tensors), conv / depthwise / dense, embeddings, recurrent and attention layers, and the
  preprocessing layers that scale the inputs inside the model.

The package, by concern: `vocabulary` (Keras' layer classes by what they compute, activation
ids, `Kind` and `Role`), `layer` (reading one node), `walk` (flattening nested models and
reading custom layers through what their `call` computes), `roles` (each site's role) and
`model_view` (the `ModelView` and its queries).

Roles (`Role`, defined here once):

- ``"output"``: the activation that makes a model output (and that output's weight layer).
- ``"gate"``: its value multiplies another tensor (a `Multiply` layer or a `keras.ops` product
  of two tensors), possibly through `keras.ops` arithmetic with constants on the way, as in
  MobileNetV3's hard sigmoid ``ReLU(6.)(x + 3) * (1/6)``: squeeze-excitation, GLU, LSTM-style
  gates and self-gated activations (``x * sigmoid(x)``). Its range is the design; it is kept.
- ``"recurrent"``: an LSTM/GRU/RNN cell's activation (the cell's gates need tanh/sigmoid).
- ``"bottleneck"``: a weight layer left linear by design: it feeds a residual add (MobileNetV2's
  linear bottleneck, a ResNet block's last conv, a transformer's output projection), a
  normalization layer (a projection: conv -> BN, ConvNeXt's depthwise conv -> LayerNormalization),
  a layer that is not a weight layer (attention, a merge, pooling), a `Reshape` into a conv stack
  (DCGAN's "project and reshape"), or it is narrower than both its input and the next weight
  layer (an autoencoder's code layer: a low-rank map).
- ``"linear"``: a weight layer with no nonlinearity before the next weight layer (the
  `linear-hidden` finding).
- ``"feed_forward"``: a hidden activation inside an attention block's feed-forward network (its
  weight layer reads, through normalization, dropout and residual adds, an attention layer's
  output): the transformer's ReLU/GELU. Replaced like a hidden one.
- ``"glu_feed_forward"``: the activation of a GLU feed-forward, ``act(x W) * (x V)`` (SwiGLU in
  Llama, Mistral, Qwen and Phi-3, GeGLU in Gemma; Shazeer 2020): it multiplies a linear
  projection of the same input, so it is a gate by shape, but it is the block's hidden
  activation, replaced like one (by the GLU variants).
- ``"pooler"``: a tanh on one token or a pooling of an attention model's sequence (BERT's
  pooler, Devlin et al. 2019): a design element, kept.
- ``"frozen"``: a hidden or feed-forward activation of a frozen layer (``trainable=False``: a
  pretrained backbone under a new head). Its weights were trained with it, so it is kept.
- ``"hidden"``: every other activation: what the advice's hidden activation replaces.

`HIDDEN_ROLES` (hidden, feed-forward and GLU feed-forward) are what `ModelView.hidden_sites`
returns.

Custom layers (a keras-hub `TransformerEncoder`, `LlamaTransformerDecoder`, a user's own block)
are read through what their `call` computes, traced on symbolic tensors (see `walk`): their
sublayers and `keras.ops` become nodes of the view named ``"<layer>/<sublayer>"``, so an
activation a layer keeps as an attribute and applies in `call` is a site like any other.

Activations are read from what a layer computes (its `activation` attribute, the activation
layer's settings, the op), never from the class alone, and named with one id: the keras_act id
where keras_act has one (``silu`` reads as ``swish``), else Keras' own name (``relu6``,
``hard_swish``, ``celu``, ``log_softmax``, ...). What the advisor cannot name (a Python function
of the user's, a `ReLU` with an unusual `max_value`) keeps an id in `UNREADABLE` form and is
reported, never guessed.
"""

from __future__ import annotations

from .._keras_compat import Functional
from .layer import LayerInfo, activation_of, inspect_layer, kind_of
from .model_view import Head, ModelInput, ModelView, view
from .roles import Site
from .vocabulary import (
    ACTIVATION_ALIASES,
    ACTIVATION_LAYERS,
    ATTENTION_LAYERS,
    CONV_LAYERS,
    DEPTHWISE_LAYERS,
    EMBEDDING_LAYERS,
    ENCODING_LAYERS,
    HIDDEN_ROLES,
    KERAS_ACTIVATIONS,
    KNOWN_ACTIVATIONS,
    LEARNABLE,
    NORMALIZATION_LAYERS,
    RECTIFIERS,
    RECURRENT_LAYERS,
    RELU_FAMILY,
    ROLES,
    SATURATING,
    SCALING_LAYERS,
    UNREADABLE,
    WEIGHT_LAYERS,
    Kind,
    Role,
    activation_id,
    initializer_name,
    snake_case,
    start_of,
)
from .walk import inspect_model

__all__ = [
    "ACTIVATION_ALIASES",
    "ACTIVATION_LAYERS",
    "ATTENTION_LAYERS",
    "CONV_LAYERS",
    "DEPTHWISE_LAYERS",
    "EMBEDDING_LAYERS",
    "ENCODING_LAYERS",
    "Functional",
    "HIDDEN_ROLES",
    "Head",
    "KERAS_ACTIVATIONS",
    "KNOWN_ACTIVATIONS",
    "LEARNABLE",
    "RECTIFIERS",
    "RELU_FAMILY",
    "SATURATING",
    "Kind",
    "LayerInfo",
    "ModelInput",
    "ModelView",
    "NORMALIZATION_LAYERS",
    "RECURRENT_LAYERS",
    "ROLES",
    "Role",
    "SCALING_LAYERS",
    "Site",
    "UNREADABLE",
    "WEIGHT_LAYERS",
    "activation_id",
    "activation_of",
    "initializer_name",
    "inspect_layer",
    "inspect_model",
    "kind_of",
    "snake_case",
    "start_of",
    "view",
]
