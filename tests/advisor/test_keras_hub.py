"""keras-hub models, built offline at a small size with a head on top, as the advisor reads them."""

from __future__ import annotations

import dataclasses
import warnings

import keras
import numpy as np
import pytest

from keras_act.advisor import advise, apply
from keras_act.advisor.inspection import HIDDEN_ROLES, Kind, Role, view

from .hub_models import BACKBONES, keras_io_classifier, nested_with_head, sample_inputs, with_head


@pytest.fixture(scope="module", params=sorted(BACKBONES))
def hub_model(request):
    build, authors, family = BACKBONES[request.param]
    return with_head(build()), authors, family


def test_the_family_and_the_authors_activation_are_read_and_kept(hub_model):
    model, authors, family = hub_model
    advice = advise(model)
    model_view = view(model)
    assert not [info.name for info in model_view.layers if info.kind == Kind.UNKNOWN]
    assert {site.activation for site in model_view.hidden_sites()} == {authors}
    assert (advice.family, advice.hidden_activation) == (family, authors)
    assert authors in advice.candidates
    assert not [f for f in advice.findings if f.severity in ("warning", "error")], advice.findings


def test_every_transformer_block_has_a_feed_forward_site(hub_model):
    model, authors, family = hub_model
    if family != "attention":
        pytest.skip("not a transformer")
    model_view = view(model)
    attention = model_view.of_kind(Kind.ATTENTION)
    feed_forward = [s for s in model_view.sites if s.role in (Role.FEED_FORWARD, Role.GLU_FEED_FORWARD)]
    assert attention and len(feed_forward) >= 2  # two blocks, at least one feed-forward each
    assert {s.role for s in model_view.hidden_sites()} <= set(HIDDEN_ROLES) - {Role.HIDDEN}


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_keras_io_transformer_keeps_its_encoders_activation(activation):
    model = keras_io_classifier(activation=activation)
    advice = advise(model)
    encoder = [s for s in view(model).sites if s.role == Role.FEED_FORWARD]
    assert [s.activation for s in encoder] == [activation]
    assert advice.family == "attention" and activation in advice.candidates


def test_berts_pooler_tanh_is_kept_as_a_design_element():
    model = with_head(BACKBONES["bert"][0]())
    (pooler,) = [s for s in view(model).sites if s.role == Role.POOLER]
    assert pooler.activation == "tanh"
    assert "saturating-deep" not in {f.code for f in advise(model).findings}


@pytest.fixture(scope="module", params=sorted(BACKBONES))
def hub_task(request):
    """The backbone nested as one layer (as keras-hub's tasks hold it), and sample inputs."""
    backbone = BACKBONES[request.param][0]()
    model = nested_with_head(backbone)
    return model, backbone, sample_inputs(model)


def _layers_whose_config_fails(model):
    failing = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        try:
            type(layer).from_config(layer.get_config())
        except Exception:  # noqa: BLE001
            failing.append(layer.name)
    return failing


def _sites(model):
    return [(site.activation, site.role) for site in view(model).sites]


@pytest.mark.slow
def test_apply_with_the_advice_keeps_every_activation_and_round_trips(hub_task, tmp_path):
    model, backbone, x = hub_task
    advice = advise(model)
    new = apply(model, advice)
    assert _sites(new) == _sites(model)
    if advice.kept and not advice.fixed:  # nothing to change inside: the backbone keeps its class
        assert type(new.get_layer(backbone.name)) is type(backbone)
    path = tmp_path / "new.keras"
    new.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), new.predict(x, verbose=0))


@pytest.mark.slow
def test_apply_with_another_activation_changes_every_feed_forward_or_names_why_not(hub_task, tmp_path):
    model, backbone, x = hub_task
    advice = advise(model)
    other = "relu" if advice.hidden_activation != "relu" else "gelu"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        new = apply(model, dataclasses.replace(advice, hidden_activation=other, kept=False))
    told = " ".join(str(w.message) for w in caught)
    kept = {site.activation for site in view(new).hidden_sites()} - {other}
    for activation in kept:  # only where the advice named it, and apply said so
        assert any(line.startswith(f"{activation} inside ") for line in advice.fixed), advice.fixed
        assert f"cannot change {activation} inside " in told
    if not advice.fixed:
        assert not kept
        assert all("is rebuilt from its attributes" in str(w.message) for w in caught), told
    if "cannot be saved as .keras" in told:  # a keras-hub layer whose own config does not rebuild it
        assert _layers_whose_config_fails(new)
        return
    path = tmp_path / "new.keras"
    new.save(path)
    reloaded = keras.models.load_model(path)
    assert _sites(reloaded) == _sites(new)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), new.predict(x, verbose=0))


def test_diagnostics_reach_every_feed_forward_of_a_transformer():
    model = nested_with_head(BACKBONES["bert"][0]())
    x = sample_inputs(model, rows=8)
    advice = advise(model, x=x, y=np.arange(8) % 3)
    measured = {row.tapped for row in advice.diagnostics}
    feed_forward = {s.name for s in view(model).sites if s.role == Role.FEED_FORWARD}
    assert len(feed_forward) == 2 and feed_forward <= measured
    assert all(
        row.grad_norm is not None and row.grad_norm > 0 for row in advice.diagnostics if row.tapped in feed_forward
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gpt2", "llama", "gemma", "vit", "swin", "efficientnet"])
def test_diagnostics_measure_the_hidden_sites_inside_keras_hub_backbones(name):
    model = nested_with_head(BACKBONES[name][0]())
    x = sample_inputs(model, rows=8)
    advice = advise(model, x=x, y=np.arange(8) % 3)
    measured = {row.tapped for row in advice.diagnostics}
    hidden = {site.name for site in view(model).hidden_sites()}
    assert hidden and hidden <= measured
    assert not [f for f in advice.findings if f.severity in ("warning", "error")], advice.findings
