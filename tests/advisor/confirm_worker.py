"""A confirm() search in its own process, for the resume (killed mid-way) and distributed tests.

Usage: python confirm_worker.py DIRECTORY TUNER RESULT_JSON
Prints nothing of its own; writes the result's ranking to RESULT_JSON when it finishes.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script: the repository root on the path, so that the tests' modules import as in pytest.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from keras_act.advisor import ConfirmResult, confirm  # noqa: E402
from tests.advisor.search_setup import CANDIDATES, advice, data, model  # noqa: E402


def search(directory: str, tuner: str) -> ConfirmResult:
    """The search every process runs (and the resume test runs again, to finish it)."""
    x, y = data()
    return confirm(
        model(),
        x,
        y,
        advice=advice(),
        candidates=CANDIDATES,
        tuner=tuner,
        executions_per_trial=1,
        epochs=2,
        directory=directory,
        verbose=0,
    )


def main() -> None:
    directory, tuner, result_path = sys.argv[1:4]
    result = search(directory, tuner)
    with open(result_path, "w") as handle:
        json.dump(
            {"ranking": [[r.candidate, r.initializer] for r in result.ranking], "trials_run": result.trials_run}, handle
        )


if __name__ == "__main__":
    main()
