"""The advisor demo: the flawed model's mistakes are found, and the fix trains better."""

from __future__ import annotations

import re

import pytest

from keras_act.advisor.advice_demo import run_advisor_demo

pytest.importorskip("sklearn")


def test_applied_advice_beats_the_flawed_model(capsys) -> None:
    result = run_advisor_demo(epochs=6, confirm_epochs=1)
    codes = {f.code for f in result["advice"].findings}
    assert {"output-loss-mismatch", "saturating-deep"} <= codes
    assert result["after"]["val_accuracy"] > result["before"]["val_accuracy"] + 0.3
    assert result["after"]["val_loss"] < result["before"]["val_loss"]
    out = capsys.readouterr().out
    assert "output-loss-mismatch" in out and "before (as written)" in out and "after apply(model, advice)" in out
    assert re.search(r"confirm\(\): \d+ configurations ranked by val_loss", out)
    assert result["confirm"].baseline.candidate == "sigmoid"
    # Each training's bar ends on its last epoch's val_accuracy, not a mean over the epochs.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # the bar's colours
    shown = [float(v) for v in re.findall(r"(?:^|\r)6/6 [^\r\n]*val_accuracy: ([0-9.]+)", plain, flags=re.MULTILINE)]
    assert shown == pytest.approx([result["before"]["val_accuracy"], result["after"]["val_accuracy"]], abs=1e-4)
