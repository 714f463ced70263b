"""keras-hub models, built offline at a small size with a head on top, as the advisor reads them."""

from __future__ import annotations

import pytest

from advisor import advise
from advisor.inspection import HIDDEN_ROLES, Kind, Role, view

from .hub_models import BACKBONES, keras_io_classifier, with_head


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
